package results

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results/metric"
)

// TestResultJSONGolden pins result.json's layout (field names, order, nesting). The
// encodings are masked: they depend on the zlib implementation, not on this package.
func TestResultJSONGolden(t *testing.T) {
	res := sampleResult(t)
	res.Runs = res.Runs[:1]
	var buf bytes.Buffer
	if _, err := res.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	masked := regexp.MustCompile(`"encoded": "[^"]*"`).ReplaceAll(buf.Bytes(), []byte(`"encoded": "HISTFAAA..."`))
	golden(t, "result.json", masked)
}

func ExampleSummarize() {
	h := hdrhistogram.New(1, 10e9, 3) // 1 ns to 10 s, 3 significant digits
	for v := int64(1); v <= 1000; v++ {
		h.RecordValue(v)
	}
	s, err := Summarize(h, metric.Nanoseconds)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Count, s.Min, s.P50, s.P99, s.Max, s.Mean)
	back, err := s.Decode()
	fmt.Println(back.Equals(h), err)
	// Output:
	// 1000 1 500 990 1000 500.5
	// true <nil>
}

func ExampleRead() {
	doc := `{"schema": "ndisbench/result", "version": "2.0"}`
	_, err := Read(strings.NewReader(doc))
	fmt.Println(err)
	// Output:
	// results: version "2.0": major version 2 is not supported (this reader reads 1.x): unsupported schema version
}

func ExampleWriteHGRM() {
	h := hdrhistogram.New(1, 10e9, 3)
	h.RecordValues(1500, 3) // 1.5 µs
	h.RecordValue(250000)   // 250 µs
	if err := WriteHGRM(os.Stdout, h, HGRMScale(metric.Nanoseconds)); err != nil {
		fmt.Println(err)
	}
	// Output:
	//        Value     Percentile TotalCount 1/(1-Percentile)
	//
	//        1.500 0.000000000000          3           1.00
	//        1.500 0.100000000000          3           1.11
	//        1.500 0.200000000000          3           1.25
	//        1.500 0.300000000000          3           1.43
	//        1.500 0.400000000000          3           1.67
	//        1.500 0.500000000000          3           2.00
	//        1.500 0.550000000000          3           2.22
	//        1.500 0.600000000000          3           2.50
	//        1.500 0.650000000000          3           2.86
	//        1.500 0.700000000000          3           3.33
	//        1.500 0.750000000000          3           4.00
	//      250.111 0.775000000000          4           4.44
	//      250.111 1.000000000000          4
	// #[Mean    =       63.637, StdDeviation   =      107.624]
	// #[Max     =      250.111, Total count    =            4]
	// #[Buckets =           24, SubBuckets     =         2048]
}

func ExampleIntervalLogReader() {
	var log bytes.Buffer
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	lw, _ := NewIntervalLogWriter(&log, start)
	for sec := range 2 {
		h := hdrhistogram.New(1, 10e9, 3)
		h.RecordValues(int64(1000*(sec+1)), 10)
		lw.WriteSet(IntervalSet{
			Start: time.Duration(sec) * time.Second, Length: time.Second,
			Histograms: map[string]*hdrhistogram.Histogram{metric.ISRToDPC: h},
		})
	}
	lw.Flush()

	lr := NewIntervalLogReader(&log, "msix.hlog")
	for lr.Scan() {
		iv := lr.Interval()
		fmt.Println(iv.Tag, lr.BaseTime().Add(iv.Start).Format(time.TimeOnly), iv.Length, iv.Histogram.TotalCount(), iv.Histogram.Max())
	}
	fmt.Println(lr.Err())
	// Output:
	// isr_to_dpc 03:04:05 1s 10 1000
	// isr_to_dpc 03:04:06 1s 10 2000
	// <nil>
}

package results

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results/metric"
)

func TestWriteHGRMGolden(t *testing.T) {
	tests := []struct {
		name  string
		h     func(t *testing.T) *hdrhistogram.Histogram
		scale float64
	}{
		// ISR→DPC latencies in ns, written in µs as the plotter expects.
		{"latency_us", func(t *testing.T) *hdrhistogram.Histogram { return latencyHistogram(t, 1, 10000, 900) }, HGRMScale(metric.Nanoseconds)},
		// DPC batch sizes, a count, written as they are.
		{"batch_size", func(t *testing.T) *hdrhistogram.Histogram { return batchHistogram(t, 2, 2000) }, HGRMScale(metric.NBLs)},
		// Nothing recorded: header and footer only.
		{"empty", func(t *testing.T) *hdrhistogram.Histogram { return hdrhistogram.New(1, 10e9, 3) }, 1000},
		// One value: the 0% and the 100% lines.
		{"single", func(t *testing.T) *hdrhistogram.Histogram {
			h := hdrhistogram.New(1, 10e9, 3)
			h.RecordValue(1500)
			return h
		}, 1000},
		// Two significant digits: values get two decimals.
		{"two_digits", func(t *testing.T) *hdrhistogram.Histogram {
			h := hdrhistogram.New(1, 1e9, 2)
			for v := int64(1); v <= 100000; v *= 3 {
				h.RecordValues(v, 10)
			}
			return h
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h(t)
			var buf bytes.Buffer
			if err := WriteHGRM(&buf, h, tt.scale); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".hgrm", buf.Bytes())
			checkHGRM(t, buf.String(), h, tt.scale)
		})
	}
}

// checkHGRM parses an .hgrm the way HdrHistogram's plotter does (whitespace-separated
// columns, '#' lines skipped) and checks it against h: steps whose values, percentiles and
// counts never decrease, 1/(1-p) consistent with p, a last line at percentile 1 with the
// total count and the maximum, and a footer with the total, the maximum and the geometry.
func checkHGRM(t *testing.T, text string, h *hdrhistogram.Histogram, scale float64) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(text))
	if !sc.Scan() || strings.Fields(sc.Text())[0] != "Value" || len(strings.Fields(sc.Text())) != 4 {
		t.Fatalf("bad header %q", sc.Text())
	}
	var rows [][]float64
	var footer []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			footer = append(footer, line)
			continue
		}
		var row []float64
		for _, f := range strings.Fields(line) {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	total := h.TotalCount()
	if total == 0 {
		if len(rows) != 0 {
			t.Errorf("empty histogram with %d rows", len(rows))
		}
	} else {
		for i, r := range rows {
			last := i == len(rows)-1
			if want := 4; last {
				if len(r) != 3 || r[1] != 1 || int64(r[2]) != total {
					t.Errorf("last row %v, want 3 columns at percentile 1 with count %d", r, total)
				}
				if want := float64(h.Max()) / scale; math.Abs(r[0]-want) > 0.5*math.Pow10(-int(h.SignificantFigures())) {
					t.Errorf("last row value %v, want max %v", r[0], want)
				}
			} else if len(r) != want {
				t.Fatalf("row %d has %d columns: %v", i, len(r), r)
			} else if inv := 1 / (1 - r[1]); math.Abs(inv-r[3]) > 0.006*math.Max(1, inv/100) {
				t.Errorf("row %v: 1/(1-p) = %v", r, inv)
			}
			if i > 0 && (r[0] < rows[i-1][0] || r[1] < rows[i-1][1] || r[2] < rows[i-1][2]) {
				t.Errorf("row %d %v decreases from %v", i, r, rows[i-1])
			}
		}
		if len(rows) > 0 && rows[0][1] != 0 {
			t.Errorf("first row %v is not at percentile 0", rows[0])
		}
	}
	if len(footer) != 3 {
		t.Fatalf("footer %q, want 3 lines", footer)
	}
	var mean, sd, maxV float64
	var count, buckets, subBuckets int64
	if _, err := fmt.Sscanf(strings.Join(strings.Fields(footer[0]), " "), "#[Mean = %f, StdDeviation = %f]", &mean, &sd); err != nil {
		t.Errorf("footer %q: %v", footer[0], err)
	}
	if _, err := fmt.Sscanf(strings.Join(strings.Fields(footer[1]), " "), "#[Max = %f, Total count = %d]", &maxV, &count); err != nil || count != total {
		t.Errorf("footer %q: count %d, want %d (%v)", footer[1], count, total, err)
	}
	if _, err := fmt.Sscanf(strings.Join(strings.Fields(footer[2]), " "), "#[Buckets = %d, SubBuckets = %d]", &buckets, &subBuckets); err != nil {
		t.Errorf("footer %q: %v", footer[2], err)
	}
	// The geometry must be what hdrhistogram-go's own PercentilesPrint reports.
	var own bytes.Buffer
	if _, err := h.PercentilesPrint(&own, 5, scale); err != nil {
		t.Fatal(err)
	}
	ownLines := strings.Split(strings.TrimSpace(own.String()), "\n")
	var ob, osb int64
	if _, err := fmt.Sscanf(strings.Join(strings.Fields(ownLines[len(ownLines)-1]), " "), "#[Buckets = %d, SubBuckets = %d]", &ob, &osb); err != nil {
		t.Fatal(err)
	}
	if buckets != ob || subBuckets != osb {
		t.Errorf("geometry %d buckets × %d sub-buckets, hdrhistogram-go says %d × %d", buckets, subBuckets, ob, osb)
	}
}

// TestPercentileStepsMatchLibrary checks the port of HdrHistogram's PercentileIterator
// against hdrhistogram-go's CumulativeDistributionWithTicks, which ports the same iterator.
func TestPercentileStepsMatchLibrary(t *testing.T) {
	tests := []struct {
		name string
		h    *hdrhistogram.Histogram
	}{
		// Latencies with a far tail.
		{"latency", latencyHistogram(t, 5, 50000, 1200)},
		// Few distinct values, each with a large share.
		{"batches", batchHistogram(t, 6, 500)},
		// A single value.
		{"single", func() *hdrhistogram.Histogram { h := hdrhistogram.New(1, 1e9, 3); h.RecordValues(77, 5); return h }()},
	}
	for _, tt := range tests {
		for _, ticks := range []int64{1, 5, 10} {
			t.Run(fmt.Sprintf("%s/ticks=%d", tt.name, ticks), func(t *testing.T) {
				type step struct {
					v     int64
					level float64
					c     int64
				}
				var got []step
				if err := percentileSteps(tt.h, ticks, func(v int64, level float64, c int64) { got = append(got, step{v, level, c}) }); err != nil {
					t.Fatal(err)
				}
				lib := tt.h.CumulativeDistributionWithTicks(int32(ticks))
				if len(got) != len(lib) {
					t.Fatalf("%d steps, hdrhistogram-go has %d", len(got), len(lib))
				}
				for i, b := range lib {
					if got[i].v != b.ValueAt || got[i].c != b.Count || math.Abs(got[i].level-b.Quantile) > 1e-9 {
						t.Fatalf("step %d: %+v, hdrhistogram-go has %+v", i, got[i], b)
					}
				}
			})
		}
	}
}

func TestWriteHGRMRefuses(t *testing.T) {
	h := latencyHistogram(t, 1, 10, 100)
	for _, scale := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if err := WriteHGRM(&bytes.Buffer{}, h, scale); err == nil {
			t.Errorf("scale %v accepted", scale)
		}
	}
	if err := WriteHGRM(&bytes.Buffer{}, nil, 1); err == nil {
		t.Error("nil histogram accepted")
	}
}

func TestJavaFixed(t *testing.T) {
	tests := []struct {
		v    float64
		prec int
		want string
	}{
		{0.9997802734375, 12, "0.999780273438"}, // an exact tie: half up (Go's %f gives ...437)
		{0.125, 2, "0.13"},                      // tie, half up
		{1.005, 2, "1.01"},                      // shortest decimal "1.005" rounds up, as Java does
		{2.5, 0, "3"},                           // no decimals
		{9.9996, 3, "10.000"},                   // carry into the integer part
		{999.9999, 3, "1000.000"},               // carry adds a digit
		{0, 3, "0.000"},                         // zero
		{-1.25, 1, "-1.3"},                      // negative: half away from zero
		{1e21, 2, "1000000000000000000000.00"},  // no exponent
		{1234.5678, 2, "1234.57"},               // ordinary rounding
		{0.1, 12, "0.100000000000"},             // padding
		{math.Inf(1), 2, "+Inf"},                // not reached by WriteHGRM
	}
	for _, tt := range tests {
		if got := javaFixed(tt.v, tt.prec); got != tt.want {
			t.Errorf("javaFixed(%v, %d) = %q, want %q", tt.v, tt.prec, got, tt.want)
		}
	}
}

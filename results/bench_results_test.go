package results

import (
	"bytes"
	"io"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ndisbench/ndisbench/results/metric"
)

// These measure the off-hot-path costs of writing and reading a result set; none of this
// runs while a benchmark records.

func BenchmarkSummarize(b *testing.B) {
	h := latencyHistogram(b, 1, 100000, 900)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Summarize(h, metric.Nanoseconds); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	var buf bytes.Buffer
	if _, err := sampleResult(b).WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteHGRM(b *testing.B) {
	h := latencyHistogram(b, 1, 100000, 900)
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteHGRM(io.Discard, h, 1000); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteDir(b *testing.B) {
	res := sampleResult(b)
	out := &Output{Result: res}
	for range res.Runs {
		out.Intervals = append(out.Intervals, sampleIntervals(b, 10))
	}
	dir := b.TempDir()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := WriteDir(filepath.Join(dir, strconv.Itoa(i)), out); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

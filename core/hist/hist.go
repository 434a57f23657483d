// Package hist is ndisbench's histogram plumbing: the standard latency histogram,
// summaries, and the writers and collector that cut each writer's histograms into
// intervals at fixed times (Schedule, Writer, Collector) without a lock, a wait or an
// allocation on the writer's side. A driver author never needs it; core, the stack, the
// generator and the result files do.
package hist

import (
	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram ranges. Latencies are recorded in nanoseconds with three significant digits
// from 1 ns to 10 s; a value above the range is clamped to it rather than dropped.
const (
	Lowest  = 1
	Highest = int64(10e9)
	Digits  = 3
)

// NewLatency returns an empty histogram with ndisbench's standard range.
func NewLatency() *hdrhistogram.Histogram {
	return hdrhistogram.New(Lowest, Highest, Digits)
}

// Summary is the handful of figures a table shows for one histogram.
type Summary struct {
	Count int64   `json:"count"`
	Min   int64   `json:"min"`
	Mean  float64 `json:"mean"`
	P50   int64   `json:"p50"`
	P90   int64   `json:"p90"`
	P99   int64   `json:"p99"`
	P999  int64   `json:"p99_9"`
	Max   int64   `json:"max"`
}

// Summarize reads the summary figures off h.
func Summarize(h *hdrhistogram.Histogram) Summary {
	if h.TotalCount() == 0 {
		return Summary{}
	}
	return Summary{
		Count: h.TotalCount(),
		Min:   h.Min(),
		Mean:  h.Mean(),
		P50:   h.ValueAtQuantile(50),
		P90:   h.ValueAtQuantile(90),
		P99:   h.ValueAtQuantile(99),
		P999:  h.ValueAtQuantile(99.9),
		Max:   h.Max(),
	}
}

// Record adds v to h, clamped into [0, h's highest trackable value]: clocks are monotonic,
// so a negative span is a bookkeeping bug, kept visible as 0, and a span past the range
// is kept as the range's top rather than lost. It does not allocate.
func Record(h *hdrhistogram.Histogram, v int64) {
	if v < 0 {
		v = 0
	}
	if hi := h.HighestTrackableValue(); v > hi {
		v = hi
	}
	_ = h.RecordValue(v)
}

package hist_test

import (
	"sync/atomic"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/core/hist"
)

// TestIntervalRecorderLosesNothing races a writer that records and syncs against a
// collector that rotates: every value lands in exactly one interval, and the intervals
// add up to what was recorded.
func TestIntervalRecorderLosesNothing(t *testing.T) {
	const n = 200000
	r := hist.NewIntervalRecorder([]*hdrhistogram.Histogram{hist.NewLatency()})
	var gen atomic.Uint64
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for i := int64(1); i <= n; i++ {
			r.Sync(gen.Load())
			r.Record(0, i%1000+1)
		}
		r.Close()
	}()
	total := hist.NewLatency()
	var intervals int
	for done := false; !done; {
		select {
		case <-finished:
			done = true
		default:
		}
		into := []*hdrhistogram.PackedHistogram{hist.NewPackedLike(total)}
		r.Collect(gen.Add(1), nil, into)
		intervals++
		into[0].MergeInto(total)
	}
	rest := []*hdrhistogram.PackedHistogram{hist.NewPackedLike(total)}
	r.CollectStopped(rest)
	rest[0].MergeInto(total)
	if total.TotalCount() != n {
		t.Fatalf("%d intervals hold %d values, want %d", intervals, total.TotalCount(), n)
	}
	if intervals < 2 {
		t.Logf("only %d interval(s): the writer finished before the collector's second rotation", intervals)
	}
}

package hist

import (
	"runtime"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// IntervalRecorder is one writer's histograms, split into intervals without a lock and
// without allocating, like HdrHistogram's Recorder: the writer records into an active set;
// a collector starts a new interval by publishing a new generation number, and the writer,
// at its next Sync, swaps the active set with the inactive one (emptied by the collector)
// and hands the full one over. The collector merges what was handed over and empties it.
//
// The interval boundary is where the writer calls Sync, so a writer that syncs between
// pieces of work (an ISR, a DPC, a packet) attributes each piece wholly to one interval.
//
// Invariants:
//   - active, and seen: the writer only.
//   - inactive: the collector only, between the writer's handover (handed = gen, a release)
//     and the collector's next generation (which the writer acquires before swapping).
//   - After Close, the writer touches nothing, and the collector may take both sets.
type IntervalRecorder struct {
	active   []*hdrhistogram.Histogram
	inactive []*hdrhistogram.Histogram
	seen     uint64        // the generation the writer last synced to
	handed   atomic.Uint64 // the generation whose set the writer handed over
	closed   atomic.Bool
}

// NewIntervalRecorder returns a recorder of len(hists) histograms; the inactive set is
// built alike, empty. The caller must not use hists afterwards.
func NewIntervalRecorder(hists []*hdrhistogram.Histogram) *IntervalRecorder {
	r := &IntervalRecorder{}
	r.Init(hists)
	return r
}

// Init makes r a recorder of hists, as NewIntervalRecorder does, for a recorder embedded
// by value (one pointer less on the writer's path). Before the writer starts.
func (r *IntervalRecorder) Init(hists []*hdrhistogram.Histogram) {
	r.active = hists
	r.inactive = make([]*hdrhistogram.Histogram, len(hists))
	for i, h := range hists {
		r.inactive[i] = EmptyLike(h)
	}
}

// EmptyLike returns an empty histogram with h's range and precision.
func EmptyLike(h *hdrhistogram.Histogram) *hdrhistogram.Histogram {
	return hdrhistogram.New(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
}

// Record adds v to histogram i of the active set, clamped as Record. Writer only.
func (r *IntervalRecorder) Record(i int, v int64) { Record(r.active[i], v) }

// Sync hands the active set over when gen is a generation the writer has not seen. The
// writer calls it between pieces of work, often: it costs one comparison when nothing
// changed. gen is the collector's current generation, loaded by the caller.
func (r *IntervalRecorder) Sync(gen uint64) {
	if gen != r.seen {
		r.active, r.inactive = r.inactive, r.active
		r.seen = gen
		r.handed.Store(gen)
	}
}

// Seen returns the generation the writer last synced to. Writer only.
func (r *IntervalRecorder) Seen() uint64 { return r.seen }

// Close says the writer records no more; the collector then takes whatever is left.
func (r *IntervalRecorder) Close() { r.closed.Store(true) }

// Collect waits until the writer handed over generation gen (or closed), adds what it
// handed over to into (one sparse histogram per recorder histogram) and empties it. While it
// waits it calls nudge now and then (to wake a parked writer). Collector only; gen must
// have been published to the writer before the call.
func (r *IntervalRecorder) Collect(gen uint64, nudge func(), into []*hdrhistogram.PackedHistogram) {
	for i := 0; ; i++ {
		if r.handed.Load() == gen {
			if !r.closed.Load() {
				mergeReset(into, r.inactive)
				return
			}
			break
		}
		if r.closed.Load() {
			break
		}
		if nudge != nil {
			nudge()
		}
		if i < 64 {
			runtime.Gosched()
		} else {
			time.Sleep(20 * time.Microsecond)
		}
	}
	r.CollectStopped(into)
}

// CollectStopped adds both sets to into and empties them, without a handover: for a
// writer that is closed, not started, or excluded by a lock the caller holds.
func (r *IntervalRecorder) CollectStopped(into []*hdrhistogram.PackedHistogram) {
	mergeReset(into, r.inactive)
	mergeReset(into, r.active)
}

// mergeReset adds each non-empty histogram of from to into and empties it: one scan of
// its counts and one clear, the least a dense histogram allows.
func mergeReset(into []*hdrhistogram.PackedHistogram, from []*hdrhistogram.Histogram) {
	for i, h := range from {
		if h.TotalCount() != 0 {
			into[i].MergeFrom(h)
			h.Reset()
		}
	}
}

// NewPackedLike returns an empty sparse histogram with h's range and precision.
func NewPackedLike(h *hdrhistogram.Histogram) *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
}

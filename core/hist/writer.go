package hist

import (
	"math"
	"sync/atomic"
	"unsafe"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Invariants (Writer, Snapshot):
//   - A writer's own side (active, spare, cur, sched, conv, local and every Dense of its
//     sets) belongs to its owner: the one goroutine that records (a vCPU's thread, the
//     generator's), or whoever holds the lock a caller put around it, or, once closed
//     was stored, the collector (Collector.settle). Ownership passes to the collector by
//     closed (the owner's last store, a release; the collector's load, an acquire).
//   - end: the owner loads it at every Tick and stores it when it crosses; the
//     collector only lowers it (RequestCut, a CAS). After storing end the owner loads
//     flushAt, and the collector stores flushAt before lowering end: with sequentially
//     consistent atomics one of the two sees the other, so a cut the collector asked for
//     is never lost to the owner's store (an end too low only costs an empty cut).
//   - out: a list the owner pushes finished snapshots onto (a CAS, the only pusher) and
//     the collector takes whole (Swap). free: the reverse, snapshots the collector has
//     emptied, which the owner takes whole. A snapshot belongs to whoever took it.
//   - done: the owner stores the time of a cut after it pushed the snapshot of every
//     record made before that time; the collector loads done before it takes out, so
//     every record of an interval that ended at or before done is in what it takes.
//   - A record is attributed to the interval of the time its owner gives it (Tick's
//     now, or RecordAt's at); a time before the current interval's start (a late
//     record) goes to the current interval. Nothing recorded is dropped but the warm-up.
//   - A set Tick returned is the owner's to record into until its next Step, StepN,
//     Sync or Close, even after a later Tick retired it (a piece of work that records
//     past a cut): a retired set, empty or not, is handed over only once a Step drained
//     it, so what went into it counts in its interval, and never in the spare.

// stepBudget is how many buckets one Step drains: about a microsecond of work, so that
// a writer can drain between two pieces of work without delaying either.
const stepBudget = 512

// Layout is a histogram's range and precision, as hdrhistogram.New takes them.
type Layout struct {
	Lowest, Highest int64
	Digits          int
}

// LatencyLayout is ndisbench's standard latency histogram (NewLatency).
var LatencyLayout = Layout{Lowest, Highest, Digits}

// Set is a writer's histograms for one interval, numbered as the writer's layouts.
type Set struct {
	h []Dense
}

// Record adds v to histogram i of the set, clamped and counted as Dense.Record.
func (s *Set) Record(i int, v int64) { s.h[i].Record(v) }

// Hist returns histogram i of the set, to record into directly: for a loop that records
// many values into one interval (Writer.Tick returned the set). The owner's, as the set.
func (s *Set) Hist(i int) *Dense { return &s.h[i] }

func newSet(layouts []Layout, prefault bool) *Set {
	s := &Set{h: make([]Dense, len(layouts))}
	for i, l := range layouts {
		s.h[i].init(l.Lowest, l.Highest, l.Digits)
		if prefault {
			s.h[i].Prefault()
		}
	}
	return s
}

func (s *Set) empty() bool {
	for i := range s.h {
		if s.h[i].total != 0 {
			return false
		}
	}
	return true
}

// Snapshot is one writer's histograms of one interval (or of part of it, when a cut was
// asked for within it), in sparse form: what a writer hands its collector.
type Snapshot struct {
	Index   int                             // the interval
	Hists   []*hdrhistogram.PackedHistogram // by the writer's numbering; nil: empty
	Clamped []uint64                        // values clamped at each histogram's ceiling
	next    *Snapshot
}

// reset empties s for reuse, keeping its histograms' storage.
func (s *Snapshot) reset() {
	for _, h := range s.Hists {
		if h != nil {
			h.Reset()
		}
	}
	clear(s.Clamped)
}

// conversion is a retired set on its way into a snapshot.
type conversion struct {
	set   *Set
	index int   // its interval; -1: the warm-up, emptied without a snapshot
	at    int64 // when it was retired: done, once it is published
	snap  *Snapshot
	h     int // the histogram being drained
	pos   int // and the next bucket of it
}

// Writer is one writer's histograms cut into intervals by time (Schedule), without a
// lock and without waiting for anyone: the owner records into an active set; when a
// time it gives (Tick, RecordAt) reaches the end of the set's interval, the set is
// retired and a clean one takes its place; the owner drains the retired set into a
// sparse Snapshot a little at a time, in its spare moments (Step), and hands it to the
// collector. The collector takes finished snapshots only, and never touches a set the
// owner may be recording into. Each writer has two sets of dense histograms, allocated
// once (and pre-faulted, when asked) and reused: nothing is allocated in steady state.
//
// The Invariants block at the top of writer.go says who may touch what.
type Writer struct {
	writerHot
	_ [128 - unsafe.Sizeof(writerHot{})%128]byte

	spare   *Set
	cur     int // the interval active records into
	sched   Schedule
	conv    conversion
	local   *Snapshot // free snapshots the owner took
	layouts []Layout

	flushAt atomic.Int64 // the latest cut the collector asked for (RequestCut)
	done    atomic.Int64 // every record made before this time is in out
	closed  atomic.Bool
	out     atomic.Pointer[Snapshot]
	free    atomic.Pointer[Snapshot]
}

// writerHot is what the owner reads at every Tick and Record: one line.
type writerHot struct {
	active *Set
	end    atomic.Int64 // when cur ends, or earlier when a cut was asked for
}

// NewWriter returns a writer of histograms with layouts, on the schedule Always until
// SetSchedule. With prefault, its memory is all allocated and touched now: both dense
// sets, and two snapshots with room for every bucket (PreallocPacked), so that in steady
// state neither the owner nor the collector allocates, and no page fault lands on a busy
// CPU at a cut; otherwise a histogram's memory is allocated when it first records.
func NewWriter(layouts []Layout, prefault bool) *Writer {
	w := &Writer{layouts: layouts, spare: newSet(layouts, prefault)}
	w.active = newSet(layouts, prefault)
	if prefault {
		for range 2 {
			s := w.newSnapshot()
			for i, l := range layouts {
				s.Hists[i] = PreallocPacked(l)
			}
			s.next, w.local = w.local, s
		}
	}
	w.done.Store(math.MinInt64)
	w.SetSchedule(Always)
	return w
}

func (w *Writer) newSnapshot() *Snapshot {
	return &Snapshot{Hists: make([]*hdrhistogram.PackedHistogram, len(w.layouts)), Clamped: make([]uint64, len(w.layouts))}
}

// takeSnapshot returns an empty snapshot for interval index: one the collector gave
// back, or a new one.
func (w *Writer) takeSnapshot(index int) *Snapshot {
	if w.local == nil {
		w.local = w.free.Swap(nil)
	}
	s := w.local
	if s != nil {
		w.local = s.next
		s.next = nil
	} else {
		s = w.newSnapshot()
	}
	s.Index = index
	return s
}

// Sync makes a cut at now if one is due and drains what is retired, at once: for a
// writer whose owner has no spare moments (one used under a lock by whoever holds it).
// Owner only.
func (w *Writer) Sync(now int64) {
	w.Tick(now)
	w.finish()
}

// Close says the owner records no more: the collector takes over w. The owner's last
// call.
func (w *Writer) Close() { w.closed.Store(true) }

// Closed reports whether the owner closed w.
func (w *Writer) Closed() bool { return w.closed.Load() }

// Done returns the time before which everything w recorded has been handed over.
// Collector side.
func (w *Writer) Done() int64 { return w.done.Load() }

// RequestCut asks the owner to make a cut at its first time at or after t, whatever the
// schedule says (a flush: Platform.Metrics while running). Collector side.
func (w *Writer) RequestCut(t int64) {
	if t > w.flushAt.Load() {
		w.flushAt.Store(t)
	}
	for {
		e := w.end.Load()
		if e <= t || w.end.CompareAndSwap(e, t) {
			return
		}
	}
}

// settle hands everything over that a closed w holds: the collector, owning w now,
// drains what the owner left retired or active, and marks w done for good. Collector
// side, after Closed.
func (w *Writer) settle() {
	w.finish()
	if !w.active.empty() {
		w.cross(math.MaxInt64)
		w.finish()
	}
	w.done.Store(math.MaxInt64)
}

// take returns the snapshots w handed over (a list through next, newest first) and the
// time before which they are all there is. Collector side.
func (w *Writer) take() (list *Snapshot, done int64) {
	done = w.done.Load()
	return w.out.Swap(nil), done
}

// giveBack returns an emptied snapshot to w's owner for reuse. Collector side.
func (w *Writer) giveBack(s *Snapshot) {
	s.reset()
	for {
		head := w.free.Load()
		s.next = head
		if w.free.CompareAndSwap(head, s) {
			return
		}
	}
}

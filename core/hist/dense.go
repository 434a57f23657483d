package hist

import (
	"math"
	"math/bits"
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Dense is one writer's dense histogram: the bucket layout of hdrhistogram.New(lowest,
// highest, digits), recorded into without an error path, a lock or an allocation. It
// counts the values it clamped at its ceiling and keeps the range of buckets in use, so
// that draining it into sparse form (DrainInto) visits only that range.
//
// Its counts are allocated on first use unless Prefault made them, and a drain empties
// what it visits: a Dense is reused interval after interval, and never gives its memory
// back. Not safe for concurrent use; Writer says who owns it when.
type Dense struct {
	counts  []int64
	total   int64
	clamped uint64
	lo, hi  int // buckets in use, [lo, hi]; lo > hi when none

	highest   int64
	unitMag   uint
	halfMag   uint  // log2 of half the sub-bucket count
	mask      int64 // sub-bucket mask, shifted by unitMag
	halfCount int
	n         int // buckets (hdrhistogram's counts length)

	lowest int64
	digits int
}

// NewDense returns an empty Dense with the range and precision hdrhistogram.New takes.
// Its counts are allocated when it first records (Prefault allocates them now).
func NewDense(lowest, highest int64, digits int) *Dense {
	d := &Dense{}
	d.init(lowest, highest, digits)
	return d
}

// init computes the layout as hdrhistogram.New does (its constructor's clamping
// included), so that each bucket is one of its buckets.
func (d *Dense) init(lowest, highest int64, digits int) {
	digits = min(max(digits, 1), 5)
	lowest = max(lowest, 1)
	subBucketCountMag := int(math.Ceil(math.Log2(2 * math.Pow10(digits))))
	halfMag := max(subBucketCountMag, 1) - 1
	unitMag := max(int(math.Floor(math.Log2(float64(lowest)))), 0)
	subBucketCount := int64(1) << (halfMag + 1)
	// Buckets needed to cover highest, as hdrhistogram counts them.
	smallestUntrackable := subBucketCount << unitMag
	buckets := 1
	for smallestUntrackable <= highest {
		if smallestUntrackable > math.MaxInt64/2 {
			buckets++
			break
		}
		smallestUntrackable <<= 1
		buckets++
	}
	*d = Dense{
		highest: highest, unitMag: uint(unitMag), halfMag: uint(halfMag),
		mask: (subBucketCount - 1) << unitMag, halfCount: int(subBucketCount / 2),
		n: (buckets + 1) * int(subBucketCount/2), lowest: lowest, digits: digits,
		lo: math.MaxInt, hi: -1,
	}
}

// Prefault allocates the counts now and touches every page of them, so that recording
// takes no page fault: call it before the hot path starts.
func (d *Dense) Prefault() {
	if d.counts == nil {
		d.counts = make([]int64, d.n)
	}
	for i := 0; i < len(d.counts); i += 4096 / 8 {
		d.counts[i] = 0
	}
}

// Record adds v, clamped into [0, highest]: a negative span is a bookkeeping bug, kept
// visible as 0; a span past the ceiling is kept as the ceiling, and counted (Clamped).
func (d *Dense) Record(v int64) { d.RecordN(v, 1) }

// RecordN adds n (≥ 1) values v at once, as n Records would: a run of equal values
// (packets stamped with one clock reading and indicated together share their service
// time) costs one bucket computation.
func (d *Dense) RecordN(v, n int64) {
	if v < 0 {
		v = 0
	}
	if v > d.highest {
		v = d.highest
		d.clamped += uint64(n)
	}
	// hdrhistogram's countsIndexFor.
	bucket := uint(bits.Len64(uint64(v|d.mask))) - d.unitMag - (d.halfMag + 1)
	i := int(bucket+1)<<d.halfMag + int(v>>(bucket+d.unitMag)) - d.halfCount
	if uint(i) < uint(len(d.counts)) {
		d.counts[i] += n
	} else {
		d.grow(i, n)
	}
	d.total += n
	if i < d.lo {
		d.lo = i
	}
	if i > d.hi {
		d.hi = i
	}
}

// RecordSince adds now−t for every t of starts, as a Record of each would, with the
// histogram's layout and bounds held in registers across the loop instead of reloaded
// per value: a vCPU that indicates a batch of packets at one instant records their
// latencies with one call.
func (d *Dense) RecordSince(now int64, starts []int64) {
	if d.counts == nil {
		d.counts = make([]int64, d.n)
	}
	counts, highest, mask := d.counts, d.highest, d.mask
	shift, halfMag, unitMag, halfCount := d.unitMag+d.halfMag+1, d.halfMag, d.unitMag, d.halfCount
	lo, hi := d.lo, d.hi
	var clamped uint64
	for _, t := range starts {
		v := now - t
		if uint64(v) > uint64(highest) { // negative, or past the ceiling
			if v < 0 {
				v = 0
			} else {
				v = highest
				clamped++
			}
		}
		bucket := uint(bits.Len64(uint64(v|mask))) - shift
		i := int(bucket+1)<<halfMag + int(v>>(bucket+unitMag)) - halfCount
		counts[i]++
		lo, hi = min(lo, i), max(hi, i)
	}
	d.total += int64(len(starts))
	d.clamped += clamped
	d.lo, d.hi = lo, hi
}

// grow allocates the counts on first use and counts bucket i. Off the hot path: the
// bounds check it stands in for is one the compiler would have made anyway.
func (d *Dense) grow(i int, n int64) {
	if d.counts == nil {
		d.counts = make([]int64, d.n)
	}
	d.counts[i] += n
}

// TotalCount returns how many values d holds.
func (d *Dense) TotalCount() int64 { return d.total }

// Clamped returns how many of them were clamped at the ceiling.
func (d *Dense) Clamped() uint64 { return d.clamped }

// value returns the lowest value of bucket i (hdrhistogram's valueFromFlatIndex).
func (d *Dense) value(i int) int64 {
	bucket := (i >> d.halfMag) - 1
	sub := i&(d.halfCount-1) + d.halfCount
	if bucket < 0 {
		sub -= d.halfCount
		bucket = 0
	}
	return int64(sub) << (uint(bucket) + d.unitMag)
}

// DrainInto moves up to budget buckets of d, from bucket *from on, into p (nil: drop
// them) and empties them; it skips the buckets not in use. It returns how much of the
// budget it spent, and whether d is empty now, its total and clamped count then moved
// too (into clamped, unless p is nil). Small budgets let a writer drain in steps between
// pieces of work.
func (d *Dense) DrainInto(p *hdrhistogram.PackedHistogram, clamped *uint64, from *int, budget int) (spent int, empty bool) {
	if d.total == 0 {
		return 0, true
	}
	pos := max(*from, d.lo)
	stop := d.hi + 1
	if budget < stop-pos {
		stop = pos + budget
	}
	if pos < stop {
		c := d.counts[pos:stop]
		if p == nil {
			clear(c)
		} else {
			for j, n := range c {
				if n != 0 {
					_ = p.RecordValues(d.value(pos+j), n)
					c[j] = 0
				}
			}
		}
	}
	spent = max(stop-pos, 1)
	*from = stop
	if stop <= d.hi {
		return spent, false
	}
	if p != nil {
		*clamped += d.clamped
	}
	d.total, d.clamped, d.lo, d.hi = 0, 0, math.MaxInt, -1
	*from = 0
	return spent, true
}

// NewPacked returns an empty sparse histogram with d's range and precision.
func (d *Dense) NewPacked() *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(d.lowest, d.highest, d.digits)
}

// NewHistogram returns an empty dense hdrhistogram with d's range and precision.
func (d *Dense) NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(d.lowest, d.highest, d.digits)
}

// prototypes holds a full sparse histogram per layout, for PreallocPacked to copy.
var prototypes sync.Map // Layout → *hdrhistogram.PackedHistogram

// PreallocPacked returns an empty sparse histogram with l's range and precision and
// room for every bucket, with counts of the widest kind: recording into it, merging into
// it or resetting it never allocates. Its memory is touched: it takes no page fault.
func PreallocPacked(l Layout) *hdrhistogram.PackedHistogram {
	proto, ok := prototypes.Load(l)
	if !ok {
		var d Dense
		d.init(l.Lowest, l.Highest, l.Digits)
		p := d.NewPacked()
		_ = p.RecordValues(0, 1<<40) // counts of 8 bytes from the start
		for i := 1; i < d.n; i++ {
			_ = p.RecordValues(d.value(i), 1)
		}
		proto, _ = prototypes.LoadOrStore(l, p)
	}
	p := proto.(*hdrhistogram.PackedHistogram).Clone()
	p.Reset()
	return p
}

// SetSchedule puts w on s: it records into the warm-up (or, on Always, the one
// interval) until its first Tick. Before the owner starts; what w holds is discarded.
func (w *Writer) SetSchedule(s Schedule) {
	w.sched = s
	w.cur = s.Index(math.MinInt64)
	w.end.Store(s.End(w.cur))
	for _, set := range []*Set{w.active, w.spare} {
		for i := range set.h {
			set.h[i].DrainInto(nil, nil, new(int), math.MaxInt)
		}
	}
}

// Len returns how many histograms w has.
func (w *Writer) Len() int { return len(w.layouts) }

// Tick tells w the owner's time: when it reached the end of the current interval (or a
// cut the collector asked for), the active set is retired and a clean one takes its
// place. It returns the set to record the owner's next piece of work into, which stays
// the owner's until its next Step (see the Invariants in writer.go). Owner only.
// It costs a load and a comparison unless it cuts.
func (w *Writer) Tick(now int64) *Set {
	if now >= w.end.Load() {
		w.cross(now)
	}
	return w.active
}

// Record adds v to histogram i of the active set. Owner only.
func (w *Writer) Record(i int, v int64) { w.active.Record(i, v) }

// RecordAt adds v to histogram i of the interval at falls in (Tick(at), then Record).
// Owner only.
func (w *Writer) RecordAt(i int, at, v int64) { w.Tick(at).Record(i, v) }

// cross retires the active set at now: the previous retired set, if its drain has not
// finished, is finished first (two cuts with no Step between: rare), then the active set
// becomes the retired one and the spare the active one. The retired set is retired even
// when it is empty: the owner may still record into it (the Invariants' set of a piece
// of work in hand), and only its drain, at a Step, hands it over (done).
func (w *Writer) cross(now int64) {
	if w.conv.set != nil {
		w.finish()
	}
	old := w.active
	w.active, w.spare = w.spare, nil
	w.conv = conversion{set: old, index: w.cur, at: now}
	w.cur = w.sched.Index(now)
	end := w.sched.End(w.cur)
	w.end.Store(end)
	if f := w.flushAt.Load(); f > now && f < end {
		w.end.Store(f)
	}
}

// Converting reports whether a retired set is still being drained (Step has work).
// Owner only.
func (w *Writer) Converting() bool { return w.conv.set != nil }

// Due reports whether the owner has something to do for w at now: a drain to go on
// with, or a cut to make. An owner about to sleep asks it first. Owner only.
func (w *Writer) Due(now int64) bool { return w.conv.set != nil || now >= w.end.Load() }

// Step drains a little of the retired set, if there is one (stepBudget buckets, about a
// microsecond), and hands its snapshot to the collector when it is all drained. The
// owner calls it between pieces of work or while idle. Owner only.
func (w *Writer) Step() {
	if w.conv.set != nil {
		w.step(stepBudget)
	}
}

// StepN is Step with a budget of n buckets (at least stepBudget): an owner whose pieces
// of work are long, so that its steps are few, drains in proportion (a bucket costs
// about a nanosecond, a populated one tens). Owner only.
func (w *Writer) StepN(n int) {
	if w.conv.set != nil {
		w.step(max(n, stepBudget))
	}
}

func (w *Writer) step(budget int) {
	c := &w.conv
	for budget > 0 && c.h < len(c.set.h) {
		d := &c.set.h[c.h]
		var p *hdrhistogram.PackedHistogram
		var clamped *uint64
		if c.index >= 0 && d.total != 0 {
			if c.snap == nil {
				c.snap = w.takeSnapshot(c.index)
			}
			if p = c.snap.Hists[c.h]; p == nil {
				p = d.NewPacked()
				c.snap.Hists[c.h] = p
			}
			clamped = &c.snap.Clamped[c.h]
		}
		spent, empty := d.DrainInto(p, clamped, &c.pos, budget)
		budget -= spent
		if empty {
			c.h++
			c.pos = 0
		}
	}
	if c.h == len(c.set.h) {
		w.publish()
	}
}

// finish drains the whole retired set now. Owner only.
func (w *Writer) finish() {
	if w.conv.set != nil {
		w.step(math.MaxInt)
	}
}

// publish hands the drained set's snapshot to the collector and says so (done).
func (w *Writer) publish() {
	c := &w.conv
	if s := c.snap; s != nil {
		for {
			head := w.out.Load()
			s.next = head
			if w.out.CompareAndSwap(head, s) {
				break
			}
		}
	}
	w.spare = c.set
	w.done.Store(c.at)
	*c = conversion{}
}

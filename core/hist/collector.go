package hist

import (
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Part is one histogram of one closed interval, merged over the writers.
type Part struct {
	Index      int   // the interval's number in the schedule
	Start, End int64 // on the run's clock: boundaries, but the last ends when the run did
	Hist       int   // the histogram's number
	// H holds its values (TotalCount 0 when none), and Clamped how many of them were
	// clamped at its ceiling. H is the collector's (or a writer's): valid during the call
	// that hands it out.
	H       *hdrhistogram.PackedHistogram
	Clamped uint64
	Last    bool // the interval's last part
}

// Collector gathers its writers' snapshots and hands out each interval, in order, once
// every writer has passed its end, one histogram (Part) at a time, merged: the work
// of a call is bounded (a budget of buckets), so that a caller can spread an interval
// over several calls rather than take a CPU from a busy thread for long. The parts
// handed out add up to its totals. It never waits for a writer (Collect takes what is
// there), and its work is proportional to the buckets the writers populated, not to
// their dense size; a histogram only one writer recorded into is handed out as that
// writer's snapshot, without a copy. One goroutine at a time; writers are added before
// they record.
type Collector struct {
	sched   Schedule
	layouts []Layout // of the writers' histograms, by number
	sums    [][]int  // histograms that are sums of others, numbered after those
	order   []int    // the order of an interval's parts (nil: by number)
	members []member
	pend    []*pending // pend[i] is interval next+i
	next    int        // the interval being handed out, or next to be
	pos     int        // how many of its parts are out
	pool    []*pending
	scratch []*hdrhistogram.PackedHistogram // a merged part, by number
	total   []*hdrhistogram.Histogram
	clamped []uint64
}

type member struct {
	w     *Writer
	base  int    // the number of its first histogram
	nudge func() // makes its owner look at the time soon; nil: it always does
}

// pending is an interval's snapshots, from every writer that handed one over.
type pending struct {
	snaps []snapRef
}

type snapRef struct {
	m *member
	s *Snapshot
}

// NewCollector returns a collector with no writer, on the schedule Always.
func NewCollector() *Collector { return &Collector{sched: Always} }

// Add adds w, its histograms numbered from base on: writers that record the same
// histograms (one per CPU, say) share their numbers, and their records are merged; a
// number past the collector's last writer histogram is a new histogram, with w's
// layout. base must not be past that. nudge, when not nil, is called when an interval
// has ended and w has not handed it over yet: it should make w's owner look at the time
// (wake it). Before any writer records; the numbers of sums (AddSum) move up.
func (c *Collector) Add(w *Writer, base int, nudge func()) {
	if base > len(c.layouts) {
		panic("hist: Collector.Add: base past the last histogram")
	}
	for _, l := range w.layouts[min(len(w.layouts), len(c.layouts)-base):] {
		c.layouts = append(c.layouts, l)
	}
	c.members = append(c.members, member{w: w, base: base, nudge: nudge})
	w.SetSchedule(c.sched)
	c.resize()
}

// AddSum adds a histogram that is the sum of the histograms numbered of (writers'
// histograms of one layout): numbered after every writer's histogram, in the order
// sums were added. Before any writer records.
func (c *Collector) AddSum(of ...int) {
	c.sums = append(c.sums, append([]int(nil), of...))
	c.resize()
}

// resize makes the totals and scratch histograms match the numbering.
func (c *Collector) resize() {
	c.total, c.scratch, c.clamped, c.order = c.total[:0], c.scratch[:0], c.clamped[:0], nil
	for i := range c.Len() {
		l := c.layout(i)
		t := hdrhistogram.New(l.Lowest, l.Highest, l.Digits)
		t.Reset() // touches its memory: no page fault at the first interval
		c.total = append(c.total, t)
		c.scratch = append(c.scratch, PreallocPacked(l))
		c.clamped = append(c.clamped, 0)
	}
}

// layout returns the layout of histogram i (a sum's is its first term's).
func (c *Collector) layout(i int) Layout {
	if i >= len(c.layouts) {
		return c.layouts[c.sums[i-len(c.layouts)][0]]
	}
	return c.layouts[i]
}

// SetOrder sets the order of an interval's parts: a permutation of the histogram
// numbers (nil: by number). After the last Add and AddSum.
func (c *Collector) SetOrder(order []int) { c.order = append([]int(nil), order...) }

// SetSchedule puts the collector and every writer on s. Before any writer records.
func (c *Collector) SetSchedule(s Schedule) {
	c.sched = s
	for _, m := range c.members {
		m.w.SetSchedule(s)
	}
}

// Schedule returns the schedule in force.
func (c *Collector) Schedule() Schedule { return c.sched }

// Len returns how many histograms the collector has: the writers', then the sums.
func (c *Collector) Len() int { return len(c.layouts) + len(c.sums) }

// NextEnd returns when the next interval to be handed out ends (the largest int64 for
// the last).
func (c *Collector) NextEnd() int64 { return c.sched.End(c.next) }

// Collect takes what the writers handed over and hands out, through emit, the parts of
// the intervals that have ended by now and that every writer has passed, in order, until
// it has spent budget (the buckets of the parts handed out, at least one part; 0: no
// limit). more reports that an interval has parts left to hand out: call again soon.
// waiting reports that an interval has ended but waits for a writer: Collect nudged it.
// A writer that closed is taken over and settled. Collect never blocks.
func (c *Collector) Collect(now int64, budget int, emit func(Part)) (more, waiting bool) {
	done := c.gather()
	end, more := c.emit(now, done, false, budget, emit)
	if more || end > now {
		return more, false
	}
	for _, m := range c.members {
		if m.w.Done() < end && !m.w.Closed() && m.nudge != nil {
			m.nudge()
		}
	}
	return false, true
}

// Final hands out every part of every interval up to the one end falls in, the last
// one ending at end: the run is over. Writers that closed are settled; one that has not
// holds up the intervals it has not passed, as in Collect. It may be called again: what
// a writer recorded since goes to the intervals not handed out yet, or else to the
// totals.
func (c *Collector) Final(end int64, emit func(Part)) {
	c.emit(end, c.gather(), true, 0, emit)
}

// Flush asks every writer that has not closed for a cut at t, and waits until each made
// it or closed: it nudges those that did not and calls pause between looks. Writers
// used under a lock must be synced by their lock's holder (Writer.Sync) for it to
// return. Then it takes what they handed over: Totals includes every record made before
// t. It blocks as long as a writer's piece of work in hand.
func (c *Collector) Flush(t int64, pause func()) {
	for _, m := range c.members {
		if !m.w.Closed() {
			m.w.RequestCut(t)
		}
	}
	for {
		ok := true
		for _, m := range c.members {
			if m.w.Closed() || m.w.Done() >= t {
				continue
			}
			ok = false
			if m.nudge != nil {
				m.nudge()
			}
		}
		if ok {
			break
		}
		pause()
	}
	c.gather()
}

// gather takes every writer's snapshots into the intervals they belong to, settling the
// writers that closed, and returns the least time before which every writer handed
// everything over.
func (c *Collector) gather() (done int64) {
	done = math.MaxInt64
	for i := range c.members {
		m := &c.members[i]
		w := m.w
		if w.Closed() {
			w.settle()
		}
		head, d := w.take()
		for s := head; s != nil; {
			next := s.next
			s.next = nil
			c.add(m, s)
			s = next
		}
		done = min(done, d)
	}
	return done
}

// add files the snapshot s of member m with its interval.
func (c *Collector) add(m *member, s *Snapshot) {
	k := s.Index - c.next
	if k < 0 || k == 0 && c.pos > 0 {
		// Recorded after its interval was (partly) handed out: only after Final, by a
		// writer used under a lock. The totals keep it.
		for i, h := range s.Hists {
			if h != nil {
				h.MergeInto(c.total[m.base+i])
				c.addToSums(m.base+i, h)
			}
			c.clamped[m.base+i] += s.Clamped[i]
		}
		m.w.giveBack(s)
		return
	}
	for len(c.pend) <= k {
		c.pend = append(c.pend, c.newPending())
	}
	c.pend[k].snaps = append(c.pend[k].snaps, snapRef{m, s})
}

// addToSums adds h, histogram i, to the totals of the sums it is a term of.
func (c *Collector) addToSums(i int, h *hdrhistogram.PackedHistogram) {
	for j, of := range c.sums {
		for _, t := range of {
			if t == i {
				h.MergeInto(c.total[len(c.layouts)+j])
			}
		}
	}
}

func (c *Collector) newPending() *pending {
	if n := len(c.pool); n > 0 {
		p := c.pool[n-1]
		c.pool = c.pool[:n-1]
		return p
	}
	return &pending{}
}

// part returns histogram i of the interval p holds, merged over its snapshots: the
// snapshot's own when only one holds values, else a scratch histogram.
func (c *Collector) part(p *pending, i int) (*hdrhistogram.PackedHistogram, uint64) {
	terms := []int{i}
	if i >= len(c.layouts) {
		terms = c.sums[i-len(c.layouts)]
	}
	var only *hdrhistogram.PackedHistogram
	var clamped uint64
	n := 0
	merged := c.scratch[i]
	for _, t := range terms {
		for _, r := range p.snaps {
			j := t - r.m.base
			if j < 0 || j >= len(r.s.Hists) || r.s.Hists[j] == nil || r.s.Hists[j].TotalCount() == 0 {
				continue
			}
			h := r.s.Hists[j]
			clamped += r.s.Clamped[j]
			switch n++; n {
			case 1:
				only = h
			case 2:
				merged.Reset()
				merged.Merge(only)
				fallthrough
			default:
				merged.Merge(h)
			}
		}
	}
	switch n {
	case 0:
		merged.Reset()
		return merged, 0
	case 1:
		return only, clamped
	}
	return merged, clamped
}

// emit hands out the parts of the intervals that have ended by now and that every
// writer passed (done), until it spent budget, and returns the end of the first
// interval it cannot hand out yet, and whether parts are left of one it could. With
// final, the interval now falls in is handed out too, ending at now.
func (c *Collector) emit(now, done int64, final bool, budget int, emit func(Part)) (blocked int64, more bool) {
	if budget <= 0 {
		budget = math.MaxInt
	}
	for k := c.next; k <= c.sched.Index(now); k = c.next {
		end := c.sched.End(k)
		if end > done || end > now && !final {
			return end, false
		}
		if len(c.pend) == 0 {
			c.pend = append(c.pend, c.newPending())
		}
		p := c.pend[0]
		for ; c.pos < c.Len(); c.pos++ {
			if budget <= 0 {
				return end, true
			}
			i := c.pos
			if c.order != nil {
				i = c.order[c.pos]
			}
			h, clamped := c.part(p, i)
			if h.TotalCount() != 0 {
				h.MergeInto(c.total[i])
			}
			c.clamped[i] += clamped
			if emit != nil {
				emit(Part{Index: k, Start: c.sched.Begin(k), End: min(end, now), Hist: i, H: h, Clamped: clamped, Last: c.pos == c.Len()-1})
			}
			budget -= max(int(h.Populated()), 1)
		}
		for _, r := range p.snaps {
			r.m.w.giveBack(r.s)
		}
		clear(p.snaps)
		p.snaps = p.snaps[:0]
		copy(c.pend, c.pend[1:])
		c.pend = c.pend[:len(c.pend)-1]
		c.pool = append(c.pool, p)
		c.next++
		c.pos = 0
	}
	return math.MaxInt64, false
}

// Totals returns, for every histogram, a copy of what the parts handed out hold plus
// what the collector holds that is not handed out yet, and the clamped counts alike.
func (c *Collector) Totals() ([]*hdrhistogram.Histogram, []uint64) {
	hs := make([]*hdrhistogram.Histogram, c.Len())
	cl := append([]uint64(nil), c.clamped...)
	for i, t := range c.total {
		hs[i] = hdrhistogram.New(t.LowestTrackableValue(), t.HighestTrackableValue(), int(t.SignificantFigures()))
		hs[i].Merge(t)
	}
	for k, p := range c.pend {
		for pos := range c.Len() {
			if k == 0 && pos < c.pos {
				continue // handed out: in the totals
			}
			i := pos
			if c.order != nil {
				i = c.order[pos]
			}
			h, clamped := c.part(p, i)
			h.MergeInto(hs[i])
			cl[i] += clamped
		}
	}
	return hs, cl
}

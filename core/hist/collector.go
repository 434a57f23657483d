package hist

import (
	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Interval is one closed interval of a collector's histograms, merged over its writers.
type Interval struct {
	Index      int   // its number in the schedule
	Start, End int64 // on the run's clock: boundaries, but the last ends when the run did
	// Hists holds every histogram of the collector, by number (an empty one has
	// TotalCount 0); Clamped, how many values of each were clamped at its ceiling. Both
	// are the collector's: valid during the call that hands them out.
	Hists   []*hdrhistogram.PackedHistogram
	Clamped []uint64
}

// Collector gathers its writers' snapshots into intervals, merged, and hands out each
// interval, in order, once every writer has passed its end; the intervals it handed out
// add up to its totals. It never waits for a writer (Collect takes what is there), and
// its work is proportional to the buckets the writers populated, not to their dense
// size. One goroutine at a time; writers are added before they record.
type Collector struct {
	sched   Schedule
	layouts []Layout // by histogram number
	members []member
	pend    []*accum // pend[i] is interval next+i
	next    int
	pool    []*accum
	total   []*hdrhistogram.Histogram
	clamped []uint64
}

type member struct {
	w     *Writer
	base  int    // the number of its first histogram
	nudge func() // makes its owner look at the time soon; nil: it always does
}

// accum is an interval being merged.
type accum struct {
	hists   []*hdrhistogram.PackedHistogram
	clamped []uint64
}

// NewCollector returns a collector with no writer, on the schedule Always.
func NewCollector() *Collector { return &Collector{sched: Always} }

// Add adds w, its histograms numbered from base on: writers that record the same
// histograms (one per CPU, say) share their numbers, and their records are merged; a
// number past the collector's last is a new histogram, with w's layout. base must not
// be past the last number. nudge, when not nil, is called when an interval has ended and
// w has not handed it over yet: it should make w's owner look at the time (wake it).
// Before any writer records.
func (c *Collector) Add(w *Writer, base int, nudge func()) {
	if base > len(c.layouts) {
		panic("hist: Collector.Add: base past the last histogram")
	}
	for _, l := range w.layouts[min(len(w.layouts), len(c.layouts)-base):] {
		c.layouts = append(c.layouts, l)
		c.total = append(c.total, hdrhistogram.New(l.Lowest, l.Highest, l.Digits))
		c.clamped = append(c.clamped, 0)
	}
	c.members = append(c.members, member{w: w, base: base, nudge: nudge})
	w.SetSchedule(c.sched)
}

// SetSchedule puts the collector and every writer on s. Before any writer records.
func (c *Collector) SetSchedule(s Schedule) {
	c.sched = s
	for _, m := range c.members {
		m.w.SetSchedule(s)
	}
}

// Schedule returns the schedule in force.
func (c *Collector) Schedule() Schedule { return c.sched }

// Len returns how many histograms the collector has.
func (c *Collector) Len() int { return len(c.layouts) }

// Next returns the number of the next interval to be handed out.
func (c *Collector) Next() int { return c.next }

// Collect takes what the writers handed over and hands out, through emit (nil: adds
// them up only), every interval that has ended by now and that every writer has passed.
// It reports whether an interval that has ended still waits for a writer; it nudged
// those. A writer that closed is taken over and settled. It never blocks.
func (c *Collector) Collect(now int64, emit func(Interval)) (waiting bool) {
	done := c.gather()
	end := c.emit(now, done, false, emit)
	if end > now {
		return false
	}
	for _, m := range c.members {
		if m.w.Done() < end && !m.w.Closed() && m.nudge != nil {
			m.nudge()
		}
	}
	return true
}

// Final hands out every interval up to the one end falls in, the last one ending at
// end: the run is over. Writers that closed are settled; one that has not holds up the
// intervals it has not passed, as in Collect. It may be called again: what a writer
// recorded since goes to the intervals not handed out yet, or else to the totals.
func (c *Collector) Final(end int64, emit func(Interval)) {
	c.emit(end, c.gather(), true, emit)
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
	done = int64(^uint64(0) >> 1)
	for _, m := range c.members {
		w := m.w
		if w.Closed() {
			w.settle()
		}
		head, d := w.take()
		for s := head; s != nil; {
			next := s.next
			c.add(m.base, s)
			w.giveBack(s)
			s = next
		}
		done = min(done, d)
	}
	return done
}

// add merges the snapshot s of the writer whose histograms start at base.
func (c *Collector) add(base int, s *Snapshot) {
	k := s.Index - c.next
	if k < 0 {
		// Recorded after its interval was handed out (only after Final): the totals
		// keep it.
		for i, h := range s.Hists {
			if h != nil {
				h.MergeInto(c.total[base+i])
			}
			c.clamped[base+i] += s.Clamped[i]
		}
		return
	}
	for len(c.pend) <= k {
		c.pend = append(c.pend, c.newAccum())
	}
	a := c.pend[k]
	for i, h := range s.Hists {
		if h != nil && h.TotalCount() != 0 {
			a.hists[base+i].Merge(h)
		}
		a.clamped[base+i] += s.Clamped[i]
	}
}

func (c *Collector) newAccum() *accum {
	if n := len(c.pool); n > 0 {
		a := c.pool[n-1]
		c.pool = c.pool[:n-1]
		return a
	}
	a := &accum{clamped: make([]uint64, len(c.layouts))}
	for _, l := range c.layouts {
		a.hists = append(a.hists, hdrhistogram.NewPacked(l.Lowest, l.Highest, l.Digits))
	}
	return a
}

// emit hands out the intervals that have ended by now and that every writer passed
// (done), and returns the end of the first it cannot hand out yet. With final, the
// interval now falls in is handed out too, ending at now.
func (c *Collector) emit(now, done int64, final bool, emit func(Interval)) (blocked int64) {
	for k := c.next; k <= c.sched.Index(now); k = c.next {
		end := c.sched.End(k)
		if end > done || end > now && !final {
			return end
		}
		var a *accum
		if len(c.pend) > 0 {
			a = c.pend[0]
			copy(c.pend, c.pend[1:])
			c.pend = c.pend[:len(c.pend)-1]
		} else {
			a = c.newAccum()
		}
		if emit != nil {
			emit(Interval{Index: k, Start: c.sched.Begin(k), End: min(end, now), Hists: a.hists, Clamped: a.clamped})
		}
		for i, h := range a.hists {
			if h.TotalCount() != 0 {
				h.MergeInto(c.total[i])
				h.Reset()
			}
			c.clamped[i] += a.clamped[i]
		}
		clear(a.clamped)
		c.pool = append(c.pool, a)
		c.next++
	}
	return int64(^uint64(0) >> 1)
}

// Totals returns, for every histogram, a copy of what the intervals handed out hold
// plus what the collector holds for those not handed out yet, and the clamped counts
// alike.
func (c *Collector) Totals() ([]*hdrhistogram.Histogram, []uint64) {
	hs := make([]*hdrhistogram.Histogram, len(c.total))
	cl := append([]uint64(nil), c.clamped...)
	for i, t := range c.total {
		hs[i] = hdrhistogram.New(c.layouts[i].Lowest, c.layouts[i].Highest, c.layouts[i].Digits)
		hs[i].Merge(t)
		for _, a := range c.pend {
			a.hists[i].MergeInto(hs[i])
			cl[i] += a.clamped[i]
		}
	}
	return hs, cl
}

// NextEnd returns when the next interval to be handed out ends (the largest int64 for
// the last).
func (c *Collector) NextEnd() int64 { return c.sched.End(c.next) }

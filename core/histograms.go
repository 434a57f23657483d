package core

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/core/hist"
	"github.com/ndisbench/ndisbench/results/metric"
)

// A platform's histograms are cut into intervals by time (SetIntervals): the cuts are
// fixed times, and each writer — a vCPU, the framework's work outside any vCPU, a writer
// added with AddWriter — attributes each piece of work to the interval its own clock
// says it began in, and retires a set of histograms the first time it sees a time past
// the cut. It drains the retired set into sparse form a little at a time, between
// pieces of work and while idle, and the collector (CollectIntervals) only picks up
// finished snapshots: no cut waits for a busy vCPU, and none is paid for on a busy CPU
// by a third thread scanning dense histograms. A vCPU parked across a cut is woken to
// make it.

// HistID returns the Hist of the histogram called name: a framework histogram
// (Hist.Name) or one of PlatformConfig.Hists.
func (p *Platform) HistID(name string) (Hist, bool) {
	for i, n := range p.histNames[:int(numHists)+len(p.cfg.Hists)] {
		if n == name {
			return Hist(i), true
		}
	}
	return 0, false
}

// Record adds v (clamped at the histogram's ceiling, and counted) to histogram h of vCPU
// cpu, in the interval of the piece of work in hand: the ISR or DPC it is called from.
// Only on vCPU cpu's own thread: from an ISR, a DPC or a Stack.Indicate call running on
// it; before Start, from the one goroutine that owns the platform. It neither allocates
// nor locks.
func (p *Platform) Record(cpu int, h Hist, v int64) { p.vcpus[cpu].rec.record(h, v) }

// RecordAt is Record in the interval of at, a time of the platform's clock taken on the
// vCPU's thread (a packet's indication, say, for a value measured when it happened
// rather than when the piece of work in hand began). A time before the current
// interval's start counts in the current interval.
func (p *Platform) RecordAt(cpu int, h Hist, at, v int64) {
	p.vcpus[cpu].rec.w.RecordAt(int(h), at, v)
}

// Interval returns vCPU cpu's histograms of the interval at falls in, where RecordAt(cpu,
// h, at, v) would record, for a loop that records many values measured at one time (the
// packets of one Stack.Indicate call) without looking for the interval at each: record
// into Set.Hist(int(h)). The thread rules are RecordAt's; the set stays at's interval's
// until that thread records at a later time, so use it at once.
func (p *Platform) Interval(cpu int, at int64) *hist.Set { return p.vcpus[cpu].rec.w.Tick(at) }

// SetIntervals cuts the platform's histograms on s from now on: records made before
// s.Start (the warm-up) are discarded, and intervals begin at the schedule's fixed times
// (hist.NewSchedule makes one). Without it, a platform has one interval with no warm-up.
// Before Start.
func (p *Platform) SetIntervals(s hist.Schedule) error {
	if p.state.Load() != platformNew {
		return errors.New("core: platform: SetIntervals after Start")
	}
	p.hists.Lock()
	defer p.hists.Unlock()
	p.hists.c.SetSchedule(s)
	p.gapFrom = s.Start
	for _, v := range p.vcpus {
		v.rec.turn = v.rec.w.Tick(math.MinInt64)
	}
	return nil
}

// AddWriter adds latency histograms called names, written by one goroutine outside the
// vCPUs (a load generator's, say) through the returned writer: they are cut, collected,
// merged and reported with the platform's (CollectIntervals, Metrics). The writer's owner
// ticks it with the platform's clock, steps it when it has a moment (hist.Writer), and
// closes it when it records no more, before Stop. Before Start.
func (p *Platform) AddWriter(names ...string) (*hist.Writer, error) {
	if p.state.Load() != platformNew {
		return nil, errors.New("core: platform: AddWriter after Start")
	}
	for i, n := range names {
		if n == "" || n == metric.ISRToDPC || contains(p.histNames, n) || contains(names[:i], n) {
			return nil, configErr("AddWriter", "name %q is empty or used twice (or by a built-in histogram)", n)
		}
	}
	ls := make([]hist.Layout, len(names))
	for i := range ls {
		ls[i] = hist.LatencyLayout
	}
	w := hist.NewWriter(ls, true)
	p.hists.Lock()
	defer p.hists.Unlock()
	p.hists.c.Add(w, len(p.histNames), nil)
	p.histNames = append(p.histNames, names...)
	p.nameHists()
	return w, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// IntervalPart is one histogram of one closed interval of a platform's histograms
// (SetIntervals), merged over the vCPUs.
type IntervalPart struct {
	Index      int    // the interval's number in the schedule
	Start, End int64  // on the platform's clock: the schedule's cuts, but the last ends with the run
	Name       string // the histogram's (IntervalNames)
	// Hist holds its values (TotalCount 0 when none), Clamped how many of them were
	// clamped at its ceiling. Hist belongs to the platform: valid during the callback only
	// (PackedHistogram.Clone keeps one).
	Hist    *hdrhistogram.PackedHistogram
	Clamped uint64
	Last    bool // the interval's last part
}

// IntervalNames returns the names of the histograms of an interval, in the order
// CollectIntervals hands them out: by name.
func (p *Platform) IntervalNames() []string {
	p.hists.Lock()
	defer p.hists.Unlock()
	names := make([]string, len(p.hists.order))
	for i, h := range p.hists.order {
		names[i] = p.hists.names[h]
	}
	return names
}

// nameHists names the collector's histograms: the framework's (in Hist order),
// PlatformConfig.Hists, those of AddWriter, then metric.ISRToDPC (the sum of the same-
// and cross-CPU halves); an interval's parts come in name order. Caller owns p or holds
// hists.
func (p *Platform) nameHists() {
	h := &p.hists
	h.names = append(append(h.names[:0], p.histNames...), metric.ISRToDPC)
	h.order = h.order[:0]
	for i := range h.names {
		h.order = append(h.order, i)
	}
	slices.SortFunc(h.order, func(a, b int) int { return strings.Compare(h.names[a], h.names[b]) })
	h.c.SetOrder(h.order)
}

// CollectIntervals hands fn (nil: none), one histogram at a time (IntervalPart), every
// interval that has ended and that every writer has handed over, in order, and adds them
// to what Metrics reports. Its work is bounded by budget, in histogram buckets (a few
// nanoseconds each here, and tens in fn's encoding of them, say; 0: no limit): more
// reports that an interval has parts left, for the caller to take in another call soon,
// so that it spreads an interval's cost rather than take a busy CPU for long. It never
// waits for a writer: waiting reports that an interval that has ended still waits for one
// (a vCPU in the middle of a long piece of work, or a parked one, which it woke). Once the
// platform stopped, it hands out the rest, the last interval ending at the stop, with no
// budget. Any goroutine, one call at a time; not concurrently with Start.
func (p *Platform) CollectIntervals(budget int, fn func(IntervalPart)) (more, waiting bool) {
	h := &p.hists
	h.Lock()
	defer h.Unlock()
	h.fn = fn
	defer func() { h.fn = nil }()
	emit := h.emit
	if fn == nil {
		emit = nil
	}
	if h.stopped {
		p.final(emit)
		return false, false
	}
	now := p.clock.Now()
	p.syncOwned(now, false)
	return h.c.Collect(now, budget, emit)
}

// NextIntervalEnd returns when the next interval CollectIntervals will hand out ends, on
// the platform's clock (math.MaxInt64 for the last, which ends with the run).
func (p *Platform) NextIntervalEnd() int64 {
	p.hists.Lock()
	defer p.hists.Unlock()
	return p.hists.c.NextEnd()
}

// emitPart hands the collector's part to fn, named.
func (p *Platform) emitPart(pt hist.Part) {
	h := &p.hists
	h.fn(IntervalPart{Index: pt.Index, Start: pt.Start, End: pt.End, Name: h.names[pt.Hist],
		Hist: pt.H, Clamped: pt.Clamped, Last: pt.Last})
}

// syncOwned makes the cut due at now (or, with flush, a cut at now) for the writers
// whose owner is the caller: the framework's work outside any vCPU (under its lock),
// and, before the vCPU threads ran, the vCPUs' (the platform's owner records into them).
// Caller holds hists.
func (p *Platform) syncOwned(now int64, flush bool) {
	cut := func(w *hist.Writer) {
		if flush {
			w.RequestCut(now)
		}
		w.Sync(now)
	}
	p.external.Lock()
	cut(p.external.rec.w)
	p.external.Unlock()
	if !p.ran.Load() {
		for _, v := range p.vcpus {
			cut(v.rec.w)
		}
	}
}

// final hands out what is left once the platform stopped. Caller holds hists.
func (p *Platform) final(emit func(hist.Part)) {
	p.external.Lock()
	defer p.external.Unlock()
	p.hists.c.Final(p.hists.stoppedAt, emit)
}

// Metrics returns every histogram of the intervals since the warm-up, merged over the
// vCPUs (with the writers of AddWriter's), the counts of values clamped at a histogram's
// ceiling, and the counters summed. While the platform runs, it makes every writer hand
// over what it recorded until now (a cut out of schedule), waiting for each vCPU to
// finish the piece of work in hand (and waking parked ones): a call for tests and tools,
// not for a run's hot moments. The histograms are copies the caller owns.
func (p *Platform) Metrics() *Metrics {
	h := &p.hists
	h.Lock()
	if h.stopped {
		p.final(nil)
	} else {
		now := p.clock.Now()
		p.syncOwned(now, true)
		i := 0
		h.c.Flush(now, func() {
			if i++; i < 100 {
				runtime.Gosched()
			} else {
				time.Sleep(50 * time.Microsecond)
			}
		})
	}
	totals, clamped := h.c.Totals()
	names := h.names
	h.Unlock()
	m := &Metrics{Hists: map[string]*hdrhistogram.Histogram{}, Counters: p.Counters(), Clamped: map[string]uint64{}}
	for i, t := range totals {
		m.Hists[names[i]] = t
		if clamped[i] != 0 {
			m.Clamped[names[i]] = clamped[i]
		}
	}
	return m
}

// LoopGaps returns, for each vCPU, the longest it went without looking at its
// interrupts and DPCs in the measured window (from SetIntervals' start), in nanoseconds:
// from the end of the last ISR or DPC handler it ran (or its last turn that found no
// work) to the top of its next turn. A handler's own run is no gap (isr_duration and
// dpc_duration have those), nor is time parked: a long gap is time the host took the
// vCPU's thread away, or a yield that found others to run. Safe while running.
func (p *Platform) LoopGaps() []int64 {
	gaps := make([]int64, len(p.vcpus))
	for i, v := range p.vcpus {
		gaps[i] = v.gapMax.Load()
	}
	return gaps
}

// CPUTime is one vCPU's CPU time so far by what it ran, from the clock readings its
// loop takes at the start and end of every piece of work (no reading of its own):
// ISRNs covers each delivered vector from interrupt entry to EOI (the ISRs, the DPCs
// they queued, the IPIs sent), DPCNs each DPC call (the IPI entry before it included),
// and InjectedNs the injected costs spent within both (Costs, DPCCall.Spin). The rest
// of a window is idle: the loop looking for work, spinning, yielding or parked.
type CPUTime struct {
	ISRNs, DPCNs, InjectedNs uint64
}

// BusyNs is ISRNs + DPCNs.
func (t CPUTime) BusyNs() uint64 { return t.ISRNs + t.DPCNs }

// CPUTimes returns every vCPU's CPU time so far, by vCPU; safe while running (each
// figure is its vCPU's own atomic, stored as each piece of work ends).
func (p *Platform) CPUTimes() []CPUTime {
	out := make([]CPUTime, len(p.vcpus))
	for i, v := range p.vcpus {
		c := &v.rec.counters
		out[i] = CPUTime{c[CtrCPUISRNs].Load(), c[CtrCPUDPCNs].Load(), c[CtrCPUInjectedNs].Load()}
	}
	return out
}

// Counter returns the current platform-wide value of one counter; safe while running.
func (p *Platform) Counter(c Counter) uint64 {
	var sum uint64
	for _, v := range p.vcpus {
		sum += v.rec.counters[c].Load()
	}
	p.external.Lock()
	sum += p.external.rec.counters[c].Load()
	p.external.Unlock()
	return sum
}

// Counters returns every framework counter's current platform-wide value, by name; safe
// while running.
func (p *Platform) Counters() map[string]uint64 {
	m := make(map[string]uint64, numCounters)
	for c := Counter(0); c < numCounters; c++ {
		m[c.Name()] = p.Counter(c)
	}
	return m
}

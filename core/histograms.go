package core

import (
	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/core/hist"
	"github.com/ndisbench/ndisbench/results/metric"
)

// HistID returns the Hist of the histogram called name: a framework histogram
// (Hist.Name) or one of PlatformConfig.Hists.
func (p *Platform) HistID(name string) (Hist, bool) {
	for i, n := range p.histNames {
		if n == name {
			return Hist(i), true
		}
	}
	return 0, false
}

// Record adds v (clamped as hist.Record) to histogram h of vCPU cpu. Only on vCPU cpu's
// own thread: from an ISR, a DPC or a Stack.Indicate call running on it; before Start,
// from the one goroutine that owns the platform. It neither allocates nor locks.
func (p *Platform) Record(cpu int, h Hist, v int64) { p.vcpus[cpu].rec.record(h, v) }

// RotateHistograms ends the current histogram interval: every vCPU hands over what it
// recorded since the last rotation (at the top of its loop, between two pieces of work;
// a parked vCPU is woken for it), the sets are merged, and fn, when not nil, is called
// once per histogram with the interval's merge, in sparse form: the framework's
// (in Hist order), then PlatformConfig.Hists, then metric.ISRToDPC. fn must not keep h after
// it returns (h.Clone() does). The interval is then added to the totals Metrics reports.
// It blocks until every running vCPU handed over (microseconds, or as long as the
// longest ISR or DPC in progress); its work is one scan and one clear of each histogram a
// vCPU recorded into, and it allocates only when an interval populates buckets no
// earlier one did. One rotation runs at a time; any goroutine, not concurrently with
// Start.
func (p *Platform) RotateHistograms(fn func(name string, h *hdrhistogram.PackedHistogram)) {
	c := &p.collect
	c.Lock()
	defer c.Unlock()
	p.rotateLocked()
	iv := c.interval
	both := c.isrToDPC
	both.Merge(iv[HistISRToDPCSame])
	both.Merge(iv[HistISRToDPCCross])
	if fn != nil {
		for i, h := range iv {
			fn(p.histNames[i], h)
		}
		fn(metric.ISRToDPC, both)
	}
	both.MergeInto(c.isrTotal)
	both.Reset()
	for i, h := range iv {
		h.MergeInto(c.total[i])
		h.Reset()
	}
}

// rotateLocked collects every recorder's interval into collect.interval. Caller holds
// collect.
func (p *Platform) rotateLocked() {
	iv := p.collect.interval
	if !p.ran.Load() {
		// No vCPU thread ever ran, so none will hand anything over: take what code on
		// the caller's goroutine recorded for them (Record before Start) directly.
		for _, v := range p.vcpus {
			v.rec.CollectStopped(iv)
		}
	} else {
		gen := p.histGen.Add(1)
		for _, v := range p.vcpus {
			v.wake()
		}
		for _, v := range p.vcpus {
			v.rec.Collect(gen, v.wake, iv)
		}
	}
	p.external.Lock()
	p.external.rec.CollectStopped(iv)
	p.external.Unlock()
}

// Metrics returns every histogram collected since Start (or the last ResetHistograms),
// including what the vCPUs hold now (a rotation without a callback), merged over the
// vCPUs, and the counters summed. The histograms are copies the caller owns.
func (p *Platform) Metrics() *Metrics {
	p.RotateHistograms(nil)
	m := &Metrics{Hists: map[string]*hdrhistogram.Histogram{}, Counters: p.Counters()}
	c := &p.collect
	c.Lock()
	for i, h := range c.total {
		cp := hist.EmptyLike(h)
		cp.Merge(h)
		m.Hists[p.histNames[i]] = cp
	}
	both := hist.NewLatency()
	both.Merge(c.isrTotal)
	m.Hists[metric.ISRToDPC] = both
	c.Unlock()
	return m
}

// ResetHistograms empties the framework's histograms (those of Hist), keeping the counters:
// the end of a warm-up. It is a rotation whose interval is discarded, so it blocks as
// RotateHistograms does: what an ISR or DPC records after it returns is kept; what the
// vCPUs were doing when it was called may fall on either side. The extra histograms
// (PlatformConfig.Hists) keep what they hold, to be reported with the next interval:
// their writers know what to measure and make their own cut (a stack records only
// packets intended after the warm-up), which a rotation's timing must not blur.
func (p *Platform) ResetHistograms() {
	c := &p.collect
	c.Lock()
	defer c.Unlock()
	p.rotateLocked()
	for i := 0; i < int(numHists); i++ {
		c.interval[i].Reset()
		c.total[i].Reset()
	}
	c.isrToDPC.Reset()
	c.isrTotal.Reset()
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

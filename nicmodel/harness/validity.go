package harness

import (
	"fmt"
	"sort"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core/calibrate"
	"github.com/ndisbench/ndisbench/results"
)

// A run knows whether it was a measurement (DESIGN.md §5, validity). It watches what the
// host did to it over the traffic — other processes' and the hypervisor's use of its
// CPUs, how long its vCPUs went without a turn of their loops, how far the generator
// fell behind its schedule, values beyond a histogram's ceiling, the cross-CPU cache
// line round trip before and after — and judges it against Limits. An invalid run's
// figures are those of a disturbed host, not of the model: the report says why, and the
// CLI leaves it out of headlines and exits 3.

// Limits are the thresholds of a run's verdict. Beyond an Invalid limit the run is not
// a measurement; beyond a Warn limit it is, with a warning.
type Limits struct {
	// OtherCPUPct: other processes' CPU time on the run's CPUs, % of their time.
	OtherCPUPct, WarnOtherCPUPct float64
	// StealPct: CPU time the hypervisor took from the run's CPUs, % of their time.
	StealPct, WarnStealPct float64
	// VCPUGap: the longest a vCPU went without a turn of its loop (not parked).
	VCPUGap, WarnVCPUGap time.Duration
	// GeneratorLag: the most a packet's write lagged its intended time. Latency is
	// measured from the intended time, so a stalled generator shows as packet latency
	// the model did not cause.
	GeneratorLag, WarnGeneratorLag time.Duration
	// UnsentPct: packets the schedule offered in the window that the generator never
	// sent (it fell behind until the window ended), % of those offered.
	UnsentPct float64
	// RTTChange: the cache-line round trip after the run over the one before (or its
	// inverse), beyond which the host moved the CPUs: a warning.
	RTTChange float64
}

// DefaultLimits are the limits a run is judged by unless Options.Limits says otherwise.
// The invalid limits are far beyond what the model does to itself: a vCPU or the
// generator that stops for 50 ms on a model whose ring fills in about a millisecond at
// 1 Mpps was stopped by the host.
func DefaultLimits() Limits {
	return Limits{
		OtherCPUPct: 10, WarnOtherCPUPct: 2,
		StealPct: 5, WarnStealPct: 1,
		VCPUGap: 50 * time.Millisecond, WarnVCPUGap: 5 * time.Millisecond,
		GeneratorLag: 50 * time.Millisecond, WarnGeneratorLag: 5 * time.Millisecond,
		UnsentPct: 1,
		RTTChange: 2,
	}
}

// observed is what a run saw that bears on its verdict.
type observed struct {
	measured  uint64  // packets sent in the measured window (written or dropped)
	delivered uint64  // of those, indicated (not dropped)
	offered   float64 // packets the schedule offered in the window (≥ measured when unsent)
	lagMax    int64   // the generator's largest lag, ns
	gaps      []int64 // each vCPU's longest loop gap, ns
	host      *affinity.Interference
	clamped   map[string]uint64
	rtt       [2]float64 // cache-line round trip before and after, ns; 0: not measured
	// oversubscribed: the vCPUs and the generator shared real CPUs (or a spinning vCPU
	// had no P of its own); a warning, as the user may have asked for it.
	oversubscribed bool
}

// judge returns the verdict on o under lim.
func judge(o observed, lim Limits) results.Validity {
	v := results.Validity{Interference: results.Interference{
		GeneratorLagMaxNs: o.lagMax, VCPUGapMaxNs: o.gaps, StealNs: -1, OtherCPUNs: -1, OtherCPUPct: -1,
		CacheLineRTTNs: o.rtt,
	}}
	invalid := func(format string, args ...any) { v.Reasons = append(v.Reasons, fmt.Sprintf(format, args...)) }
	warn := func(format string, args ...any) { v.Warnings = append(v.Warnings, fmt.Sprintf(format, args...)) }

	switch {
	case o.measured == 0:
		invalid("no packet was sent in the measured window")
	case o.delivered == 0:
		invalid("none of the %d packets sent in the measured window was delivered", o.measured)
	}
	if o.offered > 0 && float64(o.measured) < o.offered {
		if pct := 100 * (o.offered - float64(o.measured)) / o.offered; pct > lim.UnsentPct {
			invalid("the generator sent %.1f%% of the packets the schedule offered: it fell behind until the window ended (the rate is beyond it, or the host stalled it)", 100-pct)
		}
	}
	over := func(what string, ns int64, bad, soft time.Duration) {
		switch d := time.Duration(ns); {
		case d > bad:
			invalid("%s for %v (limit %v): the host stalled the run", what, round(d), bad)
		case d > soft:
			warn("%s for %v", what, round(d))
		}
	}
	over("the generator fell behind its schedule", o.lagMax, lim.GeneratorLag, lim.WarnGeneratorLag)
	for i, g := range o.gaps {
		over(fmt.Sprintf("vCPU %d went without a turn of its loop", i), g, lim.VCPUGap, lim.WarnVCPUGap)
	}
	if h := o.host; h != nil && h.CPUs > 0 {
		in := &v.Interference
		in.OtherCPUNs, in.StealNs = h.OtherNs, h.StealNs
		other, steal := h.Pct(h.OtherNs), h.Pct(h.StealNs)
		in.OtherCPUPct = other + steal
		switch {
		case other > lim.OtherCPUPct:
			invalid("other processes used %.0f%% of the run's %d CPUs (limit %g%%)", other, h.CPUs, lim.OtherCPUPct)
		case other > lim.WarnOtherCPUPct:
			warn("other processes used %.1f%% of the run's %d CPUs", other, h.CPUs)
		}
		switch {
		case steal > lim.StealPct:
			invalid("the hypervisor took %.0f%% of the run's CPUs' time (steal; limit %g%%)", steal, lim.StealPct)
		case steal > lim.WarnStealPct:
			warn("the hypervisor took %.1f%% of the run's CPUs' time (steal)", steal)
		}
	} else {
		warn("host CPU use not known here: other processes' and the hypervisor's share unchecked")
	}
	if len(o.clamped) > 0 {
		v.Interference.Clamped = o.clamped
		names := make([]string, 0, len(o.clamped))
		for n := range o.clamped {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			invalid("%d values of %s were beyond its ceiling (recorded as the ceiling)", o.clamped[n], n)
		}
	}
	if a, b := o.rtt[0], o.rtt[1]; a > 0 && b > 0 && (b > a*lim.RTTChange || a > b*lim.RTTChange) {
		warn("the cache-line round trip went from %.0f ns to %.0f ns: the host moved the CPUs", a, b)
	}
	if o.oversubscribed {
		warn("oversubscribed: the vCPUs and the generator shared CPUs, so the figures are those of shared CPUs")
	}
	v.Valid = len(v.Reasons) == 0
	return v
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// hostWatch samples the host's CPU accounting and the cache-line round trip around a
// run's traffic.
type hostWatch struct {
	cpus    affinity.CPUList // the run's real CPUs: the vCPUs' and the generator's
	pair    [2]int           // CPUs for the round trip; {-1, -1}: not measured
	before  affinity.HostSample
	sampled bool
	rtt     [2]float64
	hostErr error
}

// rttSamples keeps each round-trip measurement to about a millisecond; rttLimit is how
// long a busy host may stretch it before the run goes on without it.
const (
	rttSamples = 2000
	rttLimit   = 50 * time.Millisecond
)

// newHostWatch picks what to watch: the real CPUs of the vCPUs (vCPU i runs on
// cpus[i%len(cpus)], cpus being the platform's CPU list) and the generator's (genCPU,
// -1: not pinned); unpinned, every CPU allowed. The round trip is measured between the
// first vCPU's CPU and the generator's, or the second vCPU's when the generator has none.
func newHostWatch(cpus affinity.CPUList, vcpus int, pinned bool, genCPU int) *hostWatch {
	w := &hostWatch{pair: [2]int{-1, -1}}
	if !pinned || len(cpus) == 0 {
		w.cpus, _ = affinity.Allowed()
		return w
	}
	var used affinity.CPUList
	for i := 0; i < vcpus; i++ {
		if c := cpus[i%len(cpus)]; !used.Contains(c) {
			used = append(used, c)
		}
	}
	other := -1
	if len(used) > 1 {
		other = used[1]
	}
	if genCPU >= 0 && !used.Contains(genCPU) {
		used = append(used, genCPU)
		other = genCPU
	}
	w.cpus = used
	if other >= 0 {
		w.pair = [2]int{used[0], other}
	}
	return w
}

func (w *hostWatch) measureRTT(i int) {
	if w.pair[0] < 0 {
		return
	}
	if ns, err := calibrate.CachelineRTT(w.pair[0], w.pair[1], rttSamples, rttLimit); err == nil {
		w.rtt[i] = ns
	}
}

func (w *hostWatch) start() {
	w.before, w.hostErr = affinity.SampleHost()
	w.sampled = w.hostErr == nil
}

// stop returns what other work did to the run's CPUs since start; nil when unknown.
func (w *hostWatch) stop() *affinity.Interference {
	if !w.sampled {
		return nil
	}
	after, err := affinity.SampleHost()
	if err != nil {
		return nil
	}
	in := affinity.Between(w.before, after, w.cpus)
	return &in
}

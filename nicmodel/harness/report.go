package harness

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ndisbench/ndisbench/results/metric"
)

// report fills rep in once the platform has stopped, from the framework's counters as
// the driver halted, and checks the invariants of DESIGN.md §5.
func (r *rig) report(rep *Report, counters map[string]uint64, drained bool) {
	sc := r.sc
	gs := r.gen.Stats()
	m := r.p.Metrics()
	tot := r.stack.Totals()
	ns := r.nic.Stats()
	rep.Hists = m.Hists // the generator's lag among them
	rep.Clamped = m.Clamped
	rep.VCPUGapMaxNs = r.p.LoopGaps()
	c := counters
	rep.Counters = c
	c[metric.Generated] = gs.Generated
	c[metric.Written] = ns.Written
	c[metric.Dropped] = ns.Dropped
	c[metric.MeasuredGenerated] = gs.Measured
	c[metric.MeasuredDropped] = gs.MeasuredDropped
	if r.atWarm != nil {
		c[metric.MeasuredIRQs] = c[metric.Interrupts] - r.atWarm[metric.Interrupts]
	} else {
		c[metric.MeasuredIRQs] = 0 // stopped in the warm-up
	}
	c[metric.NICInterrupts] = ns.Raised
	c[metric.Rearms] = ns.Rearms
	c[metric.StackIndications] = tot.Calls
	c[metric.Mallocs] = gs.Mallocs
	if r.noise != nil {
		c[metric.NoiseInterrupts] = r.noise.raised.Load()
		c[metric.NoiseClaimed] = r.noise.claimed.Load()
	}

	tl := r.gen.Timeline()
	window := sc.Duration
	if gs.Interrupted {
		window = time.Duration(max(0, gs.LastIntended-tl.WarmEnd))
	}
	rep.Measured = max(window, time.Duration(gs.LastWrite-tl.WarmEnd))
	rep.offered = float64(gs.Measured)
	if gs.Unsent > 0 { // the window ended with packets due: the schedule offered them too
		sched := r.genCfg.Schedule
		from, to := max(gs.Unsent, tl.WarmEnd)-tl.Start, tl.End-tl.Start
		rep.offered += max(0, sched.Expected(to)-sched.Expected(from))
	}
	if window > 0 {
		rep.OfferedPPS = rep.offered / window.Seconds()
	}
	if rep.Measured > 0 {
		rep.GeneratedPPS = float64(gs.Measured) / rep.Measured.Seconds()
		rep.AchievedPPS = float64(gs.Measured-gs.MeasuredDropped) / rep.Measured.Seconds()
	}
	if gs.Measured > 0 {
		rep.DropPct = 100 * float64(gs.MeasuredDropped) / float64(gs.Measured)
	}
	rep.BehindMaxNs = gs.LagMax
	rep.Violations = r.p.Violations()

	// DESIGN.md §5.
	broken := func(invariant, format string, args ...any) {
		rep.Broken = append(rep.Broken, Failure{invariant, fmt.Sprintf(format, args...)})
	}
	if gs.Generated != ns.Written+ns.Dropped {
		broken("conservation", "generated %d != written %d + dropped %d", gs.Generated, ns.Written, ns.Dropped)
	}
	if tot.NBLs < ns.Written && drained {
		broken("conservation", "written %d, indicated %d: %d never indicated", ns.Written, tot.NBLs, ns.Written-tot.NBLs)
	} else if tot.NBLs > ns.Written {
		broken("conservation", "written %d, indicated %d: %d indications more than packets", ns.Written, tot.NBLs, tot.NBLs-ns.Written)
	}
	if c[metric.Indicated] != tot.NBLs {
		broken("accounting", "the framework counted %d indications, the stack %d", c[metric.Indicated], tot.NBLs)
	}
	written := make([]uint64, sc.Queues)
	for q := range written {
		written[q] = r.nic.Written(q)
	}
	rep.PerQueue = written
	rep.PerCPU = r.stack.PerCPU()
	if !drained && rep.Interrupted && r.waitLimit < sc.DrainTimeout {
		// Interrupted, and not drained in the short wait that allows: conservation and
		// the drain cannot be judged, so they are said to be unchecked, not broken.
		rep.Unchecked = append(rep.Unchecked, fmt.Sprintf("interrupted before the drain finished (%v): conservation and the drain were not checked", r.waitLimit))
		for _, f := range r.stack.Check(written) {
			if f.Invariant != "conservation" {
				rep.Broken = append(rep.Broken, Failure(f))
			}
		}
		drained = true
	} else {
		for _, f := range r.stack.Check(written) {
			rep.Broken = append(rep.Broken, Failure(f))
		}
	}
	if !drained {
		why := "a vector left masked (a batch never re-enabled)"
		switch ind := c[metric.Indicated]; {
		case ind < ns.Written:
			why = uitoa(ns.Written-ind) + " packets never indicated (a lost interrupt, a lost packet, or a batch never re-enabled)"
		case ind > ns.Written:
			why = uitoa(ind-ns.Written) + " more indications than packets written"
		}
		broken("drain", "not drained %v after the traffic stopped: %s", sc.DrainTimeout, why)
	}
	for _, v := range rep.Violations {
		broken(v.Rule, "%s", v.Detail)
	}
	if n := c[metric.Violations]; n > uint64(len(rep.Violations)) {
		broken("contract", "%d contract violations in all; the first %d are listed", n, len(rep.Violations))
	}
}

func uitoa(v uint64) string { return strconv.FormatUint(v, 10) }

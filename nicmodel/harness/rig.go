package harness

import (
	"context"
	"math"
	"runtime"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/hist"
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/driver"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/nicmodel/stack"
	"github.com/ndisbench/ndisbench/nicmodel/traffic"
	"github.com/ndisbench/ndisbench/results/metric"
)

// rig is one run's parts.
type rig struct {
	sc     scenario.Scenario
	clock  core.Clock
	p      *core.Platform
	nic    *nicmodel.NIC
	fw     *driver.NDIS
	mp     driver.Miniport
	stack  *stack.CheckingStack
	noise  *noiseDevice
	genCfg traffic.GeneratorConfig
	gen    *traffic.Generator

	// The collector's side of the histogram intervals (watch's goroutine, then run's).
	atWarm     map[string]uint64                        // the framework's counters as the warm-up ended
	cpuAtWarm  cpuMark                                  // and the vCPUs' CPU time
	started    time.Time                                // wall clock at the end of the warm-up
	warmEnd    int64                                    // and on the run's clock
	period     time.Duration                            // Options.Interval
	onInterval func(Interval)                           // Options.OnInterval
	intervals  []Interval                               // finished intervals, when kept (no OnInterval)
	cur        map[string]*hdrhistogram.PackedHistogram // the interval being handed out, when kept
	emitted    bool                                     // an interval was handed out
	ivHists    map[string]*hdrhistogram.PackedHistogram // one part for OnInterval (reused)

	waitLimit time.Duration // how long the drain and the R11 probe may wait
}

// interruptWait bounds the drain and the R11 probe of a run the user interrupted, so
// that Ctrl-C gives a result within a second in every state.
const interruptWait = 150 * time.Millisecond

// modeMSI is what the platform offers for each NIC delivery mode.
func modeMSI(m nicmodel.Mode) core.MSIMode {
	switch m {
	case nicmodel.ModeMSIX:
		return core.MSIX
	case nicmodel.ModeMSI:
		return core.MSI
	}
	return core.NoMSI
}

func newRig(sc scenario.Scenario, factory driver.Factory, opts Options) (*rig, error) {
	clock := opts.Clock
	nic, err := nicmodel.New(nicmodel.Config{
		Queues: sc.Queues, RingSize: sc.RingSize, Buffers: sc.Buffers, Mode: sc.Mode,
		ModerationInterval: sc.ModerationInterval, ModerationPackets: sc.ModerationPackets,
		MMIORead: sc.MMIORead, Clock: clock,
	})
	if err != nil {
		return nil, err
	}
	tz, err := nicmodel.NewToeplitz(sc.RSSKey)
	if err != nil {
		return nil, err
	}
	flows, err := traffic.NewFlows(sc.Flows, tz)
	if err != nil {
		return nil, err
	}
	sched, err := traffic.NewSchedule(sc.Schedule)
	if err != nil {
		return nil, err
	}
	sizes, err := traffic.NewSizes(sc.Sizes)
	if err != nil {
		return nil, err
	}
	p, err := core.NewPlatform(core.PlatformConfig{
		VCPUs: sc.VCPUs, CPUs: sc.CPUs, NoPin: sc.NoPin, Idle: sc.Idle, Spin: sc.Spin,
		MSI: modeMSI(sc.Mode), Messages: nic.Vectors(), MaxNBLs: sc.Throttle, Budget: sc.Budget,
		Hists: stack.Hists(), Clock: clock, Observer: observer(opts),
		Costs: core.Costs{IRQEntry: sc.IRQEntry, IRQEOI: sc.IRQEOI, IPISend: sc.IPISend, IPIWake: sc.IPIWake},
	})
	if err != nil {
		return nil, err
	}
	r := &rig{sc: sc, clock: clock, p: p, nic: nic}
	if r.stack, err = stack.NewCheckingStack(p, sc.Queues, sc.PerIndication, 0); err != nil {
		return nil, err
	}
	if sc.NoPacketHists {
		r.stack.NoHistograms()
	}
	r.fw = driver.NewNDIS(p, r.stack)
	if r.mp, err = factory(sc); err != nil {
		return nil, err
	}
	if err := r.mp.Initialize(r.fw, nic); err != nil {
		return nil, err
	}
	var nicInd *nicmodel.Indirection // NIC RSS: the NIC picks each packet's queue
	if sc.RSS != scenario.RSSDriver {
		if nicInd, err = nicmodel.NewIndirection(sc.IndirectionEntries, sc.Queues); err != nil {
			return nil, err
		}
	}
	lag, err := p.AddWriter(metric.GeneratorLag)
	if err != nil {
		return nil, err
	}
	if sc.NoPacketHists {
		lag.Close() // records nothing: the generator still tracks its largest lag
		lag = nil
	}
	r.genCfg = traffic.GeneratorConfig{
		NIC: nic, Schedule: sched, Flows: flows, Sizes: sizes, Indirection: nicInd, Clock: clock, CPU: -1,
		Poll:    sc.ModerationInterval > 0 || sc.ModerationPackets > 0,
		SendAll: opts.SendAll, Lag: lag,
	}
	if opts.Trace != nil {
		r.genCfg.Sent = opts.Trace.GeneratorWrote
	}
	if sc.NoiseRate > 0 {
		if r.noise, err = newNoiseDevice(p); err != nil {
			return nil, err
		}
		r.genCfg.Periodic, r.genCfg.PeriodicEvery = r.noise.fire, int64(1e9/sc.NoiseRate)
	}
	if len(sc.CPUs) > sc.VCPUs {
		r.genCfg.CPU = sc.CPUs[sc.VCPUs]
	} else if len(sc.CPUs) == 0 && !sc.NoPin {
		if allowed, err := affinity.Allowed(); err == nil && len(allowed) > sc.VCPUs {
			r.genCfg.CPU = allowed[sc.VCPUs]
		}
	}
	return r, nil
}

func (r *rig) run(ctx context.Context, opts Options) (*Report, error) {
	sc := r.sc
	host := newHostWatch(r.p.Config().CPUs, r.p.VCPUs(), !sc.NoPin, r.genCfg.CPU)
	host.measureRTT(0) // before the vCPUs take their CPUs
	// The timeline, and the histograms' cuts with it, are fixed before the vCPUs start:
	// startSettle lets them start and settle into their loops.
	t0 := r.clock.Now() + int64(startSettle)
	tl := traffic.Timeline{Start: t0, WarmEnd: t0 + int64(sc.Warmup), End: t0 + int64(sc.Warmup+sc.Duration)}
	if err := r.startIntervals(tl, opts); err != nil {
		return nil, err
	}
	if opts.Trace != nil {
		opts.Trace.Begin(tl.WarmEnd) // before the vCPUs and the generator start
	}
	if err := r.p.Start(); err != nil {
		return nil, err
	}
	r.stack.SetMeasureFrom(tl.WarmEnd)
	r.gen = traffic.NewGenerator(r.genCfg, tl)

	host.start()
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.gen.Run()
	}()
	r.watch(ctx, done, opts)
	<-done
	interference := host.stop()

	gs := r.gen.Stats()
	rep := &Report{Scenario: sc, Platform: r.p.Info(), GeneratorCPU: gs.PinnedCPU, Interrupted: gs.Interrupted}
	if gs.PinnedCPU < 0 {
		// The generator ran wherever the OS put it: with no CPU left over from the
		// vCPUs, on theirs. The platform cannot know; the run can.
		if allowed, err := affinity.Allowed(); err != nil || len(allowed) <= rep.Platform.VCPUs {
			rep.Platform.Oversubscribed = true
		}
	}
	r.waitLimit = sc.DrainTimeout
	if ctx.Err() != nil {
		// Stopped by the user, who wants a result now: what does not drain in
		// interruptWait is left unchecked, and said to be.
		r.waitLimit = min(r.waitLimit, interruptWait)
	}
	drained := r.drain()
	r.mp.Halt()
	if r.noise != nil {
		r.noise.ix.Deregister()
	}
	counters := r.p.Counters() // as the driver halted: the probe below adds its own
	cpuAtHalt := r.markCPU()
	r.checkHalted(rep, counters)
	r.p.Stop()
	if ctx.Err() == nil { // interrupted: no time for it
		host.measureRTT(1)
	}
	if opts.Trace != nil {
		r.traceCPUs(opts.Trace, rep)
	}
	r.p.CollectIntervals(0, r.emit) // the rest: the last interval ends with the drain
	if r.emitted || !gs.Started.IsZero() {
		rep.Started = r.started // the measured window began: the intervals count from here
	}
	rep.Intervals = r.intervals
	r.report(rep, counters, drained)
	rep.CPU = r.cpuUse(cpuAtHalt)
	counters[metric.CPUInjectedNs] += cpuAtHalt.causeReads * uint64(sc.MMIORead) // spent in the NIC
	lim := DefaultLimits()
	if opts.Limits != nil {
		lim = *opts.Limits
	}
	rep.Validity = judge(observed{
		measured: rep.Counters[metric.MeasuredGenerated], delivered: rep.Counters[metric.MeasuredGenerated] - rep.Counters[metric.MeasuredDropped],
		offered: rep.offered, lagMax: rep.BehindMaxNs, host: interference, rtt: host.rtt,
		oversubscribed: rep.Platform.Oversubscribed,
		gaps:           rep.VCPUGapMaxNs, clamped: rep.Clamped,
	}, lim)
	return rep, rep.Err()
}

// checkHalted checks R11 once the driver's Halt returned: every interrupt it registered
// is deregistered, and a stray interrupt on every NIC vector runs none of its handlers.
// It then deregisters what the driver left behind, so that the platform can stop.
func (r *rig) checkHalted(rep *Report, atHalt map[string]uint64) {
	left := r.fw.Registered()
	if len(left) > 0 {
		rep.Broken = append(rep.Broken, Failure{"R11", "Halt returned with its interrupt still registered"})
	}
	r.nic.Kick()
	// Wait for the stray raises to be served (or refused): as long as a drain may take,
	// so that a loaded machine delays the verdict instead of hiding a handler that runs.
	deadline := time.Now().Add(r.waitLimit)
	for i := 0; !r.p.Idle() && time.Now().Before(deadline); i++ {
		if i < 1000 {
			runtime.Gosched()
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
	calls := func(c map[string]uint64) uint64 { return c[metric.ISRCalls] + c[metric.DPCs] }
	if now := r.p.Counters(); calls(now) != calls(atHalt) {
		rep.Broken = append(rep.Broken, Failure{"R11", "a handler of the driver ran after Halt returned: " +
			uitoa(now[metric.ISRCalls]-atHalt[metric.ISRCalls]) + " ISR and " + uitoa(now[metric.DPCs]-atHalt[metric.DPCs]) + " DPC calls"})
	}
	for _, ix := range left {
		ix.Deregister()
	}
}

// startSettle is how long after the timeline is fixed the traffic starts: time for
// the vCPUs to start and settle into their loops.
const startSettle = 2 * time.Millisecond

// collectDelay is how long after an interval's end the run collects it: every writer
// has made the cut by then unless it is in the middle of a long piece of work (or parked:
// the collection wakes it). collectRetry is how soon it looks again while one waits.
// collectBudget is how many histogram buckets one collection takes (about 0.1 ms of
// work, writing included): an interval's histograms are collected and written a few
// at a time, collectStep apart, so that the collector never takes a busy CPU for long.
const (
	collectDelay  = 2 * time.Millisecond
	collectRetry  = 5 * time.Millisecond
	collectStep   = time.Millisecond
	collectBudget = 4096
)

// startIntervals cuts the platform's histograms on tl: the warm-up, then intervals of
// Options.Interval.
func (r *rig) startIntervals(tl traffic.Timeline, opts Options) error {
	period := opts.Interval
	if period <= 0 {
		period = time.Second
	}
	if err := r.p.SetIntervals(hist.NewSchedule(tl.WarmEnd, int64(period), tl.End)); err != nil {
		return err
	}
	r.warmEnd, r.period = tl.WarmEnd, period
	r.started = time.Now().Add(time.Duration(tl.WarmEnd - r.clock.Now()))
	r.onInterval = opts.OnInterval
	r.ivHists = make(map[string]*hdrhistogram.PackedHistogram, 1)
	return nil
}

// watch waits for the generator, stopping it when ctx is cancelled, collecting the
// histogram intervals as they end and reporting progress.
func (r *rig) watch(ctx context.Context, done <-chan struct{}, opts Options) {
	every := opts.ProgressEvery
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	var tick <-chan time.Time
	if opts.Progress != nil {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	tl := r.gen.Timeline()
	until := func(t int64) time.Duration { return time.Duration(max(0, t-r.clock.Now())) }
	warm := time.NewTimer(until(tl.WarmEnd))
	defer warm.Stop()
	cut := time.NewTimer(time.Hour)
	defer cut.Stop()
	// The next collection: a step later while an interval has parts left; soon while one
	// waits for a writer; else a little after the next interval's end. The last interval
	// ends with the run: the collection after the run (run, once the platform stopped)
	// hands it out.
	plan := func(more, waiting bool) {
		switch next := r.p.NextIntervalEnd(); {
		case more:
			cut.Reset(collectStep)
		case waiting:
			cut.Reset(collectRetry)
		case next != math.MaxInt64:
			cut.Reset(until(next + int64(collectDelay)))
		default:
			cut.Stop()
		}
	}
	collect := func() (more, waiting bool) {
		budget := collectBudget
		if r.clock.Now()-r.p.NextIntervalEnd() > int64(r.period) {
			budget = 0 // more than an interval behind (short intervals): catch up
		}
		return r.p.CollectIntervals(budget, r.emit)
	}
	plan(false, false)
	total := r.sc.Warmup + r.sc.Duration
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			r.gen.Stop()
			<-done
			return
		case <-warm.C:
			r.atWarm = r.p.Counters()
			r.cpuAtWarm = r.markCPU()
		case <-cut.C:
			plan(collect())
		case <-tick:
			st := r.nic.Stats()
			opts.Progress(Progress{
				Elapsed:   time.Duration(max(0, r.clock.Now()-tl.Start)),
				Total:     total,
				Generated: st.Written + st.Dropped, // the few held for write-back are not counted yet
				Indicated: r.p.Counter(core.CtrIndicated),
				Dropped:   st.Dropped,
			})
		}
	}
}

// emit takes one histogram of a closed interval (the generator's lag among them): to
// Options.OnInterval, or kept in sparse form for the report.
func (r *rig) emit(pt core.IntervalPart) {
	r.emitted = true
	empty := pt.Hist.TotalCount() == 0
	iv := Interval{
		Start:  time.Duration(pt.Start - r.warmEnd),
		Length: time.Duration(pt.End - pt.Start),
		Base:   r.started,
	}
	if r.onInterval != nil {
		if !empty {
			clear(r.ivHists)
			r.ivHists[pt.Name] = pt.Hist
			iv.Hists = r.ivHists
			r.onInterval(iv)
		}
		return
	}
	if r.cur == nil {
		r.cur = map[string]*hdrhistogram.PackedHistogram{}
	}
	if !empty {
		r.cur[pt.Name] = pt.Hist.Clone()
	}
	if pt.Last {
		iv.Hists, r.cur = r.cur, nil
		r.intervals = append(r.intervals, iv)
	}
}

// drain waits until every written packet was indicated and nothing is left to run, with
// no new traffic: a lost interrupt shows up here as a packet that never drains. It keeps
// polling the NIC, as time passing releases moderated interrupts.
func (r *rig) drain() bool {
	deadline := time.Now().Add(r.waitLimit)
	for i := 0; ; i++ {
		r.nic.Poll(r.clock.Now())
		if r.p.Counter(core.CtrIndicated) == r.nic.Stats().Written && r.p.Idle() && r.unmasked() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		if i < 1000 {
			runtime.Gosched()
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
}

// unmasked reports whether every NIC vector is unmasked: a batch left masked would leave
// the device silent.
func (r *rig) unmasked() bool {
	for v := 0; v < r.nic.Vectors(); v++ {
		if r.nic.Masked(v) {
			return false
		}
	}
	return true
}

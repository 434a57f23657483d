package harness

import (
	"context"
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
	warm      bool                            // the warm-up cut was made
	atWarm    map[string]uint64               // the framework's counters at the warm-up cut
	ivStart   int64                           // the clock: start of the interval being recorded
	intervals []Interval                      // finished intervals
	lagIv     []*hdrhistogram.PackedHistogram // scratch: the generator's lag in one interval
	lagTotal  *hdrhistogram.Histogram         // the generator's lag over the measured window

	waitLimit time.Duration // how long the drain and the R11 probe may wait
}

// interruptWait bounds the drain and the R11 probe of a run the user interrupted, so
// that Ctrl-C gives a result within a second in every state.
const interruptWait = 300 * time.Millisecond

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
		Hists: stack.Hists(), Clock: clock, Observer: opts.Observer,
	})
	if err != nil {
		return nil, err
	}
	r := &rig{sc: sc, clock: clock, p: p, nic: nic}
	if r.stack, err = stack.NewCheckingStack(p, sc.Queues, sc.PerIndication, 0); err != nil {
		return nil, err
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
	r.genCfg = traffic.GeneratorConfig{
		NIC: nic, Schedule: sched, Flows: flows, Sizes: sizes, Indirection: nicInd, Clock: clock, CPU: -1,
		Poll: sc.ModerationInterval > 0 || sc.ModerationPackets > 0,
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
	host := newHostWatch(r.p.Info().CPUs, !sc.NoPin, r.genCfg.CPU)
	host.measureRTT(0) // before the vCPUs take their CPUs
	if err := r.p.Start(); err != nil {
		return nil, err
	}
	t0 := r.clock.Now() + int64(time.Millisecond) // let the vCPUs settle into their loops
	tl := traffic.Timeline{Start: t0, WarmEnd: t0 + int64(sc.Warmup), End: t0 + int64(sc.Warmup+sc.Duration)}
	r.stack.SetMeasureFrom(tl.WarmEnd)
	r.gen = traffic.NewGenerator(r.genCfg, tl)
	r.lagTotal = hist.NewLatency()
	r.lagIv = []*hdrhistogram.PackedHistogram{hist.NewPackedLike(r.lagTotal)}

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
	rep := &Report{Scenario: sc, Platform: r.p.Info(), GeneratorCPU: gs.PinnedCPU, Started: gs.Started, Interrupted: gs.Interrupted}
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
	r.checkHalted(rep, counters)
	r.p.Stop()
	host.measureRTT(1)
	if r.warm {
		r.rotate() // the last period, drain included
	}
	rep.Intervals = r.intervals
	r.report(rep, counters, drained)
	lim := DefaultLimits()
	if opts.Limits != nil {
		lim = *opts.Limits
	}
	rep.Validity = judge(observed{
		measured: rep.Counters[metric.MeasuredGenerated], delivered: rep.Counters[metric.MeasuredGenerated] - rep.Counters[metric.MeasuredDropped],
		offered: rep.offered, lagMax: rep.BehindMaxNs, host: interference, rtt: host.rtt,
		oversubscribed: rep.Platform.Oversubscribed,
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

// watch waits for the generator, stopping it when ctx is cancelled, cutting the
// histogram intervals and reporting progress.
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
	period := opts.Interval
	if period <= 0 {
		period = time.Second
	}
	tl := r.gen.Timeline()
	// The first timer is the warm-up cut; then one per period.
	cut := time.NewTimer(time.Duration(max(0, tl.WarmEnd-r.clock.Now())))
	defer cut.Stop()
	total := r.sc.Warmup + r.sc.Duration
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			r.gen.Stop()
			<-done
			return
		case <-cut.C:
			if !r.warm {
				r.p.ResetHistograms()
				r.warm, r.ivStart, r.atWarm = true, r.clock.Now(), r.p.Counters()
			} else {
				r.rotate()
			}
			// No cut in the last tenth of a period before the traffic ends: the run's
			// final rotation ends that period with the drain, so none is a sliver.
			if next := r.ivStart + int64(period); next < tl.End-int64(period)/10 {
				cut.Reset(time.Duration(max(0, next-r.clock.Now())))
			}
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

// rotate ends the current histogram interval: the platform's histograms and the
// generator's lag, each kept in sparse form when it recorded anything.
func (r *rig) rotate() {
	now := r.clock.Now()
	iv := Interval{
		Start:  time.Duration(max(0, r.ivStart-r.gen.Timeline().WarmEnd)),
		Length: time.Duration(now - r.ivStart),
		Hists:  map[string]*hdrhistogram.PackedHistogram{},
	}
	keep := func(name string, h *hdrhistogram.PackedHistogram) {
		if h.TotalCount() != 0 {
			iv.Hists[name] = h.Clone()
		}
	}
	r.p.RotateHistograms(keep)
	r.gen.CollectLag(r.lagIv)
	lag := r.lagIv[0]
	keep(metric.GeneratorLag, lag)
	lag.MergeInto(r.lagTotal)
	lag.Reset()
	r.intervals = append(r.intervals, iv)
	r.ivStart = now
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

package nicmodel

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
)

// Scenario is one end-to-end run: the NIC, the platform, the miniport's choices, the
// traffic and the timeline. Zero values mean the defaults WithDefaults fills in; field
// names in errors are the snake_case names of a scenario file.
type Scenario struct {
	Mode   Mode             // interrupt delivery: msix (default), msi, line ("mode")
	Queues int              // RX queues, 1..64; 0: one per vCPU (RSS nic), 1 (RSS driver) ("queues")
	VCPUs  int              // vCPUs, 1..64; 0: 2 ("vcpus")
	CPUs   affinity.CPUList // real CPUs for the vCPUs (then the generator); empty: the allowed set ("cpus")
	NoPin  bool             // do not pin ("no_pin")
	Idle   core.IdleStrategy
	Spin   time.Duration // vCPU spin before yield/park; 0: 20µs ("spin")

	RingSize           int           // descriptors per queue, a power of two; 0: 1024 ("ring_size")
	Buffers            int           // receive buffers per queue; 0: RingSize ("buffers")
	Throttle           int           // most NBLs per DPC call (R8); 0: indicate all ("throttle")
	Budget             time.Duration // DPC watchdog budget (R9); 0: 100µs ("budget")
	ModerationInterval time.Duration // least time between interrupts of a vector; 0: off ("moderation_interval")
	ModerationPackets  int           // packets that raise a moderated vector at once; 0: off ("moderation_packets")

	RSS                RSSMode // nic (default) or driver (R10) ("rss")
	RSSKey             []byte  // Toeplitz key; nil: DefaultRSSKey ("rss_key")
	IndirectionEntries int     // 0: 128 ("indirection_entries")
	FanOut             FanOut  // targets (default) or queue-dpc ("fan_out")
	IndicateBatch      int     // NBLs per indication; 0: 64 ("indicate_batch")
	MSISync            bool    // MSISyncWithAllMessages (R5) ("msi_sync")

	Schedule ScheduleConfig // arrival times; Seed is replaced by Scenario.Seed ("schedule")
	Flows    FlowConfig     // flows; 0 count: 1024 uniform; Seed replaced ("flows")
	Sizes    SizeConfig     // sizes; zero: 64 bytes; Seed replaced ("sizes")

	MMIORead      time.Duration // line ISR's cause-register read ("mmio_read")
	PerPacket     time.Duration // DPC work per descriptor ("per_packet")
	PerIndication time.Duration // stack work per indication ("per_indication")
	NoiseRate     float64       // line only: interrupts per second of a second device on the line ("noise_rate")

	Duration     time.Duration // measured traffic; 0: 1s ("duration")
	Warmup       time.Duration // traffic before it, not in histograms ("warmup")
	DrainTimeout time.Duration // how long draining may take after the traffic; 0: 10s ("drain_timeout")
	Seed         uint64        // one seed for schedule, flows and sizes ("seed")
}

// Defaults of a Scenario.
const (
	DefaultVCPUs    = 2
	DefaultFlows    = 1024
	DefaultDuration = time.Second
	DefaultRatePPS  = 1e6
)

// WithDefaults returns s with zero values replaced by defaults and the seeds filled in.
func (s Scenario) WithDefaults() Scenario {
	if s.VCPUs == 0 {
		s.VCPUs = DefaultVCPUs
	}
	if s.Queues == 0 {
		s.Queues = s.VCPUs
		if s.RSS == RSSDriver {
			s.Queues = 1
		}
	}
	if s.Spin == 0 {
		s.Spin = 20 * time.Microsecond
	}
	if s.RingSize == 0 {
		s.RingSize = 1024
	}
	if s.Buffers == 0 {
		s.Buffers = s.RingSize
	}
	if s.Budget == 0 {
		s.Budget = 100 * time.Microsecond
	}
	if s.RSSKey == nil {
		s.RSSKey = append([]byte(nil), DefaultRSSKey[:]...)
	}
	if s.IndirectionEntries == 0 {
		s.IndirectionEntries = DefaultIndirectionEntries
	}
	if s.IndicateBatch == 0 {
		s.IndicateBatch = defaultIndicateBatch
	}
	if s.Schedule.Kind == "" {
		s.Schedule.Kind = KindConstant
	}
	if s.Schedule.RatePPS == 0 {
		s.Schedule.RatePPS = DefaultRatePPS
	}
	if s.Flows.Count == 0 {
		s.Flows.Count = DefaultFlows
	}
	if s.Flows.Dist == "" {
		s.Flows.Dist = DistUniform
	}
	if s.Sizes.Fixed == 0 && !s.Sizes.IMIX {
		s.Sizes.Fixed = 64
	}
	if s.Duration == 0 {
		s.Duration = DefaultDuration
	}
	if s.DrainTimeout == 0 {
		s.DrainTimeout = 10 * time.Second
	}
	s.Schedule.Seed, s.Flows.Seed, s.Sizes.Seed = s.Seed, s.Seed, s.Seed
	return s
}

// Validate checks a scenario (defaults filled in) and returns every bad field, each error
// naming it; errors.Is(err, ErrConfig) holds.
func (s Scenario) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) { errs = append(errs, configErr(field, format, args...)) }
	if _, ok := modeNames[s.Mode]; !ok {
		bad("mode", "unknown mode %d", int(s.Mode))
	}
	if s.VCPUs < 1 || s.VCPUs > core.MaxVCPUs {
		bad("vcpus", "must be 1..%d, got %d", core.MaxVCPUs, s.VCPUs)
	}
	if s.Queues < 1 || s.Queues > 64 {
		bad("queues", "must be 1..64, got %d", s.Queues)
	}
	if s.RSS == RSSDriver && s.Queues != 1 {
		bad("queues", "driver-side RSS sorts one queue's packets; want 1, got %d", s.Queues)
	}
	if _, ok := rssNames[s.RSS]; !ok {
		bad("rss", "unknown RSS mode %d", int(s.RSS))
	}
	if _, ok := fanOutNames[s.FanOut]; !ok {
		bad("fan_out", "unknown fan-out %d", int(s.FanOut))
	}
	if s.RingSize < 2 || s.RingSize&(s.RingSize-1) != 0 || s.RingSize > 1<<20 {
		bad("ring_size", "must be a power of two 2..1048576, got %d", s.RingSize)
	}
	if s.Buffers < 1 || s.Buffers > 1<<20 {
		bad("buffers", "must be 1..1048576, got %d", s.Buffers)
	}
	if s.Throttle < 0 {
		bad("throttle", "must be positive (0 for indicate-all), got %d", s.Throttle)
	}
	if s.IndicateBatch < 1 || s.IndicateBatch > 1<<16 {
		bad("indicate_batch", "must be 1..65536, got %d", s.IndicateBatch)
	}
	if s.IndirectionEntries < 1 || s.IndirectionEntries > MaxIndirectionEntries || s.IndirectionEntries&(s.IndirectionEntries-1) != 0 {
		bad("indirection_entries", "must be a power of two 1..%d, got %d", MaxIndirectionEntries, s.IndirectionEntries)
	} else if spread := s.spread(); spread > s.IndirectionEntries {
		bad("indirection_entries", "%d entries cannot spread over %d queues/CPUs", s.IndirectionEntries, spread)
	}
	if len(s.RSSKey) < MinRSSKeyLen || len(s.RSSKey) > MaxRSSKeyLen {
		bad("rss_key", "must be %d..%d bytes, got %d", MinRSSKeyLen, MaxRSSKeyLen, len(s.RSSKey))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"spin", s.Spin}, {"budget", s.Budget}, {"moderation_interval", s.ModerationInterval},
		{"mmio_read", s.MMIORead}, {"per_packet", s.PerPacket}, {"per_indication", s.PerIndication},
		{"warmup", s.Warmup}} {
		if d.v < 0 {
			bad(d.name, "must not be negative, got %v", d.v)
		}
	}
	if s.ModerationPackets < 0 {
		bad("moderation_packets", "must not be negative, got %d", s.ModerationPackets)
	}
	if s.Duration <= 0 {
		bad("duration", "must be positive, got %v", s.Duration)
	}
	if s.DrainTimeout <= 0 {
		bad("drain_timeout", "must be positive, got %v", s.DrainTimeout)
	}
	if s.NoiseRate < 0 || s.NoiseRate > 1e8 || s.NoiseRate != s.NoiseRate {
		bad("noise_rate", "must be 0..1e8 interrupts/s, got %v", s.NoiseRate)
	} else if s.NoiseRate > 0 && s.Mode != ModeLine {
		bad("noise_rate", "a noisy device shares a line: needs mode line, got %v", s.Mode)
	}
	if err := s.Schedule.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := s.Flows.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := s.Sizes.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// spread is how many entries the indirection table must at least have: one per queue
// (NIC RSS) or per vCPU (driver RSS).
func (s Scenario) spread() int {
	if s.RSS == RSSDriver {
		return s.VCPUs
	}
	return s.Queues
}

// Report is what one run measured: counters, merged histograms, rates, and whether every
// invariant held. Histograms cover the measured window (after warm-up); counters cover
// the whole run, warm-up included, as conservation needs.
type Report struct {
	Scenario Scenario     // resolved
	Platform core.RunInfo // CPUs, pinning, GOMAXPROCS
	// GeneratorCPU is the real CPU the load generator was pinned to; -1: not pinned (no
	// CPU was left over from the vCPUs, or pinning was refused).
	GeneratorCPU int
	Started      time.Time     // wall clock when the measured window began
	Measured     time.Duration // measured window as run: warm-up end to the last write (at least Duration)
	Interrupted  bool          // stopped early (context cancelled): figures cover what ran

	OfferedPPS   float64 // measured-window packets the schedule asked for / Duration
	GeneratedPPS float64 // measured-window packets written or dropped / Measured
	AchievedPPS  float64 // measured-window packets delivered (not dropped) / Measured
	BehindMaxNs  int64   // most a write lagged its intended time in the window
	DropPct      float64 // measured-window drops, % of measured-window packets

	PerQueue []uint64 // descriptors written per RX queue (how RSS spread the flows)
	PerCPU   []uint64 // NBLs indicated per vCPU

	Counters   map[string]uint64                  // core.CounterNames plus the ones listed in Run
	Hists      map[string]*hdrhistogram.Histogram // core.HistNames, isr_to_dpc, packet_latency, packet_service, generator_lag
	Intervals  []Interval                         // the measured window, period by period (RunOptions.Interval)
	Violations []string                           // contract violations described by core
	Broken     []string                           // invariants that failed (DESIGN.md §5); empty: all held
}

// HistGeneratorLag is the histogram of how far behind its intended time the generator
// wrote each measured packet.
const HistGeneratorLag = "generator_lag"

// ErrInvariant is the errors.Is target of a run whose invariants failed.
var ErrInvariant = errors.New("invariant broken")

// Err returns nil when every invariant held, else an error listing the broken ones.
func (r *Report) Err() error {
	if len(r.Broken) == 0 {
		return nil
	}
	return fmt.Errorf("nicmodel: run: %w:\n  %s", ErrInvariant, strings.Join(r.Broken, "\n  "))
}

// Progress is a live snapshot of a run, for progress displays.
type Progress struct {
	Elapsed   time.Duration // since the traffic started
	Total     time.Duration // warm-up + duration
	Generated uint64        // written + dropped so far (packets held for write-back not yet)
	Indicated uint64
	Dropped   uint64
}

// RunOptions are how a caller watches a run; all optional.
type RunOptions struct {
	// Progress, if set, is called about every ProgressEvery from a goroutine of its own.
	Progress      func(Progress)
	ProgressEvery time.Duration // 0: 250ms
	// Interval is the length of the histogram intervals of Report.Intervals; 0: 1s.
	Interval time.Duration
}

// Interval is one period of a run's measured window: what every histogram recorded in
// it, merged over the vCPUs. Periods are cut where the vCPUs (and the generator) hand
// their histograms over, between two pieces of work, so each ISR, DPC or packet falls
// wholly in one.
type Interval struct {
	Start  time.Duration // since the measured window began (the end of the warm-up)
	Length time.Duration
	// Hists holds the histograms that recorded anything in the period, by name (as
	// Report.Hists), in HdrHistogram's sparse form: a run of many periods stays small.
	Hists map[string]*hdrhistogram.PackedHistogram
}

// Run runs sc end to end: it validates sc, builds the NIC, platform, miniport and stack,
// runs the open-loop generator for warm-up + duration, drains, deregisters, and checks the
// invariants of DESIGN.md §5. A config error is returned with no report. Otherwise the
// report is returned, and err is non-nil (errors.Is ErrInvariant) when an invariant broke.
// Cancelling ctx stops the traffic early: the run drains, is checked, and its report is
// marked Interrupted.
//
// Counters beyond core's: offered, generated, written, dropped, measured_generated,
// measured_dropped, nic_interrupts, rearms, noise_interrupts, noise_claimed, stack_indications,
// mallocs (heap objects allocated during the measured window, the whole process).
func Run(ctx context.Context, sc Scenario, opts RunOptions) (*Report, error) {
	sc = sc.WithDefaults()
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	r, err := newRig(sc)
	if err != nil {
		return nil, err
	}
	return r.run(ctx, opts)
}

// rig is one run's parts.
type rig struct {
	sc    Scenario
	p     *core.Platform
	nic   *NIC
	mp    *Miniport
	stack *CheckingStack
	noise *noiseDevice
	gen   *generator

	// The collector's side of the histogram intervals (watch's goroutine, then run's).
	warm      bool                            // the warm-up cut was made
	ivStart   int64                           // Now clock: start of the interval being recorded
	intervals []Interval                      // finished intervals
	lagIv     []*hdrhistogram.PackedHistogram // scratch: the generator's lag in one interval
	lagTotal  *hdrhistogram.Histogram         // the generator's lag over the measured window
}

func newRig(sc Scenario) (*rig, error) {
	nic, err := New(Config{
		Queues: sc.Queues, RingSize: sc.RingSize, Buffers: sc.Buffers, Mode: sc.Mode,
		ModerationInterval: sc.ModerationInterval, ModerationPackets: sc.ModerationPackets,
		MMIORead: sc.MMIORead,
	})
	if err != nil {
		return nil, err
	}
	tz, err := NewToeplitz(sc.RSSKey)
	if err != nil {
		return nil, err
	}
	flows, err := NewFlows(sc.Flows, tz)
	if err != nil {
		return nil, err
	}
	sched, err := NewSchedule(sc.Schedule)
	if err != nil {
		return nil, err
	}
	sizes, err := NewSizes(sc.Sizes)
	if err != nil {
		return nil, err
	}
	msi := map[Mode]core.MSIMode{ModeMSIX: core.MSIX, ModeMSI: core.MSI, ModeLine: core.NoMSI}[sc.Mode]
	pcfg := core.PlatformConfig{
		VCPUs: sc.VCPUs, CPUs: sc.CPUs, NoPin: sc.NoPin, Idle: sc.Idle, Spin: sc.Spin,
		MSI: msi, Messages: nic.Vectors(), MaxNBLs: sc.Throttle, Budget: sc.Budget,
		Hists: StackHists,
	}
	p, err := core.NewPlatform(pcfg)
	if err != nil {
		return nil, err
	}
	r := &rig{sc: sc, p: p, nic: nic}
	if r.stack, err = NewCheckingStack(p, sc.Queues, sc.PerIndication, 0); err != nil {
		return nil, err
	}
	mcfg := MiniportConfig{FanOut: sc.FanOut, IndicateBatch: sc.IndicateBatch, PerPacket: sc.PerPacket, RSS: sc.RSS, MSISync: sc.MSISync}
	var nicInd *Indirection
	if sc.RSS == RSSDriver {
		if mcfg.Indirection, err = NewIndirection(sc.IndirectionEntries, sc.VCPUs); err != nil {
			return nil, err
		}
	} else if nicInd, err = NewIndirection(sc.IndirectionEntries, sc.Queues); err != nil {
		return nil, err
	}
	if r.mp, err = NewMiniport(p, nic, r.stack, mcfg); err != nil {
		return nil, err
	}
	if sc.NoiseRate > 0 {
		if r.noise, err = newNoiseDevice(p); err != nil {
			return nil, err
		}
	}
	r.gen = &generator{nic: nic, sched: sched, flows: flows, sizes: sizes, ind: nicInd, noise: r.noise,
		poll: sc.ModerationInterval > 0 || sc.ModerationPackets > 0, genCPU: -1,
		lagRec: core.NewIntervalRecorder([]*hdrhistogram.Histogram{core.NewLatencyHistogram()})}
	if r.noise != nil {
		r.gen.noiseGap = int64(1e9 / sc.NoiseRate)
	}
	if len(sc.CPUs) > sc.VCPUs {
		r.gen.genCPU = sc.CPUs[sc.VCPUs]
	} else if len(sc.CPUs) == 0 && !sc.NoPin {
		if allowed, err := affinity.Allowed(); err == nil && len(allowed) > sc.VCPUs {
			r.gen.genCPU = allowed[sc.VCPUs]
		}
	}
	return r, nil
}

func (r *rig) run(ctx context.Context, opts RunOptions) (*Report, error) {
	sc := r.sc
	// Spinning vCPUs hold their Ps: make room for the generator and the caller.
	if need := core.GOMAXPROCSNeeded(sc.VCPUs); runtime.GOMAXPROCS(0) < need {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(need))
	}
	if err := r.p.Start(); err != nil {
		return nil, err
	}
	g := r.gen
	g.t0 = core.Now() + int64(time.Millisecond) // let the vCPUs settle into their loops
	g.warmEnd = g.t0 + int64(sc.Warmup)
	g.end = g.warmEnd + int64(sc.Duration)
	r.stack.SetMeasureFrom(g.warmEnd)
	r.lagTotal = core.NewLatencyHistogram()
	r.lagIv = []*hdrhistogram.PackedHistogram{core.NewPackedLike(r.lagTotal)}

	done := make(chan struct{})
	go func() {
		defer close(done)
		g.run()
	}()
	r.watch(ctx, done, opts)
	<-done

	rep := &Report{Scenario: sc, Platform: r.p.Info(), GeneratorCPU: g.pinnedCPU, Started: g.started, Interrupted: g.interrupted}
	drained := r.drain()
	r.mp.Deregister()
	if r.noise != nil {
		r.noise.ix.Deregister()
	}
	dpcsAtDereg := r.p.Counter(core.CtrDPCs)
	r.p.Stop()
	if r.warm {
		r.rotate() // the last period, drain included
	}
	rep.Intervals = r.intervals
	r.report(rep, drained, dpcsAtDereg)
	return rep, rep.Err()
}

// watch waits for the generator, stopping it when ctx is cancelled and reporting progress.
func (r *rig) watch(ctx context.Context, done <-chan struct{}, opts RunOptions) {
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
	// The first timer is the warm-up cut; then one per period.
	cut := time.NewTimer(time.Duration(max(0, r.gen.warmEnd-core.Now())))
	defer cut.Stop()
	total := r.sc.Warmup + r.sc.Duration
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			r.gen.stop.Store(true)
			<-done
			return
		case <-cut.C:
			if !r.warm {
				r.p.ResetHistograms()
				r.warm, r.ivStart = true, core.Now()
			} else {
				r.rotate()
			}
			// No cut in the last tenth of a period before the traffic ends: the run's
			// final rotation ends that period with the drain, so none is a sliver.
			if next := r.ivStart + int64(period); next < r.gen.end-int64(period)/10 {
				cut.Reset(time.Duration(max(0, next-core.Now())))
			}
		case <-tick:
			st := r.nic.Stats()
			opts.Progress(Progress{
				Elapsed:   time.Duration(max(0, core.Now()-r.gen.t0)),
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
	now := core.Now()
	iv := Interval{
		Start:  time.Duration(max(0, r.ivStart-r.gen.warmEnd)),
		Length: time.Duration(now - r.ivStart),
		Hists:  map[string]*hdrhistogram.PackedHistogram{},
	}
	keep := func(name string, h *hdrhistogram.PackedHistogram) {
		if h.TotalCount() != 0 {
			iv.Hists[name] = h.Clone()
		}
	}
	r.p.RotateHistograms(keep)
	g := r.gen
	g.lagRec.Collect(g.lagGen.Add(1), nil, r.lagIv)
	lag := r.lagIv[0]
	keep(HistGeneratorLag, lag)
	lag.MergeInto(r.lagTotal)
	lag.Reset()
	r.intervals = append(r.intervals, iv)
	r.ivStart = now
}

// drain waits until every written packet was indicated and nothing is left to run, with
// no new traffic: a lost interrupt shows up here as a packet that never drains. It keeps
// polling the NIC, as time passing releases moderated interrupts.
func (r *rig) drain() bool {
	deadline := time.Now().Add(r.sc.DrainTimeout)
	for i := 0; ; i++ {
		r.nic.Poll(core.Now())
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

// report fills rep in after the platform stopped and checks the invariants.
func (r *rig) report(rep *Report, drained bool, dpcsAtDereg uint64) {
	g, sc := r.gen, r.sc
	m := r.p.Metrics()
	tot := r.stack.Totals()
	ns := r.nic.Stats()
	rep.Hists = m.Hists
	g.lagRec.CollectStopped(r.lagIv) // nothing unless the run ended in its warm-up
	r.lagIv[0].MergeInto(r.lagTotal)
	rep.Hists[HistGeneratorLag] = r.lagTotal
	rep.Counters = m.Counters
	c := rep.Counters
	c["generated"] = g.generated
	c["written"] = ns.Written
	c["dropped"] = ns.Dropped
	c["measured_generated"] = g.measured
	c["measured_dropped"] = g.measuredDropped
	c["offered"] = g.measured
	c["nic_interrupts"] = ns.Raised
	c["rearms"] = ns.Rearms
	c["stack_indications"] = tot.Calls
	c["mallocs"] = g.mallocs
	if r.noise != nil {
		c["noise_interrupts"] = r.noise.raised.Load()
		c["noise_claimed"] = r.noise.claimed.Load()
	}

	window := sc.Duration
	if g.interrupted {
		window = time.Duration(max(0, g.lastIntended-g.warmEnd))
	}
	rep.Measured = max(window, time.Duration(g.lastWrite-g.warmEnd))
	if window > 0 {
		rep.OfferedPPS = float64(g.measured) / window.Seconds()
	}
	if rep.Measured > 0 {
		rep.GeneratedPPS = float64(g.measured) / rep.Measured.Seconds()
		rep.AchievedPPS = float64(g.measured-g.measuredDropped) / rep.Measured.Seconds()
	}
	if g.measured > 0 {
		rep.DropPct = 100 * float64(g.measuredDropped) / float64(g.measured)
	}
	rep.BehindMaxNs = r.lagTotal.Max()
	rep.Violations = r.p.Violations()

	// DESIGN.md §5.
	broken := func(format string, args ...any) { rep.Broken = append(rep.Broken, fmt.Sprintf(format, args...)) }
	if g.generated != ns.Written+ns.Dropped {
		broken("conservation: generated %d != written %d + dropped %d", g.generated, ns.Written, ns.Dropped)
	}
	if tot.NBLs != ns.Written {
		broken("conservation: written %d, indicated %d (%d still in flight after the drain)", ns.Written, tot.NBLs, int64(ns.Written)-int64(tot.NBLs))
	}
	if c["indicated"] != tot.NBLs {
		broken("accounting: core counted %d indications, the stack %d", c["indicated"], tot.NBLs)
	}
	written := make([]uint64, sc.Queues)
	for q := range written {
		written[q] = r.nic.Written(q)
	}
	rep.PerQueue = written
	rep.PerCPU = r.stack.PerCPU()
	rep.Broken = append(rep.Broken, r.stack.Check(written)...)
	if !drained {
		broken("drain: %d packets still not indicated %v after the traffic stopped (a lost interrupt, or a batch left masked)",
			int64(ns.Written)-int64(c["indicated"]), sc.DrainTimeout)
	}
	if c["dpcs"] != dpcsAtDereg {
		broken("R11: %d DPC calls ran after deregistration returned", c["dpcs"]-dpcsAtDereg)
	}
	if n := c["violations"]; n != 0 {
		broken("contract: %d violations: %s", n, strings.Join(rep.Violations, "; "))
	}
}

// generator is the open-loop load generator: it writes each packet when its intended
// time comes, never slowing the schedule when it falls behind (the lag is recorded, and
// latency is measured from the intended time).
type generator struct {
	nic      *NIC
	sched    *Schedule
	flows    *Flows
	sizes    *Sizes
	ind      *Indirection // NIC RSS: hash → queue; nil: queue 0
	noise    *noiseDevice
	noiseGap int64
	poll     bool // moderation on: release deferred interrupts as time passes
	genCPU   int  // real CPU to pin to; -1: none
	// lagRec holds the lag histogram; the generator hands it over when lagGen moves.
	lagRec *core.IntervalRecorder
	lagGen atomic.Uint64

	t0, warmEnd, end int64
	stop             atomic.Bool

	// Results, read after run returns.
	pinnedCPU       int
	started         time.Time
	interrupted     bool
	generated       uint64
	measured        uint64
	measuredDropped uint64
	lastIntended    int64
	lastWrite       int64
	mallocs         uint64
}

const allocsMetric = "/gc/heap/allocs:objects"

func (g *generator) run() {
	g.pinnedCPU = -1
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if g.genCPU >= 0 {
		if undo, err := affinity.Pin(g.genCPU); err == nil {
			g.pinnedCPU = g.genCPU
			defer undo()
		}
	}
	defer g.lagRec.Close()
	sample := []metrics.Sample{{Name: allocsMetric}}
	readAllocs := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	var allocs0 uint64
	warm, staged := false, false
	g.nic.MeasureFrom(g.warmEnd)
	next := g.t0 + g.sched.Next()
	noiseNext := g.t0
	for i := uint64(0); ; i++ {
		now := core.Now()
		if g.noise != nil && now >= noiseNext {
			g.noise.fire()
			noiseNext += g.noiseGap
		}
		if next >= g.end {
			break
		}
		if next > now { // early: write back what is held, and wait
			if staged {
				g.nic.Flush(now)
				staged = false
			}
			if g.poll {
				g.nic.Poll(now)
			}
			if g.checkIn(i) {
				break
			}
			if i&(1<<14-1) == 0 {
				runtime.Gosched() // oversubscribed machines: let others in
			}
			continue
		}
		if !warm && next >= g.warmEnd {
			warm = true
			g.started = time.Now()
			allocs0 = readAllocs()
		}
		flow := g.flows.Next()
		h := g.flows.Hash(flow)
		q := 0
		if g.ind != nil {
			q = g.ind.Lookup(h)
		}
		g.nic.Stage(q, core.NBL{Intended: next, Hash: h, Size: uint16(g.sizes.Next())}, now)
		staged = true
		g.generated++
		if warm {
			g.measured++
			g.lagRec.Record(0, now-next)
			g.lastIntended, g.lastWrite = next, now
		}
		if g.poll && i&63 == 0 {
			g.nic.Poll(now)
		}
		if g.checkIn(i) {
			break
		}
		next = g.t0 + g.sched.Next()
	}
	g.nic.Flush(core.Now())
	g.measuredDropped = g.nic.DroppedFrom()
	if warm {
		g.mallocs = readAllocs() - allocs0
	}
}

// checkIn is the generator's check every 256 iterations: it hands its lag histogram
// over when a rotation asks, and reports whether the run was stopped.
func (g *generator) checkIn(i uint64) bool {
	if i&255 != 0 {
		return false
	}
	g.lagRec.Sync(g.lagGen.Load())
	if g.stop.Load() {
		g.interrupted = true
		return true
	}
	return false
}

// noiseDevice is a second device on the shared line: it raises interrupts at a set rate
// and claims only its own (R3); it has no DPC work.
type noiseDevice struct {
	src     *core.LineSource
	ix      *core.Interrupt
	pending atomic.Bool
	raised  atomic.Uint64
	claimed atomic.Uint64
}

func newNoiseDevice(p *core.Platform) (*noiseDevice, error) {
	d := &noiseDevice{}
	src, err := p.NewLineSource()
	if err != nil {
		return nil, err
	}
	d.src = src
	d.ix, err = p.RegisterInterrupt(d, core.InterruptCharacteristics{
		ISR:     d.isr,
		DPC:     func(any, *core.DPCCall) {},
		Disable: func(any) {},
		Enable:  func(any) {},
	}, nil)
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (d *noiseDevice) fire() {
	d.raised.Add(1)
	d.pending.Store(true)
	d.src.Assert()
}

// isr claims the interrupt only when this device raised it, and drops its assertion.
func (d *noiseDevice) isr(any) core.ISRResult {
	if !d.pending.Swap(false) {
		return core.ISRResult{}
	}
	d.src.Deassert()
	if d.pending.Load() { // raised again between the swap and the deassert
		d.src.Assert()
	}
	d.claimed.Add(1)
	return core.ISRResult{Recognized: true}
}

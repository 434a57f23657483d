package core

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/rings"
)

// MSIMode is what the platform offers a driver that supports MSI (R2).
type MSIMode int

const (
	// MSIX offers one message per requested vector (PlatformConfig.Messages), message i
	// aimed at vCPU i mod VCPUs.
	MSIX MSIMode = iota
	// MSI offers a single message, aimed at PlatformConfig.LineCPU.
	MSI
	// NoMSI offers line-based interrupts only.
	NoMSI
	// RefuseMSI has MSI but refuses it, forcing the line-based fallback a driver must handle.
	RefuseMSI
)

var msiModeNames = map[MSIMode]string{MSIX: "msix", MSI: "msi", NoMSI: "none", RefuseMSI: "refuse"}

func (m MSIMode) String() string {
	if s, ok := msiModeNames[m]; ok {
		return s
	}
	return fmt.Sprintf("MSIMode(%d)", int(m))
}

// ParseMSIMode parses "msix", "msi", "none" or "refuse".
func ParseMSIMode(s string) (MSIMode, error) {
	for m, n := range msiModeNames {
		if n == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("core: unknown MSI mode %q (want msix, msi, none or refuse)", s)
}

// IdleStrategy is what a vCPU does when it has no interrupt and no DPC to run.
type IdleStrategy int

const (
	// IdleSpinPark spins for PlatformConfig.Spin, then parks its thread on a futex; a
	// waker issues a futex wake only when the vCPU is actually parked.
	IdleSpinPark IdleStrategy = iota
	// IdleSpin spins forever: the lowest latency, one busy CPU per vCPU.
	IdleSpin
	// IdleSpinYield spins for PlatformConfig.Spin, then yields the CPU (sched_yield)
	// between polls.
	IdleSpinYield
)

var idleNames = map[IdleStrategy]string{IdleSpinPark: "spin-park", IdleSpin: "spin", IdleSpinYield: "spin-yield"}

func (s IdleStrategy) String() string {
	if n, ok := idleNames[s]; ok {
		return n
	}
	return fmt.Sprintf("IdleStrategy(%d)", int(s))
}

// ParseIdleStrategy parses "spin", "spin-yield" or "spin-park".
func ParseIdleStrategy(s string) (IdleStrategy, error) {
	for k, n := range idleNames {
		if n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("core: unknown idle strategy %q (want spin, spin-yield or spin-park)", s)
}

// PlatformConfig describes the simulated machine: its vCPUs, how they idle, what
// interrupts it offers, and the NDIS-side policies (throttle, watchdog budget).
type PlatformConfig struct {
	VCPUs    int              // number of vCPUs, 1..MaxVCPUs
	CPUs     affinity.CPUList // real CPUs; vCPU i runs on CPUs[i mod len]; empty: the allowed set
	NoPin    bool             // do not try to pin (the run is then unpinned by choice)
	Idle     IdleStrategy     // idle strategy of every vCPU
	Spin     time.Duration    // spin phase before yielding or parking; 0 means 20µs
	MSI      MSIMode          // what a driver that supports MSI is granted
	Messages int              // MSI-X messages offered; 0 means VCPUs
	LineCPU  int              // vCPU the line (and MSI's one message) is routed to
	MaxNBLs  int              // receive throttle per DPC call (R8); 0 means IndicateAll
	Budget   time.Duration    // DPC watchdog budget per batch and per DPC (R9); 0 means 100µs
	DPCQueue int              // capacity of each vCPU's DPC queue, a power of two; 0 means 1024
	// Hists names extra per-vCPU latency histograms (nanoseconds, NewLatencyHistogram's
	// range) that code running on a vCPU records into with Platform.Record: a stack's
	// per-packet timings, say. They are rotated, merged and reported with the framework's.
	Hists []string
}

// ErrConfig is the errors.Is target of every platform configuration error.
var ErrConfig = errors.New("invalid platform configuration")

func configErr(field, format string, args ...any) error {
	return fmt.Errorf("core: platform: %s: %s: %w", field, fmt.Sprintf(format, args...), ErrConfig)
}

// withDefaults returns c with zero values replaced by defaults, or the first invalid field.
func (c PlatformConfig) withDefaults() (PlatformConfig, error) {
	if c.VCPUs < 1 || c.VCPUs > MaxVCPUs {
		return c, configErr("VCPUs", "must be 1..%d, got %d", MaxVCPUs, c.VCPUs)
	}
	if c.Spin == 0 {
		c.Spin = 20 * time.Microsecond
	}
	if c.Spin < 0 {
		return c, configErr("Spin", "must not be negative, got %v", c.Spin)
	}
	if c.Messages == 0 {
		c.Messages = c.VCPUs
	}
	seen := map[string]bool{MergedISRToDPC: true}
	for _, n := range HistNames {
		seen[n] = true
	}
	for _, n := range c.Hists {
		if n == "" || seen[n] {
			return c, configErr("Hists", "name %q is empty or used twice (or by a built-in histogram)", n)
		}
		seen[n] = true
	}
	if c.Messages < 1 || c.Messages > 2048 {
		return c, configErr("Messages", "must be 1..2048 (the MSI-X table limit), got %d", c.Messages)
	}
	if c.LineCPU < 0 || c.LineCPU >= c.VCPUs {
		return c, configErr("LineCPU", "must name a vCPU 0..%d, got %d", c.VCPUs-1, c.LineCPU)
	}
	if c.MaxNBLs == 0 {
		c.MaxNBLs = IndicateAll
	}
	if c.MaxNBLs < 0 {
		return c, configErr("MaxNBLs", "must be positive (or 0 for indicate-all), got %d", c.MaxNBLs)
	}
	if c.Budget == 0 {
		c.Budget = 100 * time.Microsecond
	}
	if c.Budget < 0 {
		return c, configErr("Budget", "must be positive, got %v", c.Budget)
	}
	if c.DPCQueue == 0 {
		c.DPCQueue = 1024
	}
	if c.DPCQueue < 2 || c.DPCQueue&(c.DPCQueue-1) != 0 {
		return c, configErr("DPCQueue", "must be a power of two >= 2, got %d", c.DPCQueue)
	}
	if _, ok := idleNames[c.Idle]; !ok {
		return c, configErr("Idle", "unknown strategy %d", int(c.Idle))
	}
	if _, ok := msiModeNames[c.MSI]; !ok {
		return c, configErr("MSI", "unknown mode %d", int(c.MSI))
	}
	return c, nil
}

// vectorsPerVCPU is the width of a vCPU's pending-vector mask.
const vectorsPerVCPU = 64

const (
	vecFree uint8 = iota
	vecLine
	vecMessage
)

// vectorEntry is one interrupt vector: where it is delivered and what it dispatches to.
// kind, msg and cpu are written under Platform.mu before the vector is handed to a device
// and never change; ix is cleared by deregistration.
type vectorEntry struct {
	kind     uint8
	msg      MessageID
	cpu      *vcpu
	bit      uint64
	ix       atomic.Pointer[Interrupt] // message vectors: the owner; nil once deregistered
	raisedAt atomic.Int64              // first raise not yet delivered; 0 = none (device sets, vCPU clears)
}

// Platform is the simulated machine: vCPUs with their interrupt controllers and DPC
// queues, one interrupt line, MSI/MSI-X vectors, and the NDIS interrupt framework that
// registers miniport interrupts and calls their handlers.
type Platform struct {
	cfg     PlatformConfig
	vcpus   []*vcpu
	allCPUs CPUSet
	vectors []vectorEntry // vCPU i's vectors are [i*64, i*64+64)

	mu         sync.Mutex   // registration, deregistration, vector allocation
	nextSlot   []int        // per vCPU: next free vector slot
	interrupts []*Interrupt // registered, not yet deregistered
	objs       []int        // per vCPU: DPC objects that may be queued on it

	line struct {
		vector  Vector
		sharers atomic.Pointer[[]*Interrupt] // copy-on-write under mu
		level   atomic.Uint64                // bit per asserting LineSource
		sources int                          // LineSources handed out, under mu
	}

	external struct { // recording for framework calls made outside any vCPU
		sync.Mutex
		rec *recorder
	}

	viol struct {
		sync.Mutex
		list []string
	}

	histNames []string      // HistNames, then cfg.Hists
	histGen   atomic.Uint64 // RotateHistograms bumps it; each vCPU hands its histograms over when it sees it
	collect   struct {      // the collector's side of the rotation, one collector at a time
		sync.Mutex
		total    []*hdrhistogram.Histogram       // everything collected since the last ResetHistograms
		interval []*hdrhistogram.PackedHistogram // the interval being collected (sparse: cheap to fill and empty)
		isrToDPC *hdrhistogram.PackedHistogram   // the interval's merged ISR→DPC histogram
		isrTotal *hdrhistogram.Histogram         // and its total
	}
	state      atomic.Int32 // platformNew → platformRunning → platformStopped
	wg         sync.WaitGroup
	started    time.Time
	gomaxprocs int // GOMAXPROCS when the vCPUs started
}

// RunInfo is what a result must say about how the platform ran.
type RunInfo struct {
	VCPUs      int    `json:"vcpus"`
	CPUs       string `json:"cpus"`   // real CPUs the vCPUs were assigned, as a CPU list
	Pinned     bool   `json:"pinned"` // every vCPU was pinned
	PinError   string `json:"pin_error,omitempty"`
	GOMAXPROCS int    `json:"gomaxprocs"` // at Start
	Idle       string `json:"idle"`
	// Oversubscribed is true when the vCPUs share real CPUs, or (with spinning idle
	// strategies) when GOMAXPROCS leaves a spinning vCPU without a P of its own: the
	// figures are then correct but not those of dedicated CPUs.
	Oversubscribed bool `json:"oversubscribed"`
}

// Info reports how the platform runs. Valid after Start.
func (p *Platform) Info() RunInfo {
	pinned, err := p.Pinning()
	ri := RunInfo{
		VCPUs:      len(p.vcpus),
		CPUs:       p.cfg.CPUs.String(),
		Pinned:     pinned,
		GOMAXPROCS: p.gomaxprocs,
		Idle:       p.cfg.Idle.String(),
	}
	if err != nil {
		ri.PinError = err.Error()
	}
	shared := len(p.cfg.CPUs) > 0 && len(p.cfg.CPUs) < len(p.vcpus)
	starved := p.cfg.Idle != IdleSpinPark && p.gomaxprocs < GOMAXPROCSNeeded(len(p.vcpus))
	ri.Oversubscribed = shared || starved
	return ri
}

const (
	platformNew int32 = iota
	platformRunning
	platformStopped
)

// NewPlatform validates cfg and builds a platform. Its vCPUs start with Start.
func NewPlatform(cfg PlatformConfig) (*Platform, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(cfg.CPUs) == 0 && !cfg.NoPin {
		allowed, err := affinity.Allowed()
		if err != nil {
			return nil, fmt.Errorf("core: platform: %w", err)
		}
		cfg.CPUs = allowed
	}
	p := &Platform{
		cfg:      cfg,
		vectors:  make([]vectorEntry, cfg.VCPUs*vectorsPerVCPU),
		nextSlot: make([]int, cfg.VCPUs),
		objs:     make([]int, cfg.VCPUs),
	}
	extra := len(cfg.Hists)
	p.histNames = append(append([]string(nil), HistNames[:]...), cfg.Hists...)
	p.external.rec = newRecorder(extra)
	p.collect.total = newHistSet(extra)
	for _, h := range p.collect.total {
		p.collect.interval = append(p.collect.interval, NewPackedLike(h))
	}
	p.collect.isrTotal = NewLatencyHistogram()
	p.collect.isrToDPC = NewPackedLike(p.collect.isrTotal)
	for i := 0; i < cfg.VCPUs; i++ {
		q, err := rings.NewMPSC[*dpcObject](cfg.DPCQueue)
		if err != nil {
			return nil, fmt.Errorf("core: platform: DPCQueue: %w", err)
		}
		v := &vcpu{id: i, p: p, dpcq: q, rec: newRecorder(extra), realCPU: -1}
		if len(cfg.CPUs) > 0 {
			v.realCPU = cfg.CPUs[i%len(cfg.CPUs)]
		}
		p.vcpus = append(p.vcpus, v)
		p.allCPUs |= 1 << uint(i)
	}
	lv, err := p.allocVector(cfg.LineCPU)
	if err != nil {
		return nil, err
	}
	p.vectors[lv].kind = vecLine
	p.line.vector = lv
	p.line.sharers.Store(&[]*Interrupt{})
	return p, nil
}

// Config returns the configuration in force, defaults filled in.
func (p *Platform) Config() PlatformConfig { return p.cfg }

// VCPUs returns the number of vCPUs.
func (p *Platform) VCPUs() int { return len(p.vcpus) }

// allocVector takes the next free vector slot of vCPU cpu. Caller holds mu or owns p.
func (p *Platform) allocVector(cpu int) (Vector, error) {
	slot := p.nextSlot[cpu]
	if slot >= vectorsPerVCPU {
		return 0, fmt.Errorf("core: platform: vCPU %d has no free interrupt vector (all %d used)", cpu, vectorsPerVCPU)
	}
	p.nextSlot[cpu]++
	id := cpu*vectorsPerVCPU + slot
	e := &p.vectors[id]
	e.cpu = p.vcpus[cpu]
	e.bit = 1 << uint(slot)
	p.vcpus[cpu].vectors[slot] = e
	return Vector(id), nil
}

// Start starts every vCPU: each locks a goroutine to an OS thread, pins it where allowed,
// and runs the executor loop. Pinning that the OS refuses is not an error: the vCPU runs
// unpinned, and Pinning reports it.
func (p *Platform) Start() error {
	if !p.state.CompareAndSwap(platformNew, platformRunning) {
		return errors.New("core: platform: Start called twice")
	}
	p.started = time.Now()
	p.gomaxprocs = runtime.GOMAXPROCS(0)
	ready := make(chan struct{}, len(p.vcpus))
	for _, v := range p.vcpus {
		p.wg.Add(1)
		go v.run(ready)
	}
	for range p.vcpus {
		<-ready
	}
	return nil
}

// Stop stops every vCPU and waits for their threads to be released. Interrupts still
// registered stay registered but nothing runs any more; deregister them first for R11's
// guarantees to be checked.
func (p *Platform) Stop() {
	if !p.state.CompareAndSwap(platformRunning, platformStopped) {
		p.state.Store(platformStopped)
		return
	}
	for _, v := range p.vcpus {
		v.stop.Store(true)
		v.wake()
	}
	p.wg.Wait()
}

// Pinning reports whether every vCPU was pinned to its real CPU, and the first refusal.
// Valid after Start.
func (p *Platform) Pinning() (pinned bool, err error) {
	pinned = true
	for _, v := range p.vcpus {
		if !v.pinned {
			pinned = false
			if err == nil {
				err = v.pinErr
			}
		}
	}
	return pinned, err
}

// Raise raises vector v, as a device's MSI/MSI-X write does: the vector becomes pending
// on its vCPU, which runs its ISR next. Raising a vector that is already pending and not
// yet served coalesces with it (like a local APIC's IRR bit). Any goroutine; it neither
// allocates nor locks.
func (p *Platform) Raise(v Vector) {
	e := &p.vectors[v]
	if e.raisedAt.Load() == 0 {
		e.raisedAt.CompareAndSwap(0, Now())
	}
	e.cpu.pending.Or(e.bit)
	e.cpu.wake()
}

// LineSource is one device's connection to the platform's interrupt line. The line is
// level-triggered: it is asserted while any source asserts it, and it is delivered again
// after its ISRs ran for as long as it stays asserted (R3: a sharer that is not served
// keeps the line up until its own ISR claims it).
type LineSource struct {
	p   *Platform
	bit uint64
}

// NewLineSource connects one more device to the line. At most 64 sources.
func (p *Platform) NewLineSource() (*LineSource, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.line.sources >= 64 {
		return nil, errors.New("core: platform: the line has 64 sources already")
	}
	s := &LineSource{p: p, bit: 1 << uint(p.line.sources)}
	p.line.sources++
	return s, nil
}

// Assert raises the line on behalf of this device. Any goroutine; no allocation, no lock.
func (s *LineSource) Assert() {
	s.p.line.level.Or(s.bit)
	s.p.Raise(s.p.line.vector)
}

// Deassert drops this device's assertion, as reading its cause register does.
func (s *LineSource) Deassert() { s.p.line.level.And(^s.bit) }

// Asserted reports whether this device asserts the line.
func (s *LineSource) Asserted() bool { return s.p.line.level.Load()&s.bit != 0 }

// HistID returns the Hist of the histogram called name: a framework histogram
// (HistNames) or one of PlatformConfig.Hists.
func (p *Platform) HistID(name string) (Hist, bool) {
	for i, n := range p.histNames {
		if n == name {
			return Hist(i), true
		}
	}
	return 0, false
}

// Record adds v (clamped as the package's Record) to histogram h of vCPU cpu. Only on
// vCPU cpu's own thread: from an ISR, a DPC or a Stack.Indicate call running on it. It
// neither allocates nor locks.
func (p *Platform) Record(cpu int, h Hist, v int64) { p.vcpus[cpu].rec.record(h, v) }

// RotateHistograms ends the current histogram interval: every vCPU hands over what it
// recorded since the last rotation (at the top of its loop, between two pieces of work;
// a parked vCPU is woken for it), the sets are merged, and fn, when not nil, is called
// once per histogram with the interval's merge, in sparse form: the framework's
// (HistNames), then PlatformConfig.Hists, then MergedISRToDPC. fn must not keep h after
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
		fn(MergedISRToDPC, both)
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
	if p.state.Load() != platformNew { // vCPUs that never ran recorded nothing
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
	m := &Metrics{Hists: map[string]*hdrhistogram.Histogram{}, Counters: map[string]uint64{}}
	c := &p.collect
	c.Lock()
	for i, h := range c.total {
		cp := emptyLike(h)
		cp.Merge(h)
		m.Hists[p.histNames[i]] = cp
	}
	both := NewLatencyHistogram()
	both.Merge(c.isrTotal)
	m.Hists[MergedISRToDPC] = both
	c.Unlock()
	for i := 0; i < int(numCounters); i++ {
		m.Counters[CounterNames[i]] = p.Counter(Counter(i))
	}
	return m
}

// ResetHistograms empties the framework's histograms (HistNames), keeping the counters:
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
	for i := range HistNames {
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

// Violations returns the contract violations seen so far (the first 64 described).
func (p *Platform) Violations() []string {
	p.viol.Lock()
	defer p.viol.Unlock()
	return append([]string(nil), p.viol.list...)
}

// violate records a contract violation. Off the hot path: it formats and locks.
func (p *Platform) violate(rec *recorder, ix *Interrupt, format string, args ...any) {
	if rec != nil {
		rec.inc(CtrViolations)
	} else {
		p.external.Lock()
		p.external.rec.inc(CtrViolations)
		p.external.Unlock()
	}
	if ix != nil {
		ix.violations.Add(1)
	}
	p.viol.Lock()
	if len(p.viol.list) < 64 {
		p.viol.list = append(p.viol.list, fmt.Sprintf(format, args...))
	}
	p.viol.Unlock()
}

// Idle reports whether nothing is left to run: no registered interrupt has a DPC queued or
// running or an ISR in progress, and no vCPU has a pending vector or work in hand. It is a
// snapshot: a device may raise again right after.
func (p *Platform) Idle() bool {
	p.mu.Lock()
	for _, ix := range p.interrupts {
		for i := range ix.msgs {
			if ix.msgs[i].outstanding.Load() != 0 {
				p.mu.Unlock()
				return false
			}
		}
	}
	p.mu.Unlock()
	for _, v := range p.vcpus {
		if v.pending.Load() != 0 || v.dpcq.Len() != 0 || v.busy.Load() {
			return false
		}
	}
	return true
}

// GOMAXPROCSNeeded is the GOMAXPROCS a platform of n spinning vCPUs needs for every vCPU
// to hold a P at once while other goroutines (a load generator, the caller) still run.
// Spinning vCPUs hold their Ps; parked ones release theirs while in the futex wait.
func GOMAXPROCSNeeded(n int) int { return n + 2 }

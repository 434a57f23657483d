package core

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core/hist"
	"github.com/ndisbench/ndisbench/rings"
)

// cacheLinePad is the padding that keeps two hot words off each other's cache line and
// off the adjacent-line prefetcher's pair: 128 bytes, as sync.Pool's poolLocal does.
const cacheLinePad = 128

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
		// inService: a delivery of the line is in flight (line.go's Invariants).
		inService atomic.Bool
		drops     atomic.Uint64 // Deasserts so far (line.go's Invariants)
		sources   int           // LineSources handed out, under mu
	}

	external struct { // recording for framework calls made outside any vCPU
		sync.Mutex
		rec *recorder
	}

	viol struct {
		sync.Mutex
		list []Violation
	}

	clock Clock    // cfg.Clock, for the hot path
	obs   Observer // cfg.Observer; nil: none

	histNames []string // the framework's histograms (Hist.Name), then cfg.Hists, then AddWriter's
	gapFrom   int64    // loop gaps count from here: the schedule's start (SetIntervals)
	hists     struct { // the collector's side of the histograms; one collector at a time
		sync.Mutex
		c         *hist.Collector
		names     []string           // the collector's histograms, by number
		order     []int              // their numbers in name order
		fn        func(IntervalPart) // CollectIntervals' callback, during the call
		emit      func(hist.Part)    // p.emitPart, bound once
		stopped   bool               // Stop has stopped the vCPUs: the final collection is due
		stoppedAt int64              // the clock then: the last interval's end
	}
	state      atomic.Int32 // platformNew → platformRunning → platformStopped
	ran        atomic.Bool  // the vCPU threads were started (they own their recorders from then on)
	wg         sync.WaitGroup
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
	// IdleFallback says how Idle runs differently on this OS (IdleFallback); "" when it
	// runs as designed (Linux).
	IdleFallback string `json:"idle_fallback,omitempty"`
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
	ri.IdleFallback = IdleFallback(p.cfg.Idle, runtime.GOOS)
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
		clock:    cfg.Clock,
		obs:      cfg.Observer,
		vectors:  make([]vectorEntry, cfg.VCPUs*vectorsPerVCPU),
		nextSlot: make([]int, cfg.VCPUs),
		objs:     make([]int, cfg.VCPUs),
	}
	extra := len(cfg.Hists)
	for h := Hist(0); h < numHists; h++ {
		p.histNames = append(p.histNames, h.Name())
	}
	p.histNames = append(p.histNames, cfg.Hists...)
	h := &p.hists
	h.c = hist.NewCollector()
	h.emit = p.emitPart
	p.gapFrom = math.MinInt64
	p.external.rec = newRecorder(extra, false) // seldom used: its memory comes when it records
	h.c.Add(p.external.rec.w, 0, nil)
	for i := 0; i < cfg.VCPUs; i++ {
		q, err := rings.NewMPSC[*dpcObject](cfg.DPCQueue)
		if err != nil {
			return nil, fmt.Errorf("core: platform: DPCQueue: %w", err)
		}
		v := &vcpu{id: i, p: p, dpcq: q, rec: newRecorder(extra, true), realCPU: -1}
		h.c.Add(v.rec.w, 0, v.wake)
		if len(cfg.CPUs) > 0 {
			v.realCPU = cfg.CPUs[i%len(cfg.CPUs)]
		}
		p.vcpus = append(p.vcpus, v)
		p.allCPUs |= 1 << uint(i)
	}
	h.c.AddSum(int(HistISRToDPCSame), int(HistISRToDPCCross)) // metric.ISRToDPC
	p.nameHists()
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

// LineCPU returns the vCPU the line (and MSI's one message) is delivered to.
func (p *Platform) LineCPU() int { return p.cfg.LineCPU }

// Clock returns the run's clock: every timestamp the framework takes comes from it, and
// code running on the platform (a driver, a stack, a device) takes its own from it too.
func (p *Platform) Clock() Clock { return p.clock }

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
	p.gomaxprocs = runtime.GOMAXPROCS(0)
	p.ran.Store(true)
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
		if p.state.Swap(platformStopped) == platformNew {
			p.stopped() // the caller owned the vCPUs' recorders: now the collector does
			for _, v := range p.vcpus {
				v.rec.w.Close()
			}
		}
		return
	}
	for _, v := range p.vcpus {
		v.stop.Store(true)
		v.wake()
	}
	p.wg.Wait()
	p.stopped()
}

// stopped notes when the platform stopped (the last histogram interval ends there) and
// closes the recorder of work outside the vCPUs, whose records from now on go to the
// totals.
func (p *Platform) stopped() {
	p.hists.Lock()
	p.hists.stopped, p.hists.stoppedAt = true, p.clock.Now()
	p.hists.Unlock()
	p.external.Lock()
	p.external.rec.w.Close()
	p.external.Unlock()
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
		e.raisedAt.CompareAndSwap(0, p.clock.Now())
	}
	e.cpu.pending.Or(e.bit)
	e.cpu.wake()
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

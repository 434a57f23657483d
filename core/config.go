package core

import (
	"errors"
	"fmt"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/results/metric"
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

// ISRBudget is the longest an ISR call should run: "ISRs should not run longer than 25
// microseconds" (Bug Check 0x133 DPC_WATCHDOG_VIOLATION, beside "DPCs should not run
// longer than 100 microseconds", the Budget default). Calls over it are counted
// (isrs_over_budget), never hidden.
const ISRBudget = 25 * time.Microsecond

// Defaults of a PlatformConfig's zero fields.
const (
	DefaultSpin     = 20 * time.Microsecond  // Spin: the spin phase before yielding or parking
	DefaultBudget   = 100 * time.Microsecond // Budget: the DPC watchdog budget (R9)
	DefaultDPCQueue = 1024                   // DPCQueue: each vCPU's DPC queue capacity
)

// PlatformConfig describes the simulated machine: its vCPUs, how they idle, what
// interrupts it offers, and the NDIS-side policies (throttle, watchdog budget).
type PlatformConfig struct {
	VCPUs    int              // number of vCPUs, 1..MaxVCPUs
	CPUs     affinity.CPUList // real CPUs; vCPU i runs on CPUs[i mod len]; empty: the allowed set
	NoPin    bool             // do not try to pin (the run is then unpinned by choice)
	Idle     IdleStrategy     // idle strategy of every vCPU
	Spin     time.Duration    // spin phase before yielding or parking; 0 means DefaultSpin
	MSI      MSIMode          // what a driver that supports MSI is granted
	Messages int              // MSI-X messages offered; 0 means VCPUs
	LineCPU  int              // vCPU the line (and MSI's one message) is routed to
	MaxNBLs  int              // receive throttle per DPC call (R8); 0 means IndicateAll
	Budget   time.Duration    // DPC watchdog budget per batch and per DPC (R9); 0 means DefaultBudget
	DPCQueue int              // capacity of each vCPU's DPC queue, a power of two; 0 means DefaultDPCQueue
	// Hists names extra per-vCPU latency histograms (nanoseconds, hist.NewLatency's
	// range) that code running on a vCPU records into with Platform.Record: a stack's
	// per-packet timings, say. They are rotated, merged and reported with the framework's.
	Hists []string
	// Clock is the run's time source for every timestamp and injected cost; the zero
	// Clock is the real one.
	Clock Clock
	// Observer, when not nil, is told of every interrupt and DPC event as it happens
	// (Observer's documentation says on which thread). nil costs the hot path nothing.
	Observer Observer
	// Costs are the injected costs the framework itself spends (DESIGN.md §8); the zero
	// value spends nothing.
	Costs Costs
}

// Costs are the platform's share of a run's injected costs, each spent through the
// clock's Spin on the vCPU that would pay it and counted in its injected CPU time
// (CPUTime.InjectedNs). A zero cost is not spent: no clock read, no branch taken.
type Costs struct {
	// IRQEntry is interrupt entry, spent before each delivered vector's ISRs start:
	// irq_delivery includes it.
	IRQEntry time.Duration
	// IRQEOI is the end of interrupt and the return from it, spent after the ISRs (the
	// line's before its EOI lets it be delivered again).
	IRQEOI time.Duration
	// IPISend is the IPI a vCPU sends when it queues a DPC on another vCPU, spent on
	// the sender once the DPC is queued. A DPC queued from outside any vCPU sends none.
	IPISend time.Duration
	// IPIWake is the target's share of that IPI, spent on the target before the DPC
	// starts: isr_to_dpc_cross_cpu includes it.
	IPIWake time.Duration
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
		c.Spin = DefaultSpin
	}
	if c.Spin < 0 {
		return c, configErr("Spin", "must not be negative, got %v", c.Spin)
	}
	if c.Messages == 0 {
		c.Messages = c.VCPUs
	}
	seen := map[string]bool{metric.ISRToDPC: true}
	for h := Hist(0); h < numHists; h++ {
		seen[h.Name()] = true
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
		c.Budget = DefaultBudget
	}
	if c.Budget < 0 {
		return c, configErr("Budget", "must be positive, got %v", c.Budget)
	}
	if c.Costs.IRQEntry < 0 || c.Costs.IRQEOI < 0 || c.Costs.IPISend < 0 || c.Costs.IPIWake < 0 {
		return c, configErr("Costs", "must not be negative, got %+v", c.Costs)
	}
	if c.DPCQueue == 0 {
		c.DPCQueue = DefaultDPCQueue
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

// GOMAXPROCSNeeded is the GOMAXPROCS a platform of n spinning vCPUs needs for every vCPU
// to hold a P at once while other goroutines (a load generator, the caller) still run.
// Spinning vCPUs hold their Ps; parked ones release theirs while in the futex wait.
func GOMAXPROCSNeeded(n int) int { return n + 2 }

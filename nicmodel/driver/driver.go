// Package driver is where a miniport author starts. It holds the two interfaces of the
// driver seam: Miniport, what a run needs from a driver (MiniportInitializeEx and
// MiniportHaltEx, as far as interrupts go), and Framework, the NDIS calls a driver makes
// (register an interrupt, queue DPCs, mask and unmask, and, through the DPCCall its DPC
// gets, indicate, read the throttle, the current CPU and the message id). The contract's
// types are here under their NDIS-shaped names (aliases of package core's), with the
// adapters that connect the simulated NIC's interrupt vectors to what was granted.
//
// A driver author needs this package, package nicmodel (the NIC: its cause register,
// masks, RX rings and buffers) and, for the knobs a run passes in, nicmodel/scenario.
// Package nicmodel/harness runs a driver end to end, with traffic, warm-up, the
// invariant checks of DESIGN.md §5 and result files; "bench run -driver NAME" does the
// same from the command line once the driver is registered there (harness.Drivers).
// Package core is the framework's implementation: a driver never calls it directly, but
// the types aliased here keep their documentation there (core's package documentation
// maps each to its NDIS name). core/hist, core/calibrate, results and the rest of
// nicmodel can be ignored.
//
// This package's Example is a complete small miniport, run end to end: it is package
// nicmodel/driver/minimal, the one to copy from; nicmodel/driver/reference is the one the
// benchmarks run, with RSS, throttling and fan-out.
package driver

import (
	"sync"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
)

// Miniport is what a run needs from a driver: the interrupt half of a miniport's
// lifetime.
type Miniport interface {
	// Initialize is MiniportInitializeEx's interrupt work: register one interrupt with
	// fw (R1), look at the grant (R2), and connect nic's vectors to it (Connect does
	// that for the usual case). It runs before the platform starts and before traffic.
	Initialize(fw Framework, nic *nicmodel.NIC) error
	// Halt is MiniportHaltEx's: deregister the interrupt. When Halt returns, none of the
	// driver's handlers may run, or be running (R11); the run checks that.
	Halt()
}

// Factory makes a driver for one run. sc is the run's resolved scenario: a driver reads
// the keys it cares about (throttle and budget are the framework's business; fan_out,
// indicate_batch, rss, per_packet are the reference driver's) and ignores the rest.
type Factory func(sc scenario.Scenario) (Miniport, error)

// Info names a driver for the registry "bench list" shows and "-driver" picks from.
type Info struct {
	Name    string // what -driver and the scenario key "driver" call it
	Summary string // one line for "bench list"
	New     Factory
}

// Framework is NDIS as a miniport calls it. Its methods may be called from any
// goroutine; Raise and the LineSource methods stand for the device's side (an MSI-X
// message write, asserting a line), which Connect wires up.
type Framework interface {
	// RegisterInterrupt stands for NdisMRegisterInterruptEx: it validates chars (R1) and
	// grants a line-based or message-based interrupt (R2), which the driver must look
	// at (Interrupt.Type). ctx is handed to every handler.
	RegisterInterrupt(ctx any, chars InterruptCharacteristics) (Interrupt, error)
	// NewLineSource connects one more device to the platform's level-triggered line.
	NewLineSource() (LineSource, error)
	// Raise raises a platform vector: what a device's MSI or MSI-X message write does.
	Raise(v Vector)
	// VCPUs returns the number of CPUs DPCs may be queued on.
	VCPUs() int
	// LineCPU returns the CPU the line (and MSI's one message) is delivered to.
	LineCPU() int
	// Clock returns the run's clock: a driver takes its timestamps from it and spends
	// injected work with its Spin.
	Clock() Clock
}

// Interrupt is a registered interrupt: the handle NdisMRegisterInterruptEx returns and
// the calls a miniport makes on it.
type Interrupt interface {
	// Type is the granted type (R2).
	Type() InterruptType
	// Messages is the number of messages granted; 1 for a line.
	Messages() int
	// MessageTable is a copy of a message grant's table (R2); nil for a line.
	MessageTable() []MessageInfo
	// QueueDPC stands for NdisMQueueDpcEx (R6, R7): it returns where the DPC was newly
	// queued. From inside a DPC use DPCCall.QueueDPC, which says which CPU queued; from an
	// ISR return ISRResult.TargetCPUs: a call through the Interrupt counts as made from
	// outside any CPU.
	QueueDPC(msg MessageID, targets CPUSet, ctx any) CPUSet
	// DisableInterrupt masks the device's interrupt for msg (the registered Disable
	// handler) and tells the framework it stays masked until EnableInterrupt: the batch
	// (which opened at the claiming ISR's start) must end with a re-enable (R9). An ISR
	// calls it.
	DisableInterrupt(msg MessageID)
	// EnableInterrupt unmasks it and closes the batch (R9); from a DPC use
	// DPCCall.EnableInterrupt.
	EnableInterrupt(msg MessageID)
	// Deregister stands for NdisMDeregisterInterruptEx (R11).
	Deregister()
}

// LineSource is one device's connection to the level-triggered line (R3).
type LineSource interface {
	Assert()
	Deassert()
	Asserted() bool
}

// The contract's types, as package core defines them (DESIGN.md §1; core's package
// documentation maps each to its NDIS name).
type (
	InterruptCharacteristics = core.InterruptCharacteristics // NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS (R1)
	ISRResult                = core.ISRResult                // an ISR's return value and out-parameters (R3, R4)
	DPCCall                  = core.DPCCall                  // one DPC call: context, message, CPU, throttle; Indicate, QueueDPC, EnableInterrupt
	ReceiveThrottle          = core.ReceiveThrottle          // NDIS_RECEIVE_THROTTLE_PARAMETERS (R8)
	NBL                      = core.NBL                      // a NET_BUFFER_LIST
	CPUSet                   = core.CPUSet                   // a set of CPUs (TargetProcessors)
	MessageID                = core.MessageID                // an MSI-X message
	MessageInfo              = core.MessageInfo              // one entry of a message grant's table
	InterruptType            = core.InterruptType            // line-based or message-based (R2)
	Vector                   = core.Vector                   // a platform interrupt vector
	Clock                    = core.Clock                    // the run's time source
)

// Granted interrupt types and the "indicate all" throttle value.
const (
	LineBased    = core.LineBased
	MessageBased = core.MessageBased
	IndicateAll  = core.IndicateAll
)

// CPUs returns the set of the given CPUs.
func CPUs(ids ...int) CPUSet { return core.CPUs(ids...) }

// NDIS is the Framework of a core.Platform: the one every run uses. It remembers the
// interrupts registered through it, so that the run can check that Halt deregistered
// them (R11).
type NDIS struct {
	p     *core.Platform
	stack core.Stack
	mu    sync.Mutex
	ixs   []*core.Interrupt
}

var _ Framework = (*NDIS)(nil)

// NewNDIS returns the Framework of p; the driver's indications go to stack.
func NewNDIS(p *core.Platform, stack core.Stack) *NDIS { return &NDIS{p: p, stack: stack} }

// RegisterInterrupt registers on the platform.
func (n *NDIS) RegisterInterrupt(ctx any, chars InterruptCharacteristics) (Interrupt, error) {
	ix, err := n.p.RegisterInterrupt(ctx, chars, n.stack)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.ixs = append(n.ixs, ix)
	n.mu.Unlock()
	return ix, nil
}

// NewLineSource connects a device to the platform's line.
func (n *NDIS) NewLineSource() (LineSource, error) {
	src, err := n.p.NewLineSource()
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return src, nil
}

// Raise raises a platform vector.
func (n *NDIS) Raise(v Vector) { n.p.Raise(v) }

// VCPUs returns the platform's vCPU count.
func (n *NDIS) VCPUs() int { return n.p.VCPUs() }

// LineCPU returns the platform's line CPU.
func (n *NDIS) LineCPU() int { return n.p.LineCPU() }

// Clock returns the platform's clock.
func (n *NDIS) Clock() Clock { return n.p.Clock() }

// Registered returns the interrupts registered through n that are not deregistered.
func (n *NDIS) Registered() []*core.Interrupt {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []*core.Interrupt
	for _, ix := range n.ixs {
		if !ix.Deregistered() {
			out = append(out, ix)
		}
	}
	return out
}

// Package driver is where a miniport author starts. It holds the two interfaces of the
// driver seam: Miniport, what a run needs from a driver (MiniportInitializeEx and
// MiniportHaltEx, as far as interrupts go), and Framework, the NDIS calls a driver makes
// (register an interrupt, queue DPCs, and, through the DPCCall its DPC gets, indicate,
// read the throttle, the current CPU and the message id). The contract's types are here
// under their NDIS-shaped names (aliases of package core's), with the adapters that
// connect the simulated NIC's interrupt vectors to what was granted.
//
// # Who calls what
//
// A real miniport talks to two things: NDIS, through NdisMXxx calls, and its NIC, through
// register reads and writes. Masking the NIC's interrupt in the ISR and re-enabling it in
// the last DPC of a batch are register writes the miniport makes itself
// (MINIPORT_INTERRUPT_DPC: "Interrupts are typically disabled already on the NIC in the
// MiniportInterrupt function", and the DPC "should reenable the interrupts on the NIC
// before it returns"); here they are nicmodel.NIC.Mask and Unmask, and the line ISR's
// cause read, nicmodel.NIC.ReadCause. The disable and enable handlers a miniport
// registers (InterruptCharacteristics.Disable, Enable, DisableMessage, EnableMessage:
// MiniportDisableInterruptEx, MiniportEnableInterruptEx and their message forms) are the
// other way round: NDIS calls them, "for diagnostic and troubleshooting purposes"
// (MINIPORT_DISABLE_INTERRUPT, MINIPORT_ENABLE_INTERRUPT); a miniport implements them
// with the same register writes and never calls them itself, and a run never calls them
// either. NDIS never sees the register writes, but the model's framework must, to time
// and check each interrupt DPC batch (R9: from the ISR until the device is re-enabled):
// Connect wires each NIC vector's mask register to the granted interrupt
// (Interrupt.DeviceMasked), the device's side of the seam, as Raise is.
//
//	miniport → NIC:   Mask, Unmask, ReadCause, Take, Return, Pending, Masked
//	miniport → NDIS:  Framework.RegisterInterrupt, Interrupt.QueueDPC, Interrupt.Deregister,
//	                  DPCCall.Indicate, DPCCall.QueueDPC
//	NDIS → miniport:  the ISR, the DPC, and (diagnostics only, never in a run) the
//	                  disable and enable handlers
//	NIC → platform:   Raise / a LineSource (interrupts), Interrupt.DeviceMasked (masks)
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
// message write, asserting a line), which Connect wires up, as does
// Interrupt.DeviceMasked.
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
	// queued. From inside a DPC use DPCCall.QueueDPC, which says which CPU queued; an ISR
	// that wants DPCs beyond its own CPU's asks for the default DPC and queues the others
	// from it (MINIPORT_ISR tells NDIS 6.20 and later drivers to, rather than return
	// TargetProcessors); a call through the Interrupt counts as made from outside any CPU.
	QueueDPC(msg MessageID, targets CPUSet, ctx any) CPUSet
	// Deregister stands for NdisMDeregisterInterruptEx (R11).
	Deregister()
	// DeviceMasked is the device's side, not a call a miniport makes: the NIC reports
	// each write of its interrupt mask register here (Connect wires it), so that the
	// framework can end the interrupt DPC batch when the miniport re-enables the device
	// (R9). A miniport masks and re-enables with nicmodel.NIC.Mask and Unmask.
	DeviceMasked(msg MessageID, masked bool)
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
	DPCCall                  = core.DPCCall                  // one DPC call: context, message, CPU, throttle; Indicate, QueueDPC
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

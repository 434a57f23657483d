package core

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// MaxVCPUs is the most vCPUs a platform has: a CPUSet is one 64-bit mask, like the
// TargetProcessors ULONG of a miniport ISR widened to 64 bits.
const MaxVCPUs = 64

// CPUSet is a set of vCPU indices, bit i for vCPU i. It stands for the TargetProcessors
// bitmask a miniport ISR returns and NdisMQueueDpcEx takes and returns.
type CPUSet uint64

// CPUs returns the set holding the given vCPU indices; indices outside [0, MaxVCPUs) are ignored.
func CPUs(ids ...int) CPUSet {
	var s CPUSet
	for _, id := range ids {
		if id >= 0 && id < MaxVCPUs {
			s |= 1 << uint(id)
		}
	}
	return s
}

// Has reports whether cpu is in s.
func (s CPUSet) Has(cpu int) bool { return cpu >= 0 && cpu < MaxVCPUs && s&(1<<uint(cpu)) != 0 }

// Count returns the number of CPUs in s.
func (s CPUSet) Count() int { return bits.OnesCount64(uint64(s)) }

// String returns s as a list such as "{0,2,5}".
func (s CPUSet) String() string {
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for m := uint64(s); m != 0; m &= m - 1 {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(strconv.Itoa(bits.TrailingZeros64(m)))
	}
	b.WriteByte('}')
	return b.String()
}

// MessageID identifies one message of a message-signaled interrupt (the MessageId an
// MSI-X table entry carries). Line-based interrupts use message 0 throughout.
type MessageID uint32

// ISRResult is what an interrupt service routine returns (R3, R4): the BOOLEAN return
// value and the two out-parameters of MiniportInterrupt / MiniportMessageInterrupt. The
// DPCs it asks for are queued whether or not it recognised the interrupt: a line ISR
// that says "not mine" and asks for a DPC gets it (MINIPORT_ISR).
type ISRResult struct {
	// Recognized is the ISR's return value: the device raised this interrupt. A line ISR
	// returns false ("not mine") so that the line's other sharers run (R3); a message ISR
	// must always return true, and false there is a counted contract violation.
	Recognized bool
	// QueueDefaultDPC asks for the interrupt's DPC on the CPU the ISR runs on
	// (*QueueDefaultInterruptDpc). When it is set the framework ignores TargetCPUs, as
	// NDIS ignores TargetProcessors (R4).
	QueueDefaultDPC bool
	// TargetCPUs asks for the DPC on each CPU of the set (*TargetProcessors) when
	// QueueDefaultDPC is not set; their DPCs get a nil context (R7). NDIS 6.20 and later
	// drivers are told to leave it 0 and queue DPCs with NdisMQueueDpcEx
	// (Interrupt.QueueDPC, DPCCall.QueueDPC) instead.
	TargetCPUs CPUSet
}

// IndicateAll is the throttle value meaning no limit on receive indications
// (NDIS_INDICATE_ALL_NBLS).
const IndicateAll = math.MaxInt

// ReceiveThrottle stands for NDIS_RECEIVE_THROTTLE_PARAMETERS (R8): the framework sets
// MaxNBLs before each DPC call; the DPC sets MorePending when it stopped at the limit with
// work left, and then must not re-enable interrupts: the framework calls it again later on
// the same CPU.
type ReceiveThrottle struct {
	MaxNBLs     int  // in: most NBLs this call may indicate; IndicateAll for no limit
	MorePending bool // out: work remains; call me again
}

// NBL stands for one NET_BUFFER_LIST: a received packet as indicated up the stack. The
// fields are the model's bookkeeping, carried from the NIC to the stack untouched by core.
type NBL struct {
	Intended int64  // the load generator's intended arrival time (Now clock)
	Written  int64  // when the NIC model wrote the descriptor (Now clock)
	Seq      uint64 // per-queue sequence number, for order and duplicate checks
	// Hash is the RSS hash the NIC computed over Tuple, when Hashed: the NET_BUFFER_LIST
	// hash information a NIC with RSS fills in. 0 when the NIC did not hash.
	Hash  uint32
	Buf   int32  // the receive buffer, returned to the NIC after the indication
	Queue uint16 // RX queue the packet arrived on
	Size  uint16 // bytes
	// Tuple is what the packet's headers hold for RSS to hash, when IPv4: source and
	// destination address, source and destination port, in network byte order (the
	// Toeplitz input of NDIS_HASH_TCP_IPV4, nicmodel.FlowTuple.HashInput). A driver that
	// sorts packets to CPUs itself hashes this.
	Tuple [12]byte
	// IPv4 says the packet is IPv4 TCP or UDP, so that Tuple is its 4-tuple. A packet that
	// is not (non-IP traffic: ARP, LLDP, ...) has nothing to hash: RSS cannot map it to
	// a CPU, and the DPC on the ISR's CPU indicates it (MINIPORT_INTERRUPT_DPC).
	IPv4 bool
	// Hashed says the NIC computed Hash (its RSS is on and the packet is IPv4).
	Hashed bool
}

// Stack stands for the protocol stack above the miniport: NdisMIndicateReceiveNetBufferLists
// ends in Indicate. Indicate runs on the indicating vCPU at dispatch level, must not block,
// and has consumed the NBLs when it returns (the model's NdisReturnNetBufferLists is the
// return). cpu is the vCPU index.
type Stack interface {
	Indicate(cpu int, nbls []NBL)
}

// ISRFunc stands for MiniportInterrupt (MINIPORT_ISR), a line-based ISR.
type ISRFunc func(ctx any) ISRResult

// MessageISRFunc stands for MiniportMessageInterrupt, told which message fired.
type MessageISRFunc func(ctx any, msg MessageID) ISRResult

// DPCFunc stands for MiniportInterruptDPC. call carries the DPC context, the throttle
// parameters and the CPU; it is valid only during the call.
type DPCFunc func(ctx any, call *DPCCall)

// MessageDPCFunc stands for MiniportMessageInterruptDPC.
type MessageDPCFunc func(ctx any, msg MessageID, call *DPCCall)

// InterruptControlFunc stands for MiniportDisableInterruptEx / MiniportEnableInterruptEx:
// handlers NDIS may call "for diagnostic and troubleshooting purposes", which mask or
// unmask the NIC. A miniport does not call them to mask in its ISR and re-enable in its
// DPC: it writes the NIC's registers there itself. The framework validates them (R1) and
// never calls them.
type InterruptControlFunc func(ctx any)

// MessageControlFunc stands for MiniportDisableMessageInterrupt /
// MiniportEnableMessageInterrupt, NDIS's diagnostic calls for one message (see
// InterruptControlFunc).
type MessageControlFunc func(ctx any, msg MessageID)

// InterruptCharacteristics stands for NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS (R1): the
// handlers a miniport registers for one interrupt and its MSI flags.
type InterruptCharacteristics struct {
	ISR     ISRFunc              // InterruptHandler; required
	DPC     DPCFunc              // InterruptDpcHandler; required
	Disable InterruptControlFunc // DisableInterruptHandler; required
	Enable  InterruptControlFunc // EnableInterruptHandler; required

	// MSISupported says the message handlers below are provided (MsiSupported). All four
	// are then required; without it all four must be nil.
	MSISupported bool
	// MSISyncWithAllMessages serializes every message ISR of this interrupt behind one
	// lock (MsiSyncWithAllMessages, R5): correct for drivers that need it, and slower.
	MSISyncWithAllMessages bool

	MessageISR     MessageISRFunc     // MessageInterruptHandler
	MessageDPC     MessageDPCFunc     // MessageInterruptDpcHandler
	DisableMessage MessageControlFunc // DisableMessageInterruptHandler
	EnableMessage  MessageControlFunc // EnableMessageInterruptHandler
}

// ErrCharacteristics is the errors.Is target of every registration error caused by a
// malformed InterruptCharacteristics (R1).
var ErrCharacteristics = errors.New("malformed interrupt characteristics")

// FieldError names the field of InterruptCharacteristics that registration rejected.
type FieldError struct {
	Field  string // Go field name, e.g. "MessageDPC"
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("core: register interrupt: %s: %s", e.Field, e.Reason)
}

// Is makes every FieldError match ErrCharacteristics.
func (e *FieldError) Is(target error) bool { return target == ErrCharacteristics }

// Validate checks c against R1 and returns the first problem as a *FieldError.
func (c *InterruptCharacteristics) Validate() error {
	if c == nil {
		return &FieldError{Field: "InterruptCharacteristics", Reason: "is nil"}
	}
	required := []struct {
		name string
		nil_ bool
	}{
		{"ISR", c.ISR == nil},
		{"DPC", c.DPC == nil},
		{"Disable", c.Disable == nil},
		{"Enable", c.Enable == nil},
	}
	for _, f := range required {
		if f.nil_ {
			return &FieldError{Field: f.name, Reason: "is required (every interrupt has line-based handlers)"}
		}
	}
	message := []struct {
		name string
		nil_ bool
	}{
		{"MessageISR", c.MessageISR == nil},
		{"MessageDPC", c.MessageDPC == nil},
		{"DisableMessage", c.DisableMessage == nil},
		{"EnableMessage", c.EnableMessage == nil},
	}
	for _, f := range message {
		if c.MSISupported && f.nil_ {
			return &FieldError{Field: f.name, Reason: "is required when MSISupported is set"}
		}
		if !c.MSISupported && !f.nil_ {
			return &FieldError{Field: f.name, Reason: "must be nil when MSISupported is not set"}
		}
	}
	return nil
}

// InterruptType is the kind of interrupt registration granted (R2).
type InterruptType int

const (
	// LineBased is NDIS_CONNECT_LINE_BASED: one line, possibly shared (R3).
	LineBased InterruptType = iota + 1
	// MessageBased is NDIS_CONNECT_MESSAGE_BASED: MSI or MSI-X messages, never shared.
	MessageBased
)

func (t InterruptType) String() string {
	switch t {
	case LineBased:
		return "line-based"
	case MessageBased:
		return "message-based"
	}
	return "InterruptType(" + strconv.Itoa(int(t)) + ")"
}

// Vector is a platform interrupt vector: what a device raises. Message grants list one per
// message in their table; a line grant's vector is shared by the line's sharers.
type Vector uint32

// MessageInfo stands for one IO_INTERRUPT_MESSAGE_INFO_ENTRY of a message grant's
// read-only table (R2).
type MessageInfo struct {
	ID         MessageID
	TargetCPUs CPUSet // the CPUs the message is delivered to (here: exactly one vCPU)
	Vector     Vector
}

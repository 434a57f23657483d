package core

import "strconv"

// EventKind names one thing that happened on a vCPU.
type EventKind uint8

// The events an Observer is told of, in the order a vCPU sees them for one interrupt:
// Raised, ISRStart, DPCQueued (from the ISR), ISREnd; then, on each CPU a DPC was queued
// on, DPCStart, Enabled and BatchEnd (after the DPC that re-enabled the device returns),
// DPCEnd, and a DPCQueued with Requeued set when the DPC asked to be called again (R8).
// BatchEnd also follows the DPCEnd (or the ISREnd) after which a batch closed without an
// Enabled: its device was never masked, or it was left masked, which is a violation (R9).
const (
	// EventRaised: a vector this vCPU is about to serve was raised. Time is when the
	// device raised it (the first of any raises that coalesced while it was pending), so
	// it is earlier than the event before it; Vector says which.
	EventRaised EventKind = iota + 1
	// EventISRStart: an ISR starts (Interrupt, Message, Vector). On a shared line each
	// sharer's ISR has its own start and end.
	EventISRStart
	// EventISREnd: it returned Result.
	EventISREnd
	// EventDPCQueued: a DPC object was newly queued (R6) on vCPU Target for Message, by
	// vCPU By (-1: from outside any vCPU); Requeued when it is queued again for "more
	// pending" (R8). Queueing an object already queued is a no-op and no event.
	EventDPCQueued
	// EventDPCStart: a DPC call starts (Message; By queued it at Queued, the Time of
	// that DPCQueued event; Requeued as above).
	EventDPCStart
	// EventDPCEnd: it returned, having indicated Indicated NBLs, with MorePending.
	EventDPCEnd
	// EventEnabled: the device re-enabled its interrupt for Message after masking it
	// (Interrupt.DeviceMasked). Time is when it did; the event is told on the vCPU of
	// the first ISR or DPC of the message to return after it (the one that re-enabled,
	// as a rule), or outside any vCPU when none was running or queued.
	EventEnabled
	// EventBatchEnd: the interrupt DPC batch of Message closed (R9); Duration is its
	// length from the ISR's start.
	EventBatchEnd
)

var eventNames = [...]string{
	EventRaised:    "raised",
	EventISRStart:  "isr-start",
	EventISREnd:    "isr-end",
	EventDPCQueued: "dpc-queued",
	EventDPCStart:  "dpc-start",
	EventDPCEnd:    "dpc-end",
	EventEnabled:   "enabled",
	EventBatchEnd:  "batch-end",
}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one thing that happened. Fields a kind does not use are zero.
type Event struct {
	Kind EventKind
	Time int64 // the run's clock (PlatformConfig.Clock)
	CPU  int   // the vCPU it happened on; -1 outside any vCPU (a QueueDPC or a device re-enabled from another goroutine)
	// Interrupt is whose handler ran or whose DPC is meant; nil for a Raised vector that
	// no registered interrupt owns, or for a line (whose sharers follow as ISRStart).
	Interrupt *Interrupt
	Vector    Vector    // Raised, ISRStart
	Message   MessageID // ISRStart onwards
	Target    int       // DPCQueued: the vCPU it was queued on
	By        int       // DPCQueued, DPCStart: the vCPU that queued it; -1 outside any
	Requeued  bool      // DPCQueued, DPCStart: queued again for "more pending" (R8)
	Queued    int64     // DPCStart: when it was queued (its DPCQueued's Time), which pairs the two
	Result    ISRResult // ISREnd
	Indicated int       // DPCEnd: NBLs the call indicated
	More      bool      // DPCEnd: the call set MorePending (R8)
	Duration  int64     // BatchEnd: ns from the batch's ISR start to its end
}

// Observer is told of every event of a platform: the seam a timeline trace or an
// external checker plugs into (PlatformConfig.Observer).
//
// Observe is called on the thread of the vCPU the event happened on (Event.CPU), so the
// events of one vCPU arrive one at a time and in the order that vCPU saw them; an
// observer keeps per-vCPU state indexed by CPU without a lock. Events outside any vCPU
// (CPU -1) arrive under a lock of the platform's, one at a time. Observe runs at
// interrupt or dispatch level, in the middle of the measured path: it must not block,
// and what it costs shows in the figures. With no observer the framework does not even
// build the event.
type Observer interface {
	Observe(e Event)
}

// observe tells the observer of e, which happened on v, or outside any vCPU when v is
// nil (under p.external, so that those arrive one at a time). Callers check p.obs != nil
// first, so that an unobserved platform builds no event.
func (p *Platform) observe(v *vcpu, e Event) {
	if v != nil {
		e.CPU = v.id
		p.obs.Observe(e)
		return
	}
	e.CPU = -1
	p.external.Lock()
	p.obs.Observe(e)
	p.external.Unlock()
}

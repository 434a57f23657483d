package core

import (
	"fmt"
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

// Invariants (Interrupt, msgState, dpcObject):
//   - A dpcObject is queued at most once at a time: queued goes false→true only by the
//     CAS winner, who then writes ctx/insertedAt/insertedBy/requeued and pushes the object
//     onto its vCPU's MPSC queue (the push publishes those writes). The vCPU pops it, reads
//     them, and stores queued=false before calling the DPC, so a DPC may be queued again
//     while it runs (as KeInsertQueueDpc allows).
//   - msgState.outstanding counts this message's objects that are queued or running plus
//     ISRs of the message in progress. The batch bookkeeping built on it (batchStart,
//     masked, the close slot) has its own invariants in batch.go.
//   - state goes registered→dead once (Deregister). Every ISR and DPC call enters with
//     active.Add(1) and then checks state; Deregister stores dead and then waits for
//     active to reach 0. Sequentially consistent atomics make one of the two see the other:
//     after Deregister returns no handler is running or will run (R11).
//   - Framework calls made outside any vCPU (QueueDPC from an ordinary goroutine or from a
//     handler through the Interrupt, a device re-enabled from an ordinary goroutine)
//     record into the outside recorder and tell the observer (CPU -1) under
//     Platform.external, taken only around that recording: QueueDPC stays lock-free unless
//     it breaks a rule or an observer watches.

const (
	ixRegistered int32 = iota
	ixDead
)

// msgState is the framework's per-message bookkeeping of one interrupt, padded so that
// messages served on different vCPUs do not share a cache line.
type msgState struct {
	msgFields
	_ [cacheLinePad - unsafe.Sizeof(msgFields{})%cacheLinePad]byte
}

type msgFields struct {
	batchStart  atomic.Int64  // see batch.go's Invariants
	outstanding atomic.Int32  // see Invariants
	masked      atomic.Bool   // the device says its interrupt is masked (DeviceMasked)
	enables     atomic.Uint32 // re-enables of the masked device so far (R8's check)
	close       closeSlot     // a re-enable waiting for a vCPU to record it (batch.go)
}

// dpcObject is the one DPC object of an (interrupt, message, vCPU) triple (R6), padded
// to its own cache lines: queuers on other vCPUs write it while its vCPU pops others.
type dpcObject struct {
	dpcFields
	_ [cacheLinePad - unsafe.Sizeof(dpcFields{})%cacheLinePad]byte
}

type dpcFields struct {
	ix         *Interrupt
	msg        MessageID
	cpu        int32
	queued     atomic.Bool // CAS false→true by a queuer; vCPU stores false when it pops
	requeued   bool        // queued again for "more pending" (not an ISR→DPC handoff)
	insertedBy int32       // vCPU that queued it, -1 from outside any vCPU
	insertedAt int64       // the clock at insertion
	ipi        bool        // queued from another vCPU: the target pays Costs.IPIWake first
	ctx        any         // MiniportDpcContext: nil from an ISR's targets, the caller's from QueueDPC (R7)
}

// spinLock serializes message ISRs for MSISyncWithAllMessages (R5). ISRs run at
// interrupt level and may not sleep, so it spins; it yields only when the holder is not
// running (an oversubscribed machine) so that progress never depends on pinning.
type spinLock struct{ held atomic.Uint32 }

func (l *spinLock) lock() {
	for i := 1; !l.held.CompareAndSwap(0, 1); i++ {
		if i&1023 == 0 {
			runtime.Gosched()
		}
	}
}

func (l *spinLock) unlock() { l.held.Store(0) }

// Interrupt is a registered miniport interrupt: the handle NdisMRegisterInterruptEx
// returns, with the grant (R2) and the calls a miniport makes on it.
type Interrupt struct {
	p         *Platform
	ctx       any // MiniportInterruptContext, passed to every handler
	chars     InterruptCharacteristics
	typ       InterruptType
	table     []MessageInfo
	stack     Stack
	serialize bool
	lock      spinLock
	nv        int // vCPUs, the stride of dpcs

	msgs []msgState  // one per message; one for a line grant
	dpcs []dpcObject // msgs × vCPUs, index msg*nv+cpu

	state      atomic.Int32
	active     atomic.Int32
	notMine    atomic.Uint64
	violations atomic.Uint64
}

// RegisterInterrupt stands for NdisMRegisterInterruptEx: it validates chars (R1) and
// grants a line-based or message-based interrupt (R2). A driver that supports MSI is
// granted messages when the platform offers them (MSI-X: PlatformConfig.Messages of them;
// MSI: one), and a line otherwise; it must look at Type. ctx is handed to every handler;
// stack receives the DPCs' indications (nil discards them after counting).
func (p *Platform) RegisterInterrupt(ctx any, chars InterruptCharacteristics, stack Stack) (*Interrupt, error) {
	if err := chars.Validate(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ix := &Interrupt{
		p:         p,
		ctx:       ctx,
		chars:     chars,
		stack:     stack,
		serialize: chars.MSISupported && chars.MSISyncWithAllMessages,
		nv:        len(p.vcpus),
	}
	messages := 1
	if chars.MSISupported && (p.cfg.MSI == MSIX || p.cfg.MSI == MSI) {
		ix.typ = MessageBased
		if p.cfg.MSI == MSIX {
			messages = p.cfg.Messages
		}
	} else {
		ix.typ = LineBased
	}
	// Every DPC object may sit in its vCPU's queue at once; make sure it fits.
	for cpu := range p.vcpus {
		if p.objs[cpu]+messages > p.cfg.DPCQueue {
			return nil, fmt.Errorf("core: register interrupt: vCPU %d's DPC queue (%d) cannot hold %d more DPC objects; raise DPCQueue",
				cpu, p.cfg.DPCQueue, messages)
		}
	}
	ix.msgs = make([]msgState, messages)
	ix.dpcs = make([]dpcObject, messages*ix.nv)
	for m := 0; m < messages; m++ {
		for c := 0; c < ix.nv; c++ {
			o := &ix.dpcs[m*ix.nv+c]
			o.ix, o.msg, o.cpu = ix, MessageID(m), int32(c)
		}
	}
	if ix.typ == MessageBased {
		ix.table = make([]MessageInfo, messages)
		for m := 0; m < messages; m++ {
			cpu := p.cfg.LineCPU
			if p.cfg.MSI == MSIX {
				cpu = m % len(p.vcpus)
			}
			vec, err := p.allocVector(cpu)
			if err != nil {
				return nil, fmt.Errorf("core: register interrupt: message %d: %w", m, err)
			}
			e := &p.vectors[vec]
			e.kind, e.msg = vecMessage, MessageID(m)
			e.ix.Store(ix)
			ix.table[m] = MessageInfo{ID: MessageID(m), TargetCPUs: 1 << uint(cpu), Vector: vec}
		}
	} else {
		old := *p.line.sharers.Load()
		sharers := append(append(make([]*Interrupt, 0, len(old)+1), old...), ix)
		p.line.sharers.Store(&sharers)
	}
	for cpu := range p.vcpus {
		p.objs[cpu] += messages
	}
	p.interrupts = append(p.interrupts, ix)
	return ix, nil
}

// Type returns the granted interrupt type (R2).
func (ix *Interrupt) Type() InterruptType { return ix.typ }

// Messages returns the number of messages granted; 1 for a line grant.
func (ix *Interrupt) Messages() int { return len(ix.msgs) }

// MessageTable returns a copy of the grant's message table (R2): one entry per message
// for a message grant, nil for a line grant.
func (ix *Interrupt) MessageTable() []MessageInfo {
	if ix.typ != MessageBased {
		return nil
	}
	return append([]MessageInfo(nil), ix.table...)
}

// NotMine returns how many times this interrupt's line ISR said "not mine" (R3).
func (ix *Interrupt) NotMine() uint64 { return ix.notMine.Load() }

// Violations returns how many contract violations this interrupt's handlers committed.
func (ix *Interrupt) Violations() uint64 { return ix.violations.Load() }

// enter marks a handler call in progress; false means the interrupt is deregistered and
// the handler must not run. Pair a true result with exit.
func (ix *Interrupt) enter() bool {
	ix.active.Add(1)
	if ix.state.Load() != ixRegistered {
		ix.active.Add(-1)
		return false
	}
	return true
}

func (ix *Interrupt) exit() { ix.active.Add(-1) }

// QueueDPC stands for NdisMQueueDpcEx: it queues this interrupt's DPC for message msg on
// each vCPU in targets with context ctx (R6, R7), and returns the set where it was newly
// queued; a vCPU whose DPC object for msg is already queued is left as it is. Any
// goroutine, lock-free. From inside a DPC, DPCCall.QueueDPC says which vCPU queued; from
// an ISR, return TargetCPUs instead: a QueueDPC through the Interrupt is timed
// (isr_to_dpc_cross_cpu) and reported (CPU -1) as from outside any vCPU.
func (ix *Interrupt) QueueDPC(msg MessageID, targets CPUSet, ctx any) CPUSet {
	if int(msg) >= len(ix.msgs) || ix.state.Load() != ixRegistered {
		return 0
	}
	return ix.queue(nil, msg, targets, ctx, ix.p.clock.Now())
}

// queue queues the DPC objects of msg on targets. v is the queueing vCPU (nil outside
// any).
func (ix *Interrupt) queue(v *vcpu, msg MessageID, targets CPUSet, ctx any, now int64) CPUSet {
	by := -1
	if v != nil {
		by = v.id
	}
	if bad := targets &^ ix.p.allCPUs; bad != 0 {
		ix.p.violate(v, ix, "R6", "DPC for message %d targets CPUs %v that do not exist (the platform has %d vCPUs)",
			msg, bad, len(ix.p.vcpus))
		targets &= ix.p.allCPUs
	}
	var newly CPUSet
	ms := &ix.msgs[msg]
	for m := uint64(targets); m != 0; m &= m - 1 {
		cpu := bits.TrailingZeros64(m)
		o := &ix.dpcs[int(msg)*ix.nv+cpu]
		if !o.queued.CompareAndSwap(false, true) {
			continue // already queued: a no-op (R6)
		}
		o.ctx, o.insertedAt, o.insertedBy, o.requeued = ctx, now, int32(by), false
		o.ipi = v != nil && cpu != by
		ms.outstanding.Add(1)
		if ix.p.obs != nil { // before the push: the target may start it at once
			ix.p.observe(v, Event{Kind: EventDPCQueued, Time: now, Interrupt: ix, Message: msg, Target: cpu, By: by})
		}
		target := ix.p.vcpus[cpu]
		if !target.dpcq.Push(o) {
			// Cannot happen: the queue holds every object that may target it.
			panic("core: DPC queue overflow despite capacity check")
		}
		target.wake()
		newly |= 1 << uint(cpu)
		if d := ix.p.cfg.Costs.IPISend; d > 0 && v != nil && cpu != by {
			v.spend(d)                   // the IPI that tells the target (DESIGN.md §8)
			v.workEnd = ix.p.clock.Now() // the ISR's CPU time runs to here
		}
	}
	return newly
}

// Deregister stands for NdisMDeregisterInterruptEx (R11): when it returns, no ISR or DPC
// of this interrupt is running, and none will run again: DPCs still queued are discarded
// when their vCPU reaches them. Call it from an ordinary goroutine, never from one of the
// interrupt's own handlers (that would wait for itself). It is idempotent.
func (ix *Interrupt) Deregister() {
	if !ix.state.CompareAndSwap(ixRegistered, ixDead) {
		return
	}
	p := ix.p
	p.mu.Lock()
	if ix.typ == MessageBased {
		for _, m := range ix.table {
			p.vectors[m.Vector].ix.Store(nil)
		}
	} else {
		old := *p.line.sharers.Load()
		sharers := make([]*Interrupt, 0, len(old))
		for _, s := range old {
			if s != ix {
				sharers = append(sharers, s)
			}
		}
		p.line.sharers.Store(&sharers)
	}
	for i, other := range p.interrupts {
		if other == ix {
			p.interrupts = append(p.interrupts[:i], p.interrupts[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	for i := 0; ix.active.Load() != 0; i++ {
		if i < 100 {
			runtime.Gosched()
		} else {
			time.Sleep(10 * time.Microsecond)
		}
	}
}

// Deregistered reports whether Deregister has been called (R11).
func (ix *Interrupt) Deregistered() bool { return ix.state.Load() != ixRegistered }

package core

import "sync/atomic"

// Interrupt DPC batches (R9): "the collection of all the DPCs that run after the ISR and
// before the interrupts are reenabled" (MINIPORT_INTERRUPT_DPC). A miniport masks its
// NIC's interrupt in its ISR and re-enables it in the batch's last DPC by writing the
// NIC's registers, not by calling NDIS: MiniportDisableInterruptEx and
// MiniportEnableInterruptEx are handlers NDIS calls, for diagnostics. So the framework
// watches the device, not the driver: the NIC reports its mask register's writes
// (Interrupt.DeviceMasked, wired by driver.Connect), and a batch ends when its device is
// re-enabled.
//
// Invariants (msgState's batch fields):
//   - batchStart is the ISR start of the open batch (0: none). The first ISR that claims
//     the interrupt or queues a DPC opens it with a CAS. It is closed, exactly once, by
//     whoever swaps it back to 0: the device's re-enable (a Swap, in DeviceMasked) or
//     the drop of outstanding to 0 (drained: a CAS of the value it loaded, and only while
//     outstanding is still 0: a new ISR's batch is not its to close).
//   - masked is the device's word: DeviceMasked(true) sets it, DeviceMasked(false)
//     clears it, and only a clearing that finds it set is a re-enable (counted in
//     enables, and ending the batch).
//   - A re-enable is reported on whatever goroutine wrote the NIC's register, which the
//     framework cannot tell apart from any other; its batch's duration must be recorded
//     by a vCPU into its own recorder. So DeviceMasked hands it over in close, a
//     one-place slot: state free→writing (the writer's CAS; it then writes start and at)
//     →ready (its Store publishes them)→taking (a taker's CAS; it reads them)→free. A
//     taker is every ISR and DPC call of the message when it returns, and drained: the
//     writer publishes and then loads outstanding, a holder drops outstanding and then
//     drains (and takes), so one of the two sees the other: if outstanding is 0 the writer
//     takes it itself, outside any vCPU. A re-enable that finds the slot busy (the last
//     one not taken yet) is recorded outside any vCPU at once.

// Close slot states.
const (
	slotFree int32 = iota
	slotWriting
	slotReady
	slotTaking
)

// closeSlot hands one re-enable of the device to the vCPU that records it (see
// Invariants). start and at belong to whoever holds the slot in writing or taking.
type closeSlot struct {
	state atomic.Int32
	start int64 // the batch's start; 0 when no batch was open
	at    int64 // when the device was re-enabled
}

// DeviceMasked is the device's side of the interrupt, not a call a miniport makes: the
// device reports that its interrupt for msg was masked (masked true) or re-enabled (false)
// — a miniport's ISR and DPC write the NIC's mask register, or the NIC masks itself on
// the cause read — so that the framework can time and check the interrupt DPC batch
// (R9): re-enabling a masked device ends the open batch. driver.Connect wires a NIC's
// mask register here. Any goroutine; lock-free unless an observer watches a re-enable
// made outside any vCPU.
func (ix *Interrupt) DeviceMasked(msg MessageID, masked bool) {
	if int(msg) >= len(ix.msgs) {
		return
	}
	ms := &ix.msgs[msg]
	if masked {
		ms.masked.Store(true)
		return
	}
	if !ms.masked.Swap(false) {
		return // not masked: no re-enable
	}
	ms.enables.Add(1)
	start := ms.batchStart.Swap(0)
	if start == 0 && ix.p.obs == nil {
		return // no batch open, nobody to tell
	}
	at := ix.p.clock.Now()
	c := &ms.close
	if !c.state.CompareAndSwap(slotFree, slotWriting) {
		ix.p.reenabled(nil, ix, msg, start, at)
		return
	}
	c.start, c.at = start, at
	c.state.Store(slotReady)
	if ms.outstanding.Load() == 0 { // no ISR or DPC of the message will come by to take it
		ix.takeClose(nil, msg)
	}
}

// takeClose records the re-enable waiting in msg's close slot, if any, on v (nil:
// outside any vCPU). One load when there is none.
func (ix *Interrupt) takeClose(v *vcpu, msg MessageID) {
	c := &ix.msgs[msg].close
	if c.state.Load() != slotReady || !c.state.CompareAndSwap(slotReady, slotTaking) {
		return
	}
	start, at := c.start, c.at
	c.state.Store(slotFree)
	ix.p.reenabled(v, ix, msg, start, at)
}

// reenabled tells the observer that ix's device re-enabled msg at at, and closes the
// batch that started at start (0: none), on v (nil: outside any vCPU).
func (p *Platform) reenabled(v *vcpu, ix *Interrupt, msg MessageID, start, at int64) {
	if p.obs != nil {
		p.observe(v, Event{Kind: EventEnabled, Time: at, Interrupt: ix, Message: msg})
	}
	if start != 0 {
		p.closeBatch(v, ix, msg, at, at-start)
	}
}

// closeBatch records one finished interrupt DPC batch of ix's message msg, d long,
// closed at now on v (nil: outside any vCPU), and checks it against the budget.
func (p *Platform) closeBatch(v *vcpu, ix *Interrupt, msg MessageID, now, d int64) {
	rec := p.lockRec(v)
	rec.record(HistBatchDuration, d)
	rec.inc(CtrBatches)
	if d > int64(p.cfg.Budget) {
		rec.inc(CtrBatchesOverBudget)
	}
	p.unlockRec(v)
	if p.obs != nil {
		p.observe(v, Event{Kind: EventBatchEnd, Time: now, Interrupt: ix, Message: msg, Duration: d})
	}
}

// drained is called when msg's outstanding count dropped to 0: the batch's handlers are
// done. A re-enable waiting to be recorded is taken first. A batch still open is closed
// now; if its device is still masked that is a violation (R9): the last DPC must
// re-enable it, or the device never interrupts again.
func (ix *Interrupt) drained(v *vcpu, msg MessageID, now int64) {
	ix.takeClose(v, msg)
	ms := &ix.msgs[msg]
	// The count reached 0 before this call; since then a new ISR may have entered (its
	// hold counts) and opened a batch of its own. Close only a batch nobody is working on,
	// and only the one loaded: a Swap here would steal the new batch and report it as
	// left disabled.
	start := ms.batchStart.Load()
	if start == 0 || ms.outstanding.Load() != 0 || !ms.batchStart.CompareAndSwap(start, 0) {
		return
	}
	if ms.masked.Load() {
		ix.p.violate(v, ix, "R9", "interrupt DPC batch of message %d ended with the device's interrupt still masked: the last DPC must re-enable it", msg)
	}
	ix.p.closeBatch(v, ix, msg, now, now-start)
}

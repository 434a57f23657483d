package core

import (
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core/internal/park"
	"github.com/ndisbench/ndisbench/rings"
)

// Invariants (vcpu):
//   - pending: any goroutine sets bits (Platform.Raise, Or); only the vCPU clears them,
//     swapping the whole mask to 0 before dispatching, so a raise that lands during
//     dispatch is delivered again, never lost.
//   - dpcq: any goroutine pushes (Interrupt.queue); only the vCPU pops.
//   - A waker publishes first (pending or dpcq), then calls wake; the vCPU prepares to
//     park first, then re-checks pending, dpcq and stop (see park.Parker's invariants).
//   - rec, call, vectors' dispatch state, lastTurn, workEnd: the vCPU's thread only (rec's
//     histograms: see hist.Writer); gapMax: the vCPU stores, anyone loads.

// vcpu is one simulated CPU: a goroutine locked to an OS thread, pinned to a real CPU
// where the OS allows it, serving interrupts (its pending-vector mask, like a local
// APIC's IRR), then DPCs (its DPC queue, at dispatch level), then idling.
type vcpu struct {
	vcpuHot
	_ [cacheLinePad - unsafe.Sizeof(vcpuHot{})%cacheLinePad]byte

	park park.Parker
	_    [cacheLinePad - unsafe.Sizeof(park.Parker{})%cacheLinePad]byte

	id      int
	p       *Platform
	realCPU int // the real CPU to pin to; -1 for none
	dpcq    *rings.MPSC[*dpcObject]
	vectors [vectorsPerVCPU]*vectorEntry
	rec     *recorder
	call    DPCCall
	stop    atomic.Bool // Stop sets; the vCPU exits its loop
	busy    atomic.Bool // the vCPU has taken work and not finished it (for Platform.Idle)

	lastTurn int64        // the loop top's last clock reading; 0 after a park (no gap)
	workEnd  int64        // when the last ISR or DPC handler returned
	turnAt   int64        // that reading, until the turn's first piece of work takes it as its start
	gapMax   atomic.Int64 // the longest gap between two turns in the measured window (Platform.LoopGaps)

	pinned bool  // set before Start returns
	pinErr error // why not pinned
}

// vcpuHot is the state other CPUs write: its own padded line.
type vcpuHot struct {
	pending atomic.Uint64 // bit per vector slot; see Invariants
}

// wake makes sure the vCPU will look at its pending mask and DPC queue. Any goroutine,
// after publishing work. Costs one load unless the vCPU is parked.
func (v *vcpu) wake() {
	if v.p.cfg.Idle == IdleSpinPark {
		v.park.Unpark()
	}
}

// run is the vCPU's thread.
func (v *vcpu) run(ready chan<- struct{}) {
	defer v.p.wg.Done()
	if v.realCPU >= 0 && !v.p.cfg.NoPin {
		undo, err := affinity.Pin(v.realCPU)
		if err == nil {
			v.pinned = true
			defer undo()
		} else {
			v.pinErr = err
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
	} else {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	ready <- struct{}{}
	v.loop()
	v.rec.w.Close()
}

// spinYieldEvery is how often a pure spinner yields to the Go scheduler, so that a
// machine with fewer Ps than spinning vCPUs still progresses (correctness must never
// depend on pinning or core count).
const spinYieldEvery = 1 << 20

func (v *vcpu) loop() {
	clock := v.p.clock
	spin := int64(v.p.cfg.Spin)
	w := v.rec.w
	idleSince := int64(0)
	for n := uint64(0); ; n++ {
		// busy is raised before work is taken (the swap of pending, the pop) so that
		// Platform.Idle never sees the work gone and the vCPU not yet busy. The turn's
		// time is read after the work was seen: work published before a cut is taken in
		// the interval the clock says it was taken in.
		if v.pending.Load() != 0 {
			v.busy.Store(true)
			v.turn(clock.Now())
			v.serveInterrupts()
			v.busy.Store(false)
			idleSince = 0
			continue
		}
		if v.dpcq.Len() != 0 {
			v.busy.Store(true)
			v.turn(clock.Now())
			if o, ok := v.dpcq.Pop(); ok {
				v.runDPC(o)
			}
			v.busy.Store(false)
			idleSince = 0
			continue
		}
		if v.stop.Load() {
			return
		}
		// Idle: drain a retired histogram set a step at a time, and read the clock now
		// and then, for the cuts and the gaps.
		w.Step()
		if n%64 != 0 {
			continue
		}
		now := clock.Now()
		v.turn(now)
		switch v.p.cfg.Idle {
		case IdleSpin:
			if n%spinYieldEvery == 0 {
				runtime.Gosched()
			}
		case IdleSpinYield, IdleSpinPark:
			if idleSince == 0 {
				idleSince = now
				continue
			}
			if now-idleSince < spin {
				continue
			}
			if v.p.cfg.Idle == IdleSpinYield {
				park.Yield()
				if n%(64*64) == 0 {
					runtime.Gosched()
				}
				continue
			}
			v.park.Prepare()
			if v.pending.Load() != 0 || v.dpcq.Len() != 0 || v.stop.Load() || w.Due(clock.Now()) {
				v.park.Cancel()
				continue
			}
			v.rec.inc(CtrParks)
			v.park.Park()
			idleSince = 0
			v.lastTurn = 0 // time parked is no gap
		}
	}
}

// turn starts a turn of the loop at now: it notes the gap since the last one, makes
// the histogram cut if one is due (the piece of work about to be taken records into the
// interval now falls in), and drains a step of a retired set, in proportion to how long
// the last turn took (a sixteenth of it, up to about 64 µs): a vCPU whose turns are long
// DPCs still hands its interval over within a few turns.
func (v *vcpu) turn(now int64) {
	last := v.lastTurn
	if now-max(last, v.workEnd) > v.gapMax.Load() {
		v.noteGap(now)
	}
	v.lastTurn, v.turnAt = now, now
	r := v.rec
	r.turn = r.w.Tick(now)
	if r.w.Converting() {
		took := int64(0) // after a park: unknown, and the work that woke it waits
		if last != 0 {
			took = min(now-last, int64(time.Millisecond))
		}
		r.w.StepN(int(took / 16))
	}
}

// startTime returns the start of a piece of work: the turn's clock reading for its
// first (read after the work was seen, so after it was raised or queued), a new reading
// for the others. One clock read per turn, not two.
func (v *vcpu) startTime() int64 {
	if t := v.turnAt; t != 0 {
		v.turnAt = 0
		return t
	}
	return v.p.clock.Now()
}

// noteGap records a new longest gap before a turn: from the end of the last handler
// the vCPU ran, or the last turn if that was later (one that found no work), to now;
// only its part in the measured window counts (Platform.LoopGaps). Off the hot path: a
// new maximum is rare.
func (v *vcpu) noteGap(now int64) {
	if v.lastTurn == 0 {
		return // the first turn, or the first after a park
	}
	if g := now - max(v.lastTurn, v.workEnd, v.p.gapFrom); g > v.gapMax.Load() {
		v.gapMax.Store(g)
	}
}

// serveInterrupts dispatches every pending vector, lowest slot first, until none is pending.
func (v *vcpu) serveInterrupts() {
	p := v.p
	for {
		m := v.pending.Swap(0)
		if m == 0 {
			break
		}
		for ; m != 0; m &= m - 1 {
			slot := bits.TrailingZeros64(m)
			e := v.vectors[slot]
			raised := e.raisedAt.Swap(0)
			busyFrom := v.startTime()
			start := busyFrom
			if d := p.cfg.Costs.IRQEntry; d > 0 {
				v.spend(d) // interrupt entry: before the ISR, part of the delivery
				start = p.clock.Now()
			}
			v.rec.inc(CtrInterrupts)
			if raised != 0 {
				v.rec.record(HistIRQDelivery, start-raised)
			}
			if p.obs != nil {
				at := raised
				if at == 0 {
					at = start
				}
				p.observe(v, Event{Kind: EventRaised, Time: at, Interrupt: e.ix.Load(), Vector: Vector(v.id*vectorsPerVCPU + slot)})
			}
			switch e.kind {
			case vecMessage:
				v.dispatchMessage(e, start)
			case vecLine:
				v.dispatchLine(e, start)
			default:
				v.rec.inc(CtrSpurious)
			}
			if e.kind != vecLine {
				v.eoi() // the line's is in dispatchLine, before the line may come again
			}
			// The vector's CPU time: entry, ISRs, DPCs queued (IPIs sent), EOI; the
			// handlers' clock readings, not new ones.
			if v.workEnd > busyFrom {
				v.rec.add(CtrCPUISRNs, uint64(v.workEnd-busyFrom))
			}
		}
	}
}

// spend spends d of injected cost on this vCPU and counts it. Off the path of a zero
// cost: callers test d > 0 first.
func (v *vcpu) spend(d time.Duration) {
	v.p.clock.Spin(d)
	v.rec.add(CtrCPUInjectedNs, uint64(d))
}

// eoi spends the end of interrupt (Costs.IRQEOI), when there is one, as the last work
// of a vector's service.
func (v *vcpu) eoi() {
	if d := v.p.cfg.Costs.IRQEOI; d > 0 {
		v.spend(d)
		v.workEnd = v.p.clock.Now()
	}
}

// dispatchMessage runs a message ISR (R3, R4, R5).
func (v *vcpu) dispatchMessage(e *vectorEntry, start int64) {
	ix := e.ix.Load()
	if ix == nil || !ix.enter() {
		v.rec.inc(CtrSpurious) // deregistered (R11)
		return
	}
	p := v.p
	ms := &ix.msgs[e.msg]
	ms.outstanding.Add(1) // the ISR holds the batch open while it queues
	if p.obs != nil {
		p.observe(v, Event{Kind: EventISRStart, Time: start, Interrupt: ix, Message: e.msg, Vector: v.vectorOf(e)})
	}
	if ix.serialize {
		ix.lock.lock()
	}
	res := ix.chars.MessageISR(ix.ctx, e.msg)
	if ix.serialize {
		ix.lock.unlock()
	}
	end := p.clock.Now()
	v.workEnd = end
	v.isrDone(end - start)
	if !res.Recognized {
		p.violate(v, ix, "R3", "message ISR returned \"not mine\" for message %d on vCPU %d; message interrupts are never shared", e.msg, v.id)
	}
	v.afterISR(ix, e.msg, start, end, res)
	ix.exit()
}

// isrDone records one ISR call that took d, counting it when it ran past ISRBudget.
func (v *vcpu) isrDone(d int64) {
	v.rec.inc(CtrISRCalls)
	v.rec.record(HistISRDuration, d)
	if d > int64(ISRBudget) {
		v.rec.inc(CtrISRsOverBudget)
	}
}

// vectorOf returns the number of vector entry e, one of this vCPU's.
func (v *vcpu) vectorOf(e *vectorEntry) Vector {
	return Vector(v.id*vectorsPerVCPU + bits.TrailingZeros64(e.bit))
}

// dispatchLine runs the line's sharers' ISRs in registration order until one claims the
// interrupt (R3), then delivers the line again if it is still asserted (level-triggered).
// A sharer's ISR that says "not mine" still gets the DPCs it asked for: NDIS queues them
// whatever the ISR returned (MINIPORT_ISR). An interrupt nobody claimed is self-inflicted
// (spurious) when no device asserted the line as the ISRs began, or a device dropped its
// assertion while they ran without claiming it: it had asserted for work an earlier ISR
// had already taken (its cause read found nothing). Otherwise a device asserts the line
// and no ISR recognises it: unclaimed.
func (v *vcpu) dispatchLine(e *vectorEntry, start int64) {
	p := v.p
	claimed := false
	drops := p.line.drops.Load()
	asserted := p.line.level.Load() != 0
	for _, ix := range *p.line.sharers.Load() {
		if !ix.enter() {
			continue
		}
		ix.msgs[0].outstanding.Add(1)
		t0 := p.clock.Now()
		if p.obs != nil {
			p.observe(v, Event{Kind: EventISRStart, Time: t0, Interrupt: ix, Vector: p.line.vector})
		}
		res := ix.chars.ISR(ix.ctx)
		end := p.clock.Now()
		v.workEnd = end
		v.isrDone(end - t0)
		if !res.Recognized {
			ix.notMine.Add(1)
			v.rec.inc(CtrNotMine)
		}
		v.afterISR(ix, 0, t0, end, res)
		ix.exit()
		if res.Recognized {
			claimed = true
			break
		}
	}
	if !claimed {
		if asserted && p.line.drops.Load() == drops {
			v.rec.inc(CtrUnclaimed)
		} else {
			v.rec.inc(CtrSelfSpurious)
		}
	}
	v.eoi()
	p.eoiLine()
}

// afterISR queues the DPCs the ISR asked for (R4, R6, R7: nil context): the default DPC
// on this CPU alone when it asked for one, as NDIS then ignores the target set
// (MINIPORT_ISR, MINIPORT_MESSAGE_INTERRUPT), else one on each target CPU. It opens the
// batch when the ISR claimed the interrupt or queued a DPC, and drops the ISR's hold on
// the batch.
func (v *vcpu) afterISR(ix *Interrupt, msg MessageID, start, end int64, res ISRResult) {
	ms := &ix.msgs[msg]
	targets := res.TargetCPUs
	if res.QueueDefaultDPC {
		targets = 1 << uint(v.id)
	}
	if res.Recognized || targets != 0 {
		ms.batchStart.CompareAndSwap(0, start)
	}
	if targets != 0 {
		ix.queue(v, msg, targets, nil, end)
	}
	if v.p.obs != nil {
		v.p.observe(v, Event{Kind: EventISREnd, Time: end, Interrupt: ix, Message: msg, Result: res})
	}
	ix.takeClose(v, msg)
	if ms.outstanding.Add(-1) == 0 {
		ix.drained(v, msg, end)
	}
}

// runDPC runs one DPC call at dispatch level (R6), applies receive throttling (R8) and
// the watchdog (R9), and closes the batch when it was the last one.
func (v *vcpu) runDPC(o *dpcObject) {
	ix := o.ix
	ctx, insertedAt, by, requeued, ipi := o.ctx, o.insertedAt, o.insertedBy, o.requeued, o.ipi
	o.ctx = nil
	o.queued.Store(false)
	if !ix.enter() {
		return // deregistered: a queued DPC is discarded, never run (R11)
	}
	p := v.p
	rec := v.rec
	start := v.startTime()
	busyFrom := start
	if d := p.cfg.Costs.IPIWake; d > 0 && ipi {
		v.spend(d) // the IPI's entry on this vCPU: part of the handoff
		start = p.clock.Now()
	}
	if p.obs != nil {
		p.observe(v, Event{Kind: EventDPCStart, Time: start, Interrupt: ix, Message: o.msg, By: int(by), Requeued: requeued, Queued: insertedAt})
	}
	if !requeued {
		if int(by) == v.id {
			rec.record(HistISRToDPCSame, start-insertedAt)
		} else {
			rec.record(HistISRToDPCCross, start-insertedAt)
		}
	}
	call := &v.call
	*call = DPCCall{
		Context:  ctx,
		Message:  o.msg,
		CPU:      v.id,
		Throttle: ReceiveThrottle{MaxNBLs: p.cfg.MaxNBLs},
		v:        v,
		ix:       ix,
	}
	ms := &ix.msgs[o.msg]
	enables := ms.enables.Load()
	if ix.typ == MessageBased {
		ix.chars.MessageDPC(ix.ctx, o.msg, call)
	} else {
		ix.chars.DPC(ix.ctx, call)
	}
	end := p.clock.Now()
	v.workEnd = end
	ix.takeClose(v, o.msg) // the device re-enabled in this call (most likely): its batch ends
	d := end - start
	rec.add(CtrCPUDPCNs, uint64(end-busyFrom))
	rec.inc(CtrDPCs)
	rec.record(HistDPCDuration, d)
	rec.record(HistDPCBatchSize, int64(call.indicated))
	rec.add(CtrIndicated, uint64(call.indicated))
	if d > int64(p.cfg.Budget) {
		rec.inc(CtrDPCsOverBudget)
	}
	more := call.Throttle.MorePending
	if p.obs != nil {
		p.observe(v, Event{Kind: EventDPCEnd, Time: end, Interrupt: ix, Message: o.msg, Indicated: call.indicated, More: more})
	}
	if more {
		rec.inc(CtrRequeues)
		// The device was re-enabled during this call: while this DPC has more pending its
		// batch is not over, so no DPC of it may unmask.
		if ms.enables.Load() != enables {
			p.violate(v, ix, "R8", "DPC for message %d on vCPU %d re-enabled interrupts and set MorePending", o.msg, v.id)
		}
		if o.queued.CompareAndSwap(false, true) {
			// Call it again later on the same CPU (R8), after what is queued already.
			o.ctx, o.insertedAt, o.insertedBy, o.requeued = ctx, end, int32(v.id), true
			if !v.dpcq.Push(o) {
				panic("core: DPC queue overflow despite capacity check")
			}
			if p.obs != nil {
				p.observe(v, Event{Kind: EventDPCQueued, Time: end, Interrupt: ix, Message: o.msg, Target: v.id, By: v.id, Requeued: true})
			}
		} else if ms.outstanding.Add(-1) == 0 { // someone queued it again meanwhile
			ix.drained(v, o.msg, end)
		}
	} else if ms.outstanding.Add(-1) == 0 {
		ix.drained(v, o.msg, end)
	}
	call.Context, call.ix = nil, nil
	ix.exit()
}

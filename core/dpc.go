package core

import "time"

// DPCCall is one call of a DPC handler: the parameters NDIS passes to
// MiniportInterruptDPC, and the calls a DPC makes back into NDIS. It is valid only during
// the call and belongs to the vCPU running it.
type DPCCall struct {
	Context  any             // MiniportDpcContext: nil when queued by an ISR's targets (R7)
	Message  MessageID       // the message (0 for a line-based interrupt)
	CPU      int             // the vCPU the DPC runs on
	Throttle ReceiveThrottle // R8: MaxNBLs in, MorePending out

	v         *vcpu
	ix        *Interrupt
	indicated int
}

// Interrupt returns the interrupt this DPC belongs to.
func (c *DPCCall) Interrupt() *Interrupt { return c.ix }

// Indicate stands for NdisMIndicateReceiveNetBufferLists: it hands nbls to the stack on
// this CPU. Indicating more than Throttle.MaxNBLs in one call is a violation (R8); the
// NBLs are delivered all the same, so nothing is lost.
func (c *DPCCall) Indicate(nbls []NBL) {
	if len(nbls) == 0 {
		return
	}
	before := c.indicated
	c.indicated += len(nbls)
	if c.indicated > c.Throttle.MaxNBLs && before <= c.Throttle.MaxNBLs {
		c.ix.p.violate(c.v, c.ix, "R8", "DPC for message %d on vCPU %d indicated more than MaxNBLs=%d",
			c.Message, c.CPU, c.Throttle.MaxNBLs)
	}
	if c.ix.stack != nil {
		c.ix.stack.Indicate(c.CPU, nbls)
	}
}

// Spin spends d of injected cost on this DPC's vCPU (the miniport's per-packet work,
// say) through the run's clock, and counts it in the vCPU's injected CPU time.
func (c *DPCCall) Spin(d time.Duration) {
	if d > 0 {
		c.v.spend(d)
	}
}

// Indicated returns how many NBLs this call has indicated so far.
func (c *DPCCall) Indicated() int { return c.indicated }

// QueueDPC is Interrupt.QueueDPC called from this DPC: the new DPCs join the batch and
// their handoff is timed as same- or cross-CPU from this vCPU.
func (c *DPCCall) QueueDPC(msg MessageID, targets CPUSet, ctx any) CPUSet {
	if int(msg) >= len(c.ix.msgs) || c.ix.state.Load() != ixRegistered {
		return 0
	}
	return c.ix.queue(c.v, msg, targets, ctx, c.ix.p.clock.Now())
}

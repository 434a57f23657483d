// Package reference is ndisbench's reference miniport: the driver the benchmarks run.
// It registers one interrupt that supports MSI and handles whatever is granted (R2),
// the way the NDIS documents recommend: its line ISR reads the cause register and says
// "not mine" when it is zero (R3), the read masking the NIC (it auto-masks); its message
// ISRs mask the vector; its ISRs queue DPCs on the CPUs
// that own the queues with work, by the default DPC calling QueueDPC (NdisMQueueDpcEx,
// the default) or through the ISR's target set (scenario key fan_out); its DPCs take
// descriptors in batches, indicate at most the throttle limit and set MorePending when
// work remains (R8); the last DPC of a batch re-enables the NIC's interrupt (R9). With
// rss driver the NIC has one queue and hashes nothing, and the DPC hashes each packet's
// 4-tuple, looks its CPU up in the indirection table and hands it to a DPC it queues
// there (R10); a packet that is not IP goes to the DPC on the ISR's CPU, as
// MINIPORT_INTERRUPT_DPC says. With rss nic such packets arrive on queue 0, the NIC's
// default queue, whose DPC runs where that queue's interrupt does.
//
// Masking and re-enabling are the miniport's own NIC register writes, as in a real
// driver: the message ISR calls nicmodel.NIC.Mask (the line ISR's cause read masks, as
// a NIC's interrupt auto-mask does), the batch's last DPC nicmodel.NIC.Unmask. The
// disable and enable handlers it registers (MiniportDisableInterruptEx and
// MiniportEnableInterruptEx, and the message forms) make the same writes for NDIS to
// call "for diagnostic and troubleshooting purposes"; the miniport never calls them, and
// no run does. The framework learns of the writes from the NIC itself (driver.Connect
// wires them to Interrupt.DeviceMasked), which is how it ends each batch.
//
// It is written against package driver only (and the NIC it drives): the same seam a
// user's miniport uses.
package reference

import (
	"errors"
	"fmt"
	"math/bits"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/driver"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/rings"
)

// Info returns the reference miniport's registry entry.
func Info() driver.Info {
	return driver.Info{
		Name:    "reference",
		Summary: "the reference miniport: MSI-X, MSI or line; throttling, fan-out by targets or QueueDPC, NIC or driver RSS",
		New:     New,
	}
}

// Invariants (Miniport):
//   - A queue has one owning vCPU: with MSI-X the CPU its message targets, otherwise
//     queue mod vCPUs. Only the DPC on that vCPU takes its descriptors (the ring's one
//     consumer). With driver-side RSS the NIC has one queue and its DPC is the one
//     producer of every other vCPU's backlog; the DPC on that vCPU is its one consumer.
//   - msgState.outstanding counts the miniport's DPCs of a message that are queued or
//     running, from the ISR that opened the batch to their last call (one that does not
//     set MorePending). It is raised before a DPC is queued, lowered by what was not newly
//     queued and by each DPC's last call; the call that brings it to 0 is the last DPC of
//     the batch and re-enables the interrupt (R9). While a message is masked no ISR of it
//     claims an interrupt, so one batch is open per message at a time.

// Miniport is the reference miniport driver for the simulated NIC. New makes one from a
// scenario; the run calls Initialize and Halt.
type Miniport struct {
	nic     *nicmodel.NIC
	ix      driver.Interrupt
	clock   driver.Clock
	sc      scenario.Scenario
	vcpus   int
	lineCPU int
	ind     *nicmodel.Indirection // driver-side RSS: hash → vCPU
	tz      *nicmodel.Toeplitz    // driver-side RSS: the hash the DPC computes per packet

	queueCPU []int           // queue → owning vCPU
	queueBit []driver.CPUSet // queue → its owner as a set
	msgCPU   []int           // message → the vCPU its ISR runs on
	msgOwn   []driver.CPUSet // message → the owners of its queues
	msgs     []mpMsg         // one per granted message (one for a line)
	cpus     []*mpCPU        // one per vCPU (allocated apart: no shared lines)
	own      [][][]int       // [message][vCPU] → queues that DPC drains
}

var _ driver.Miniport = (*Miniport)(nil)

type mpMsg struct {
	mpMsgFields
	_ [128 - unsafe.Sizeof(mpMsgFields{})%128]byte
}

type mpMsgFields struct {
	outstanding atomic.Int32
	fanout      atomic.Uint64 // fan_out queue-dpc: CPUs the default DPC must queue
}

// mpCPU is one vCPU's miniport state: touched by that vCPU's DPCs only, except backlog,
// which the sorting DPC fills (the ring keeps its two ends apart).
type mpCPU struct {
	scratch []driver.NBL            // descriptors taken, up to one indication
	out     []driver.NBL            // driver RSS: this CPU's share of a sorted chunk
	backlog *rings.SPSC[driver.NBL] // driver RSS: packets sorted to this CPU
	mark    driver.CPUSet           // driver RSS: CPUs given packets by this call
}

// dpcCtx is the context a DPC is queued with through QueueDPC (R7): who queued it.
type dpcCtx struct{ by string }

var (
	ctxFanOut = &dpcCtx{"fan-out"}
	ctxSorted = &dpcCtx{"rss-sort"}
)

// New returns a reference miniport for sc (its keys fan_out, indicate_batch,
// per_packet, rss_hash, rss, indirection_entries and msi_sync).
func New(sc scenario.Scenario) (driver.Miniport, error) {
	if sc.IndicateBatch < 1 || sc.IndicateBatch > scenario.MaxIndicateBatch {
		return nil, fmt.Errorf("reference: indicate_batch must be 1..%d, got %d", scenario.MaxIndicateBatch, sc.IndicateBatch)
	}
	if sc.FanOut != scenario.FanOutTargets && sc.FanOut != scenario.FanOutQueueDPC {
		return nil, fmt.Errorf("reference: unknown fan_out %v", sc.FanOut)
	}
	if sc.RSS != scenario.RSSNIC && sc.RSS != scenario.RSSDriver {
		return nil, fmt.Errorf("reference: unknown rss %v", sc.RSS)
	}
	if sc.PerPacket == scenario.FromProfile || sc.RSSHash == scenario.FromProfile {
		r := sc.Resolved() // not resolved yet (a scenario straight from Default): the profile's
		sc.PerPacket, sc.RSSHash = r.PerPacket, r.RSSHash
	}
	if sc.PerPacket < 0 || sc.RSSHash < 0 {
		return nil, fmt.Errorf("reference: per_packet and rss_hash must not be negative, got %v and %v", sc.PerPacket, sc.RSSHash)
	}
	return &Miniport{sc: sc}, nil
}

// Initialize registers the miniport's interrupt, looks at the grant (R2), connects the
// NIC's vectors to it and works out which vCPU owns each queue.
func (m *Miniport) Initialize(fw driver.Framework, nic *nicmodel.NIC) error {
	sc := m.sc
	m.nic, m.clock, m.vcpus, m.lineCPU = nic, fw.Clock(), fw.VCPUs(), fw.LineCPU()
	if sc.RSS == scenario.RSSDriver {
		if nic.Queues() != 1 {
			return fmt.Errorf("reference: driver-side RSS needs a NIC with one queue, got %d", nic.Queues())
		}
		ind, err := nicmodel.NewIndirection(sc.IndirectionEntries, m.vcpus)
		if err != nil {
			return fmt.Errorf("reference: %w", err)
		}
		tz, err := nicmodel.NewToeplitz(sc.RSSKey)
		if err != nil {
			return fmt.Errorf("reference: %w", err)
		}
		if tz.MaxInput() < nicmodel.FlowTupleLen {
			return fmt.Errorf("reference: driver-side RSS: rss_key of %d bytes cannot hash a 4-tuple: want at least %d", len(sc.RSSKey), nicmodel.FlowTupleLen+4)
		}
		m.ind, m.tz = ind, tz
	}
	ix, err := fw.RegisterInterrupt(m, driver.InterruptCharacteristics{
		ISR:                    m.lineISR,
		DPC:                    m.lineDPC,
		Disable:                func(any) { nic.Mask(0) },
		Enable:                 func(any) { nic.Unmask(0) },
		MSISupported:           true,
		MSISyncWithAllMessages: sc.MSISync,
		MessageISR:             m.messageISR,
		MessageDPC:             m.messageDPC,
		DisableMessage:         func(_ any, msg driver.MessageID) { nic.Mask(int(msg)) },
		EnableMessage:          func(_ any, msg driver.MessageID) { nic.Unmask(int(msg)) },
	})
	if err != nil {
		return err
	}
	m.ix = ix
	if err := m.connect(fw); err != nil {
		ix.Deregister()
		return err
	}
	for c := 0; c < m.vcpus; c++ {
		st := &mpCPU{scratch: make([]driver.NBL, sc.IndicateBatch), out: make([]driver.NBL, 0, sc.IndicateBatch)}
		if m.ind != nil {
			capacity := 2
			for capacity < nic.Config().Buffers {
				capacity <<= 1
			}
			if st.backlog, err = rings.NewSPSC[driver.NBL](capacity); err != nil {
				ix.Deregister()
				return err
			}
		}
		m.cpus = append(m.cpus, st)
	}
	return nil
}

// Halt deregisters the interrupt (R11).
func (m *Miniport) Halt() { m.ix.Deregister() }

// connect connects the NIC's vectors to the grant (R2) and works out queue ownership.
func (m *Miniport) connect(fw driver.Framework) error {
	if err := driver.Connect(fw, m.ix, m.nic); err != nil {
		return err
	}
	nq := m.nic.Queues()
	m.queueCPU = make([]int, nq)
	m.queueBit = make([]driver.CPUSet, nq)
	if m.ix.Type() == driver.MessageBased {
		table := m.ix.MessageTable()
		if m.nic.Vectors() == 1 && m.nic.Queues() > 1 && m.nic.Config().Mode == nicmodel.ModeMSIX {
			return errors.New("reference: internal: MSI-X NIC with one vector")
		}
		m.msgs = make([]mpMsg, len(table))
		m.own = make([][][]int, len(table))
		for i := range m.own {
			m.own[i] = make([][]int, m.vcpus)
		}
		m.msgCPU = make([]int, len(table))
		m.msgOwn = make([]driver.CPUSet, len(table))
		for i, e := range table {
			m.msgCPU[i] = lowest(e.TargetCPUs)
		}
		for q := 0; q < nq; q++ {
			msg := m.nic.VectorOf(q)
			cpu := lowest(table[msg].TargetCPUs)
			if m.nic.Vectors() == 1 {
				cpu = q % m.vcpus // one message for every queue: spread the DPC work
			}
			m.setOwner(msg, q, cpu)
		}
		return nil
	}
	m.msgs = make([]mpMsg, 1)
	m.msgCPU = []int{m.lineCPU}
	m.msgOwn = make([]driver.CPUSet, 1)
	m.own = [][][]int{make([][]int, m.vcpus)}
	for q := 0; q < nq; q++ {
		m.setOwner(0, q, q%m.vcpus)
	}
	return nil
}

func (m *Miniport) setOwner(msg, q, cpu int) {
	m.queueCPU[q] = cpu
	m.queueBit[q] = driver.CPUs(cpu)
	m.msgOwn[msg] |= driver.CPUs(cpu)
	m.own[msg][cpu] = append(m.own[msg][cpu], q)
}

// lowest returns the lowest CPU of s; 0 for an empty set.
func lowest(s driver.CPUSet) int { return bits.TrailingZeros64(uint64(s)) % 64 }

// QueueCPU returns the vCPU that owns queue q.
func (m *Miniport) QueueCPU(q int) int { return m.queueCPU[q] }

// lineISR is MiniportInterrupt for a line grant (R3, R4): read the cause register (which
// clears it and drops the line); nothing there means another sharer raised the line.
// Otherwise the read masked the NIC's interrupt as well (the NIC auto-masks on a cause
// read that reports causes: nicmodel.NIC.ReadCause), so no packet can re-assert the line
// between the read and a mask; queue a DPC on the CPU of every queue the cause names.
func (m *Miniport) lineISR(any) driver.ISRResult {
	cause := m.nic.ReadCause()
	if cause == 0 {
		return driver.ISRResult{} // not mine
	}
	var targets driver.CPUSet
	for c := cause; c != 0; c &= c - 1 {
		q := bits.TrailingZeros64(c)
		if q < len(m.queueBit) {
			targets |= m.queueBit[q]
		}
	}
	if targets == 0 {
		targets = driver.CPUs(m.lineCPU) // a cause bit of no queue: a DPC here unmasks
	}
	return m.fan(0, m.lineCPU, targets)
}

// messageISR is MiniportMessageInterrupt (R3, R4): a message is never shared, so it
// always claims. A message already masked belongs to an open batch: nothing more to queue. MSI-X: mask this message, queue the DPC here (the queue's CPU). MSI (one
// message for every queue): mask and queue DPCs on the CPUs of queues holding work.
func (m *Miniport) messageISR(_ any, msg driver.MessageID) driver.ISRResult {
	if m.nic.Masked(int(msg)) {
		// Raised before this message's ISR masked it, and delivered after: the open
		// batch's DPCs will see the work, and its unmask re-raises for what they leave.
		return driver.ISRResult{Recognized: true}
	}
	if m.nic.Vectors() > 1 { // MSI-X: this message's queues only
		m.nic.Mask(int(msg))
		return m.fan(msg, m.msgCPU[msg], m.msgOwn[msg])
	}
	var targets driver.CPUSet
	for q := range m.queueBit {
		if m.nic.Pending(q) > 0 {
			targets |= m.queueBit[q]
		}
	}
	if targets == 0 {
		return driver.ISRResult{Recognized: true} // nothing to do: drained already
	}
	m.nic.Mask(int(msg))
	return m.fan(msg, m.msgCPU[msg], targets)
}

// fan returns the ISR result that puts DPCs on targets from an ISR running on cpu. DPCs
// on this CPU alone are the default DPC. Others are reached the way fan_out says: with
// queue-dpc (the default, as NDIS 6.20 and later drivers are told to do) the default DPC
// queues them with QueueDPC (NdisMQueueDpcEx); with targets the ISR returns them all,
// this CPU included, in its target set (TargetProcessors), since NDIS ignores the target
// set of an ISR that asks for the default DPC (MINIPORT_ISR).
func (m *Miniport) fan(msg driver.MessageID, cpu int, targets driver.CPUSet) driver.ISRResult {
	here := driver.CPUs(cpu)
	ms := &m.msgs[msg]
	switch {
	case targets == here:
		ms.outstanding.Add(1)
		return driver.ISRResult{Recognized: true, QueueDefaultDPC: true}
	case m.sc.FanOut == scenario.FanOutQueueDPC:
		ms.fanout.Store(uint64(targets &^ here))
		ms.outstanding.Add(1)
		return driver.ISRResult{Recognized: true, QueueDefaultDPC: true}
	}
	ms.outstanding.Add(int32(targets.Count()))
	return driver.ISRResult{Recognized: true, TargetCPUs: targets}
}

func (m *Miniport) lineDPC(_ any, call *driver.DPCCall) { m.dpc(0, call) }

func (m *Miniport) messageDPC(_ any, msg driver.MessageID, call *driver.DPCCall) { m.dpc(msg, call) }

// dpc is MiniportInterruptDPC / MiniportMessageInterruptDPC (R6–R10).
func (m *Miniport) dpc(msg driver.MessageID, call *driver.DPCCall) {
	ms := &m.msgs[msg]
	st := m.cpus[call.CPU]
	if ms.fanout.Load() != 0 { // a load first: most DPC calls have nothing to fan out
		if f := driver.CPUSet(ms.fanout.Swap(0)); f != 0 {
			m.queue(ms, call, f, ctxFanOut)
		}
	}
	limit := call.Throttle.MaxNBLs
	done := 0
	more := false
	if st.backlog != nil {
		done, more = m.drainBacklog(call, st, limit)
	}
	if !more {
		for _, q := range m.own[msg][call.CPU] {
			n, left := m.drainQueue(call, st, q, limit-done)
			done += n
			if left {
				more = true
				break
			}
		}
	}
	if st.mark != 0 {
		m.queue(ms, call, st.mark, ctxSorted)
		st.mark = 0
	}
	if more {
		call.Throttle.MorePending = true // R8: called again on this CPU; stay masked
		return
	}
	if ms.outstanding.Add(-1) == 0 {
		m.nic.Unmask(int(msg)) // the last DPC of the batch re-enables the NIC (R9)
	}
}

// queue queues this message's DPC on targets from a DPC, counting them into the batch
// before they can run.
func (m *Miniport) queue(ms *mpMsg, call *driver.DPCCall, targets driver.CPUSet, ctx *dpcCtx) {
	ms.outstanding.Add(int32(targets.Count()))
	newly := call.QueueDPC(call.Message, targets, ctx)
	if missed := targets.Count() - newly.Count(); missed != 0 {
		ms.outstanding.Add(-int32(missed)) // already queued: it will see the work (R6)
	}
}

// drainQueue takes and handles up to limit descriptors of queue q. It reports how many
// it took and whether it stopped at the limit with descriptors left.
func (m *Miniport) drainQueue(call *driver.DPCCall, st *mpCPU, q, limit int) (int, bool) {
	done := 0
	for done < limit {
		// The descriptors are indicated in place, then released (NIC.Peek).
		batch := m.nic.Peek(q, min(len(st.scratch), limit-done))
		n := len(batch)
		if n == 0 {
			return done, false
		}
		done += n
		call.Spin(m.sc.PerPacket * time.Duration(n)) // the miniport's per-packet work (per_packet)
		if m.ind != nil {
			call.Spin(m.sc.RSSHash * time.Duration(n)) // the hash the NIC did not compute (rss_hash)
			batch = m.sort(st, call, batch)
		}
		m.indicate(call, batch)
		m.nic.Release(q, n)
	}
	return done, m.nic.Pending(q) > 0
}

// sort keeps this CPU's packets of batch and hands the others to their CPUs' backlogs
// (R10: hash → indirection table → CPU). The NIC did not hash (it has one queue and no
// RSS), so the DPC computes each packet's Toeplitz hash over the 4-tuple its headers
// hold (NBL.Tuple), and pays for it: MINIPORT_INTERRUPT_DPC, "the miniport driver can
// sort the packets into separate queues in MiniportInterruptDPC". A packet that is not
// IPv4 has no 4-tuple and maps to no CPU; it goes to the CPU of the message's ISR, whose
// DPC "should indicate all the packets that could not be mapped to a CPU"
// (MINIPORT_INTERRUPT_DPC).
func (m *Miniport) sort(st *mpCPU, call *driver.DPCCall, batch []driver.NBL) []driver.NBL {
	self, isrCPU := call.CPU, m.msgCPU[call.Message]
	out := st.out[:0]
	for i := range batch {
		cpu := isrCPU
		if batch[i].IPv4 {
			cpu = m.ind.Lookup(m.tz.HashTuple(&batch[i].Tuple))
		}
		if cpu == self {
			out = append(out, batch[i])
			continue
		}
		if !m.cpus[cpu].backlog.Push(batch[i]) {
			panic("reference: RSS backlog full despite holding every buffer")
		}
		st.mark |= driver.CPUs(cpu)
	}
	return out
}

// drainBacklog indicates up to limit packets sorted to this CPU by driver-side RSS.
func (m *Miniport) drainBacklog(call *driver.DPCCall, st *mpCPU, limit int) (int, bool) {
	done := 0
	for done < limit {
		n := st.backlog.PopBatch(st.scratch[:min(len(st.scratch), limit-done)])
		if n == 0 {
			return done, false
		}
		done += n
		m.indicate(call, st.scratch[:n])
	}
	return done, st.backlog.Len() > 0
}

// indicate hands batch up the stack and returns its buffers, which the stack has
// consumed when Indicate returns.
func (m *Miniport) indicate(call *driver.DPCCall, batch []driver.NBL) {
	if len(batch) == 0 {
		return
	}
	call.Indicate(batch)
	m.nic.ReturnBatch(batch)
}

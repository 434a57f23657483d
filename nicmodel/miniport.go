package nicmodel

import (
	"errors"
	"fmt"
	"math/bits"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/rings"
)

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

// FanOut is how a line or MSI ISR puts DPCs on the CPUs of queues it does not own.
type FanOut int

const (
	// FanOutTargets returns the other CPUs in the ISR's target set (TargetProcessors).
	FanOutTargets FanOut = iota
	// FanOutQueueDPC queues only the default DPC; it queues the others with QueueDPC.
	FanOutQueueDPC
)

var fanOutNames = map[FanOut]string{FanOutTargets: "targets", FanOutQueueDPC: "queue-dpc"}

func (f FanOut) String() string {
	if s, ok := fanOutNames[f]; ok {
		return s
	}
	return fmt.Sprintf("FanOut(%d)", int(f))
}

// ParseFanOut parses "targets" or "queue-dpc".
func ParseFanOut(s string) (FanOut, error) {
	for f, n := range fanOutNames {
		if n == s {
			return f, nil
		}
	}
	return 0, fmt.Errorf("nicmodel: fan-out: %q is not targets or queue-dpc", s)
}

// RSSMode says who spreads flows over CPUs (R10).
type RSSMode int

const (
	// RSSNIC: the NIC hashes each packet and its indirection table picks the queue; each
	// queue belongs to one CPU.
	RSSNIC RSSMode = iota
	// RSSDriver: the NIC has one queue; its DPC hashes, looks the CPU up in the
	// indirection table, and hands packets to DPCs it queues on those CPUs.
	RSSDriver
)

var rssNames = map[RSSMode]string{RSSNIC: "nic", RSSDriver: "driver"}

func (m RSSMode) String() string {
	if s, ok := rssNames[m]; ok {
		return s
	}
	return fmt.Sprintf("RSSMode(%d)", int(m))
}

// ParseRSSMode parses "nic" or "driver".
func ParseRSSMode(s string) (RSSMode, error) {
	for m, n := range rssNames {
		if n == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("nicmodel: rss: %q is not nic or driver", s)
}

// MiniportConfig is the reference miniport's choices.
type MiniportConfig struct {
	FanOut FanOut
	// IndicateBatch is the most NBLs per indication (one NdisMIndicateReceiveNetBufferLists
	// call); the throttle caps it further. 0 means 64.
	IndicateBatch int
	// PerPacket is DPC work per received descriptor (busy-wait), default 0.
	PerPacket time.Duration
	RSS       RSSMode
	// Indirection maps a hash to a vCPU for driver-side RSS; nil there means an even
	// table of 128 entries over the vCPUs.
	Indirection *Indirection
	// MSISync sets MSISyncWithAllMessages: every message ISR serialized (R5).
	MSISync bool
}

const defaultIndicateBatch = 64

// Miniport is the reference miniport driver for the simulated NIC. It registers one
// interrupt supporting MSI, looks at what was granted (R2), and handles it the way the
// NDIS documents recommend: the ISR masks and queues DPCs, the DPCs drain their queues
// in indications of at most the throttle limit, and the last DPC of a batch unmasks.
type Miniport struct {
	nic     *NIC
	ix      *core.Interrupt
	stack   core.Stack
	cfg     MiniportConfig
	vcpus   int
	lineCPU int
	ind     *Indirection // driver-side RSS: hash → vCPU

	queueCPU []int         // queue → owning vCPU
	queueBit []core.CPUSet // queue → its owner as a set
	msgCPU   []int         // message → the vCPU its ISR runs on
	msgOwn   []core.CPUSet // message → the owners of its queues
	msgs     []mpMsg       // one per granted message (one for a line)
	cpus     []*mpCPU      // one per vCPU (allocated apart: no shared lines)
	own      [][][]int     // [message][vCPU] → queues that DPC drains
}

type mpMsg struct {
	mpMsgFields
	_ [128 - unsafe.Sizeof(mpMsgFields{})%128]byte
}

type mpMsgFields struct {
	outstanding atomic.Int32
	fanout      atomic.Uint64 // FanOutQueueDPC: CPUs the default DPC must queue
}

// mpCPU is one vCPU's miniport state: touched by that vCPU's DPCs only, except backlog,
// which the sorting DPC fills (the ring keeps its two ends apart).
type mpCPU struct {
	scratch []core.NBL            // descriptors taken, up to one indication
	out     []core.NBL            // driver RSS: this CPU's share of a sorted chunk
	backlog *rings.SPSC[core.NBL] // driver RSS: packets sorted to this CPU
	mark    core.CPUSet           // driver RSS: CPUs given packets by this call
}

// dpcCtx is the context a DPC is queued with through QueueDPC (R7): who queued it.
type dpcCtx struct{ by string }

var (
	ctxFanOut = &dpcCtx{"fan-out"}
	ctxSorted = &dpcCtx{"rss-sort"}
)

// msgIRQ raises one platform vector: a message write.
type msgIRQ struct {
	p *core.Platform
	v core.Vector
}

func (m msgIRQ) Raise() { m.p.Raise(m.v) }
func (m msgIRQ) Lower() {}

// lineIRQ asserts the platform's shared line.
type lineIRQ struct{ src *core.LineSource }

func (l lineIRQ) Raise() { l.src.Assert() }
func (l lineIRQ) Lower() { l.src.Deassert() }

// NewMiniport registers the miniport's interrupt on p for nic and connects the NIC's
// vectors to what was granted. stack receives the indications; the miniport returns each
// buffer to the NIC when Indicate returns (the stack has consumed it then). Call it before
// the platform starts and before traffic.
func NewMiniport(p *core.Platform, nic *NIC, stack core.Stack, cfg MiniportConfig) (*Miniport, error) {
	if cfg.IndicateBatch == 0 {
		cfg.IndicateBatch = defaultIndicateBatch
	}
	if cfg.IndicateBatch < 1 || cfg.IndicateBatch > 1<<16 {
		return nil, configErr("indicate_batch", "must be 1..65536, got %d", cfg.IndicateBatch)
	}
	if _, ok := fanOutNames[cfg.FanOut]; !ok {
		return nil, configErr("fan_out", "unknown fan-out %d", int(cfg.FanOut))
	}
	if _, ok := rssNames[cfg.RSS]; !ok {
		return nil, configErr("rss", "unknown RSS mode %d", int(cfg.RSS))
	}
	if cfg.PerPacket < 0 {
		return nil, configErr("per_packet", "must not be negative, got %v", cfg.PerPacket)
	}
	if cfg.RSS == RSSDriver && nic.Queues() != 1 {
		return nil, configErr("queues", "driver-side RSS needs a NIC with one queue, got %d", nic.Queues())
	}
	m := &Miniport{nic: nic, stack: stack, cfg: cfg, vcpus: p.VCPUs(), lineCPU: p.Config().LineCPU}
	if cfg.RSS == RSSDriver {
		m.ind = cfg.Indirection
		if m.ind == nil {
			ind, err := NewIndirection(DefaultIndirectionEntries, m.vcpus)
			if err != nil {
				return nil, err
			}
			m.ind = ind
		}
		if m.ind.Queues() > m.vcpus {
			return nil, configErr("indirection", "table spreads over %d CPUs, the platform has %d", m.ind.Queues(), m.vcpus)
		}
	}
	chars := core.InterruptCharacteristics{
		ISR:                    m.lineISR,
		DPC:                    m.lineDPC,
		Disable:                func(any) { nic.Mask(0) },
		Enable:                 func(any) { nic.Unmask(0) },
		MSISupported:           true,
		MSISyncWithAllMessages: cfg.MSISync,
		MessageISR:             m.messageISR,
		MessageDPC:             m.messageDPC,
		DisableMessage:         func(_ any, msg core.MessageID) { nic.Mask(int(msg)) },
		EnableMessage:          func(_ any, msg core.MessageID) { nic.Unmask(int(msg)) },
	}
	ix, err := p.RegisterInterrupt(m, chars, stack)
	if err != nil {
		return nil, err
	}
	m.ix = ix
	if err := m.connect(p); err != nil {
		ix.Deregister()
		return nil, err
	}
	for c := 0; c < m.vcpus; c++ {
		st := &mpCPU{scratch: make([]core.NBL, cfg.IndicateBatch), out: make([]core.NBL, 0, cfg.IndicateBatch)}
		if cfg.RSS == RSSDriver {
			capacity := 2
			for capacity < nic.Config().Buffers {
				capacity <<= 1
			}
			if st.backlog, err = rings.NewSPSC[core.NBL](capacity); err != nil {
				ix.Deregister()
				return nil, err
			}
		}
		m.cpus = append(m.cpus, st)
	}
	return m, nil
}

// connect works out queue ownership from the grant (R2) and programs the NIC's vectors.
func (m *Miniport) connect(p *core.Platform) error {
	nq := m.nic.Queues()
	m.queueCPU = make([]int, nq)
	m.queueBit = make([]core.CPUSet, nq)
	switch m.ix.Type() {
	case core.MessageBased:
		table := m.ix.MessageTable()
		if m.nic.Vectors() > len(table) {
			return fmt.Errorf("nicmodel: miniport: the NIC has %d vectors, the grant %d messages", m.nic.Vectors(), len(table))
		}
		if m.nic.Vectors() == 1 && m.nic.Queues() > 1 && m.nic.Config().Mode == ModeMSIX {
			return errors.New("nicmodel: miniport: internal: MSI-X NIC with one vector")
		}
		m.msgs = make([]mpMsg, len(table))
		m.own = make([][][]int, len(table))
		for i := range m.own {
			m.own[i] = make([][]int, m.vcpus)
		}
		m.msgCPU = make([]int, len(table))
		m.msgOwn = make([]core.CPUSet, len(table))
		for i, e := range table {
			m.msgCPU[i] = lowest(e.TargetCPUs)
		}
		for v := 0; v < m.nic.Vectors(); v++ {
			m.nic.Connect(v, msgIRQ{p: p, v: table[v].Vector})
		}
		for q := 0; q < nq; q++ {
			msg := m.nic.VectorOf(q)
			cpu := lowest(table[msg].TargetCPUs)
			if m.nic.Vectors() == 1 {
				cpu = q % m.vcpus // one message for every queue: spread the DPC work
			}
			m.setOwner(msg, q, cpu)
		}
	default:
		if m.nic.Config().Mode != ModeLine {
			return fmt.Errorf("nicmodel: miniport: granted a line, but the NIC signals %v: configure the NIC for line", m.nic.Config().Mode)
		}
		src, err := p.NewLineSource()
		if err != nil {
			return err
		}
		m.nic.Connect(0, lineIRQ{src})
		m.msgs = make([]mpMsg, 1)
		m.msgCPU = []int{m.lineCPU}
		m.msgOwn = make([]core.CPUSet, 1)
		m.own = [][][]int{make([][]int, m.vcpus)}
		for q := 0; q < nq; q++ {
			m.setOwner(0, q, q%m.vcpus)
		}
	}
	return nil
}

func (m *Miniport) setOwner(msg, q, cpu int) {
	m.queueCPU[q] = cpu
	m.queueBit[q] = core.CPUs(cpu)
	m.msgOwn[msg] |= core.CPUs(cpu)
	m.own[msg][cpu] = append(m.own[msg][cpu], q)
}

func lowest(s core.CPUSet) int {
	for c := 0; c < core.MaxVCPUs; c++ {
		if s.Has(c) {
			return c
		}
	}
	return 0
}

// Interrupt returns the registered interrupt.
func (m *Miniport) Interrupt() *core.Interrupt { return m.ix }

// QueueCPU returns the vCPU that owns queue q.
func (m *Miniport) QueueCPU(q int) int { return m.queueCPU[q] }

// Deregister deregisters the interrupt (R11).
func (m *Miniport) Deregister() { m.ix.Deregister() }

// lineISR is MiniportInterrupt for a line grant (R3, R4): read the cause register (which
// clears it and drops the line); nothing there means another sharer raised the line. Mask,
// and queue a DPC on the CPU of every queue the cause names.
func (m *Miniport) lineISR(any) core.ISRResult {
	cause := m.nic.ReadCause()
	if cause == 0 {
		return core.ISRResult{} // not mine
	}
	m.ix.DisableInterrupt(0)
	var targets core.CPUSet
	for c := cause; c != 0; c &= c - 1 {
		q := bits.TrailingZeros64(c)
		if q < len(m.queueBit) {
			targets |= m.queueBit[q]
		}
	}
	if targets == 0 {
		targets = core.CPUs(m.lineCPU) // a cause bit of no queue: a DPC here unmasks
	}
	return m.fan(0, m.lineCPU, targets)
}

// messageISR is MiniportMessageInterrupt (R3, R4): a message is never shared, so it
// always claims. A message already masked belongs to an open batch: nothing more to queue. MSI-X: mask this message, queue the DPC here (the queue's CPU). MSI (one
// message for every queue): mask and queue DPCs on the CPUs of queues holding work.
func (m *Miniport) messageISR(_ any, msg core.MessageID) core.ISRResult {
	if m.nic.Masked(int(msg)) {
		// Raised before this message's ISR masked it, and delivered after: the open
		// batch's DPCs will see the work, and its unmask re-raises for what they leave.
		return core.ISRResult{Recognized: true}
	}
	if m.nic.Vectors() > 1 { // MSI-X: this message's queues only
		m.ix.DisableInterrupt(msg)
		return m.fan(msg, m.msgCPU[msg], m.msgOwn[msg])
	}
	var targets core.CPUSet
	for q := range m.queueBit {
		if m.nic.Pending(q) > 0 {
			targets |= m.queueBit[q]
		}
	}
	if targets == 0 {
		return core.ISRResult{Recognized: true} // nothing to do: drained already
	}
	m.ix.DisableInterrupt(msg)
	return m.fan(msg, m.msgCPU[msg], targets)
}

// fan returns the ISR result that puts DPCs on targets from an ISR running on cpu.
func (m *Miniport) fan(msg core.MessageID, cpu int, targets core.CPUSet) core.ISRResult {
	here := core.CPUs(cpu)
	ms := &m.msgs[msg]
	if m.cfg.FanOut == FanOutQueueDPC && targets&^here != 0 {
		ms.fanout.Store(uint64(targets &^ here))
		ms.outstanding.Add(1)
		return core.ISRResult{Recognized: true, QueueDefaultDPC: true}
	}
	ms.outstanding.Add(int32(targets.Count()))
	return core.ISRResult{Recognized: true, QueueDefaultDPC: targets&here != 0, TargetCPUs: targets &^ here}
}

func (m *Miniport) lineDPC(_ any, call *core.DPCCall) { m.dpc(0, call) }

func (m *Miniport) messageDPC(_ any, msg core.MessageID, call *core.DPCCall) { m.dpc(msg, call) }

// dpc is MiniportInterruptDPC / MiniportMessageInterruptDPC (R6–R10).
func (m *Miniport) dpc(msg core.MessageID, call *core.DPCCall) {
	ms := &m.msgs[msg]
	st := m.cpus[call.CPU]
	if ms.fanout.Load() != 0 { // a load first: most DPC calls have nothing to fan out
		if f := core.CPUSet(ms.fanout.Swap(0)); f != 0 {
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
		call.EnableInterrupt() // the last DPC of the batch (R9)
	}
}

// queue queues this message's DPC on targets from a DPC, counting them into the batch
// before they can run.
func (m *Miniport) queue(ms *mpMsg, call *core.DPCCall, targets core.CPUSet, ctx *dpcCtx) {
	ms.outstanding.Add(int32(targets.Count()))
	newly := call.QueueDPC(call.Message, targets, ctx)
	if missed := targets.Count() - newly.Count(); missed != 0 {
		ms.outstanding.Add(-int32(missed)) // already queued: it will see the work (R6)
	}
}

// drainQueue takes and handles up to limit descriptors of queue q. It reports how many
// it took and whether it stopped at the limit with descriptors left.
func (m *Miniport) drainQueue(call *core.DPCCall, st *mpCPU, q, limit int) (int, bool) {
	done := 0
	for done < limit {
		n := m.nic.Take(q, st.scratch[:min(len(st.scratch), limit-done)])
		if n == 0 {
			return done, false
		}
		done += n
		batch := st.scratch[:n]
		core.SpinFor(m.cfg.PerPacket * time.Duration(n))
		if m.ind != nil {
			batch = m.sort(st, call.CPU, batch)
		}
		m.indicate(call, batch)
	}
	return done, m.nic.Pending(q) > 0
}

// sort keeps this CPU's packets of batch and hands the others to their CPUs' backlogs
// (R10: hash → indirection table → CPU).
func (m *Miniport) sort(st *mpCPU, self int, batch []core.NBL) []core.NBL {
	out := st.out[:0]
	for i := range batch {
		cpu := m.ind.Lookup(batch[i].Hash)
		if cpu == self {
			out = append(out, batch[i])
			continue
		}
		if !m.cpus[cpu].backlog.Push(batch[i]) {
			panic("nicmodel: miniport: RSS backlog full despite holding every buffer")
		}
		st.mark |= core.CPUs(cpu)
	}
	return out
}

// drainBacklog indicates up to limit packets sorted to this CPU by driver-side RSS.
func (m *Miniport) drainBacklog(call *core.DPCCall, st *mpCPU, limit int) (int, bool) {
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
func (m *Miniport) indicate(call *core.DPCCall, batch []core.NBL) {
	if len(batch) == 0 {
		return
	}
	call.Indicate(batch)
	for i := range batch {
		m.nic.Return(int(batch[i].Queue), batch[i].Buf)
	}
}

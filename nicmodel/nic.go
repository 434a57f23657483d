package nicmodel

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/rings"
)

// Invariants (NIC):
//   - Each RX queue has one producer, the load generator (Receive, Poll), and one consumer
//     at a time, the DPC that owns the queue (Take). Its descriptor ring is an SPSC ring.
//   - Buffers: every buffer of a queue is in one place: its free list, the producer's
//     stash (fetched from the free list a run at a time), a descriptor held for write-back
//     or in the ring, or an NBL the stack has not returned yet. Receive takes one from the
//     free list (none: the packet is dropped, as a NIC with no posted receive buffers
//     drops it); Return and ReturnBatch put it back. A driver that indicates descriptors
//     in place (Peek) returns their buffers before it releases the descriptors, so for a
//     moment a buffer is both back and in a descriptor not yet released; the descriptor's
//     copy is dead (the driver is done with it), and Release frees it without looking.
//     The free list is an MPSC ring of runs of buffers (bufRun): DPCs on any CPU return
//     buffers, only the producer takes them.
//   - No lost interrupt: Receive publishes the descriptor (ring tail store) and then loads
//     the vector's mask; Unmask stores the mask and then looks at the vector's rings. One of
//     the two sees the other's write, so new work behind a mask is always raised. Both may
//     raise; a duplicate interrupt is harmless (the ISR finds nothing to do). This is a
//     Dekker handshake: each side's store must be visible before its load, which the
//     ring's publication alone does not promise (a release store: rings.SPSC), so
//     flushQueue makes a sequentially consistent atomic store (the written count)
//     between the publication and the mask load: a full barrier on every architecture.
//     Unmask's mask store is itself sequentially consistent.
//   - cause: Receive sets queue bits (any time); ReadCause swaps it to 0 (the line ISR).
//   - Line mode, the NIC's assertion, which real hardware computes in one step (the line
//     is asserted while an unmasked cause is pending) and the model in several: a write
//     publishes the descriptor, then (signal) sets its cause bit, loads the mask and
//     asserts only when unmasked; Unmask stores the mask, then asserts for rings that
//     hold descriptors unless a cause read has masked again; Poll looks at the causes
//     and the mask, then asserts. Each such raise counts itself in raising from before
//     its first step to after its assertion. A cause read that reports causes
//     (ReadCause) masks before it swaps the register (the auto-mask), so a raise that
//     looks at the mask after that asserts nothing: its packets belong to the batch the
//     read opens. The read then waits for raising to be 0 before it lowers the line:
//     a raise that began before the mask (its cause bit perhaps taken by this read, its
//     look at the mask perhaps made before it) has asserted by then, and the lowering
//     takes that back; as the read runs inside the line's delivery, the assertion
//     delivered nothing (core's line is level-triggered). The read then looks again
//     (settleLine): cause bits on an unmasked device assert the line anew, so a lowering
//     never loses an interrupt. An unshared line thus never hears "not mine" for work
//     its own batch had already taken, unless a raise's thread is preempted mid-way for
//     longer than the read waits (awaitRaises): then its interrupt finds the device
//     masked, a self-inflicted one the platform counts as such (self_spurious).

// Mode is how the NIC signals interrupts.
type Mode int

const (
	// ModeMSIX gives every RX queue its own message, aimed at the queue's CPU.
	ModeMSIX Mode = iota
	// ModeMSI signals every queue through one message.
	ModeMSI
	// ModeLine asserts one level-triggered line for every queue, with a cause register
	// the ISR must read (and so clear) to learn which queues have work; the read masks
	// the NIC's interrupt when it reports any (ReadCause).
	ModeLine
)

var modeNames = map[Mode]string{ModeMSIX: "msix", ModeMSI: "msi", ModeLine: "line"}

func (m Mode) String() string {
	if s, ok := modeNames[m]; ok {
		return s
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses "msix", "msi" or "line".
func ParseMode(s string) (Mode, error) {
	for m, n := range modeNames {
		if n == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("nicmodel: mode: %q is not msix, msi or line", s)
}

// Limits and defaults of a Config.
const (
	MaxQueues       = 64      // RX queues: one bit each in the cause register
	DefaultRingSize = 1024    // descriptors per queue when RingSize is 0
	MaxRingSize     = 1 << 20 // descriptors per queue
	MaxBuffers      = 1 << 20 // receive buffers per queue
)

// Config describes the simulated NIC.
type Config struct {
	Queues   int  // RX queues, 1..MaxQueues
	RingSize int  // descriptors per queue, a power of two 2..MaxRingSize; 0 means DefaultRingSize
	Buffers  int  // receive buffers per queue; 0 means RingSize
	Mode     Mode // how it interrupts
	// ModerationInterval is the least time between two interrupts of one vector (like
	// ITR / rx-usecs); 0 disables it.
	ModerationInterval time.Duration
	// ModerationPackets raises a moderated vector at once when this many packets arrived
	// since its last interrupt (like rx-frames); 0 disables it.
	ModerationPackets int
	// MMIORead is the cost of reading the cause register, spent in ReadCause (busy-wait).
	MMIORead time.Duration
	// Clock is the clock whose Spin spends MMIORead; the zero Clock is the real one. The
	// run gives the NIC its platform's clock.
	Clock core.Clock
	// WriteBack is how many descriptors a queue writes back (publishes to the driver) at
	// once, like a descriptor write-back threshold (WTHRESH): Stage holds up to this many,
	// Flush publishes what is held. 0 means DefaultWriteBack; 1 publishes every packet.
	WriteBack int
}

// ErrConfig is the errors.Is target of every NIC configuration error.
var ErrConfig = errors.New("invalid NIC configuration")

func configErr(field, format string, args ...any) error {
	return fmt.Errorf("nicmodel: %s: %s: %w", field, fmt.Sprintf(format, args...), ErrConfig)
}

// IRQ is where a vector's interrupts go: Raise signals it (an MSI write, or asserting the
// line), Lower withdraws a line assertion (a no-op for messages), and SetMasked reports a
// write of the vector's mask (Mask, Unmask): the platform watches the device's mask to
// tell when an interrupt DPC batch ends (R9), since the miniport masks and re-enables
// by writing these registers, not by calling NDIS.
type IRQ interface {
	Raise()
	Lower()
	SetMasked(masked bool)
}

// queue is one RX queue. Read-only after New.
type queue struct {
	ring *rings.SPSC[core.NBL]
	free *rings.MPSC[bufRun]
	vec  int
}

// vector is one interrupt vector's device-side state.
type vector struct {
	vectorShared
	_ [128 - unsafe.Sizeof(vectorShared{})%128]byte

	queues []int // RX queues it signals; read-only after New
	irq    IRQ   // set by Connect before traffic
	_      [128 - (unsafe.Sizeof([]int{})+unsafe.Sizeof(IRQ(nil)))%128]byte
}

type vectorShared struct {
	masked  atomic.Bool   // the driver: Mask / Unmask
	raised  atomic.Uint64 // interrupts raised
	rearms  atomic.Uint64 // raised by Unmask because work was pending behind the mask
	raising atomic.Int32  // line mode: raises in progress, from their first step to their assertion (Invariants)
}

// producerState is what only the producer (the wire) writes: its own allocation, so the
// DPCs reading the read-only parts of the NIC never share a line with it.
type producerState struct {
	seq     []uint64       // per queue: next sequence number
	vec     []vectorTiming // per vector: moderation state
	stage   [][]core.NBL   // per queue: descriptors written but not yet written back
	stash   [][]int32      // per queue: buffers fetched from the free list, not yet used
	written atomic.Uint64  // one writer: Store(Load()+1); atomic for live readers
	dropped atomic.Uint64  // likewise
	// droppedFrom counts the drops of packets intended at or after measureFrom.
	droppedFrom atomic.Uint64
	measureFrom int64
}

// DefaultWriteBack is the descriptors a queue writes back at once by default.
const DefaultWriteBack = 32

type vectorTiming struct {
	last     int64 // time of the last interrupt it raised
	since    int   // packets since then
	deferred bool  // an interrupt is owed when the interval ends
}

// NIC is the simulated network adapter: RX queues with descriptor rings and receive
// buffers, a cause register, interrupt vectors with masks and moderation.
type NIC struct {
	cfg     Config
	queues  []queue
	vectors []vector
	prod    *producerState
	cause   *paddedUint64 // line mode: the queues with news; ReadCause swaps it
	// causeReads counts ReadCause calls: its one caller (the line's vCPU) stores, any
	// goroutine loads (Stats). Its own line: the generator reads the fields above.
	causeReads *paddedUint64
}

type paddedUint64 struct {
	atomic.Uint64
	_ [120]byte
}

// New validates cfg and builds a NIC with every buffer posted.
func New(cfg Config) (*NIC, error) {
	if cfg.Queues < 1 || cfg.Queues > MaxQueues {
		return nil, configErr("queues", "must be 1..%d, got %d", MaxQueues, cfg.Queues)
	}
	if cfg.RingSize == 0 {
		cfg.RingSize = DefaultRingSize
	}
	if cfg.RingSize < 2 || cfg.RingSize&(cfg.RingSize-1) != 0 || cfg.RingSize > MaxRingSize {
		return nil, configErr("ring_size", "must be a power of two 2..%d, got %d", MaxRingSize, cfg.RingSize)
	}
	if cfg.Buffers == 0 {
		cfg.Buffers = cfg.RingSize
	}
	if cfg.Buffers < 1 || cfg.Buffers > MaxBuffers {
		return nil, configErr("buffers", "must be 1..%d, got %d", MaxBuffers, cfg.Buffers)
	}
	if _, ok := modeNames[cfg.Mode]; !ok {
		return nil, configErr("mode", "unknown mode %d", int(cfg.Mode))
	}
	if cfg.WriteBack == 0 {
		cfg.WriteBack = DefaultWriteBack
	}
	if cfg.WriteBack < 1 || cfg.WriteBack > 1024 {
		return nil, configErr("write_back", "must be 1..1024, got %d", cfg.WriteBack)
	}
	if cfg.ModerationInterval < 0 || cfg.ModerationPackets < 0 || cfg.MMIORead < 0 {
		return nil, configErr("moderation", "interval, packets and mmio_read must not be negative")
	}
	nv := 1
	if cfg.Mode == ModeMSIX {
		nv = cfg.Queues
	}
	n := &NIC{cfg: cfg, queues: make([]queue, cfg.Queues), vectors: make([]vector, nv), cause: &paddedUint64{}, causeReads: &paddedUint64{},
		prod: &producerState{seq: make([]uint64, cfg.Queues), vec: make([]vectorTiming, nv),
			stage: make([][]core.NBL, cfg.Queues), stash: make([][]int32, cfg.Queues), measureFrom: math.MinInt64}}
	freeCap := 2
	for freeCap < cfg.Buffers {
		freeCap <<= 1
	}
	for q := range n.queues {
		ring, err := rings.NewSPSC[core.NBL](cfg.RingSize)
		if err != nil {
			return nil, err
		}
		free, err := rings.NewMPSC[bufRun](freeCap) // room for every buffer, each in a run of its own
		if err != nil {
			return nil, err
		}
		for b := 0; b < cfg.Buffers; b += runLen {
			var r bufRun
			for ; r.n < runLen && b+int(r.n) < cfg.Buffers; r.n++ {
				r.bufs[r.n] = int32(b + int(r.n))
			}
			free.Push(r)
		}
		v := 0
		if cfg.Mode == ModeMSIX {
			v = q
		}
		n.queues[q] = queue{ring: ring, free: free, vec: v}
		n.prod.stage[q] = make([]core.NBL, 0, cfg.WriteBack)
		// A run from the free list, and room for the buffers of a write-back that found
		// too few free descriptors (flushQueue puts them back).
		n.prod.stash[q] = make([]int32, 0, runLen+cfg.WriteBack)
		n.vectors[v].queues = append(n.vectors[v].queues, q)
	}
	return n, nil
}

// Config returns the configuration in force.
func (n *NIC) Config() Config { return n.cfg }

// Queues returns the number of RX queues.
func (n *NIC) Queues() int { return len(n.queues) }

// Vectors returns the number of interrupt vectors: one per queue with MSI-X, else one.
func (n *NIC) Vectors() int { return len(n.vectors) }

// VectorOf returns the vector that signals queue q.
func (n *NIC) VectorOf(q int) int { return n.queues[q].vec }

// QueuesOf returns the queues vector v signals.
func (n *NIC) QueuesOf(v int) []int { return n.vectors[v].queues }

// Connect programs vector v to signal irq (the driver writing the MSI-X table, or the
// platform routing the line). Call it before traffic starts.
func (n *NIC) Connect(v int, irq IRQ) { n.vectors[v].irq = irq }

// Receive is the wire delivering a packet to queue q at time now (Now clock): Stage,
// then Flush of that queue. It returns false, counting a drop, when the packet could not
// be written: no posted buffer, or no free descriptor. Producer only.
func (n *NIC) Receive(q int, pkt core.NBL, now int64) bool {
	if !n.Stage(q, pkt, now) {
		return false
	}
	return n.flushQueue(q, now) == 0
}

// Stage is the wire delivering a packet to queue q at time now: it takes a posted buffer
// and writes the descriptor, which the queue writes back (publishes, and signals its
// vector for) when Config.WriteBack descriptors are held or at Flush. It returns false,
// counting a drop, when the queue has no posted buffer; a packet that finds no free
// descriptor at write-back is dropped then. Producer only.
func (n *NIC) Stage(q int, pkt core.NBL, now int64) bool {
	pr := n.prod
	stash := pr.stash[q]
	if len(stash) == 0 {
		if r, ok := n.queues[q].free.Pop(); ok {
			stash = append(stash, r.bufs[:r.n]...)
		}
		if len(stash) == 0 {
			pr.dropped.Store(pr.dropped.Load() + 1)
			if pkt.Intended >= pr.measureFrom {
				pr.droppedFrom.Store(pr.droppedFrom.Load() + 1)
			}
			return false
		}
	}
	pkt.Buf, pkt.Queue, pkt.Written = stash[len(stash)-1], uint16(q), now
	pr.stash[q] = stash[:len(stash)-1]
	pr.stage[q] = append(pr.stage[q], pkt)
	if len(pr.stage[q]) == cap(pr.stage[q]) {
		n.flushQueue(q, now)
	}
	return true
}

// Flush writes back every queue's held descriptors and signals their vectors (subject to
// masks and moderation). The load generator calls it when it has caught up with its
// schedule. Producer only.
func (n *NIC) Flush(now int64) {
	for q := range n.prod.stage {
		if len(n.prod.stage[q]) != 0 {
			n.flushQueue(q, now)
		}
	}
}

// flushQueue publishes queue q's held descriptors, numbering them, and returns how many
// were dropped for want of descriptors (their buffers go back to the stash).
func (n *NIC) flushQueue(q int, now int64) int {
	pr, qu := n.prod, &n.queues[q]
	st := pr.stage[q]
	if len(st) == 0 {
		return 0
	}
	for i := range st {
		st[i].Seq = pr.seq[q] + uint64(i)
	}
	pushed := qu.ring.PushBatch(st)
	for _, d := range st[pushed:] {
		pr.stash[q] = append(pr.stash[q], d.Buf) // room: the buffers came from the stash
		pr.dropped.Store(pr.dropped.Load() + 1)
		if d.Intended >= pr.measureFrom {
			pr.droppedFrom.Store(pr.droppedFrom.Load() + 1)
		}
	}
	pr.stage[q] = st[:0]
	if pushed == 0 {
		return len(st)
	}
	pr.seq[q] += uint64(pushed)
	// A sequentially consistent store: also the full barrier between the publication
	// above and the mask load in signal (Invariants: no lost interrupt). Keep it here.
	pr.written.Store(pr.written.Load() + uint64(pushed))
	n.signal(qu.vec, q, now, pushed)
	return len(st) - pushed
}

// MeasureFrom makes DroppedFrom count the drops of packets whose Intended time is t or
// later (the end of a warm-up). Producer only, before or between packets.
func (n *NIC) MeasureFrom(t int64) { n.prod.measureFrom = t }

// DroppedFrom returns the drops of packets intended at or after the MeasureFrom time.
func (n *NIC) DroppedFrom() uint64 { return n.prod.droppedFrom.Load() }

// signal raises vector v for new work on queue q, subject to its mask and moderation;
// with a line it sets q's cause bit first. Producer only.
func (n *NIC) signal(v, q int, now int64, packets int) {
	vec := &n.vectors[v]
	if n.cfg.Mode != ModeLine {
		n.trySignal(vec, &n.prod.vec[v], now, packets)
		return
	}
	// From the cause bit to the assertion, one step for a real NIC: a cause read waits
	// for it to end (see Invariants). The bit is always written, never skipped when it
	// looks set already: a read may take it between that look and the raise.
	vec.raising.Add(1)
	n.cause.Or(uint64(1) << uint(q))
	n.trySignal(vec, &n.prod.vec[v], now, packets)
	vec.raising.Add(-1)
}

func (n *NIC) trySignal(vec *vector, t *vectorTiming, now int64, packets int) {
	t.since += packets
	if vec.masked.Load() {
		return // Unmask will see the work (see Invariants)
	}
	if n.cfg.ModerationInterval > 0 && now-t.last < int64(n.cfg.ModerationInterval) &&
		(n.cfg.ModerationPackets == 0 || t.since < n.cfg.ModerationPackets) {
		t.deferred = true
		return
	}
	if n.cfg.ModerationInterval == 0 && n.cfg.ModerationPackets > 0 && t.since < n.cfg.ModerationPackets {
		t.deferred = true // a count-only threshold: Poll flushes a partial count
		return
	}
	n.fire(vec, t, now)
}

func (n *NIC) fire(vec *vector, t *vectorTiming, now int64) {
	t.last, t.since, t.deferred = now, 0, false
	vec.raised.Add(1)
	vec.irq.Raise()
}

// raiseWait bounds how long a cause read waits for a raise in progress (awaitRaises).
const raiseWait = 2 * time.Microsecond

// awaitRaises waits until no raise of vec is in progress (see Invariants), so that a
// raise that began before the auto-mask has asserted before the read lowers the line.
// A raise takes nanoseconds; one whose thread was preempted mid-way could take
// milliseconds, and the ISR does not wait that long: after raiseWait it goes on, and
// that raise's interrupt, if it delivers one, finds the device masked (one
// self_spurious, the machine's doing, counted as such) rather than the ISR's duration
// holding the preemption. Real hardware has no such race: it asserts in one step.
func (n *NIC) awaitRaises(vec *vector) {
	if vec.raising.Load() == 0 {
		return
	}
	deadline := n.cfg.Clock.Now() + int64(raiseWait)
	for i := 1; vec.raising.Load() != 0; i++ {
		if i&15 == 0 && (n.cfg.Clock.Now() > deadline || i > 1<<16) {
			return
		}
	}
}

// settleLine drops the NIC's line assertion, then looks again: cause bits on an unmasked
// device (a write, or an Unmask, that raced the lowering) assert it again, so lowering
// never loses an interrupt.
func (n *NIC) settleLine(vec *vector) {
	vec.irq.Lower()
	if !vec.masked.Load() && n.cause.Load() != 0 {
		vec.irq.Raise()
	}
}

// Poll raises the interrupts that moderation deferred and whose interval has ended (with
// a count-only threshold, any deferred one). A deferred interrupt whose work is gone
// (a batch opened since took it: the cause register is empty, or the vector's rings are)
// is dropped, as a NIC's moderation timer asserts only for causes still pending: raised,
// it would find nothing, and on a line its ISR would say "not mine". The load generator
// calls it as time passes. Producer only.
func (n *NIC) Poll(now int64) {
	for i := range n.vectors {
		vec, t := &n.vectors[i], &n.prod.vec[i]
		if !t.deferred || vec.masked.Load() {
			continue
		}
		if n.cfg.ModerationInterval == 0 || now-t.last >= int64(n.cfg.ModerationInterval) {
			line := n.cfg.Mode == ModeLine
			if line {
				vec.raising.Add(1) // from the look at the causes to the assertion, as in signal
			}
			switch {
			case !n.pending(i):
				t.deferred = false
			case !vec.masked.Load():
				n.fire(vec, t, now)
			}
			if line {
				vec.raising.Add(-1)
			}
		}
	}
}

// pending reports whether vector v has work to interrupt for: a cause bit (line), or
// descriptors in one of its rings. The producer's view: nothing is published meanwhile.
func (n *NIC) pending(v int) bool {
	if n.cfg.Mode == ModeLine {
		return n.cause.Load() != 0
	}
	for _, q := range n.vectors[v].queues {
		if n.queues[q].ring.Len() > 0 {
			return true
		}
	}
	return false
}

// ReadCause reads the cause register, the line ISR's first act (it costs Config.MMIORead):
// the queues with news since the last read. The register is read-to-clear, and the NIC
// masks its interrupt itself on a read that reports causes, as the interrupt auto-mask of
// Intel's ICR (IAM) does: the read and the mask are one step, so no packet can re-assert
// the line between an ISR's read and a mask it would write afterwards — such a packet
// would find the line's ISR done and raise an interrupt that finds nothing, a "not mine"
// the NIC inflicted on itself. The line ISR therefore does not mask; it claims what the
// read reports, and the batch's last DPC unmasks as usual. A masked device does not
// assert its interrupt (like the INT_ASSERTED bit of a real cause register): while vector
// 0 is masked ReadCause returns 0 and leaves the register as it is (Unmask raises for
// what is pending). Either way the read drops the device's line assertion, unless a
// packet written since keeps it up. Line mode only (other modes have no cause register:
// 0); the line's ISR, on its one vCPU.
func (n *NIC) ReadCause() uint64 {
	n.cfg.Clock.Spin(n.cfg.MMIORead)
	n.causeReads.Store(n.causeReads.Load() + 1) // the line's one vCPU writes it
	if n.cfg.Mode != ModeLine {
		return 0
	}
	vec := &n.vectors[0]
	var c uint64
	if !vec.masked.Load() && n.cause.Load() != 0 {
		n.Mask(0) // auto-mask: from here on a packet raises nothing (see Invariants)
		c = n.cause.Swap(0)
		n.awaitRaises(vec)
	}
	n.settleLine(vec) // a packet written since the look at the register keeps the line up
	return c
}

// Mask masks vector v, a write of its interrupt mask register: it raises nothing until
// Unmask. A miniport's message ISR calls it (the ISR disables the NIC's interrupt and
// leaves the rest to its DPC); a line ISR need not, as the cause read masks (ReadCause).
// The write is reported to the vector's IRQ.
func (n *NIC) Mask(v int) {
	vec := &n.vectors[v]
	vec.masked.Store(true)
	if vec.irq != nil {
		vec.irq.SetMasked(true)
		if n.cfg.Mode == ModeLine {
			vec.irq.Lower() // a masked device does not assert its line
		}
	}
}

// Unmask unmasks vector v, a write of its interrupt mask register, and, if any of its
// queues holds descriptors, raises it at once: unmasking with work pending re-raises, so
// no interrupt is lost. With a line, the cause bit of every queue holding descriptors is
// set first, so that the ISR sees all of them. The last DPC of a batch calls it
// (MINIPORT_INTERRUPT_DPC: it "should reenable the interrupts on the NIC before it
// returns"). The write is reported to the vector's IRQ before any raise, so that the
// batch it ends is over before the next one's ISR runs.
func (n *NIC) Unmask(v int) {
	vec := &n.vectors[v]
	if n.cfg.Mode == ModeLine {
		vec.raising.Add(1) // as in signal
		defer vec.raising.Add(-1)
	}
	vec.masked.Store(false)
	if vec.irq != nil {
		vec.irq.SetMasked(false)
	}
	var pending uint64
	for _, q := range vec.queues {
		if n.queues[q].ring.Len() > 0 {
			pending |= 1 << uint(q)
		}
	}
	if pending == 0 {
		return
	}
	if n.cfg.Mode == ModeLine {
		n.cause.Or(pending)
	}
	if vec.masked.Load() {
		return // masked again since (the line's cause read): that batch has the work
	}
	vec.rearms.Add(1)
	vec.raised.Add(1)
	vec.irq.Raise()
}

// Kick raises every vector once, whatever its mask and moderation, and lowers it again:
// a stray interrupt, which a run sends after the driver halted to check that none of its
// handlers runs any more (R11). It counts in no statistic. Any goroutine, once the
// producer has stopped.
func (n *NIC) Kick() {
	for i := range n.vectors {
		if irq := n.vectors[i].irq; irq != nil {
			irq.Raise()
			irq.Lower()
		}
	}
}

// Masked reports whether vector v is masked.
func (n *NIC) Masked(v int) bool { return n.vectors[v].masked.Load() }

// Take moves up to len(dst) descriptors of queue q into dst, oldest first. The queue's
// DPC only (its one consumer).
func (n *NIC) Take(q int, dst []core.NBL) int { return n.queues[q].ring.PopBatch(dst) }

// Peek returns up to max of queue q's oldest descriptors in place, without taking them:
// a driver indicates NBLs that wrap the ring's own descriptors, as a real miniport does,
// and copies nothing. Near the ring's end it may return fewer than the queue holds (peek
// again after Release for the rest); none when it is empty. The slice is good until
// Release, which gives the descriptors back to the NIC. The queue's DPC only.
func (n *NIC) Peek(q, max int) []core.NBL { return n.queues[q].ring.Peek(max) }

// Release gives back the first k descriptors of the last Peek of queue q, once the
// driver is done with them (their buffers are the driver's to return). The queue's DPC
// only.
func (n *NIC) Release(q, k int) { n.queues[q].ring.Release(k) }

// Written returns how many descriptors queue q has written so far: its packets carry
// sequence numbers 0 to Written-1. Read it when the producer has stopped.
func (n *NIC) Written(q int) uint64 { return n.prod.seq[q] }

// Pending returns how many descriptors queue q holds: a snapshot.
func (n *NIC) Pending(q int) int { return n.queues[q].ring.Len() }

// Stats are the NIC's counters.
type Stats struct {
	Written uint64 // descriptors written
	Dropped uint64 // packets dropped: no buffer or no descriptor
	Raised  uint64 // interrupts raised, all vectors
	Rearms  uint64 // of those, raised by Unmask because work was pending
	// CauseReads counts ReadCause calls, each of which spent Config.MMIORead on the
	// line's vCPU.
	CauseReads uint64
}

// Stats returns the counters so far. Any goroutine.
func (n *NIC) Stats() Stats {
	s := Stats{Written: n.prod.written.Load(), Dropped: n.prod.dropped.Load(), CauseReads: n.causeReads.Load()}
	for i := range n.vectors {
		s.Raised += n.vectors[i].raised.Load()
		s.Rearms += n.vectors[i].rearms.Load()
	}
	return s
}

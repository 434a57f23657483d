package nicmodel

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/rings"
)

// Invariants (NIC):
//   - Each RX queue has one producer, the load generator (Receive, Poll), and one consumer
//     at a time, the DPC that owns the queue (Take). Its descriptor ring is an SPSC ring.
//   - Buffers: every buffer of a queue is in exactly one place: its free list, a
//     descriptor in the ring, or an NBL the stack has not returned yet. Receive takes one
//     from the free list (none: the packet is dropped, as a NIC with no posted receive
//     buffers drops it); Return puts it back. The free list is an MPSC ring: DPCs on any
//     CPU return buffers, only the producer takes them.
//   - No lost interrupt: Receive publishes the descriptor (ring tail store) and then loads
//     the vector's mask; Unmask stores the mask and then looks at the vector's rings. One of
//     the two sees the other's write, so new work behind a mask is always raised. Both may
//     raise; a duplicate interrupt is harmless (the ISR finds nothing to do).
//   - cause: Receive sets queue bits (any time); ReadCause swaps it to 0 (the line ISR).

// Mode is how the NIC signals interrupts.
type Mode int

const (
	// ModeMSIX gives every RX queue its own message, aimed at the queue's CPU.
	ModeMSIX Mode = iota
	// ModeMSI signals every queue through one message.
	ModeMSI
	// ModeLine asserts one level-triggered line for every queue, with a cause register
	// the ISR must read (and so clear) to learn which queues have work.
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

// Config describes the simulated NIC.
type Config struct {
	Queues   int  // RX queues, 1..64
	RingSize int  // descriptors per queue, a power of two; 0 means 1024
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
}

// ErrConfig is the errors.Is target of every NIC configuration error.
var ErrConfig = errors.New("invalid NIC configuration")

func configErr(field, format string, args ...any) error {
	return fmt.Errorf("nicmodel: %s: %s: %w", field, fmt.Sprintf(format, args...), ErrConfig)
}

// IRQ is where a vector's interrupts go: Raise signals it (an MSI write, or asserting the
// line), Lower withdraws a line assertion (a no-op for messages).
type IRQ interface {
	Raise()
	Lower()
}

// queue is one RX queue.
type queue struct {
	ring *rings.SPSC[core.NBL]
	free *rings.MPSC[int32]
	vec  int
	seq  uint64 // producer only: next sequence number
}

// vector is one interrupt vector's device-side state.
type vector struct {
	vectorShared
	_ [128 - unsafe.Sizeof(vectorShared{})%128]byte

	queues   []int // RX queues it signals
	irq      IRQ
	last     int64 // producer only: time of the last interrupt it raised
	since    int   // producer only: packets since then
	deferred bool  // producer only: an interrupt is owed when the interval ends
}

type vectorShared struct {
	masked atomic.Bool   // the driver: Mask / Unmask
	raised atomic.Uint64 // interrupts raised
	rearms atomic.Uint64 // raised by Unmask because work was pending behind the mask
}

// NIC is the simulated network adapter: RX queues with descriptor rings and receive
// buffers, a cause register, interrupt vectors with masks and moderation.
type NIC struct {
	cfg     Config
	queues  []queue
	vectors []vector
	cause   atomic.Uint64
	dropped atomic.Uint64
	written atomic.Uint64
}

// New validates cfg and builds a NIC with every buffer posted.
func New(cfg Config) (*NIC, error) {
	if cfg.Queues < 1 || cfg.Queues > 64 {
		return nil, configErr("queues", "must be 1..64, got %d", cfg.Queues)
	}
	if cfg.RingSize == 0 {
		cfg.RingSize = 1024
	}
	if cfg.RingSize < 2 || cfg.RingSize&(cfg.RingSize-1) != 0 || cfg.RingSize > 1<<20 {
		return nil, configErr("ring_size", "must be a power of two 2..1048576, got %d", cfg.RingSize)
	}
	if cfg.Buffers == 0 {
		cfg.Buffers = cfg.RingSize
	}
	if cfg.Buffers < 1 || cfg.Buffers > 1<<20 {
		return nil, configErr("buffers", "must be 1..1048576, got %d", cfg.Buffers)
	}
	if _, ok := modeNames[cfg.Mode]; !ok {
		return nil, configErr("mode", "unknown mode %d", int(cfg.Mode))
	}
	if cfg.ModerationInterval < 0 || cfg.ModerationPackets < 0 || cfg.MMIORead < 0 {
		return nil, configErr("moderation", "interval, packets and mmio_read must not be negative")
	}
	n := &NIC{cfg: cfg, queues: make([]queue, cfg.Queues)}
	nv := 1
	if cfg.Mode == ModeMSIX {
		nv = cfg.Queues
	}
	n.vectors = make([]vector, nv)
	freeCap := 2
	for freeCap < cfg.Buffers {
		freeCap <<= 1
	}
	for q := range n.queues {
		ring, err := rings.NewSPSC[core.NBL](cfg.RingSize)
		if err != nil {
			return nil, err
		}
		free, err := rings.NewMPSC[int32](freeCap)
		if err != nil {
			return nil, err
		}
		for b := 0; b < cfg.Buffers; b++ {
			free.Push(int32(b))
		}
		v := 0
		if cfg.Mode == ModeMSIX {
			v = q
		}
		n.queues[q] = queue{ring: ring, free: free, vec: v}
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

// Receive is the wire delivering a packet to queue q at time now (Now clock): it takes a
// posted buffer, writes the descriptor, and raises the queue's vector unless it is masked
// or moderation holds it back. It returns false, counting a drop, when the queue has no
// posted buffer or no free descriptor. Producer only.
func (n *NIC) Receive(q int, pkt core.NBL, now int64) bool {
	qu := &n.queues[q]
	buf, ok := qu.free.Pop()
	if !ok {
		n.dropped.Add(1)
		return false
	}
	pkt.Buf, pkt.Queue, pkt.Seq, pkt.Written = buf, uint16(q), qu.seq, now
	if !qu.ring.Push(pkt) {
		qu.free.Push(buf) // cannot fail: the buffer came from this list
		n.dropped.Add(1)
		return false
	}
	qu.seq++
	n.written.Add(1)
	n.cause.Or(1 << uint(q))
	n.signal(qu.vec, now)
	return true
}

// signal raises vector v for new work, subject to its mask and moderation. Producer only.
func (n *NIC) signal(v int, now int64) {
	vec := &n.vectors[v]
	vec.since++
	if vec.masked.Load() {
		return // Unmask will see the work (see Invariants)
	}
	if n.cfg.ModerationInterval > 0 && now-vec.last < int64(n.cfg.ModerationInterval) &&
		(n.cfg.ModerationPackets == 0 || vec.since < n.cfg.ModerationPackets) {
		vec.deferred = true
		return
	}
	if n.cfg.ModerationInterval == 0 && n.cfg.ModerationPackets > 0 && vec.since < n.cfg.ModerationPackets {
		vec.deferred = true // a count-only threshold: Poll flushes a partial count
		return
	}
	n.fire(vec, now)
}

func (n *NIC) fire(vec *vector, now int64) {
	vec.last, vec.since, vec.deferred = now, 0, false
	vec.raised.Add(1)
	vec.irq.Raise()
}

// Poll raises the interrupts that moderation deferred and whose interval has ended (with
// a count-only threshold, any deferred one). The load generator calls it as time passes.
// Producer only.
func (n *NIC) Poll(now int64) {
	for i := range n.vectors {
		vec := &n.vectors[i]
		if !vec.deferred || vec.masked.Load() {
			continue
		}
		if n.cfg.ModerationInterval == 0 || now-vec.last >= int64(n.cfg.ModerationInterval) {
			n.fire(vec, now)
		}
	}
}

// ReadCause reads the cause register, which clears it (read-to-clear), and lowers the
// line: the line ISR's first act. It costs Config.MMIORead. Any goroutine.
func (n *NIC) ReadCause() uint64 {
	core.SpinFor(n.cfg.MMIORead)
	c := n.cause.Swap(0)
	if n.cfg.Mode == ModeLine {
		n.vectors[0].irq.Lower()
	}
	return c
}

// Mask masks vector v: it raises nothing until Unmask. The ISR calls it.
func (n *NIC) Mask(v int) { n.vectors[v].masked.Store(true) }

// Unmask unmasks vector v and, if any of its queues holds descriptors, raises it at once:
// unmasking with work pending re-raises, so no interrupt is lost. The last DPC of a batch
// calls it.
func (n *NIC) Unmask(v int) {
	vec := &n.vectors[v]
	vec.masked.Store(false)
	for _, q := range vec.queues {
		if n.queues[q].ring.Len() > 0 {
			if n.cfg.Mode == ModeLine {
				n.cause.Or(1 << uint(q))
			}
			vec.rearms.Add(1)
			vec.raised.Add(1)
			vec.irq.Raise()
			return
		}
	}
}

// Masked reports whether vector v is masked.
func (n *NIC) Masked(v int) bool { return n.vectors[v].masked.Load() }

// Take moves up to len(dst) descriptors of queue q into dst, oldest first. The queue's
// DPC only (its one consumer).
func (n *NIC) Take(q int, dst []core.NBL) int { return n.queues[q].ring.PopBatch(dst) }

// Pending returns how many descriptors queue q holds: a snapshot.
func (n *NIC) Pending(q int) int { return n.queues[q].ring.Len() }

// Return posts buffer buf back to queue q once the stack has consumed its packet. Any
// goroutine.
func (n *NIC) Return(q int, buf int32) {
	if !n.queues[q].free.Push(buf) {
		panic("nicmodel: buffer returned twice: the free list is full")
	}
}

// Stats are the NIC's counters.
type Stats struct {
	Written uint64 // descriptors written
	Dropped uint64 // packets dropped: no buffer or no descriptor
	Raised  uint64 // interrupts raised, all vectors
	Rearms  uint64 // of those, raised by Unmask because work was pending
}

// Stats returns the counters so far. Any goroutine.
func (n *NIC) Stats() Stats {
	s := Stats{Written: n.written.Load(), Dropped: n.dropped.Load()}
	for i := range n.vectors {
		s.Raised += n.vectors[i].raised.Load()
		s.Rearms += n.vectors[i].rearms.Load()
	}
	return s
}

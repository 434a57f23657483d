package nicmodel

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/core"
)

// countIRQ counts raises, lowers and mask writes.
type countIRQ struct{ raised, lowered, masks, unmasks atomic.Int64 }

func (c *countIRQ) Raise() { c.raised.Add(1) }
func (c *countIRQ) Lower() { c.lowered.Add(1) }
func (c *countIRQ) SetMasked(m bool) {
	if m {
		c.masks.Add(1)
	} else {
		c.unmasks.Add(1)
	}
}

func newNIC(t *testing.T, cfg Config) (*NIC, []*countIRQ) {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	irqs := make([]*countIRQ, n.Vectors())
	for v := range irqs {
		irqs[v] = &countIRQ{}
		n.Connect(v, irqs[v])
	}
	return n, irqs
}

func TestConfigErrorsNameTheField(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Queues: 0}, "queues"},                            // no queue
		{Config{Queues: 65}, "queues"},                           // more than 64
		{Config{Queues: 1, RingSize: 1000}, "ring_size"},         // not a power of two
		{Config{Queues: 1, Buffers: -1}, "buffers"},              // negative buffers
		{Config{Queues: 1, Mode: Mode(9)}, "mode"},               // unknown mode
		{Config{Queues: 1, ModerationPackets: -1}, "moderation"}, // negative threshold
	}
	for _, tt := range tests {
		_, err := New(tt.cfg)
		if !errors.Is(err, ErrConfig) || err == nil || !contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v; want an ErrConfig naming %s", tt.cfg, err, tt.want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestVectorsPerMode(t *testing.T) {
	for _, tt := range []struct {
		mode Mode
		want int
	}{{ModeMSIX, 4}, {ModeMSI, 1}, {ModeLine, 1}} {
		n, _ := newNIC(t, Config{Queues: 4, Mode: tt.mode})
		if n.Vectors() != tt.want {
			t.Errorf("%v: %d vectors, want %d", tt.mode, n.Vectors(), tt.want)
		}
	}
}

func TestMaskedVectorLatchesAndUnmaskReRaises(t *testing.T) {
	n, irqs := newNIC(t, Config{Queues: 2, Mode: ModeMSIX, RingSize: 8})
	n.Mask(1)
	n.Receive(1, core.NBL{}, 1)
	if got := irqs[1].raised.Load(); got != 0 {
		t.Fatalf("a masked vector raised %d interrupts", got)
	}
	n.Unmask(1)
	if got := irqs[1].raised.Load(); got != 1 {
		t.Fatalf("unmasking with a descriptor pending raised %d interrupts, want 1", got)
	}
	if s := n.Stats(); s.Rearms != 1 {
		t.Errorf("rearms = %d, want 1", s.Rearms)
	}
	// Unmasking an empty queue raises nothing.
	var dst [8]core.NBL
	n.Take(1, dst[:])
	n.Mask(1)
	n.Unmask(1)
	if got := irqs[1].raised.Load(); got != 1 {
		t.Errorf("unmasking with nothing pending raised again (%d)", got)
	}
}

// TestNoLostInterrupt races the generator against a driver that masks in its "ISR" and
// drains then unmasks in its "DPC": every descriptor must be taken, however they interleave.
func TestNoLostInterrupt(t *testing.T) {
	const packets = 200000
	n, err := New(Config{Queues: 1, Mode: ModeMSIX, RingSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	var irq chanIRQ
	irq.c = make(chan struct{}, 1)
	n.Connect(0, &irq)
	var taken atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the driver
		defer wg.Done()
		var dst [16]core.NBL
		for taken.Load()+int64(n.Stats().Dropped) < packets {
			select {
			case <-irq.c:
			case <-time.After(2 * time.Second):
				return // lost interrupt: the generator stopped and nobody raised
			}
			n.Mask(0)
			for {
				k := n.Take(0, dst[:])
				if k == 0 {
					break
				}
				for _, d := range dst[:k] {
					n.Return(0, d.Buf)
				}
				taken.Add(int64(k))
			}
			n.Unmask(0)
		}
	}()
	for i := 0; i < packets; i++ {
		n.Receive(0, core.NBL{}, int64(i))
	}
	wg.Wait()
	s := n.Stats()
	if got := taken.Load() + int64(s.Dropped); got != packets {
		t.Fatalf("taken %d + dropped %d = %d of %d packets: an interrupt was lost", taken.Load(), s.Dropped, got, packets)
	}
	if int64(s.Written) != taken.Load() {
		t.Errorf("written %d, taken %d", s.Written, taken.Load())
	}
}

type chanIRQ struct{ c chan struct{} }

func (c *chanIRQ) Raise() {
	select {
	case c.c <- struct{}{}:
	default: // already pending: interrupts coalesce
	}
}
func (c *chanIRQ) Lower()         {}
func (c *chanIRQ) SetMasked(bool) {}

func TestExhaustionDropsAndRecycles(t *testing.T) {
	n, _ := newNIC(t, Config{Queues: 1, Mode: ModeMSI, RingSize: 8, Buffers: 4})
	for i := 0; i < 6; i++ {
		n.Receive(0, core.NBL{}, 1)
	}
	if s := n.Stats(); s.Written != 4 || s.Dropped != 2 {
		t.Fatalf("with 4 buffers: written %d dropped %d, want 4 and 2", s.Written, s.Dropped)
	}
	var dst [8]core.NBL
	k := n.Take(0, dst[:])
	for i, d := range dst[:k] {
		if d.Seq != uint64(i) || d.Queue != 0 {
			t.Errorf("descriptor %d: seq %d queue %d", i, d.Seq, d.Queue)
		}
	}
	// Until the stack returns buffers, the queue stays exhausted.
	if n.Receive(0, core.NBL{}, 2) {
		t.Fatal("a queue with every buffer held by the stack accepted a packet")
	}
	n.Return(0, dst[0].Buf)
	if !n.Receive(0, core.NBL{}, 3) {
		t.Fatal("a returned buffer was not reused")
	}
}

// TestReturnBatchPostsEachBufferToItsQueue: ReturnBatch gives every buffer back to the
// queue its NBL came from, runs of queues mixed and runs longer than its own scratch
// space, so each queue accepts exactly as many packets again; returning buffers the NIC
// already holds overfills a free list, which panics.
func TestReturnBatchPostsEachBufferToItsQueue(t *testing.T) {
	const bufs = 100
	n, _ := newNIC(t, Config{Queues: 2, Mode: ModeMSIX, RingSize: 128, Buffers: bufs})
	for q := 0; q < 2; q++ {
		for i := 0; i < bufs; i++ {
			n.Receive(q, core.NBL{}, 1)
		}
	}
	var all []core.NBL
	var dst [128]core.NBL
	for q := 0; q < 2; q++ {
		k := n.Take(q, dst[:])
		if k != bufs {
			t.Fatalf("queue %d: took %d descriptors, want %d", q, k, bufs)
		}
		all = append(all, dst[:k]...)
	}
	// Interleave: 70 of queue 0 (longer than one push), then alternate.
	mixed := append([]core.NBL(nil), all[:70]...)
	for i := 70; i < bufs; i++ {
		mixed = append(mixed, all[i], all[bufs+i-70])
	}
	mixed = append(mixed, all[2*bufs-70:]...)
	if len(mixed) != 2*bufs {
		t.Fatalf("test setup: %d NBLs, want %d", len(mixed), 2*bufs)
	}
	n.ReturnBatch(mixed)
	for q := 0; q < 2; q++ {
		for i := 0; i < bufs; i++ {
			if !n.Receive(q, core.NBL{}, 2) {
				t.Fatalf("queue %d accepted %d packets after the return, want %d", q, i, bufs)
			}
		}
		if n.Receive(q, core.NBL{}, 2) {
			t.Fatalf("queue %d accepted more packets than it has buffers", q)
		}
		// Every buffer of the queue once: the very buffers it lent, none of another's.
		seen := map[int32]bool{}
		for _, d := range dst[:n.Take(q, dst[:])] {
			if d.Buf < 0 || d.Buf >= bufs || seen[d.Buf] {
				t.Fatalf("queue %d: buffer %d after the return (a duplicate, or not one of its %d)", q, d.Buf, bufs)
			}
			seen[d.Buf] = true
		}
		if len(seen) != bufs {
			t.Fatalf("queue %d: %d distinct buffers after the return, want %d", q, len(seen), bufs)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a buffer returned twice did not panic")
		}
	}()
	for range 2 { // buffers the NIC holds already, one by one: more than a free list has room for
		for _, d := range mixed {
			n.Return(int(d.Queue), d.Buf)
		}
	}
}

// TestStageAllocatesNothing: staging, write-back, drops for want of descriptors (whose
// buffers go back to the producer's stash), taking and returning allocate nothing, at
// the largest write-back too.
func TestStageAllocatesNothing(t *testing.T) {
	n, _ := newNIC(t, Config{Queues: 1, Mode: ModeMSIX, RingSize: 16, Buffers: 2048, WriteBack: 1024})
	dst := make([]core.NBL, 16)
	round := func() {
		for i := 0; i < 1024; i++ { // 1024 staged, 16 descriptors: 1008 dropped at write-back
			n.Stage(0, core.NBL{}, 1)
		}
		n.Flush(1)
		n.ReturnBatch(dst[:n.Take(0, dst)])
	}
	var before, after runtime.MemStats // the first round too: a slice that grows once grows here
	runtime.ReadMemStats(&before)
	round()
	runtime.ReadMemStats(&after)
	if a := after.Mallocs - before.Mallocs; a != 0 {
		t.Errorf("%d allocations in the first round of 1024 packets, want 0", a)
	}
	if a := testing.AllocsPerRun(20, round); a != 0 {
		t.Errorf("%v allocations per round of 1024 packets, want 0", a)
	}
}

func TestLineCauseRegisterIsReadToClear(t *testing.T) {
	n, irqs := newNIC(t, Config{Queues: 3, Mode: ModeLine})
	n.Receive(0, core.NBL{}, 1)
	n.Receive(2, core.NBL{}, 1)
	if got := n.ReadCause(); got != 0b101 {
		t.Errorf("cause = %b, want 101", got)
	}
	if got := n.ReadCause(); got != 0 {
		t.Errorf("second read = %b, want 0 (read-to-clear)", got)
	}
	if irqs[0].raised.Load() != 2 || irqs[0].lowered.Load() == 0 {
		t.Errorf("line raised %d lowered %d, want raised 2 and lowered", irqs[0].raised.Load(), irqs[0].lowered.Load())
	}
}

// TestLineCauseReadAutoMasks: a cause read that reports causes masks the NIC in the same
// step, so a packet that arrives after the line ISR's read raises nothing and waits for
// the batch (or Unmask's re-raise), and no interrupt is left to find the register empty.
// The line ISR thus does what MINIPORT_ISR asks ("the miniport driver should disable
// interrupts ... defer I/O processing to MiniportInterruptDPC") without a window between
// its read and its mask. A read that reports nothing masks nothing: a shared line's
// other device raised it.
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_isr
func TestLineCauseReadAutoMasks(t *testing.T) {
	n, irqs := newNIC(t, Config{Queues: 2, Mode: ModeLine})
	irq := irqs[0]
	n.Receive(0, core.NBL{}, 1)
	if got := n.ReadCause(); got != 0b01 || !n.Masked(0) || irq.masks.Load() != 1 {
		t.Fatalf("read = %b, masked %v, mask writes %d: want 01, masked by the read, one write", got, n.Masked(0), irq.masks.Load())
	}
	n.Receive(1, core.NBL{}, 2) // after the read: the NIC is masked
	if irq.raised.Load() != 1 {
		t.Errorf("a packet after the cause read raised the line (%d raises): it would find the register read", irq.raised.Load())
	}
	if got := n.ReadCause(); got != 0 {
		t.Errorf("a read while masked = %b, want 0 (a masked device does not assert)", got)
	}
	n.Unmask(0) // the batch's last DPC, with both packets still in the rings
	if irq.raised.Load() != 2 || irq.unmasks.Load() != 1 {
		t.Fatalf("Unmask with work pending: raised %d, unmask writes %d; want 2 and 1", irq.raised.Load(), irq.unmasks.Load())
	}
	if got := n.ReadCause(); got != 0b11 {
		t.Errorf("read after the re-raise = %b, want 11: both queues' work", got)
	}
	var dst [4]core.NBL
	for q := 0; q < 2; q++ {
		for k := n.Take(q, dst[:]); k > 0; k = n.Take(q, dst[:]) {
		}
	}
	n.Unmask(0)
	if irq.raised.Load() != 2 {
		t.Errorf("Unmask with nothing pending raised (%d raises)", irq.raised.Load())
	}
	if got := n.ReadCause(); got != 0 || n.Masked(0) {
		t.Errorf("a read of an empty register = %b, masked %v: want 0 and not masked (another device's interrupt)", got, n.Masked(0))
	}
}

func TestModerationHoldsAndPollReleases(t *testing.T) {
	n, irqs := newNIC(t, Config{Queues: 1, Mode: ModeMSIX, ModerationInterval: 100 * time.Nanosecond, ModerationPackets: 4})
	n.Receive(0, core.NBL{}, 1000) // first: fires (the interval since time 0 has ended)
	n.Receive(0, core.NBL{}, 1010) // within the interval: held
	n.Receive(0, core.NBL{}, 1020)
	if got := irqs[0].raised.Load(); got != 1 {
		t.Fatalf("raised %d, want 1 (the rest held by moderation)", got)
	}
	n.Poll(1050)
	if got := irqs[0].raised.Load(); got != 1 {
		t.Fatalf("Poll before the interval ended raised (%d)", got)
	}
	n.Poll(1100)
	if got := irqs[0].raised.Load(); got != 2 {
		t.Fatalf("Poll after the interval raised %d in all, want 2", got)
	}
	for i := 0; i < 4; i++ { // the packet threshold fires inside the interval
		n.Receive(0, core.NBL{}, 1101+int64(i))
	}
	if got := irqs[0].raised.Load(); got != 3 {
		t.Errorf("4 packets inside the interval raised %d in all, want 3", got)
	}
}

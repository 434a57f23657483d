package rings

import (
	"errors"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// ring is what the SPSC and MPSC rings have in common, for tests that cover both.
type ring interface {
	Push(int) bool
	PushBatch([]int) int
	Pop() (int, bool)
	PopBatch([]int) int
	Len() int
	Cap() int
}

type ringMaker struct {
	name string
	make func(capacity int, start uint64) (ring, error)
}

var makers = []ringMaker{
	{"spsc", func(c int, s uint64) (ring, error) { return newSPSCAt[int](c, s) }},
	{"mpsc", func(c int, s uint64) (ring, error) { return newMPSCAt[int](c, s) }},
}

func TestNewCapacity(t *testing.T) {
	tests := []struct {
		capacity int
		ok       bool
	}{
		{math.MinInt, false},     // the most negative int
		{-4, false},              // negative, though its magnitude is a power of two
		{0, false},               // zero
		{1, false},               // a power of two, but a ring of one cannot be told full from empty cheaply
		{2, true},                // the smallest ring
		{3, false},               // odd
		{6, false},               // even, not a power of two
		{1000, false},            // a round number, not a power of two
		{1024, true},             // the usual size
		{MaxCapacity, true},      // the largest ring
		{MaxCapacity + 1, false}, // just over the largest
		{math.MaxInt, false},     // the largest int
		// A power of two, but too large. An int of 32 bits has none: there the row checks
		// MaxCapacity again.
		{MaxCapacity << (strconv.IntSize / 64), strconv.IntSize < 64},
	}
	for _, tt := range tests {
		if tt.ok && tt.capacity > 1<<20 {
			// Too large to allocate in a test (16 GiB of MPSC slots): check the rule alone.
			if err := checkCapacity("NewSPSC", tt.capacity); err != nil {
				t.Errorf("capacity %d refused: %v", tt.capacity, err)
			}
			continue
		}
		for _, name := range []string{"NewSPSC", "NewMPSC"} {
			var (
				c   int
				err error
			)
			if name == "NewSPSC" {
				var r *SPSC[byte]
				if r, err = NewSPSC[byte](tt.capacity); err == nil {
					c = r.Cap()
				}
			} else {
				var q *MPSC[struct{}]
				if q, err = NewMPSC[struct{}](tt.capacity); err == nil {
					c = q.Cap()
				}
			}
			switch {
			case tt.ok && (err != nil || c != tt.capacity):
				t.Errorf("%s(%d) = Cap %d, %v; want Cap %d", name, tt.capacity, c, err, tt.capacity)
			case !tt.ok && !errors.Is(err, ErrCapacity):
				t.Errorf("%s(%d) error = %v, want ErrCapacity", name, tt.capacity, err)
			case !tt.ok && !strings.HasPrefix(err.Error(), "rings: "+name+": "):
				t.Errorf("%s(%d) error %q does not say where it came from", name, tt.capacity, err)
			}
		}
	}
}

func TestFIFO(t *testing.T) {
	tests := []struct {
		name  string
		start uint64 // where the positions start
	}{
		{"from zero", 0},                       // the ordinary case
		{"near 2^64 wrap", math.MaxUint64 - 5}, // positions overflow mid-test
		{"at 2^64 wrap", math.MaxUint64},       // the very first push wraps
		{"near 2^63", 1<<63 - 3},               // where a signed difference would overflow
		{"odd slot", 3},                        // the first item is not in slot 0
	}
	for _, m := range makers {
		for _, tt := range tests {
			t.Run(m.name+"/"+tt.name, func(t *testing.T) {
				r, err := m.make(4, tt.start)
				if err != nil {
					t.Fatal(err)
				}
				if v, ok := r.Pop(); ok || r.Len() != 0 {
					t.Fatalf("new ring: Pop = %d,%v, Len %d; want empty", v, ok, r.Len())
				}
				if n := r.PopBatch(make([]int, 4)); n != 0 {
					t.Fatalf("new ring: PopBatch = %d, want 0", n)
				}
				next, want := 0, 0
				// Wrap around several times, filling to full each time and draining in
				// different ways.
				for round := 0; round < 7; round++ {
					for i := 0; r.Len() < 4; i++ {
						if !r.Push(next) {
							t.Fatalf("Push %d into a ring of Len %d failed", next, r.Len())
						}
						next++
					}
					if r.Push(-1) {
						t.Fatal("Push into a full ring succeeded")
					}
					if r.Len() != 4 {
						t.Fatalf("Len after a failed Push = %d, want 4", r.Len())
					}
					// Pop round%4 one by one, the rest in batches of up to 3.
					for i := 0; i < round%4; i++ {
						v, ok := r.Pop()
						if !ok || v != want {
							t.Fatalf("Pop = %d,%v; want %d", v, ok, want)
						}
						want++
					}
					for r.Len() > 0 {
						dst := make([]int, 3)
						n := r.PopBatch(dst)
						if n != min(3, next-want) {
							t.Fatalf("PopBatch(3) with %d in = %d", next-want, n)
						}
						for i := 0; i < n; i++ {
							if dst[i] != want {
								t.Fatalf("PopBatch[%d] = %d, want %d", i, dst[i], want)
							}
							want++
						}
						for _, v := range dst[n:] {
							if v != 0 {
								t.Fatalf("PopBatch wrote past its count: %v", dst)
							}
						}
					}
					if want != next {
						t.Fatalf("after draining: popped up to %d of %d", want, next)
					}
					if v, ok := r.Pop(); ok {
						t.Fatalf("Pop from a drained ring = %d", v)
					}
				}
			})
		}
	}
}

func TestPushBatch(t *testing.T) {
	tests := []struct {
		name   string
		start  uint64 // where the positions start
		before int    // items pushed and left in the ring first
		batch  int    // the batch's length
		want   int    // how many PushBatch takes
	}{
		{"empty batch", 0, 0, 0, 0},                                // nothing to do
		{"fits", 0, 0, 5, 5},                                       // all of it
		{"fills", 0, 3, 5, 5},                                      // exactly to full
		{"overflows", 0, 3, 9, 5},                                  // a prefix
		{"full", 0, 8, 3, 0},                                       // none
		{"empty batch into a full ring", 0, 8, 0, 0},               // still nothing
		{"wraps in storage", 6, 0, 7, 7},                           // copied in two runs
		{"wraps in storage and 2^64", math.MaxUint64 - 1, 1, 8, 7}, // and the counters wrap
	}
	for _, m := range makers {
		for _, tt := range tests {
			t.Run(m.name+"/"+tt.name, func(t *testing.T) {
				r, _ := m.make(8, tt.start)
				var model []int
				for i := 0; i < tt.before; i++ {
					r.Push(-i)
					model = append(model, -i)
				}
				batch := make([]int, tt.batch)
				for i := range batch {
					batch[i] = 100 + i
				}
				if n := r.PushBatch(batch); n != tt.want {
					t.Fatalf("PushBatch(%d) = %d, want %d", tt.batch, n, tt.want)
				}
				model = append(model, batch[:tt.want]...)
				if r.Len() != len(model) {
					t.Fatalf("Len = %d, want %d", r.Len(), len(model))
				}
				got := make([]int, 16)
				n := r.PopBatch(got)
				if !slices.Equal(got[:n], model) {
					t.Fatalf("ring holds %v, want %v", got[:n], model)
				}
			})
		}
	}
}

func TestSPSCReserveCommit(t *testing.T) {
	tests := []struct {
		name    string
		start   uint64 // where the positions start
		before  int    // items pushed and left in the ring first
		reserve int    // Reserve's argument
		want    int    // how many slots it returns
		commit  int    // how many of them to commit
	}{
		{"nothing", 0, 0, 0, 0, 0},                           // Reserve(0) is empty
		{"negative", 0, 0, -3, 0, 0},                         // so is Reserve(-3)
		{"some", 0, 0, 3, 3, 3},                              // all asked for
		{"commit fewer", 0, 0, 5, 5, 2},                      // the rest stay free
		{"limited by room", 0, 6, 5, 2, 2},                   // only 2 free
		{"full", 0, 8, 1, 0, 0},                              // none free
		{"limited by the wrap", 5, 0, 8, 3, 3},               // 8 free, 3 contiguous
		{"at the 2^64 wrap", math.MaxUint64 - 2, 0, 8, 3, 3}, // starts in slot 5: 3 contiguous
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := newSPSCAt[int](8, tt.start)
			var model []int
			for i := 0; i < tt.before; i++ {
				r.Push(-i)
				model = append(model, -i)
			}
			s := r.Reserve(tt.reserve)
			if len(s) != tt.want {
				t.Fatalf("Reserve(%d) = %d slots, want %d", tt.reserve, len(s), tt.want)
			}
			if cap(s) != len(s) {
				t.Fatalf("Reserve's slice has cap %d beyond its len %d: appending would write unreserved slots", cap(s), len(s))
			}
			for i := range s {
				s[i] = 100 + i
			}
			if r.Len() != tt.before {
				t.Fatalf("Len before Commit = %d, want %d: reserved slots are not items", r.Len(), tt.before)
			}
			r.Commit(tt.commit)
			model = append(model, s[:tt.commit]...)
			if r.Len() != len(model) {
				t.Fatalf("Len after Commit(%d) = %d, want %d", tt.commit, r.Len(), len(model))
			}
			got := make([]int, 16)
			n := r.PopBatch(got)
			if !slices.Equal(got[:n], model) {
				t.Fatalf("ring holds %v, want %v", got[:n], model)
			}
		})
	}
}

func TestSPSCPeekRelease(t *testing.T) {
	tests := []struct {
		name    string
		start   uint64 // where the positions start
		items   int    // items in the ring
		peek    int    // Peek's argument
		want    int    // how many items it returns
		release int    // how many of them to release
	}{
		{"empty ring", 0, 0, 4, 0, 0},                        // nothing to see
		{"nothing", 0, 3, 0, 0, 0},                           // Peek(0) is empty
		{"negative", 0, 3, -1, 0, 0},                         // so is Peek(-1)
		{"some", 0, 5, 3, 3, 3},                              // fewer than are there
		{"all", 0, 5, 8, 5, 5},                               // more than are there
		{"release fewer", 0, 5, 5, 5, 2},                     // the rest stay
		{"limited by the wrap", 6, 8, 8, 2, 2},               // 8 there, 2 contiguous
		{"at the 2^64 wrap", math.MaxUint64 - 1, 8, 8, 2, 1}, // slot 6, and the counters wrap
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := newSPSCAt[int](8, tt.start)
			for i := 0; i < tt.items; i++ {
				r.Push(i)
			}
			p := r.Peek(tt.peek)
			if len(p) != tt.want || cap(p) != len(p) {
				t.Fatalf("Peek(%d) = len %d cap %d, want %d", tt.peek, len(p), cap(p), tt.want)
			}
			for i, v := range p {
				if v != i {
					t.Fatalf("Peek = %v, want the oldest items in order", p)
				}
			}
			if r.Len() != tt.items {
				t.Fatalf("Len after Peek = %d, want %d: Peek removes nothing", r.Len(), tt.items)
			}
			r.Release(tt.release)
			if r.Len() != tt.items-tt.release {
				t.Fatalf("Len after Release(%d) = %d, want %d", tt.release, r.Len(), tt.items-tt.release)
			}
			for want := tt.release; want < tt.items; want++ {
				if v, ok := r.Pop(); !ok || v != want {
					t.Fatalf("Pop after Release = %d,%v; want %d", v, ok, want)
				}
			}
		})
	}
}

// TestSPSCMisuse checks that committing or releasing more than was handed out panics,
// and that the operations that move an index cancel an outstanding Reserve or Peek.
func TestSPSCMisuse(t *testing.T) {
	tests := []struct {
		name string
		do   func(r *SPSC[int])
	}{
		{"Commit without Reserve", func(r *SPSC[int]) { r.Commit(1) }},                  // nothing reserved
		{"Commit more than reserved", func(r *SPSC[int]) { r.Reserve(2); r.Commit(3) }}, // one too many
		{"Commit negative", func(r *SPSC[int]) { r.Reserve(2); r.Commit(-1) }},          // would move tail back
		{"Commit twice", func(r *SPSC[int]) { r.Reserve(2); r.Commit(1); r.Commit(1) }}, // Commit ends the reservation
		{"Push cancels Reserve", func(r *SPSC[int]) { r.Reserve(2); r.Push(1); r.Commit(1) }},
		{"PushBatch cancels Reserve", func(r *SPSC[int]) { r.Reserve(2); r.PushBatch([]int{1}); r.Commit(1) }},
		{"Reserve(0) cancels Reserve", func(r *SPSC[int]) { r.Reserve(2); r.Reserve(0); r.Commit(1) }},
		{"Release without Peek", func(r *SPSC[int]) { r.Push(1); r.Release(1) }}, // nothing peeked
		{"Release more than peeked", func(r *SPSC[int]) { r.Push(1); r.Peek(4); r.Release(2) }},
		{"Release negative", func(r *SPSC[int]) { r.Push(1); r.Peek(1); r.Release(-1) }},
		{"Release twice", func(r *SPSC[int]) { r.PushBatch([]int{1, 2}); r.Peek(2); r.Release(1); r.Release(1) }},
		{"Pop cancels Peek", func(r *SPSC[int]) { r.PushBatch([]int{1, 2}); r.Peek(2); r.Pop(); r.Release(1) }},
		{"PopBatch cancels Peek", func(r *SPSC[int]) { r.PushBatch([]int{1, 2}); r.Peek(2); r.PopBatch(make([]int, 1)); r.Release(1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := NewSPSC[int](8)
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tt.do(r)
		})
	}
}

// TestMPSCPopWaitsForClaimedSlot plays a producer stalled between its claim and its
// publishing store while a later Push completes: Pop must not call the ring empty (that
// would not be linearizable), and must deliver both items in position order.
func TestMPSCPopWaitsForClaimedSlot(t *testing.T) {
	for _, batch := range []bool{false, true} {
		q, _ := newMPSCAt[int](4, math.MaxUint64) // the stalled claim wraps the counters
		stalled := q.prod.tail.Load()
		q.prod.tail.Add(1) // the stalled producer's claim
		if !q.Push(2) {
			t.Fatal("Push after one claim failed")
		}
		if q.Len() != 2 {
			t.Fatalf("Len = %d, want 2: a claimed slot counts", q.Len())
		}
		got := make(chan []int)
		go func() {
			if batch {
				dst := make([]int, 4)
				n := q.PopBatch(dst)
				got <- dst[:n]
				return
			}
			v, ok := q.Pop()
			if !ok {
				got <- nil
				return
			}
			got <- []int{v}
		}()
		runtime.Gosched()
		s := &q.slots[stalled&q.mask]
		s.val = 1
		s.seq.Store(stalled + 1) // the stalled producer publishes
		first := <-got
		if len(first) == 0 || first[0] != 1 {
			t.Fatalf("batch=%v: first pop = %v, want the stalled producer's item 1 first", batch, first)
		}
		rest := first[1:]
		if len(rest) == 0 {
			v, ok := q.Pop()
			if !ok {
				t.Fatalf("batch=%v: second item lost", batch)
			}
			rest = []int{v}
		}
		if !reflect.DeepEqual(rest, []int{2}) {
			t.Fatalf("batch=%v: then %v, want [2]", batch, rest)
		}
		if _, ok := q.Pop(); ok || q.Len() != 0 {
			t.Fatalf("batch=%v: ring not empty at the end", batch)
		}
	}
}

// TestMPSCPopBatchStopsAtUnpublished checks that a batch takes the published prefix only.
func TestMPSCPopBatchStopsAtUnpublished(t *testing.T) {
	q, _ := NewMPSC[int](8)
	q.Push(1)
	q.Push(2)
	stalled := q.prod.tail.Load()
	q.prod.tail.Add(1) // a producer claims position 2 and stalls
	q.Push(4)
	dst := make([]int, 8)
	if n := q.PopBatch(dst); !reflect.DeepEqual(dst[:n], []int{1, 2}) {
		t.Fatalf("PopBatch = %v, want [1 2]: the published prefix", dst[:n])
	}
	s := &q.slots[stalled&q.mask]
	s.val = 3
	s.seq.Store(stalled + 1)
	if n := q.PopBatch(dst); !reflect.DeepEqual(dst[:n], []int{3, 4}) {
		t.Fatalf("PopBatch = %v, want [3 4]", dst[:n])
	}
}

func TestClearsSlots(t *testing.T) {
	type item struct{ p *[64]byte }
	live := func(name string, slots []item) {
		t.Helper()
		for i, s := range slots {
			if s.p != nil {
				t.Errorf("%s: slot %d still references a consumed item", name, i)
			}
		}
	}
	mk := func(n int) []item {
		s := make([]item, n)
		for i := range s {
			s[i].p = new([64]byte)
		}
		return s
	}

	// SPSC: start at slot 5 of 8 so that the batches wrap in storage.
	r, _ := newSPSCAt[item](8, 5)
	r.PushBatch(mk(8))
	r.Pop()
	r.PopBatch(make([]item, 5)) // wraps
	p := r.Peek(8)
	r.Release(len(p))
	live("SPSC after Pop, PopBatch, Release", r.buf)
	r.PushBatch(mk(8))
	r.PopBatch(make([]item, 8))
	live("SPSC after a wrapping PopBatch of all", r.buf)

	q, _ := newMPSCAt[item](8, 5)
	for _, it := range mk(8) {
		q.Push(it)
	}
	q.Pop()
	q.PopBatch(make([]item, 8))
	for i := range q.slots {
		if q.slots[i].val.p != nil {
			t.Errorf("MPSC: slot %d still references a consumed item", i)
		}
	}
}

func TestHasPointers(t *testing.T) {
	type plain struct {
		a int
		b [3]float64
		c struct{ d uint8 }
	}
	type withPtr struct {
		a int
		b []int
	}
	tests := []struct {
		got, want bool
		name      string
	}{
		{hasPointers[int](), false, "int"},
		{hasPointers[complex128](), false, "complex"},
		{hasPointers[plain](), false, "struct of plain values"},
		{hasPointers[[4]plain](), false, "array of plain structs"},
		{hasPointers[struct{}](), false, "empty struct"},
		{hasPointers[[0]*int](), false, "empty array of pointers: nothing to clear"},
		{hasPointers[*int](), true, "pointer"},
		{hasPointers[string](), true, "string"},
		{hasPointers[[]int](), true, "slice"},
		{hasPointers[map[int]int](), true, "map"},
		{hasPointers[chan int](), true, "chan"},
		{hasPointers[func()](), true, "func"},
		{hasPointers[any](), true, "interface"},
		{hasPointers[unsafe.Pointer](), true, "unsafe.Pointer"},
		{hasPointers[withPtr](), true, "struct with a slice"},
		{hasPointers[[2]withPtr](), true, "array of such structs"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("hasPointers[%s] = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

// TestLayout checks that each side's fields have a 128-byte block of their own: at an
// offset that is a multiple of 128, within 128 bytes, in a struct whose size is a multiple
// of 128 (so that the allocator's size class keeps the blocks aligned).
func TestLayout(t *testing.T) {
	type block struct {
		name        string
		first, last uintptr // offsets of the first and last field, and the last's size
		lastSize    uintptr
	}
	var s SPSC[[3]int64]
	var m MPSC[*int]
	check := func(ring string, size uintptr, blocks []block) {
		if size%cacheLinePad != 0 {
			t.Errorf("%s: size %d is not a multiple of %d", ring, size, cacheLinePad)
		}
		for i, b := range blocks {
			if b.first%cacheLinePad != 0 {
				t.Errorf("%s: %s starts at %d, not on a %d-byte boundary", ring, b.name, b.first, cacheLinePad)
			}
			if end := b.last + b.lastSize; end-b.first > cacheLinePad {
				t.Errorf("%s: %s spans %d bytes", ring, b.name, end-b.first)
			}
			if i > 0 && b.first-blocks[i-1].first < cacheLinePad {
				t.Errorf("%s: %s is %d bytes from %s", ring, b.name, b.first-blocks[i-1].first, blocks[i-1].name)
			}
		}
	}
	check("SPSC", unsafe.Sizeof(s), []block{
		{"read-only fields", unsafe.Offsetof(s.buf), unsafe.Offsetof(s.clear), 1},
		{"producer", unsafe.Offsetof(s.prod), unsafe.Offsetof(s.prod), unsafe.Sizeof(s.prod)},
		{"consumer", unsafe.Offsetof(s.cons), unsafe.Offsetof(s.cons), unsafe.Sizeof(s.cons)},
	})
	check("MPSC", unsafe.Sizeof(m), []block{
		{"read-only fields", unsafe.Offsetof(m.slots), unsafe.Offsetof(m.clear), 1},
		{"producers", unsafe.Offsetof(m.prod), unsafe.Offsetof(m.prod), unsafe.Sizeof(m.prod)},
		{"consumer", unsafe.Offsetof(m.head), unsafe.Offsetof(m.head), unsafe.Sizeof(m.head)},
	})
	r, _ := NewSPSC[int](2)
	q, _ := NewMPSC[int](2)
	t.Logf("sizes %d, %d; allocated at %d, %d mod 128", unsafe.Sizeof(s), unsafe.Sizeof(m),
		uintptr(unsafe.Pointer(r))%128, uintptr(unsafe.Pointer(q))%128)
}

func TestZeroAllocations(t *testing.T) {
	s, _ := NewSPSC[int](64)
	sp, _ := NewSPSC[*int](64)
	m, _ := NewMPSC[int](64)
	mp, _ := NewMPSC[*int](64)
	ints := make([]int, 16)
	ptrs := make([]*int, 16)
	for i := range ptrs {
		ptrs[i] = new(int)
	}
	var sink atomic.Int64
	ops := []struct {
		name string
		op   func()
	}{
		{"SPSC Push and Pop", func() { s.Push(1); s.Pop() }},
		{"SPSC PushBatch and PopBatch", func() { s.PushBatch(ints); s.PopBatch(ints) }},
		{"SPSC Reserve and Commit, Peek and Release", func() {
			w := s.Reserve(4)
			s.Commit(len(w))
			p := s.Peek(4)
			s.Release(len(p))
		}},
		{"SPSC Pop and PopBatch empty", func() { s.Pop(); s.PopBatch(ints) }},
		{"SPSC Len and Cap", func() { sink.Add(int64(s.Len() + s.Cap())) }},
		{"SPSC of pointers Push and Pop", func() { sp.Push(ptrs[0]); sp.Pop() }},
		{"SPSC of pointers batches", func() { sp.PushBatch(ptrs); sp.PopBatch(ptrs) }},
		{"SPSC of pointers Peek and Release", func() { sp.PushBatch(ptrs); p := sp.Peek(16); sp.Release(len(p)); sp.PopBatch(ptrs) }},
		{"MPSC Push and Pop", func() { m.Push(1); m.Pop() }},
		{"MPSC PopBatch", func() { m.Push(1); m.Push(2); m.PopBatch(ints) }},
		{"MPSC PushBatch and PopBatch", func() { m.PushBatch(ints); m.PopBatch(ints) }},
		{"MPSC Pop and PopBatch empty", func() { m.Pop(); m.PopBatch(ints) }},
		{"MPSC Len and Cap", func() { sink.Add(int64(m.Len() + m.Cap())) }},
		{"MPSC of pointers", func() { mp.Push(ptrs[0]); mp.Push(ptrs[1]); mp.Pop(); mp.PopBatch(ptrs[2:]) }},
		{"MPSC of pointers batches", func() { mp.PushBatch(ptrs); mp.PopBatch(ptrs) }},
		{"MPSC Push into a full ring", func() {
			for m.Push(3) {
			}
			m.PushBatch(ints)
			m.PopBatch(make([]int, 0))
		}},
	}
	for _, tt := range ops {
		if a := testing.AllocsPerRun(1000, tt.op); a != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, a)
		}
	}
	// The last case must have found m full, or it measured nothing.
	if m.Len() != m.Cap() {
		t.Fatalf("MPSC Len = %d after filling, want %d", m.Len(), m.Cap())
	}
}

// TestStress runs producers and a consumer at full speed, each mixing the ring's
// operations, and checks that every item is delivered exactly once and in order per
// producer. Run it under -race: the slots are plain memory, so a missing happens-before
// edge is a reported race.
func TestStress(t *testing.T) {
	perProducer := 200000
	if testing.Short() {
		perProducer = 20000
	}
	const start = math.MaxUint64 - 1000 // the positions wrap early in every run
	tests := []struct {
		name      string
		producers int
		cap       int
		make      func(cap int, start uint64) (produce func(p int, vs []int) int, consume func(dst []int) int, length func() int)
	}{
		{"spsc", 1, 64, spscOps},                  // the SPSC contract, every operation
		{"spsc/cap=2", 1, 2, spscOps},             // full and empty all the time
		{"mpsc/producers=1", 1, 64, mpscOps},      // MPSC with no producer contention
		{"mpsc/producers=4", 4, 64, mpscOps},      // four producers racing on tail, batches and single items
		{"mpsc/producers=4/cap=2", 4, 2, mpscOps}, // and on a ring that is always full: batches cut short
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			produce, consume, length := tt.make(tt.cap, start)
			stressRing(t, tt.producers, perProducer, produce, consume, length, tt.cap)
		})
	}
	t.Run("spsc/pointers", func(t *testing.T) {
		// Pointer elements exercise the slot clearing; the values are checked through them.
		r, _ := newSPSCAt[*int](16, start)
		stressPointers(t, 1, perProducer/4, r.Push, r.Pop)
	})
	t.Run("mpsc/pointers", func(t *testing.T) {
		q, _ := newMPSCAt[*int](16, start)
		stressPointers(t, 3, perProducer/4, q.Push, q.Pop)
	})
}

// spscOps returns producer and consumer functions that take turns over every SPSC
// operation: Push, PushBatch, Reserve/Commit; Pop, PopBatch, Peek/Release.
func spscOps(capacity int, start uint64) (func(int, []int) int, func([]int) int, func() int) {
	r, _ := newSPSCAt[int](capacity, start)
	return spscRingOps(r)
}

// spscRingOps is spscOps on a given ring.
func spscRingOps(r *SPSC[int]) (func(int, []int) int, func([]int) int, func() int) {
	var pturn, cturn int
	produce := func(_ int, vs []int) int {
		pturn++
		switch pturn % 3 {
		case 0:
			if r.Push(vs[0]) {
				return 1
			}
			return 0
		case 1:
			return r.PushBatch(vs)
		default:
			w := r.Reserve(len(vs))
			n := copy(w, vs)
			r.Commit(n)
			return n
		}
	}
	consume := func(dst []int) int {
		cturn++
		switch cturn % 3 {
		case 0:
			v, ok := r.Pop()
			if !ok {
				return 0
			}
			dst[0] = v
			return 1
		case 1:
			return r.PopBatch(dst)
		default:
			p := r.Peek(len(dst))
			n := copy(dst, p)
			r.Release(n)
			return n
		}
	}
	return produce, consume, r.Len
}

// mpscOps returns producer and consumer functions for an MPSC ring: Push and PushBatch,
// chosen by the first item's sequence number so that concurrent producers share no turn
// counter; Pop and PopBatch in turn.
func mpscOps(capacity int, start uint64) (func(int, []int) int, func([]int) int, func() int) {
	q, _ := newMPSCAt[int](capacity, start)
	return mpscRingOps(q)
}

// mpscRingOps is mpscOps on a given ring.
func mpscRingOps(q *MPSC[int]) (func(int, []int) int, func([]int) int, func() int) {
	var cturn int
	produce := func(_ int, vs []int) int {
		if vs[0]%3 != 0 {
			return q.PushBatch(vs)
		}
		if q.Push(vs[0]) {
			return 1
		}
		return 0
	}
	consume := func(dst []int) int {
		cturn++
		if cturn%2 == 0 {
			v, ok := q.Pop()
			if !ok {
				return 0
			}
			dst[0] = v
			return 1
		}
		return q.PopBatch(dst)
	}
	return produce, consume, q.Len
}

// seqBits is the width of the sequence number in a stress test's item, below the
// producer's number: room for 16M items, and for 127 producers in a 32-bit int.
const seqBits = 24

// stressRing runs producers goroutines, each sending perProducer items (producer<<seqBits |
// sequence) through produce in batches of varying size, and consumes them on this
// goroutine, checking order per producer, exactly-once delivery, and Len's bounds (read
// by another goroutine meanwhile).
func stressRing(t *testing.T, producers, perProducer int, produce func(int, []int) int, consume func([]int) int, length func() int, capacity int) {
	t.Helper()
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			var batch [7]int
			for i, tries := 0, 0; i < perProducer; {
				k := min(1+i%len(batch), perProducer-i)
				for j := range k {
					batch[j] = p<<seqBits | (i + j)
				}
				n := produce(p, batch[:k])
				if n == 0 {
					if tries++; tries%64 == 0 {
						runtime.Gosched()
					}
				}
				i += n
			}
		}(p)
	}
	stop := make(chan struct{})
	var badLen atomic.Int64
	badLen.Store(-1)
	wg.Add(1)
	go func() { // Len from a third goroutine: never out of bounds, never a race
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n := length(); n < 0 || n > capacity {
				badLen.Store(int64(n))
			}
			runtime.Gosched()
		}
	}()
	next := make([]int, producers)
	total := producers * perProducer
	var buf [5]int
	for got, idle := 0, 0; got < total; {
		n := consume(buf[:1+got%len(buf)])
		if n == 0 {
			if idle++; idle%64 == 0 {
				runtime.Gosched()
			}
			continue
		}
		for _, v := range buf[:n] {
			p, i := v>>seqBits, v&(1<<seqBits-1)
			if p < 0 || p >= producers || i != next[p] {
				close(stop)
				t.Fatalf("got item %d of producer %d, want item %d of it", i, p, next[min(max(p, 0), producers-1)])
			}
			next[p]++
		}
		got += n
	}
	close(stop)
	wg.Wait()
	if n := consume(buf[:]); n != 0 {
		t.Fatalf("%d items more than were sent", n)
	}
	if n := badLen.Load(); n != -1 {
		t.Fatalf("Len returned %d, outside [0, %d]", n, capacity)
	}
	if n := length(); n != 0 {
		t.Fatalf("Len of the drained ring = %d", n)
	}
}

// stressPointers sends pointers to sequence numbers; the consumer checks them through
// the pointers, so a slot cleared or reused too early shows as a nil or wrong value.
func stressPointers(t *testing.T, producers, perProducer int, push func(*int) bool, pop func() (*int, bool)) {
	t.Helper()
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < perProducer; i++ {
				v := new(int)
				*v = p<<seqBits | i
				for tries := 0; !push(v); tries++ {
					if tries%64 == 63 {
						runtime.Gosched()
					}
				}
			}
		}(p)
	}
	next := make([]int, producers)
	for got, idle := 0, 0; got < producers*perProducer; {
		v, ok := pop()
		if !ok {
			if idle++; idle%64 == 0 {
				runtime.Gosched()
			}
			continue
		}
		if v == nil {
			t.Fatal("popped a nil pointer: a slot was cleared before it was read")
		}
		p, i := *v>>seqBits, *v&(1<<seqBits-1)
		if p >= producers || i != next[p] {
			t.Fatalf("got item %d of producer %d, want %d", i, p, next[p])
		}
		next[p]++
		got++
	}
	wg.Wait()
}

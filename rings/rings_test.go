package rings

import (
	"errors"
	"math"
	"runtime"
	"sync"
	"testing"
)

// ring is what the SPSC and MPSC rings have in common, for tests that cover both.
type ring interface {
	Push(int) bool
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

func TestCapacityMustBePowerOfTwo(t *testing.T) {
	for _, c := range []int{-4, 0, 1, 3, 6, 1000, MaxCapacity + 1, math.MaxInt} {
		if _, err := NewSPSC[int](c); !errors.Is(err, ErrCapacity) {
			t.Errorf("NewSPSC(%d) error = %v, want ErrCapacity", c, err)
		}
		if _, err := NewMPSC[int](c); !errors.Is(err, ErrCapacity) {
			t.Errorf("NewMPSC(%d) error = %v, want ErrCapacity", c, err)
		}
	}
	for _, c := range []int{2, 4, 1024} {
		if r, err := NewSPSC[int](c); err != nil || r.Cap() != c {
			t.Errorf("NewSPSC(%d) = %v, %v", c, r, err)
		}
		if r, err := NewMPSC[int](c); err != nil || r.Cap() != c {
			t.Errorf("NewMPSC(%d) = %v, %v", c, r, err)
		}
	}
}

func TestFIFO(t *testing.T) {
	tests := []struct {
		name  string
		start uint64 // where the indices start
	}{
		{"from zero", 0},                       // the ordinary case
		{"near 2^64 wrap", math.MaxUint64 - 5}, // indices overflow mid-test
		{"at 2^64 wrap", math.MaxUint64},       // the very first push wraps
		{"near 2^63", 1<<63 - 3},               // signed-overflow boundary
	}
	for _, m := range makers {
		for _, tt := range tests {
			t.Run(m.name+"/"+tt.name, func(t *testing.T) {
				r, err := m.make(4, tt.start)
				if err != nil {
					t.Fatal(err)
				}
				// Empty.
				if _, ok := r.Pop(); ok || r.Len() != 0 {
					t.Fatalf("new ring: Pop ok=%v Len=%d", ok, r.Len())
				}
				next, want := 0, 0
				// Wrap around several times, filling to full each time.
				for round := 0; round < 5; round++ {
					for r.Push(next) {
						next++
					}
					if r.Len() != 4 {
						t.Fatalf("full ring Len = %d, want 4", r.Len())
					}
					if r.Push(-1) {
						t.Fatal("Push into a full ring succeeded")
					}
					// Pop some one by one, the rest in a batch.
					for i := 0; i < round%3; i++ {
						v, ok := r.Pop()
						if !ok || v != want {
							t.Fatalf("Pop = %d,%v; want %d", v, ok, want)
						}
						want++
					}
					dst := make([]int, 8)
					n := r.PopBatch(dst)
					for i := 0; i < n; i++ {
						if dst[i] != want {
							t.Fatalf("PopBatch[%d] = %d, want %d", i, dst[i], want)
						}
						want++
					}
					if want != next || r.Len() != 0 {
						t.Fatalf("after draining: popped to %d of %d, Len %d", want, next, r.Len())
					}
				}
			})
		}
	}
}

func TestSPSCBatchAndReserve(t *testing.T) {
	r, _ := newSPSCAt[int](8, math.MaxUint64-3)
	if n := r.PushBatch([]int{1, 2, 3, 4, 5, 6, 7, 8, 9}); n != 8 {
		t.Fatalf("PushBatch into empty 8-ring = %d, want 8", n)
	}
	dst := make([]int, 3)
	if n := r.PopBatch(dst); n != 3 || dst[0] != 1 || dst[2] != 3 {
		t.Fatalf("PopBatch = %d %v", n, dst)
	}
	// Reserve returns contiguous free slots only: the ring wraps after 4 of the 3 free.
	s := r.Reserve(5)
	if len(s) == 0 || len(s) > 3 {
		t.Fatalf("Reserve(5) with 3 free = %d slots", len(s))
	}
	for i := range s {
		s[i] = 100 + i
	}
	r.Commit(len(s))
	var got []int
	for r.Len() > 0 {
		p := r.Peek(8)
		got = append(got, p...)
		r.Release(len(p))
	}
	want := []int{4, 5, 6, 7, 8}
	for i := range s {
		want = append(want, 100+i)
	}
	if len(got) != len(want) {
		t.Fatalf("drained %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("drained %v, want %v", got, want)
		}
	}
}

func TestPopClearsSlots(t *testing.T) {
	type big struct{ p *[1 << 10]byte }
	s, _ := NewSPSC[*big](2)
	m, _ := NewMPSC[*big](2)
	s.Push(&big{})
	m.Push(&big{})
	s.Pop()
	m.Pop()
	if s.buf[0] != nil || m.slots[0].val != nil {
		t.Fatal("a popped slot still references its item")
	}
}

func TestZeroAllocations(t *testing.T) {
	s, _ := NewSPSC[int](64)
	m, _ := NewMPSC[int](64)
	batch := make([]int, 16)
	ops := map[string]func(){
		"spsc push/pop":       func() { s.Push(1); s.Pop() },
		"spsc batch":          func() { s.PushBatch(batch); s.PopBatch(batch) },
		"spsc reserve/commit": func() { r := s.Reserve(4); s.Commit(len(r)); p := s.Peek(4); s.Release(len(p)) },
		"mpsc push/pop":       func() { m.Push(1); m.Pop() },
		"mpsc batch":          func() { m.Push(1); m.Push(2); m.PopBatch(batch) },
		"len":                 func() { _ = s.Len() + m.Len() },
	}
	for name, op := range ops {
		if a := testing.AllocsPerRun(1000, op); a != 0 {
			t.Errorf("%s: %v allocs per run, want 0", name, a)
		}
	}
}

// TestStress runs producers and a consumer at full speed and checks that every item is
// delivered exactly once and in order per producer.
func TestStress(t *testing.T) {
	perProducer := 200000
	if testing.Short() {
		perProducer = 20000
	}
	s, _ := newSPSCAt[int](64, math.MaxUint64-1000)
	m, _ := newMPSCAt[int](64, math.MaxUint64-1000)
	cases := []struct {
		name      string
		producers int
		r         ring
	}{
		{"spsc", 1, s},   // one producer, the SPSC contract
		{"mpsc/4", 4, m}, // four producers racing on tail
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var wg sync.WaitGroup
			for p := 0; p < c.producers; p++ {
				wg.Add(1)
				go func(p int) {
					defer wg.Done()
					for i := 0; i < perProducer; i++ {
						v := p<<32 | i
						for tries := 0; !c.r.Push(v); tries++ {
							if tries%64 == 63 {
								runtime.Gosched()
							}
						}
					}
				}(p)
			}
			next := make([]int, c.producers)
			total := c.producers * perProducer
			buf := make([]int, 7)
			for got, idle := 0, 0; got < total; {
				var n int
				if got%2 == 0 {
					if v, ok := c.r.Pop(); ok {
						buf[0], n = v, 1
					}
				} else {
					n = c.r.PopBatch(buf)
				}
				if n == 0 {
					if idle++; idle%64 == 0 {
						runtime.Gosched()
					}
					continue
				}
				for _, v := range buf[:n] {
					p, i := v>>32, v&(1<<32-1)
					if p >= c.producers || i != next[p] {
						t.Fatalf("got item %d of producer %d, want item %d", i, p, next[p])
					}
					next[p]++
				}
				got += n
			}
			wg.Wait()
			if _, ok := c.r.Pop(); ok {
				t.Fatal("an item was delivered twice or invented")
			}
		})
	}
}

// FuzzRings drives both rings with an operation sequence and checks them against a slice.
func FuzzRings(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 0, 0, 0, 0, 0, 1, 1, 1, 3, 3}, uint8(2), uint64(0))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2}, uint8(3), uint64(math.MaxUint64-4))
	f.Fuzz(func(t *testing.T, ops []byte, logCap uint8, start uint64) {
		capacity := 1 << (1 + logCap%6)
		for _, m := range makers {
			r, err := m.make(capacity, start)
			if err != nil {
				t.Fatal(err)
			}
			var model []int
			next := 0
			for _, op := range ops {
				switch op % 4 {
				case 0, 1: // push
					ok := r.Push(next)
					if ok != (len(model) < capacity) {
						t.Fatalf("%s: Push ok=%v with %d/%d", m.name, ok, len(model), capacity)
					}
					if ok {
						model = append(model, next)
					}
					next++
				case 2: // pop
					v, ok := r.Pop()
					if ok != (len(model) > 0) || (ok && v != model[0]) {
						t.Fatalf("%s: Pop = %d,%v; model %v", m.name, v, ok, model)
					}
					if ok {
						model = model[1:]
					}
				case 3: // pop batch of op/4%5 items
					dst := make([]int, int(op/4)%5)
					n := r.PopBatch(dst)
					if n != min(len(dst), len(model)) {
						t.Fatalf("%s: PopBatch(%d) = %d; model %v", m.name, len(dst), n, model)
					}
					for i := 0; i < n; i++ {
						if dst[i] != model[i] {
							t.Fatalf("%s: PopBatch[%d] = %d; model %v", m.name, i, dst[i], model)
						}
					}
					model = model[n:]
				}
				if r.Len() != len(model) {
					t.Fatalf("%s: Len = %d, model %d", m.name, r.Len(), len(model))
				}
			}
		}
	})
}

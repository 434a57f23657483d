package rings

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"
)

// countIdle is an IdlePolicy that records the looks it was called with, gives up after
// limit of them, and on the look numbered arrive pushes the values in push (playing a
// producer that comes while the consumer waits).
type countIdle struct {
	looks  []int
	limit  int
	arrive int
	push   func()
}

var _ IdlePolicy = (*countIdle)(nil)

func (c *countIdle) Idle(looks int) bool {
	c.looks = append(c.looks, looks)
	if looks == c.arrive && c.push != nil {
		c.push()
	}
	return looks < c.limit
}

func TestSpinIdle(t *testing.T) {
	tests := []struct {
		name string
		spin Spin
		want []bool // Idle(1), Idle(2), ...
	}{
		{"zero value gives up at once", Spin{}, []bool{false}},
		{"one look", Spin{Spins: 10, Looks: 1}, []bool{false}},
		{"negative looks as one", Spin{Looks: -5}, []bool{false}},
		{"three looks", Spin{Spins: 10, Looks: 3}, []bool{true, true, false}},
		{"yielding every other look", Spin{Spins: 1, Looks: 4, YieldEvery: 2}, []bool{true, true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, want := range tt.want {
				if got := tt.spin.Idle(i + 1); got != want {
					t.Fatalf("Idle(%d) = %v, want %v", i+1, got, want)
				}
			}
		})
	}
}

// waitRing is what both rings offer PopBatchWait's tests.
type waitRing interface {
	ring
	PopBatchWait([]int, IdlePolicy) int
}

var waitMakers = []struct {
	name string
	make func(capacity int, start uint64) waitRing
}{
	{"spsc", func(c int, s uint64) waitRing { r, _ := newSPSCAt[int](c, s); return r }},
	{"mpsc", func(c int, s uint64) waitRing { q, _ := newMPSCAt[int](c, s); return q }},
}

func TestPopBatchWait(t *testing.T) {
	tests := []struct {
		name      string
		before    []int // in the ring at the call
		dst       int   // len(dst)
		limit     int   // looks the policy allows
		arrive    int   // the look on which arriving comes, 0 for none
		arriving  []int // pushed during that look's wait
		want      []int // what PopBatchWait returns
		wantLooks []int // what the policy was called with
	}{
		// Items there: one look, no wait.
		{"items waiting", []int{1, 2, 3}, 8, 5, 0, nil, []int{1, 2, 3}, nil},
		// A batch no larger than dst.
		{"more than dst", []int{1, 2, 3}, 2, 5, 0, nil, []int{1, 2}, nil},
		// Empty dst: nothing to do, no wait, even with items there.
		{"empty dst", []int{1}, 0, 5, 0, nil, nil, nil},
		// An empty ring and a policy that allows three looks.
		{"gives up", nil, 8, 3, 0, nil, nil, []int{1, 2, 3}},
		// Items arrive during the second wait: the next look takes them all, as one batch.
		{"items arrive while waiting", nil, 8, 5, 2, []int{7, 8, 9}, []int{7, 8, 9}, []int{1, 2}},
		// They arrive during the last wait the policy allows: no further look.
		{"arrive as it gives up", nil, 8, 2, 2, []int{7}, nil, []int{1, 2}},
	}
	for _, m := range waitMakers {
		for _, tt := range tests {
			t.Run(m.name+"/"+tt.name, func(t *testing.T) {
				r := m.make(8, math.MaxUint64-2)
				r.PushBatch(tt.before)
				w := &countIdle{limit: tt.limit, arrive: tt.arrive, push: func() { r.PushBatch(tt.arriving) }}
				dst := make([]int, tt.dst)
				n := r.PopBatchWait(dst, w)
				if !slices.Equal(dst[:n], tt.want) {
					t.Errorf("PopBatchWait = %v, want %v", dst[:n], tt.want)
				}
				if !slices.Equal(w.looks, tt.wantLooks) {
					t.Errorf("policy called with looks %v, want %v", w.looks, tt.wantLooks)
				}
				rest := make([]int, 8)
				left := slices.Concat(tt.before, tt.arriving)[n:]
				if k := r.PopBatch(rest); !slices.Equal(rest[:k], left) {
					t.Errorf("left in the ring %v, want %v", rest[:k], left)
				}
			})
		}
	}
}

// TestStressPopBatchWait is TestStress with the consumer waiting as a policy says: every
// item exactly once and in order per producer, under -race, including with one CPU for
// producer and consumer (where the policy's yields let the producer run).
func TestStressPopBatchWait(t *testing.T) {
	const start = math.MaxUint64 - 1000
	tests := []struct {
		name      string
		producers int
		cap       int
		items     int // per producer (a tenth with -short)
		wait      Spin
	}{
		// Waits long enough to batch.
		{"spsc", 1, 64, 200000, Spin{Spins: 200, Looks: 8, YieldEvery: 2}},
		// Looks again at once, yielding each time.
		{"spsc/cap=2/no spin", 1, 2, 200000, Spin{Looks: 3, YieldEvery: 1}},
		// Producers racing while it waits.
		{"mpsc/producers=4", 4, 64, 200000, Spin{Spins: 200, Looks: 8, YieldEvery: 2}},
		// Full most of the time. Fewer items: on one CPU, each producer descheduled
		// between its claim and its publication stalls the consumer.
		{"mpsc/producers=4/cap=2", 4, 2, 40000, Spin{Spins: 10, Looks: 2, YieldEvery: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perProducer := tt.items
			if testing.Short() {
				perProducer /= 10
			}
			var (
				produce func(int, []int) int
				wait    func([]int) int
				length  func() int
			)
			if tt.producers == 1 {
				r, _ := newSPSCAt[int](tt.cap, start)
				produce, _, length = spscRingOps(r)
				wait = func(dst []int) int { return r.PopBatchWait(dst, &tt.wait) }
			} else {
				q, _ := newMPSCAt[int](tt.cap, start)
				produce, _, length = mpscRingOps(q)
				wait = func(dst []int) int { return q.PopBatchWait(dst, &tt.wait) }
			}
			stressRing(t, tt.producers, perProducer, produce, wait, length, tt.cap)
		})
	}
}

func TestPopBatchWaitAllocations(t *testing.T) {
	r, _ := NewSPSC[int](64)
	q, _ := NewMPSC[int](64)
	dst := make([]int, 16)
	spin := &Spin{Spins: 10, Looks: 3, YieldEvery: 2}
	custom := &countIdle{looks: make([]int, 0, 4096), limit: 2}
	ops := []struct {
		name string
		op   func()
	}{
		{"SPSC with items", func() { r.PushBatch(dst[:4]); r.PopBatchWait(dst, spin) }},
		{"SPSC empty, Spin", func() { r.PopBatchWait(dst, spin) }},
		{"SPSC empty, a policy of the caller's", func() { custom.looks = custom.looks[:0]; r.PopBatchWait(dst, custom) }},
		{"MPSC with items", func() { q.PushBatch(dst[:4]); q.PopBatchWait(dst, spin) }},
		{"MPSC empty, Spin", func() { q.PopBatchWait(dst, spin) }},
	}
	for _, tt := range ops {
		if a := testing.AllocsPerRun(1000, tt.op); a != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, a)
		}
	}
}

// yieldIdle is a policy a caller might write: yield the processor on every empty look,
// and give up after a few.
type yieldIdle struct{ max int }

func (y *yieldIdle) Idle(looks int) bool {
	runtime.Gosched()
	return looks < y.max
}

// A consumer takes what a producer on another goroutine sends, in batches, waiting with
// a policy of its own when the ring runs empty and stopping when the policy gives up.
func ExampleSPSC_PopBatchWait() {
	r, _ := NewSPSC[int](64)
	done := make(chan struct{})
	go func() { // the producer
		defer close(done)
		for i := 1; i <= 100; i++ {
			for !r.Push(i) {
				runtime.Gosched()
			}
		}
	}()
	w := &yieldIdle{max: 1 << 20}
	dst := make([]int, 16)
	sum, got := 0, 0
	for got < 100 {
		n := r.PopBatchWait(dst, w)
		for _, v := range dst[:n] {
			sum += v
		}
		got += n
	}
	<-done
	fmt.Println(got, "items, sum", sum)
	// Output: 100 items, sum 5050
}

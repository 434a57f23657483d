package rings

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/anishathalye/porcupine"
)

// queueInput is one operation on a bounded FIFO: a push of val, or a pop.
type queueInput struct {
	push bool
	val  int
}

// queueOutput is its result: ok (pushed / popped), and the popped value.
type queueOutput struct {
	ok  bool
	val int
}

// boundedQueueModel is the sequential specification both rings must linearize to.
func boundedQueueModel(capacity int) porcupine.Model {
	return porcupine.Model{
		Init: func() any { return []int{} },
		Step: func(state, input, output any) (bool, any) {
			q := state.([]int)
			in, out := input.(queueInput), output.(queueOutput)
			if in.push {
				if len(q) == capacity {
					return !out.ok, q
				}
				if !out.ok {
					return false, q
				}
				return true, append(append([]int(nil), q...), in.val)
			}
			if len(q) == 0 {
				return !out.ok, q
			}
			return out.ok && out.val == q[0], q[1:]
		},
		Equal: func(a, b any) bool {
			x, y := a.([]int), b.([]int)
			if len(x) != len(y) {
				return false
			}
			for i := range x {
				if x[i] != y[i] {
					return false
				}
			}
			return true
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(queueInput), output.(queueOutput)
			if in.push {
				return fmt.Sprintf("push(%d) -> %v", in.val, out.ok)
			}
			return fmt.Sprintf("pop() -> %d,%v", out.val, out.ok)
		},
	}
}

// TestLinearizable records many short concurrent histories on each ring and checks
// every one against the bounded-queue model.
func TestLinearizable(t *testing.T) {
	histories := 400
	if testing.Short() {
		histories = 100
	}
	const capacity, opsPerClient = 2, 6
	for _, tc := range []struct {
		name      string
		producers int
		make      func() (push func(int) bool, pop func() (int, bool))
	}{
		{"spsc", 1, func() (func(int) bool, func() (int, bool)) {
			r, _ := NewSPSC[int](capacity)
			return r.Push, r.Pop
		}},
		{"mpsc", 3, func() (func(int) bool, func() (int, bool)) {
			r, _ := NewMPSC[int](capacity)
			return r.Push, r.Pop
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for h := 0; h < histories; h++ {
				push, pop := tc.make()
				var clock atomic.Int64
				var mu sync.Mutex
				var ops []porcupine.Operation
				record := func(client int, in queueInput, call int64, out queueOutput) {
					ret := clock.Add(1)
					mu.Lock()
					ops = append(ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
					mu.Unlock()
				}
				var wg sync.WaitGroup
				start := make(chan struct{})
				for p := 0; p < tc.producers; p++ {
					wg.Add(1)
					go func(p int) {
						defer wg.Done()
						<-start
						for i := 0; i < opsPerClient; i++ {
							v := p*100 + i
							call := clock.Add(1)
							ok := push(v)
							record(p, queueInput{push: true, val: v}, call, queueOutput{ok: ok})
							if i%2 == 0 {
								runtime.Gosched()
							}
						}
					}(p)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for i := 0; i < opsPerClient*tc.producers; i++ {
						call := clock.Add(1)
						v, ok := pop()
						record(tc.producers, queueInput{}, call, queueOutput{ok: ok, val: v})
					}
				}()
				close(start)
				wg.Wait()
				if !porcupine.CheckOperations(boundedQueueModel(capacity), ops) {
					t.Fatalf("history %d is not linearizable: %d operations", h, len(ops))
				}
			}
		})
	}
}

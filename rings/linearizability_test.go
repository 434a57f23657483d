package rings

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/anishathalye/porcupine"
)

// opKind is an operation on a ring, as the linearizability model sees it.
type opKind uint8

const (
	opPush      opKind = iota // Push(vals[0]) -> n is 1 (pushed) or 0 (full)
	opPushBatch               // PushBatch(vals) -> n pushed
	opReserve                 // Reserve(len(vals)), fill, Commit(all) -> n committed
	opPop                     // Pop() -> vals[:n], n is 1 or 0 (empty)
	opPopBatch                // PopBatch(make([]int, k)) -> vals[:n]
	opPeek                    // Peek(k), copy, Release(all) -> vals[:n]
)

// queueInput is one operation's call: what it is, and for pushes the values.
type queueInput struct {
	kind opKind
	vals []int // values to push
	k    int   // items asked for, for the batch pops
}

// queueOutput is one operation's return: how many items moved, and for pops which.
type queueOutput struct {
	n    int
	vals []int
}

// queueState is the sequential specification's state: a bounded FIFO queue, plus how
// many items it has taken in all, which says where its tail is in storage (for the
// contiguous Reserve and Peek). It is never mutated: Step builds a new one.
type queueState struct {
	items  []int
	pushed uint64
}

// boundedQueueModel is the sequential specification both rings must linearize to: a FIFO
// queue of capacity items whose positions start at start.
//
// Push and Pop are exact: Push succeeds unless the queue is full, Pop returns the oldest
// item unless it is empty. A batch moves a prefix of what it could move (its values, the
// room, the items, and for Reserve and Peek the run to the end of storage), and at least
// one item unless it could move none. It is not held to moving all it could: a batch
// sees the other side's index at one instant and takes effect at a later one, and what
// the other side did in between (released room, published items) it may leave for the
// next call. Run alone, a batch does move all it can; the fuzz test holds it to that.
func boundedQueueModel(capacity int, start uint64) porcupine.Model {
	c := uint64(capacity)
	mask := c - 1
	return porcupine.Model{
		Init: func() any { return queueState{} },
		Step: func(state, input, output any) (bool, any) {
			s, in, out := state.(queueState), input.(queueInput), output.(queueOutput)
			free, held := capacity-len(s.items), len(s.items)
			var limit int
			switch in.kind {
			case opPush:
				limit = min(1, free)
			case opPushBatch:
				limit = min(len(in.vals), free)
			case opReserve:
				tailSlot := (start + s.pushed) & mask
				limit = min(len(in.vals), free, int(c-tailSlot))
			case opPop:
				limit = min(1, held)
			case opPopBatch:
				limit = min(in.k, held)
			case opPeek:
				headSlot := (start + s.pushed - uint64(held)) & mask
				limit = min(in.k, held, int(c-headSlot))
			}
			if out.n > limit || (out.n == 0 && limit > 0) {
				return false, s
			}
			n := out.n
			switch in.kind {
			case opPush, opPushBatch, opReserve:
				items := append(slices.Clip(s.items), in.vals[:n]...)
				return true, queueState{items: items, pushed: s.pushed + uint64(n)}
			}
			if !slices.Equal(out.vals, s.items[:n]) {
				return false, s
			}
			return true, queueState{items: s.items[n:], pushed: s.pushed}
		},
		Equal: func(a, b any) bool {
			x, y := a.(queueState), b.(queueState)
			return x.pushed == y.pushed && slices.Equal(x.items, y.items)
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(queueInput), output.(queueOutput)
			names := [...]string{"Push", "PushBatch", "Reserve+Commit", "Pop", "PopBatch", "Peek+Release"}
			switch in.kind {
			case opPush, opPushBatch, opReserve:
				return fmt.Sprintf("%s(%v) -> %d", names[in.kind], in.vals, out.n)
			}
			return fmt.Sprintf("%s(%d) -> %v", names[in.kind], in.k, out.vals)
		},
		DescribeState: func(state any) string {
			s := state.(queueState)
			return fmt.Sprintf("%v (pushed %d)", s.items, s.pushed)
		},
	}
}

// ringOps is what a history's clients do to one ring: a producer operation and a consumer
// operation, each given its kind.
type ringOps struct {
	produce func(in queueInput) queueOutput
	consume func(in queueInput) queueOutput
}

func spscHistoryOps(capacity int, start uint64) ringOps {
	r, _ := newSPSCAt[int](capacity, start)
	return ringOps{
		produce: func(in queueInput) queueOutput {
			switch in.kind {
			case opPush:
				if r.Push(in.vals[0]) {
					return queueOutput{n: 1}
				}
				return queueOutput{}
			case opPushBatch:
				return queueOutput{n: r.PushBatch(in.vals)}
			default:
				w := r.Reserve(len(in.vals))
				n := copy(w, in.vals)
				r.Commit(n)
				return queueOutput{n: n}
			}
		},
		consume: func(in queueInput) queueOutput {
			switch in.kind {
			case opPop:
				if v, ok := r.Pop(); ok {
					return queueOutput{n: 1, vals: []int{v}}
				}
				return queueOutput{}
			case opPopBatch:
				dst := make([]int, in.k)
				n := r.PopBatch(dst)
				return queueOutput{n: n, vals: dst[:n]}
			default:
				p := r.Peek(in.k)
				vals := slices.Clone(p)
				r.Release(len(p))
				return queueOutput{n: len(vals), vals: vals}
			}
		},
	}
}

func mpscHistoryOps(capacity int, start uint64) ringOps {
	q, _ := newMPSCAt[int](capacity, start)
	return ringOps{
		produce: func(in queueInput) queueOutput {
			if in.kind == opPushBatch {
				return queueOutput{n: q.PushBatch(in.vals)}
			}
			if q.Push(in.vals[0]) {
				return queueOutput{n: 1}
			}
			return queueOutput{}
		},
		consume: func(in queueInput) queueOutput {
			if in.kind == opPop {
				if v, ok := q.Pop(); ok {
					return queueOutput{n: 1, vals: []int{v}}
				}
				return queueOutput{}
			}
			dst := make([]int, in.k)
			n := q.PopBatch(dst)
			return queueOutput{n: n, vals: dst[:n]}
		},
	}
}

// TestLinearizable records many short concurrent histories on each ring, with every
// operation the ring has, and checks each against the bounded FIFO queue model with
// porcupine. A failing history is written as porcupine's HTML visualization.
func TestLinearizable(t *testing.T) {
	histories := 3000
	if testing.Short() {
		histories = 500
	}
	tests := []struct {
		name      string
		producers int
		capacity  int
		pushKinds []opKind
		popKinds  []opKind
		make      func(capacity int, start uint64) ringOps
	}{
		// One producer and the consumer, every SPSC operation.
		{"spsc", 1, 4, []opKind{opPush, opPushBatch, opReserve}, []opKind{opPop, opPopBatch, opPeek}, spscHistoryOps},
		// The smallest ring, full or empty most of the time.
		{"spsc/cap=2", 1, 2, []opKind{opPush, opPushBatch, opReserve}, []opKind{opPop, opPopBatch, opPeek}, spscHistoryOps},
		// Three producers racing on a small ring, Push and PushBatch, Pop and PopBatch.
		{"mpsc", 3, 4, []opKind{opPush, opPushBatch}, []opKind{opPop, opPopBatch}, mpscHistoryOps},
		// Three producers on the smallest ring, where batches are cut short.
		{"mpsc/cap=2", 3, 2, []opKind{opPush, opPushBatch}, []opKind{opPop, opPopBatch}, mpscHistoryOps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(tt.name))))
			for h := 0; h < histories; h++ {
				start := uint64(rng.IntN(8))
				if h%2 == 1 {
					start = math.MaxUint64 - uint64(rng.IntN(8)) // cross the 2^64 wrap
				}
				ops := recordHistory(tt.make(tt.capacity, start), tt.producers, tt.pushKinds, tt.popKinds, rng.Uint64())
				model := boundedQueueModel(tt.capacity, start)
				if !porcupine.CheckOperations(model, ops) {
					_, info := porcupine.CheckOperationsVerbose(model, ops, 0)
					path := filepath.Join(os.TempDir(), fmt.Sprintf("rings-%s-history-%d.html", strings.ReplaceAll(t.Name(), "/", "-"), h))
					if err := porcupine.VisualizePath(model, info, path); err != nil {
						path = "none: " + err.Error()
					}
					slices.SortFunc(ops, func(a, b porcupine.Operation) int { return int(a.Call - b.Call) })
					for _, op := range ops {
						t.Logf("client %d [%d,%d] %s", op.ClientId, op.Call, op.Return, model.DescribeOperation(op.Input, op.Output))
					}
					t.Fatalf("history %d (start %d) is not linearizable: %d operations; visualization in %s", h, start, len(ops), path)
				}
			}
		})
	}
}

// recordHistory runs producers producer clients and one consumer client on ops, each
// doing a few random operations of its kinds, and returns what they did with call and
// return times from one shared clock (read before the call and after the return, so the
// recorded intervals contain the real ones).
func recordHistory(ops ringOps, producers int, pushKinds, popKinds []opKind, seed uint64) []porcupine.Operation {
	const perClient = 6
	var clock atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	history := make([][]porcupine.Operation, producers+1)
	client := func(id int, do func(queueInput) queueOutput, next func(rng *rand.Rand, i int) queueInput, count int) {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(seed, uint64(id)))
		<-start
		for i := 0; i < count; i++ {
			in := next(rng, i)
			call := clock.Add(1)
			out := do(in)
			ret := clock.Add(1)
			history[id] = append(history[id], porcupine.Operation{ClientId: id, Input: in, Call: call, Output: out, Return: ret})
			if rng.IntN(3) == 0 {
				runtime.Gosched()
			}
		}
	}
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go client(p, ops.produce, func(rng *rand.Rand, i int) queueInput {
			kind := pushKinds[rng.IntN(len(pushKinds))]
			n := 1
			if kind != opPush {
				n = 1 + rng.IntN(3)
			}
			vals := make([]int, n)
			for j := range vals {
				vals[j] = p*1000 + i*10 + j // unique, so a duplicate or invented item shows
			}
			return queueInput{kind: kind, vals: vals}
		}, perClient)
	}
	wg.Add(1)
	go client(producers, ops.consume, func(rng *rand.Rand, _ int) queueInput {
		return queueInput{kind: popKinds[rng.IntN(len(popKinds))], k: 1 + rng.IntN(3)}
	}, perClient*producers+2)
	close(start)
	wg.Wait()
	var all []porcupine.Operation
	for _, h := range history {
		all = append(all, h...)
	}
	return all
}

package rings

import (
	"math"
	"runtime"
	"sync"
	"testing"
)

// TestMPSCPushBatchContiguous checks what the one CAS of PushBatch promises beyond
// exactly-once and per-producer order: the items one call pushed reach the consumer
// side by side, with no other producer's item between them, however many producers
// race and however often a batch is cut short by a full ring.
func TestMPSCPushBatchContiguous(t *testing.T) {
	perProducer := 100000
	if testing.Short() {
		perProducer = 10000
	}
	tests := []struct {
		name      string
		producers int
		capacity  int
	}{
		{"producers=4/cap=16", 4, 16}, // batches of up to 9 cut short all the time
		{"producers=3/cap=64", 3, 64}, // mostly whole batches, racing on tail
		{"producers=2/cap=2", 2, 2},   // never more than two at once
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := newMPSCAt[int](tt.capacity, math.MaxUint64-100)
			type batch struct{ first, n int }
			batches := make([][]batch, tt.producers) // each producer's own, read after wg.Wait
			var wg sync.WaitGroup
			for p := 0; p < tt.producers; p++ {
				wg.Add(1)
				go func(p int) {
					defer wg.Done()
					var vs [9]int
					for i, tries := 0, 0; i < perProducer; {
						k := min(1+len(batches[p])%len(vs), perProducer-i)
						for j := range k {
							vs[j] = p<<seqBits | (i + j)
						}
						n := q.PushBatch(vs[:k])
						if n == 0 {
							if tries++; tries%64 == 0 {
								runtime.Gosched()
							}
							continue
						}
						batches[p] = append(batches[p], batch{i, n})
						i += n
					}
				}(p)
			}
			// at[p][i] is where item i of producer p came out, in the consumer's order.
			at := make([][]int, tt.producers)
			for p := range at {
				at[p] = make([]int, 0, perProducer)
			}
			var dst [8]int
			for got, idle := 0, 0; got < tt.producers*perProducer; {
				n := q.PopBatch(dst[:1+got%len(dst)])
				if n == 0 {
					if idle++; idle%64 == 0 {
						runtime.Gosched()
					}
					continue
				}
				for _, v := range dst[:n] {
					p, i := v>>seqBits, v&(1<<seqBits-1)
					if p < 0 || p >= tt.producers || i != len(at[p]) {
						t.Fatalf("item %d of producer %d out of order", i, p)
					}
					at[p] = append(at[p], got)
					got++
				}
			}
			wg.Wait()
			for p, bs := range batches {
				for _, b := range bs {
					for j := 1; j < b.n; j++ {
						if at[p][b.first+j] != at[p][b.first]+j {
							t.Fatalf("producer %d's batch of %d from item %d came out at %d and %d: split by another producer's items",
								p, b.n, b.first, at[p][b.first], at[p][b.first+j])
						}
					}
				}
			}
		})
	}
}

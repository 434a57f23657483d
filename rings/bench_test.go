package rings

import (
	"runtime"
	"sync"
	"testing"

	"github.com/ndisbench/ndisbench/affinity"
)

// benchCap is the capacity of every ring and of the baseline channel.
const benchCap = 1024

// BenchmarkCrossCore moves b.N items from producer goroutines to a consumer goroutine,
// each on its own OS thread, pinned to distinct CPUs where the OS allows it, and reports
// ns/item. impl=chan is the baseline: a buffered channel of the same capacity.
func BenchmarkCrossCore(b *testing.B) {
	allowed, _ := affinity.Allowed()
	topo, _ := affinity.ReadTopology(allowed)
	pa, pb, two := affinity.PickPair(allowed, topo)
	cpus := []int{-1, -1}
	if two {
		cpus = []int{pa, pb}
	}
	b.Run("impl=chan/batch=1", func(b *testing.B) {
		ch := make(chan int, benchCap)
		crossCore(b, cpus, 1,
			func(_ int, n int) {
				for i := 0; i < n; i++ {
					ch <- i
				}
			},
			func(n int) {
				for i := 0; i < n; i++ {
					<-ch
				}
			})
	})
	b.Run("impl=spsc/batch=1", func(b *testing.B) {
		r, _ := NewSPSC[int](benchCap)
		crossCore(b, cpus, 1,
			func(_ int, n int) {
				for i := 0; i < n; i++ {
					for spins := 0; !r.Push(i); spins++ {
						backoff(spins)
					}
				}
			},
			func(n int) {
				for got, spins := 0, 0; got < n; {
					if _, ok := r.Pop(); ok {
						got++
						spins = 0
						continue
					}
					spins++
					backoff(spins)
				}
			})
	})
	b.Run("impl=spsc/batch=32", func(b *testing.B) {
		r, _ := NewSPSC[int](benchCap)
		crossCore(b, cpus, 1,
			func(_ int, n int) {
				var src [32]int
				for sent, spins := 0, 0; sent < n; {
					k := r.PushBatch(src[:min(32, n-sent)])
					if k == 0 {
						spins++
						backoff(spins)
						continue
					}
					sent += k
					spins = 0
				}
			},
			func(n int) {
				var dst [32]int
				for got, spins := 0, 0; got < n; {
					k := r.PopBatch(dst[:])
					if k == 0 {
						spins++
						backoff(spins)
						continue
					}
					got += k
					spins = 0
				}
			})
	})
	b.Run("impl=mpsc/producers=2/batch=1", func(b *testing.B) {
		q, _ := NewMPSC[int](benchCap)
		crossCore(b, cpus, 2,
			func(_ int, n int) {
				for i := 0; i < n; i++ {
					for spins := 0; !q.Push(i); spins++ {
						backoff(spins)
					}
				}
			},
			func(n int) {
				for got, spins := 0, 0; got < n; {
					if _, ok := q.Pop(); ok {
						got++
						spins = 0
						continue
					}
					spins++
					backoff(spins)
				}
			})
	})
}

// backoff yields now and then, so that a producer and a consumer sharing one CPU still
// make progress.
func backoff(spins int) {
	if spins&255 == 255 {
		runtime.Gosched()
	}
}

// crossCore runs producers producers (splitting b.N items between them) and one consumer,
// the consumer on cpus[1] and the producers on cpus[0], and reports ns/item.
func crossCore(b *testing.B, cpus []int, producers int, produce func(p, n int), consume func(n int)) {
	b.ReportAllocs()
	pinned := true
	var mu sync.Mutex
	onCPU := func(cpu int, fn func()) {
		if cpu >= 0 {
			if undo, err := affinity.Pin(cpu); err == nil {
				defer undo()
				fn()
				return
			}
		}
		mu.Lock()
		pinned = false
		mu.Unlock()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		fn()
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	b.ResetTimer()
	wg.Add(producers + 1)
	for p := 0; p < producers; p++ {
		n := b.N / producers
		if p == 0 {
			n += b.N % producers
		}
		go func(p, n int) {
			defer wg.Done()
			onCPU(cpus[0], func() { <-start; produce(p, n) })
		}(p, n)
	}
	go func() {
		defer wg.Done()
		onCPU(cpus[1], func() { <-start; consume(b.N) })
	}()
	close(start)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/item")
	pin := 0.0
	if pinned {
		pin = 1
	}
	b.ReportMetric(pin, "pinned")
	b.ReportMetric(float64(runtime.NumCPU()), "cpus")
}

package rings

import (
	"runtime"
	"sync"
	"testing"

	"github.com/ndisbench/ndisbench/affinity"
)

// benchCap is the capacity of every ring and of the baseline channel.
const benchCap = 1024

// benchWait is the consumer=wait variants' idle policy: before each new look at an empty
// ring, spin about a microsecond on this machine's cores (see BenchmarkSpin), a few
// cache-line round trips and a fraction of the time a producer takes to fill the ring;
// yield now and then, for a producer sharing the CPU.
var benchWait = Spin{Spins: 3000, Looks: 1 << 30, YieldEvery: 16}

// BenchmarkCrossCore moves b.N items from producer goroutines to a consumer goroutine,
// each on its own OS thread, pinned to distinct CPUs where the OS allows it, and reports
// ns/item. impl=chan is the baseline: a buffered channel of the same capacity; each
// variant after it shows one step:
//
//   - spsc-xchg/batch=1: SPSC's Push and Pop publishing with atomic.Uint64.Store, as they
//     did before storeRelease (an XCHG on amd64), the baseline for the next;
//   - spsc/batch=1: Push and Pop, with the release store;
//   - spsc/batch=1/consumer=wait: Push one at a time, PopBatchWait with benchWait, so
//     that items accumulate while the consumer waits;
//   - spsc/batch=32: PushBatch and PopBatch of up to 32;
//   - mpsc/producers=2/batch=1 and batch=32: two producers on one CPU with Push or
//     PushBatch, the consumer with Pop or PopBatch;
//   - mpsc/producers=2/batch=1/consumer=wait: Push, and PopBatchWait with benchWait.
//
// Each reports vs-chan, its ns/item over impl=chan's in the same run, when impl=chan ran.
func BenchmarkCrossCore(b *testing.B) {
	allowed, _ := affinity.Allowed()
	topo, _ := affinity.ReadTopology(allowed)
	pa, pb, two := affinity.PickPair(allowed, topo)
	cpus := []int{-1, -1}
	if two {
		cpus = []int{pa, pb}
	}
	var chanNs float64 // impl=chan's ns/item in this run; 0 if it did not run
	crossCore := func(b *testing.B, cpus []int, producers int, produce func(p, n int), consume func(n int)) {
		ns := crossCoreRun(b, cpus, producers, produce, consume)
		if chanNs > 0 {
			b.ReportMetric(ns/chanNs, "vs-chan")
		}
	}
	b.Run("impl=chan/batch=1", func(b *testing.B) {
		ch := make(chan int, benchCap)
		chanNs = crossCoreRun(b, cpus, 1,
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
	b.Run("impl=spsc-xchg/batch=1", func(b *testing.B) {
		r, _ := NewSPSC[int](benchCap)
		crossCore(b, cpus, 1,
			func(_ int, n int) {
				for i := 0; i < n; i++ {
					for spins := 0; !pushXchg(r, i); spins++ {
						backoff(spins)
					}
				}
			},
			func(n int) {
				for got, spins := 0, 0; got < n; {
					if _, ok := popXchg(r); ok {
						got++
						spins = 0
						continue
					}
					spins++
					backoff(spins)
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
	b.Run("impl=spsc/batch=1/consumer=wait", func(b *testing.B) {
		r, _ := NewSPSC[int](benchCap)
		w := benchWait
		crossCore(b, cpus, 1,
			func(_ int, n int) {
				for i := 0; i < n; i++ {
					for spins := 0; !r.Push(i); spins++ {
						backoff(spins)
					}
				}
			},
			func(n int) {
				var dst [32]int
				for got := 0; got < n; {
					got += r.PopBatchWait(dst[:], &w)
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
	b.Run("impl=mpsc/producers=2/batch=1/consumer=wait", func(b *testing.B) {
		q, _ := NewMPSC[int](benchCap)
		w := benchWait
		crossCore(b, cpus, 2,
			func(_ int, n int) {
				for i := 0; i < n; i++ {
					for spins := 0; !q.Push(i); spins++ {
						backoff(spins)
					}
				}
			},
			func(n int) {
				var dst [32]int
				for got := 0; got < n; {
					got += q.PopBatchWait(dst[:], &w)
				}
			})
	})
	b.Run("impl=mpsc/producers=2/batch=32", func(b *testing.B) {
		q, _ := NewMPSC[int](benchCap)
		crossCore(b, cpus, 2,
			func(_ int, n int) {
				var src [32]int
				for sent, spins := 0, 0; sent < n; {
					k := q.PushBatch(src[:min(32, n-sent)])
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
					k := q.PopBatch(dst[:])
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
}

// backoff yields now and then, so that a producer and a consumer sharing one CPU still
// make progress.
func backoff(spins int) {
	if spins&255 == 255 {
		runtime.Gosched()
	}
}

// crossCoreRun runs producers producers (splitting b.N items between them) and one
// consumer, the consumer on cpus[1] and the producers on cpus[0], reports ns/item and
// returns it.
func crossCoreRun(b *testing.B, cpus []int, producers int, produce func(p, n int), consume func(n int)) float64 {
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
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/item")
	pin := 0.0
	if pinned {
		pin = 1
	}
	b.ReportMetric(pin, "pinned")
	b.ReportMetric(float64(runtime.NumCPU()), "cpus")
	return ns
}

// pushXchg is SPSC.Push as it was before storeRelease, publishing with
// atomic.Uint64.Store (XCHG on amd64): the benchmark's baseline for the release store.
func pushXchg(r *SPSC[int], v int) bool {
	tail := r.prod.tail.Load()
	if tail-r.prod.cachedHead >= uint64(len(r.buf)) {
		r.prod.cachedHead = r.cons.head.Load()
		if tail-r.prod.cachedHead >= uint64(len(r.buf)) {
			return false
		}
	}
	r.buf[tail&r.mask] = v
	r.prod.reserved = 0
	r.prod.tail.Store(tail + 1)
	return true
}

// popXchg is SPSC.Pop for plain values as it was before storeRelease, releasing with
// atomic.Uint64.Store.
func popXchg(r *SPSC[int]) (v int, ok bool) {
	head := r.cons.head.Load()
	if r.cons.cachedTail == head {
		r.cons.cachedTail = r.prod.tail.Load()
		if r.cons.cachedTail == head {
			return v, false
		}
	}
	v = r.buf[head&r.mask]
	r.cons.peeked = 0
	r.cons.head.Store(head + 1)
	return v, true
}

// BenchmarkSpin reports how long one spin of Spin's wait takes on this machine, to turn a
// wait in nanoseconds into Spin.Spins.
func BenchmarkSpin(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		spin(1000)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/spin")
}

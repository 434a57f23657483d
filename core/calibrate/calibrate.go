// Package calibrate measures the machine's own floors: what a timestamp, a cross-CPU
// cache-line round trip, an SPSC ring handoff, a futex wake and a channel wake cost here
// before any model runs. Every latency ndisbench reports is read against them (bench
// calibrate). A driver author never needs this package.
package calibrate

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/hist"
	"github.com/ndisbench/ndisbench/core/internal/park"
	"github.com/ndisbench/ndisbench/rings"
)

// cacheLinePad is the padding that keeps two hot words off each other's cache line and
// off the adjacent-line prefetcher's pair: 128 bytes, as sync.Pool's poolLocal does.
const cacheLinePad = 128

// paddedU64 is a uint64 alone on its 128-byte block.
type paddedU64 struct {
	v atomic.Uint64
	_ [cacheLinePad - unsafe.Sizeof(atomic.Uint64{})]byte
}

// Options selects what Measure measures and how much.
type Options struct {
	// CPUs is the set to choose the measuring pair from; empty means every allowed CPU.
	CPUs affinity.CPUList
	// Samples is the number of samples for the spin measurements (cache-line round trip,
	// ring handoff). Zero means 20000.
	Samples int
	// WakeSamples is the number of samples for the sleeping measurements (futex wake,
	// channel wake), each of which waits for the sleeper to settle. Zero means 2000.
	WakeSamples int
	// Settle is how long a waker waits after the sleeper announced it is going to sleep,
	// so that the wake measured is a real wake from the kernel. Zero means 50µs.
	Settle time.Duration
}

// ClockCost is the measured cost of reading one clock.
type ClockCost struct {
	Name      string  `json:"name"`
	NsPerRead float64 `json:"ns_per_read"`
}

// Floors are the machine's own latency floors: what a cross-CPU handoff, a futex wake or a
// channel wake costs here before any model runs. Later results are read against them.
type Floors struct {
	CPUs        int         `json:"cpus"`     // CPUs allowed to this process (after -cpus)
	CPUList     string      `json:"cpu_list"` // that set, as a CPU list
	PairA       int         `json:"cpu_a"`    // the two CPUs measured between; -1 when none
	PairB       int         `json:"cpu_b"`
	SameCore    bool        `json:"same_core"` // the pair are SMT siblings of one core
	Pinned      bool        `json:"pinned"`    // every measuring thread was pinned
	PinError    string      `json:"pin_error,omitempty"`
	GOMAXPROCS  int         `json:"gomaxprocs"`
	ClockSource string      `json:"clock_source"` // the hot-path clock (the zero core.Clock)
	ClockNs     float64     `json:"clock_ns"`     // cost of one read of it, median of batches
	Clocks      []ClockCost `json:"clocks"`       // every clock considered

	CachelineRTT *hist.Summary `json:"cacheline_rtt_ns"` // ping-pong of two padded lines, per round trip
	FutexWake    *hist.Summary `json:"futex_wake_ns"`    // futex wake → parked thread runs
	ChanWake     *hist.Summary `json:"chan_wake_ns"`     // send on buffered chan → parked goroutine runs
	RingHandoff  *hist.Summary `json:"ring_handoff_ns"`  // SPSC push → spinning consumer pops

	// Unmeasured names each floor that could not be measured here and why, instead of
	// inventing a figure.
	Unmeasured map[string]string `json:"unmeasured,omitempty"`

	hists map[string]*hdrhistogram.Histogram
}

// Histogram returns the full histogram behind one floor ("cacheline_rtt_ns", ...), or nil.
func (f *Floors) Histogram(name string) *hdrhistogram.Histogram { return f.hists[name] }

// Measure measures the machine's floors. With fewer than two usable CPUs (or
// GOMAXPROCS below 2) it measures the clocks only and says why the rest is missing.
// It never fails because pinning is refused: it measures unpinned and records that.
func Measure(opts Options) (*Floors, error) {
	if opts.Samples <= 0 {
		opts.Samples = 20000
	}
	if opts.WakeSamples <= 0 {
		opts.WakeSamples = 2000
	}
	if opts.Settle <= 0 {
		opts.Settle = 50 * time.Microsecond
	}
	allowed, err := affinity.Allowed()
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	cpus := allowed
	if len(opts.CPUs) > 0 {
		for _, c := range opts.CPUs {
			if !allowed.Contains(c) {
				return nil, fmt.Errorf("calibrate: CPU %d is not in the allowed set %s", c, allowed)
			}
		}
		cpus = opts.CPUs
	}
	f := &Floors{
		CPUs:        len(cpus),
		CPUList:     cpus.String(),
		PairA:       -1,
		PairB:       -1,
		GOMAXPROCS:  runtime.GOMAXPROCS(0),
		ClockSource: core.MonotonicSource,
		Unmeasured:  map[string]string{},
		hists:       map[string]*hdrhistogram.Histogram{},
	}
	f.Clocks = measureClocks()
	f.ClockNs = f.Clocks[0].NsPerRead

	topo, _ := affinity.ReadTopology(cpus) // the fallback topology is fine for picking a pair
	a, b, ok := affinity.PickPair(cpus, topo)
	why := ""
	switch {
	case !ok:
		why = fmt.Sprintf("needs two CPUs; only %s is allowed", cpus)
	case f.GOMAXPROCS < 2:
		why = fmt.Sprintf("needs GOMAXPROCS >= 2 for two running threads; it is %d", f.GOMAXPROCS)
	}
	if why != "" {
		for _, name := range []string{"cacheline_rtt_ns", "futex_wake_ns", "chan_wake_ns", "ring_handoff_ns"} {
			f.Unmeasured[name] = why
		}
		return f, nil
	}
	f.PairA, f.PairB, f.SameCore = a, b, topo.SameCore(a, b)

	pinned := true
	measure := func(name string, dst **hist.Summary, fn func(p *pair) *hdrhistogram.Histogram) {
		p := &pair{a: a, b: b}
		h := fn(p)
		if p.pinErr != nil {
			pinned = false
			f.PinError = p.pinErr.Error()
		}
		f.hists[name] = h
		s := hist.Summarize(h)
		*dst = &s
	}
	measure("cacheline_rtt_ns", &f.CachelineRTT, func(p *pair) *hdrhistogram.Histogram { return cachelineRTT(p, opts.Samples) })
	measure("ring_handoff_ns", &f.RingHandoff, func(p *pair) *hdrhistogram.Histogram { return ringHandoff(p, opts.Samples) })
	if why := park.ParkFallback(runtime.GOOS); why != "" {
		f.Unmeasured["futex_wake_ns"] = why // what it would time is not a futex wake
	} else {
		measure("futex_wake_ns", &f.FutexWake, func(p *pair) *hdrhistogram.Histogram { return futexWakeLatency(p, opts.WakeSamples, opts.Settle) })
	}
	measure("chan_wake_ns", &f.ChanWake, func(p *pair) *hdrhistogram.Histogram { return chanWakeLatency(p, opts.WakeSamples, opts.Settle) })
	f.Pinned = pinned
	if len(f.Unmeasured) == 0 {
		f.Unmeasured = nil
	}
	return f, nil
}

// pair runs two functions on two OS threads, pinned to CPUs a and b where allowed.
type pair struct {
	a, b   int
	mu     sync.Mutex
	pinErr error // the first refusal, if any
}

// run runs fa on CPU a and fb on CPU b and waits for both.
func (p *pair) run(fa, fb func()) {
	var wg sync.WaitGroup
	wg.Add(2)
	go p.onCPU(&wg, p.a, fa)
	go p.onCPU(&wg, p.b, fb)
	wg.Wait()
}

func (p *pair) onCPU(wg *sync.WaitGroup, cpu int, fn func()) {
	defer wg.Done()
	undo, err := affinity.Pin(cpu)
	if err != nil {
		p.mu.Lock()
		if p.pinErr == nil {
			p.pinErr = err
		}
		p.mu.Unlock()
		runtime.LockOSThread()
		undo = runtime.UnlockOSThread
	}
	defer undo()
	fn()
}

// spinUntil polls cond, yielding now and then so that an oversubscribed machine (more
// spinning threads than real cores) still makes progress. Calibration only.
func spinUntil(cond func() bool) {
	for i := 1; !cond(); i++ {
		if i&(1<<14-1) == 0 {
			runtime.Gosched()
		}
	}
}

// warmup is the number of leading samples each measurement discards.
const warmup = 1000

func cachelineRTT(p *pair, n int) *hdrhistogram.Histogram { return pingPong(p, n, nil) }

// pingPong is cachelineRTT's ping-pong of n round trips (after warmup more); when abort
// is set, both sides stop as soon as it is true, and the histogram holds what was done.
func pingPong(p *pair, n int, abort *atomic.Bool) *hdrhistogram.Histogram {
	h := hist.NewLatency()
	var lines struct {
		_    [cacheLinePad]byte
		ping paddedU64
		pong paddedU64
	}
	stopped := func() bool { return abort != nil && abort.Load() }
	total := uint64(n + warmup)
	p.run(func() {
		for i := uint64(1); i <= total && !stopped(); i++ {
			t0 := clock.Now()
			lines.ping.v.Store(i)
			spinUntil(func() bool { return lines.pong.v.Load() == i || stopped() })
			if i > warmup && !stopped() {
				hist.Record(h, clock.Now()-t0)
			}
		}
	}, func() {
		for i := uint64(1); i <= total && !stopped(); i++ {
			spinUntil(func() bool { return lines.ping.v.Load() == i || stopped() })
			lines.pong.v.Store(i)
		}
	})
	return h
}

func ringHandoff(p *pair, n int) *hdrhistogram.Histogram {
	h := hist.NewLatency()
	r, err := rings.NewSPSC[int64](64)
	if err != nil {
		panic(err) // 64 is a power of two
	}
	var ack paddedU64
	total := uint64(n + warmup)
	p.run(func() {
		for i := uint64(1); i <= total; i++ {
			r.Push(clock.Now())
			spinUntil(func() bool { return ack.v.Load() == i })
		}
	}, func() {
		for i := uint64(1); i <= total; i++ {
			var t0 int64
			spinUntil(func() bool {
				v, ok := r.Pop()
				t0 = v
				return ok
			})
			t1 := clock.Now()
			if i > warmup {
				hist.Record(h, t1-t0)
			}
			ack.v.Store(i)
		}
	})
	return h
}

func futexWakeLatency(p *pair, n int, settle time.Duration) *hdrhistogram.Histogram {
	h := hist.NewLatency()
	var pk park.Parker
	var ready, done, t0 paddedU64
	total := uint64(n + n/10)
	p.run(func() { // the sleeper
		for i := uint64(1); i <= total; i++ {
			pk.Prepare()
			ready.v.Store(i)
			pk.Park()
			t1 := clock.Now()
			if i > uint64(n/10) {
				hist.Record(h, t1-int64(t0.v.Load()))
			}
			done.v.Store(i)
		}
	}, func() { // the waker
		for i := uint64(1); i <= total; i++ {
			spinUntil(func() bool { return ready.v.Load() == i })
			clock.Spin(settle)
			t0.v.Store(uint64(clock.Now()))
			pk.Unpark()
			spinUntil(func() bool { return done.v.Load() == i })
		}
	})
	return h
}

func chanWakeLatency(p *pair, n int, settle time.Duration) *hdrhistogram.Histogram {
	h := hist.NewLatency()
	ch := make(chan int64, 1024)
	var ack paddedU64
	total := uint64(n + n/10)
	consumerDone := make(chan struct{})
	go func() { // an ordinary goroutine, parked in a channel receive
		defer close(consumerDone)
		i := uint64(0)
		for t0 := range ch {
			t1 := clock.Now()
			i++
			if i > uint64(n/10) {
				hist.Record(h, t1-t0)
			}
			ack.v.Store(i)
		}
	}()
	p.run(func() { // the producer keeps running between sends
		for i := uint64(1); i <= total; i++ {
			ch <- clock.Now()
			spinUntil(func() bool { return ack.v.Load() == i })
			clock.Spin(settle)
		}
		close(ch)
	}, func() {})
	<-consumerDone
	return h
}

// clock is the real clock every measurement reads: calibration measures the machine, so
// it is never another run's clock.
var clock core.Clock

// measureClocks measures each clock's cost per read: the median of 200 batches of 1000
// reads. The first entry is the hot-path clock, the zero core.Clock.
func measureClocks() []ClockCost {
	clocks := []struct {
		name string
		read func() int64
	}{
		{core.MonotonicSource, clock.Now},
		{"time.Now", func() int64 { return time.Now().UnixNano() }},
		{"time.Since", func() int64 { return int64(time.Since(clockEpoch)) }},
	}
	clocks = append(clocks, extraClocks...)
	out := make([]ClockCost, 0, len(clocks))
	for _, c := range clocks {
		out = append(out, ClockCost{Name: c.name, NsPerRead: clockCost(c.read)})
	}
	return out
}

var clockEpoch = time.Now()

var clockSink int64

func clockCost(read func() int64) float64 {
	const batches, reads = 200, 1000
	per := make([]float64, batches)
	for b := range per {
		var s int64
		t0 := clock.Now()
		for i := 0; i < reads; i++ {
			s += read()
		}
		per[b] = float64(clock.Now()-t0) / reads
		clockSink += s
	}
	sort.Float64s(per)
	return per[batches/2]
}

// CachelineRTT measures the cache-line round trip between CPUs a and b with n samples
// (the ping-pong of Floors.CachelineRTT), and returns its median in ns. It needs both
// threads to be pinned: unpinned, it returns an error rather than a figure for no
// particular pair of CPUs. It gives up after limit (a busy host can keep one of the two
// threads from running for seconds) with an error. A run calls it before and after its
// window (a host that moves the vCPUs between near and far placement shows as a
// change); with a few thousand samples it takes about a millisecond.
func CachelineRTT(a, b, n int, limit time.Duration) (float64, error) {
	if a == b || a < 0 || b < 0 {
		return 0, fmt.Errorf("calibrate: cache-line round trip: want two distinct CPUs, got %d and %d", a, b)
	}
	var abort atomic.Bool
	t := time.AfterFunc(limit, func() { abort.Store(true) })
	defer t.Stop()
	p := &pair{a: a, b: b}
	done := make(chan *hdrhistogram.Histogram, 1)
	go func() { done <- pingPong(p, max(1, n), &abort) }()
	var h *hdrhistogram.Histogram
	select {
	case h = <-done:
	case <-time.After(limit + limit/2):
		// One of the threads has not run since abort: it stops when it does. Neither p
		// nor the histogram is read here, so nothing races with it.
		return 0, fmt.Errorf("calibrate: cache-line round trip: not done within %v (a busy host)", limit)
	}
	if p.pinErr != nil {
		return 0, fmt.Errorf("calibrate: cache-line round trip: %w", p.pinErr)
	}
	if abort.Load() || h.TotalCount() == 0 {
		return 0, fmt.Errorf("calibrate: cache-line round trip: not done within %v (a busy host)", limit)
	}
	return float64(h.ValueAtQuantile(50)), nil
}

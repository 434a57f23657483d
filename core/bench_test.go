package core_test

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/calibrate"
	"github.com/ndisbench/ndisbench/core/hist"
	"github.com/ndisbench/ndisbench/core/trace"
)

// handoffGap is how long the DPC side waits before raising the next interrupt, so that
// with spin-park both vCPUs are parked when the handoff happens: the benchmark then
// measures a wake, not a spin.
const handoffGap = 20 * time.Microsecond

// BenchmarkHandoff measures the ISR→DPC handoff across two CPUs: an ISR on vCPU 0 queues
// a DPC on vCPU 1, and the figure is the time from the insert to the DPC's start
// (isr_to_dpc, cross-CPU). The DPC raises the next interrupt after handoffGap, so the loop
// is closed and needs no third thread. park-chan-baseline is the same handoff between two
// ordinary goroutines through channels, the Go scheduler's wake path.
func BenchmarkHandoff(b *testing.B) {
	allowed, err := affinity.Allowed()
	if err != nil {
		b.Fatal(err)
	}
	topo, _ := affinity.ReadTopology(allowed)
	a, c, twoCPUs := affinity.PickPair(allowed, topo)
	b.Run("idle=spin", func(b *testing.B) {
		if !twoCPUs || runtime.GOMAXPROCS(0) < 2 {
			b.Skip("two spinning vCPUs need two CPUs and GOMAXPROCS >= 2")
		}
		benchPlatformHandoff(b, core.IdleSpin, affinity.CPUList{a, c})
	})
	b.Run("idle=spin-park", func(b *testing.B) {
		var cpus affinity.CPUList
		if twoCPUs {
			cpus = affinity.CPUList{a, c}
		}
		benchPlatformHandoff(b, core.IdleSpinPark, cpus)
	})
	b.Run("idle=park-chan-baseline", func(b *testing.B) {
		// The "ISR" side is a thread that keeps running, like a vCPU: it waits for the
		// raise by spinning, sends the insert time, and spins on. The "DPC" side is an
		// ordinary goroutine parked in a channel receive: the Go scheduler must wake it.
		h := hist.NewLatency()
		dpc := make(chan int64, 1024)
		var raised, stop atomic.Bool
		go func() {
			if twoCPUs {
				if undo, err := affinity.Pin(a); err == nil {
					defer undo()
				}
			}
			for !stop.Load() {
				if raised.CompareAndSwap(true, false) {
					dpc <- clock.Now()
				}
			}
			close(dpc)
		}()
		done := make(chan struct{})
		go func() {
			n := 0
			for t0 := range dpc {
				_ = h.RecordValue(clock.Now() - t0)
				if n++; n == b.N {
					close(done)
					continue
				}
				clock.Spin(handoffGap)
				raised.Store(true)
			}
		}()
		b.ReportAllocs()
		b.ResetTimer()
		raised.Store(true)
		<-done
		b.StopTimer()
		stop.Store(true)
		reportHandoff(b, h, false, len(allowed))
	})
}

func benchPlatformHandoff(b *testing.B, idle core.IdleStrategy, cpus affinity.CPUList) {
	// The machine's floor, the cross-CPU cache-line round trip between the same two CPUs,
	// is measured just before and just after the handoffs: the host moves vCPUs between
	// near and far placements, and a figure means something only beside its floor.
	var rtt []float64
	measureRTT := func() {
		if len(cpus) == 2 {
			if ns, err := calibrate.CachelineRTT(cpus[0], cpus[1], 2000, 50*time.Millisecond); err == nil {
				rtt = append(rtt, ns)
			}
		}
	}
	measureRTT()
	cfg := core.PlatformConfig{VCPUs: 2, CPUs: cpus, NoPin: len(cpus) == 0, Idle: idle, Spin: time.Microsecond, MSI: core.MSIX, Messages: 1}
	p, err := core.NewPlatform(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	var ix *core.Interrupt
	var vec core.Vector
	var n atomic.Int64
	done := make(chan struct{})
	total := int64(b.N)
	ix, err = p.RegisterInterrupt(nil, msiChars(
		func(any, core.MessageID) core.ISRResult {
			return core.ISRResult{Recognized: true, TargetCPUs: core.CPUs(1)}
		},
		func(any, core.MessageID, *core.DPCCall) {
			if n.Add(1) == total {
				close(done)
				return
			}
			clock.Spin(handoffGap)
			p.Raise(vec)
		}), nil)
	if err != nil {
		b.Fatal(err)
	}
	vec = ix.MessageTable()[0].Vector
	b.ReportAllocs()
	b.ResetTimer()
	p.Raise(vec)
	<-done
	b.StopTimer()
	ix.Deregister()
	p.Stop()
	pinned, _ := p.Pinning()
	h := p.Metrics().Hist("isr_to_dpc_cross_cpu")
	reportHandoff(b, h, pinned, len(cpus))
	if measureRTT(); len(rtt) == 2 {
		mean := (rtt[0] + rtt[1]) / 2
		b.ReportMetric(mean, "rtt-ns")
		b.ReportMetric(float64(h.ValueAtQuantile(50))/mean, "p50-per-rtt")
	}
}

func reportHandoff(b *testing.B, h *hdrhistogram.Histogram, pinned bool, cpus int) {
	b.ReportMetric(float64(h.ValueAtQuantile(50)), "p50-ns")
	b.ReportMetric(float64(h.ValueAtQuantile(99)), "p99-ns")
	pin := 0.0
	if pinned {
		pin = 1
	}
	b.ReportMetric(pin, "pinned")
	b.ReportMetric(float64(cpus), "cpus")
}

// nopObserver is the cheapest observer: it looks at nothing.
type nopObserver struct{}

func (nopObserver) Observe(core.Event) {}

// BenchmarkInterruptPath measures the framework's own cost for one interrupt: a message
// ISR that masks and queues its DPC on its own vCPU, and a DPC that indicates one NBL,
// re-enables and raises the next interrupt, so one vCPU runs the loop with no other
// thread involved. Its loop is written out rather than shared with
// benchPlatformHandoff through a helper of callbacks: an indirect call per handler
// would add to what it measures, and this is the loop its before/after figures used.
// One op is one interrupt, ISR and DPC. observer=none is the default
// path (no Observer: the framework builds no event); observer=nop adds an Observer that
// does nothing, which is what the hook itself costs; observer=trace records every event
// (package core/trace, as bench run -trace does), and reports how many an op tells: its
// ns/op less observer=none's, over events/op, is what a trace costs per event.
func BenchmarkInterruptPath(b *testing.B) {
	for _, tc := range []struct {
		name  string
		obs   core.Observer
		trace bool
	}{{"observer=none", nil, false}, {"observer=nop", nopObserver{}, false}, {"observer=trace", nil, true}} {
		b.Run(tc.name, func(b *testing.B) {
			allowed, err := affinity.Allowed()
			if err != nil {
				b.Fatal(err)
			}
			var rec *trace.Recorder
			if tc.trace {
				// Room for every event of the run: 8 an interrupt.
				rec, err = trace.New(trace.Config{VCPUs: 1, Window: time.Hour, Capacity: 8*b.N + 64})
				if err != nil {
					b.Fatal(err)
				}
				tc.obs = rec
			}
			p, err := core.NewPlatform(core.PlatformConfig{VCPUs: 1, CPUs: allowed[:1], MSI: core.MSIX, Observer: tc.obs})
			if err != nil {
				b.Fatal(err)
			}
			if rec != nil {
				rec.Begin(p.Clock().Now())
			}
			if err := p.Start(); err != nil {
				b.Fatal(err)
			}
			var ix *core.Interrupt
			var vec core.Vector
			nbl := []core.NBL{{}}
			total, n := int64(b.N), int64(0) // n: the vCPU's only
			done := make(chan struct{})
			ix, err = p.RegisterInterrupt(nil, msiChars(
				func(_ any, msg core.MessageID) core.ISRResult {
					maskDevice(ix, msg)
					return core.ISRResult{Recognized: true, QueueDefaultDPC: true}
				},
				func(_ any, _ core.MessageID, c *core.DPCCall) {
					c.Indicate(nbl)
					unmaskDevice(c)
					if n++; n == total {
						close(done)
						return
					}
					p.Raise(vec)
				}), nil)
			if err != nil {
				b.Fatal(err)
			}
			vec = ix.MessageTable()[0].Vector
			b.ReportAllocs()
			b.ResetTimer()
			p.Raise(vec)
			<-done
			b.StopTimer()
			ix.Deregister()
			p.Stop()
			pinned, _ := p.Pinning()
			pin := 0.0
			if pinned {
				pin = 1
			}
			b.ReportMetric(pin, "pinned")
			if rec != nil {
				st := rec.Stats()
				if st.Overflow != 0 {
					b.Fatalf("%d events did not fit", st.Overflow)
				}
				b.ReportMetric(float64(st.Told)/float64(b.N), "events/op")
			}
		})
	}
}

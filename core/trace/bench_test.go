package trace_test

import (
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/trace"
)

// BenchmarkObserve is the recorder's own cost per event: one op records one event, the
// eight kinds of an interrupt in turn, all in the window.
func BenchmarkObserve(b *testing.B) {
	for _, at := range []trace.At{trace.AtStart, trace.AtWorst} {
		b.Run("at="+at.String(), func(b *testing.B) {
			r, err := trace.New(trace.Config{VCPUs: 1, At: at, Window: time.Hour, Capacity: 3*b.N + 16})
			if err != nil {
				b.Fatal(err)
			}
			r.Begin(0)
			ix := new(core.Interrupt)
			events := [...]core.Event{
				{Kind: core.EventRaised, Vector: 3},
				{Kind: core.EventISRStart, Vector: 3, Interrupt: ix},
				{Kind: core.EventDPCQueued, Interrupt: ix},
				{Kind: core.EventISREnd, Interrupt: ix, Result: core.ISRResult{Recognized: true, QueueDefaultDPC: true}},
				{Kind: core.EventDPCStart, Interrupt: ix},
				{Kind: core.EventEnabled, Interrupt: ix},
				{Kind: core.EventBatchEnd, Interrupt: ix, Duration: 900},
				{Kind: core.EventDPCEnd, Interrupt: ix, Indicated: 8},
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e := events[i&7]
				e.Time = int64(i) * 100
				r.Observe(e)
			}
			b.StopTimer()
			if st := r.Stats(); st.Overflow != 0 {
				b.Fatalf("%d events did not fit", st.Overflow)
			}
		})
	}
}

// BenchmarkPlatformInterrupt is one interrupt through a one-vCPU platform, the vCPU
// raising the next one from the DPC (no other thread involved): raise, ISR, DPC, batch.
// Each interrupt is 8 events; observer=none builds none of them. The cost of a trace
// per event is (ns/op of observer=trace − ns/op of observer=none) / events/op.
func BenchmarkPlatformInterrupt(b *testing.B) {
	for _, traced := range []bool{false, true} {
		name := "observer=none"
		if traced {
			name = "observer=trace"
		}
		b.Run(name, func(b *testing.B) {
			var r *trace.Recorder
			cfg := core.PlatformConfig{VCPUs: 1, NoPin: true, MSI: core.MSIX}
			if traced {
				var err error
				if r, err = trace.New(trace.Config{VCPUs: 1, Window: time.Hour, Capacity: 8*b.N + 64}); err != nil {
					b.Fatal(err)
				}
				cfg.Observer = r
			}
			p, err := core.NewPlatform(cfg)
			if err != nil {
				b.Fatal(err)
			}
			left := b.N
			done := make(chan struct{})
			var ix *core.Interrupt
			var vec core.Vector
			ix, err = p.RegisterInterrupt(nil, msiChars(
				func(_ any, msg core.MessageID) core.ISRResult {
					ix.DeviceMasked(msg, true)
					return core.ISRResult{Recognized: true, QueueDefaultDPC: true}
				},
				func(_ any, msg core.MessageID, c *core.DPCCall) {
					c.Indicate(nbl[:])
					c.Interrupt().DeviceMasked(msg, false)
					if left--; left > 0 {
						p.Raise(vec)
					} else {
						close(done)
					}
				}), nil)
			if err != nil {
				b.Fatal(err)
			}
			vec = ix.MessageTable()[0].Vector
			if r != nil {
				r.Begin(p.Clock().Now())
			}
			if err := p.Start(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			p.Raise(vec)
			<-done
			b.StopTimer()
			p.Stop()
			if r != nil {
				st := r.Stats()
				if st.Overflow != 0 {
					b.Fatalf("%d events did not fit", st.Overflow)
				}
				b.ReportMetric(float64(st.Told)/float64(b.N), "events/op")
			}
		})
	}
}

var nbl [1]core.NBL

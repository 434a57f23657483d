package trace_test

import (
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/trace"
)

// BenchmarkObserve is the recorder's own cost per event: one op records one event, the
// eight kinds of an interrupt in turn, all in the window. core's BenchmarkInterruptPath
// (observer=trace) is the cost on a platform, the event built and passed included.
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

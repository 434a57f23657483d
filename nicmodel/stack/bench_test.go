package stack_test

import (
	"math/rand/v2"
	"testing"

	"github.com/ndisbench/ndisbench/core"
)

// BenchmarkIndicate is the checking stack's cost per packet on one vCPU, with the
// per-packet histograms (packet_latency, packet_service) and without them: what the
// instrumentation adds to the vCPU's path, free of the cross-CPU traffic that moves
// the end-to-end figures with the host's placement. Each call indicates 32 NBLs of one
// queue whose latencies are spread as a run's are (an exponential tail above
// 200 ns, so the histogram's buckets are not all one) and whose write stamps come in runs of 8, as a generator
// behind schedule stamps them.
func BenchmarkIndicate(b *testing.B) {
	for _, hists := range []bool{true, false} {
		name := "hists=true"
		if !hists {
			name = "hists=false"
		}
		b.Run(name, func(b *testing.B) {
			_, s := newStack(b, 1, 0)
			if !hists {
				s.NoHistograms()
			}
			const batch, calls = 32, 1024
			r := rand.New(rand.NewPCG(1, 2))
			in := make([][]core.NBL, calls)
			for c := range in {
				in[c] = make([]core.NBL, batch)
				for i := range in[c] {
					lat := 200 + int64(r.ExpFloat64()*1500) // a run's shape: p50 near 1.2 µs, p99.9 near 10 µs
					in[c][i] = core.NBL{Intended: int64(now) - lat, Written: int64(now) - int64(i/8)*1000}
				}
			}
			seq := uint64(0)
			b.ReportAllocs()
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				nbls := in[n%calls]
				for i := range nbls {
					nbls[i].Seq = seq
					seq++
				}
				s.Indicate(0, nbls)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/pkt")
		})
	}
}

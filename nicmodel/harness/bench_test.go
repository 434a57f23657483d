package harness_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/results/metric"
)

// benchRatePPS is BenchmarkEndToEnd's fixed offered load.
const benchRatePPS = 2e6

// BenchmarkEndToEnd runs the same seeded traffic, a constant benchRatePPS of 64-byte
// packets over 1024 flows, through each delivery mode: one op is one packet offered. The
// vCPUs (up to 4, one queue each) take the first allowed CPUs and the generator the next
// one; with fewer CPUs than that the run is oversubscribed and says so (pinned=0). It
// reports the achieved Mpps, the drop percentage, the p99 of packet_latency (intended
// arrival → indicated, so generator lag is included), the CPUs and whether every vCPU
// was pinned. The line-mode run is the baseline of the MSI-X one.
func BenchmarkEndToEnd(b *testing.B) {
	allowed, err := affinity.Allowed()
	if err != nil {
		b.Fatal(err)
	}
	vcpus := max(1, min(4, len(allowed)-1))
	idle := core.IdleSpin
	if len(allowed) < 2 {
		idle = core.IdleSpinPark // one CPU: spinning vCPUs would starve the generator
	}
	// Spinning vCPUs hold their Ps: make room for the generator and the collector (the
	// harness leaves GOMAXPROCS to its caller).
	if need := core.GOMAXPROCSNeeded(vcpus); runtime.GOMAXPROCS(0) < need {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(need))
	}
	for _, mode := range []nicmodel.Mode{nicmodel.ModeLine, nicmodel.ModeMSI, nicmodel.ModeMSIX} {
		b.Run("mode="+mode.String(), func(b *testing.B) {
			sc := scenario.Scenario{
				Mode: mode, VCPUs: vcpus, Queues: vcpus, Idle: idle, Seed: 1,
				Warmup:   20 * time.Millisecond,
				Duration: max(time.Millisecond, time.Duration(float64(b.N)/benchRatePPS*1e9)),
			}
			sc.Schedule.RatePPS = benchRatePPS
			b.ReportAllocs()
			b.ResetTimer()
			rep, err := harness.Run(context.Background(), sc, harness.Options{})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(rep.AchievedPPS/1e6, "Mpps")
			b.ReportMetric(rep.DropPct, "drop-pct")
			b.ReportMetric(float64(rep.Hists[metric.PacketLatency].ValueAtQuantile(99)), "p99-latency-ns")
			b.ReportMetric(float64(runtime.NumCPU()), "cpus")
			pinned := 0.0
			if rep.Platform.Pinned {
				pinned = 1
			}
			b.ReportMetric(pinned, "pinned")
		})
	}
}

package harness_test

import (
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/results/metric"
)

// TestRunCPUAccountingAddsUp: the vCPUs' CPU time over the measured window adds up, and
// the injected costs in it are what the counters say was spent: S per delivered packet,
// entry + EOI per interrupt, the MMIO read per line interrupt. Every bound is an
// invariant of the accounting (sums, and the one piece of work that may straddle each
// end of the window), not a timing: it holds on a fast machine and a loaded one.
func TestRunCPUAccountingAddsUp(t *testing.T) {
	const (
		perPacket = time.Microsecond
		entry     = 2 * time.Microsecond
		eoi       = 3 * time.Microsecond
		mmio      = 1500 * time.Nanosecond
	)
	for _, mode := range []nicmodel.Mode{nicmodel.ModeMSIX, nicmodel.ModeLine} {
		t.Run(mode.String(), func(t *testing.T) {
			sc := testScenario(mode)
			sc.PerPacket, sc.IRQEntry, sc.IRQEOI, sc.MMIORead = perPacket, entry, eoi, mmio
			sc.Schedule.RatePPS = 50e3
			rep := run(t, sc)
			cpu := rep.CPU
			if cpu == nil {
				t.Fatal("no CPU accounting")
			}
			if cpu.Delivered == 0 || len(cpu.VCPUs) != rep.Scenario.VCPUs {
				t.Fatalf("delivered %d, %d vCPUs accounted; want > 0 and %d", cpu.Delivered, len(cpu.VCPUs), rep.Scenario.VCPUs)
			}
			// The longest piece of work that may straddle one end of the window.
			piece := rep.Hists[metric.DPCDuration].Max() + rep.Hists[metric.ISRDuration].Max() + int64(entry+eoi+mmio)
			var busy, injected int64
			for i, v := range cpu.VCPUs {
				b := v.ISRNs + v.DPCNs
				if b > cpu.WindowNs+2*piece {
					t.Errorf("vCPU %d: busy %d ns in a window of %d ns", i, b, cpu.WindowNs)
				}
				if b <= cpu.WindowNs && b+v.IdleNs != cpu.WindowNs {
					t.Errorf("vCPU %d: busy %d + idle %d != window %d", i, b, v.IdleNs, cpu.WindowNs)
				}
				if v.InjectedNs > b {
					t.Errorf("vCPU %d: injected %d ns more than its busy time %d ns", i, v.InjectedNs, b)
				}
				busy += b
				injected += v.InjectedNs
			}
			n := float64(cpu.Delivered)
			if got := float64(busy) / n; got-cpu.NsPerPacket > 1e-6 || cpu.NsPerPacket-got > 1e-6 || cpu.ISRNsPerPacket+cpu.DPCNsPerPacket-cpu.NsPerPacket > 1e-6 {
				t.Errorf("ns/packet %v (ISR %v + DPC %v), busy/delivered %v", cpu.NsPerPacket, cpu.ISRNsPerPacket, cpu.DPCNsPerPacket, got)
			}
			irqs := int64(rep.Counters[metric.MeasuredIRQs])
			want := int64(cpu.Delivered)*int64(perPacket) + irqs*int64(entry+eoi)
			if mode == nicmodel.ModeLine {
				want += irqs * int64(mmio) // one cause read per line interrupt (no sharers)
			}
			// A DPC (up to a ring's packets) and an interrupt may be under way at each end.
			slack := int64(rep.Scenario.RingSize)*int64(perPacket) + 4*int64(entry+eoi+mmio)
			slack *= int64(rep.Scenario.VCPUs)
			if d := injected - want; d > slack || d < -slack {
				t.Errorf("injected %d ns, want %d ± %d (%d packets × %v + %d interrupts)", injected, want, slack, cpu.Delivered, perPacket, irqs)
			}
			if cpu.DPCNsPerPacket < float64(perPacket)*0.9 {
				t.Errorf("DPC ns/packet %v < per_packet %v", cpu.DPCNsPerPacket, perPacket)
			}
			if rep.Counters[metric.CPUInjectedNs] < uint64(want) {
				t.Errorf("counter %s = %d, want at least the window's %d", metric.CPUInjectedNs, rep.Counters[metric.CPUInjectedNs], want)
			}
		})
	}
}

package core_test

import (
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/core"
)

// TestRotateHistogramsPartitionsTheRun checks the interval logs' source: DPCs run
// between two rotations appear in that interval only, on every vCPU, parked or not; the
// intervals add up to Metrics; extra histograms recorded with Platform.Record rotate
// with the framework's.
func TestRotateHistogramsPartitionsTheRun(t *testing.T) {
	for _, idle := range []core.IdleStrategy{core.IdleSpinPark, core.IdleSpinYield} {
		t.Run(idle.String(), func(t *testing.T) {
			p := newPlatform(t, core.PlatformConfig{VCPUs: 2, NoPin: true, Idle: idle, Hists: []string{"extra"}})
			extra, ok := p.HistID("extra")
			if !ok {
				t.Fatal("HistID does not find the extra histogram")
			}
			ix := mustRegister(t, p, nil, lineChars(
				func(any) core.ISRResult { return core.ISRResult{Recognized: true} },
				func(_ any, c *core.DPCCall) { p.Record(c.CPU, extra, 42) }), nil)
			phases := []int{3, 0, 5, 1}
			for _, n := range phases {
				for i := 0; i < n; i++ {
					ix.QueueDPC(0, core.CPUs(i%2), nil)
					waitFor(t, "the DPC to run", p.Idle)
				}
				got := map[string]int64{}
				p.RotateHistograms(func(name string, h *hdrhistogram.PackedHistogram) { got[name] = h.TotalCount() })
				if got["dpc_duration"] != int64(n) || got["extra"] != int64(n) || got["isr_to_dpc"] != int64(n) {
					t.Errorf("interval of %d DPCs: dpc_duration %d, extra %d, isr_to_dpc %d", n,
						got["dpc_duration"], got["extra"], got["isr_to_dpc"])
				}
				if len(got) != 8+1 {
					t.Errorf("rotation reported %d histograms, want %d", len(got), 8+1)
				}
			}
			m := p.Metrics()
			if c := m.Hist("dpc_duration").TotalCount(); c != 9 {
				t.Errorf("Metrics dpc_duration = %d values, want the 9 of all intervals", c)
			}
			if h := m.Hist("extra"); h == nil || h.TotalCount() != 9 || h.Max() != 42 {
				t.Errorf("Metrics extra = %v, want 9 values of 42", h)
			}
		})
	}
}

// TestPlatformHistsValidated: extra histogram names must be new and non-empty.
func TestPlatformHistsValidated(t *testing.T) {
	for _, names := range [][]string{{""}, {"dpc_duration"}, {"isr_to_dpc"}, {"a", "a"}} {
		if _, err := core.NewPlatform(core.PlatformConfig{VCPUs: 1, NoPin: true, Hists: names}); err == nil {
			t.Errorf("Hists %q accepted", names)
		}
	}
}

// TestMetricsOfAPlatformThatNeverRan: a platform stopped before it started reports what
// was recorded on it from its owner's goroutine, and does not wait for vCPU threads that
// never ran.
func TestMetricsOfAPlatformThatNeverRan(t *testing.T) {
	p, err := core.NewPlatform(core.PlatformConfig{VCPUs: 2, NoPin: true, Hists: []string{"extra"}})
	if err != nil {
		t.Fatal(err)
	}
	extra, _ := p.HistID("extra")
	p.Record(1, extra, 42)
	p.Stop()
	done := make(chan *core.Metrics)
	go func() { done <- p.Metrics() }()
	select {
	case m := <-done:
		if h := m.Hist("extra"); h.TotalCount() != 1 || h.Max() != 42 {
			t.Errorf("extra = %d values, max %d; want the one 42 recorded before Start", h.TotalCount(), h.Max())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Metrics of a platform that never ran does not return")
	}
}

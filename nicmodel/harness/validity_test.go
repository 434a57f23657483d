package harness

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
)

// calm is what a quiet host shows a run: every figure well inside DefaultLimits.
func calm() observed {
	return observed{
		measured: 1000, delivered: 990, offered: 1000, lagMax: int64(20 * time.Microsecond),
		gaps: []int64{int64(100 * time.Microsecond), int64(200 * time.Microsecond)},
		host: &affinity.Interference{Window: time.Second, CPUs: 2, OtherNs: int64(10 * time.Millisecond)},
		rtt:  [2]float64{140, 150},
	}
}

// TestJudgeEachReason proves the verdict in the failing direction: each kind of
// interference, alone, makes a calm run invalid (or warns), and says which.
func TestJudgeEachReason(t *testing.T) {
	lim := DefaultLimits()
	if v := judge(calm(), lim); !v.Valid || len(v.Warnings) != 0 {
		t.Fatalf("calm run: %+v", v)
	}
	cases := []struct {
		name    string
		change  func(o *observed)
		invalid string // a word of the reason; "" for a warning
		warning string
	}{
		{"nothing sent", func(o *observed) { o.measured, o.delivered, o.offered = 0, 0, 0 }, "no packet was sent", ""},
		{"nothing delivered", func(o *observed) { o.delivered = 0 }, "none of the 1000 packets", ""},
		{"generator fell short", func(o *observed) { o.offered = 2000 }, "sent 50.0% of the packets", ""},
		{"generator stalled", func(o *observed) { o.lagMax = int64(2 * time.Second) }, "generator fell behind its schedule for 2s", ""},
		{"generator late", func(o *observed) { o.lagMax = int64(7 * time.Millisecond) }, "", "generator fell behind its schedule for 7ms"},
		{"vCPU stalled", func(o *observed) { o.gaps[1] = int64(300 * time.Millisecond) }, "vCPU 1 went without a turn", ""},
		{"vCPU hiccup", func(o *observed) { o.gaps[0] = int64(6 * time.Millisecond) }, "", "vCPU 0 went without a turn"},
		{"busy neighbours", func(o *observed) { o.host.OtherNs = int64(time.Second) }, "other processes used 50%", ""},
		{"some neighbours", func(o *observed) { o.host.OtherNs = int64(100 * time.Millisecond) }, "", "other processes used 5.0%"},
		{"steal", func(o *observed) { o.host.StealNs = int64(200 * time.Millisecond) }, "hypervisor took 10%", ""},
		{"clamped", func(o *observed) { o.clamped = map[string]uint64{"packet_latency": 3} }, "3 values of packet_latency", ""},
		{"moved CPUs", func(o *observed) { o.rtt = [2]float64{140, 450} }, "", "140 ns to 450 ns"},
		{"host unknown", func(o *observed) { o.host = nil }, "", "host CPU use not known"},
		{"oversubscribed", func(o *observed) { o.oversubscribed = true }, "", "shared CPUs"},
	}
	for _, c := range cases {
		o := calm()
		c.change(&o)
		v := judge(o, lim)
		if c.invalid != "" {
			if v.Valid || !strings.Contains(strings.Join(v.Reasons, "\n"), c.invalid) {
				t.Errorf("%s: valid %v, reasons %q; want invalid with %q", c.name, v.Valid, v.Reasons, c.invalid)
			}
			continue
		}
		if !v.Valid || !strings.Contains(strings.Join(v.Warnings, "\n"), c.warning) {
			t.Errorf("%s: valid %v, warnings %q; want valid with %q", c.name, v.Valid, v.Warnings, c.warning)
		}
	}
	// What was seen is recorded whatever the verdict.
	o := calm()
	o.host.StealNs = int64(10 * time.Millisecond)
	v := judge(o, lim)
	if in := v.Interference; in.OtherCPUNs != o.host.OtherNs || in.StealNs != o.host.StealNs || in.OtherCPUPct != 1 ||
		in.GeneratorLagMaxNs != o.lagMax || len(in.VCPUGapMaxNs) != 2 || in.CacheLineRTTNs != o.rtt {
		t.Errorf("interference %+v from %+v", in, o)
	}
	if v := judge(observed{measured: 1, delivered: 1}, lim); v.Interference.OtherCPUPct != -1 || v.Interference.StealNs != -1 {
		t.Errorf("unknown host: %+v, want -1s", v.Interference)
	}
}

// TestRunBeyondTheGenerator: a rate no generator reaches ends on time, counts what it
// never sent as offered, and is judged invalid (issue: -rate 1e9 ran for minutes and
// printed a confident result).
func TestRunBeyondTheGenerator(t *testing.T) {
	sc := scenario.Scenario{Mode: nicmodel.ModeMSIX, VCPUs: 1, Queues: 1, Idle: core.IdleSpinPark,
		Duration: 100 * time.Millisecond, Warmup: 10 * time.Millisecond, NoPin: true}
	sc.Schedule.RatePPS = scenario.MaxRatePPS // 10 ns a packet: beyond any generator here
	start := time.Now()
	rep, err := Run(context.Background(), sc, Options{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Not a speed assertion: at this rate the old generator took 1e7 packets' time
	// (minutes); a test timeout, not this bound, is what would catch a regression.
	t.Logf("ran %v; offered %.3g pps, generated %.3g pps", time.Since(start), rep.OfferedPPS, rep.GeneratedPPS)
	if rep.offered < 1e6 || float64(rep.Counters["measured_generated"]) >= rep.offered {
		t.Errorf("offered %.0f packets, generated %d: want the unsent counted as offered", rep.offered, rep.Counters["measured_generated"])
	}
	if rep.Validity.Valid || !strings.Contains(strings.Join(rep.Validity.Reasons, "\n"), "the generator sent") {
		t.Errorf("verdict %+v: want invalid, the generator fell short", rep.Validity)
	}
}

// TestRunCarriesItsVerdict: Options.Limits reaches the verdict, and the verdict records
// what the run saw whatever it decides.
func TestRunCarriesItsVerdict(t *testing.T) {
	sc := scenario.Scenario{Mode: nicmodel.ModeMSIX, VCPUs: 1, Queues: 1, Idle: core.IdleSpinPark,
		Duration: 30 * time.Millisecond, Warmup: 5 * time.Millisecond, NoPin: true}
	sc.Schedule.RatePPS = 50e3
	strict := DefaultLimits()
	strict.GeneratorLag = -1 // any lag at all, even 0, is too much
	rep, err := Run(context.Background(), sc, Options{Limits: &strict})
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Validity
	if v.Valid || !strings.Contains(strings.Join(v.Reasons, "\n"), "generator fell behind") {
		t.Errorf("strict limits: %+v, want invalid for the generator's lag", v)
	}
	if v.Interference.GeneratorLagMaxNs != rep.BehindMaxNs {
		t.Errorf("lag %d recorded, report says %d", v.Interference.GeneratorLagMaxNs, rep.BehindMaxNs)
	}
}

// TestHostWatchCPUs: the interference is measured on the CPUs the run used, not on
// every CPU allowed (another process on a vCPU's CPU must not be averaged away over
// sixteen).
func TestHostWatchCPUs(t *testing.T) {
	cases := []struct {
		cpus   affinity.CPUList
		vcpus  int
		gen    int
		want   affinity.CPUList
		wantRT [2]int
	}{
		{affinity.CPUList{0, 1, 2, 3, 4, 5, 6, 7}, 1, 1, affinity.CPUList{0, 1}, [2]int{0, 1}},
		{affinity.CPUList{4, 5, 6, 7}, 2, 6, affinity.CPUList{4, 5, 6}, [2]int{4, 6}},
		{affinity.CPUList{0, 1}, 3, -1, affinity.CPUList{0, 1}, [2]int{0, 1}}, // vCPUs share CPUs
		{affinity.CPUList{3}, 1, -1, affinity.CPUList{3}, [2]int{-1, -1}},
		{affinity.CPUList{3}, 1, 3, affinity.CPUList{3}, [2]int{-1, -1}}, // the generator on the vCPU's CPU
	}
	for _, c := range cases {
		w := newHostWatch(c.cpus, c.vcpus, true, c.gen)
		if w.cpus.String() != c.want.String() || w.pair != c.wantRT {
			t.Errorf("%v, %d vCPUs, generator %d: cpus %v pair %v; want %v pair %v", c.cpus, c.vcpus, c.gen, w.cpus, w.pair, c.want, c.wantRT)
		}
	}
}

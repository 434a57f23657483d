package main

import (
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

func tableOf(t *testing.T, res *results.Result, headline string) string {
	t.Helper()
	var b strings.Builder
	printRunTable(&b, defOf(t, res, headline), res)
	return b.String()
}

// lineWith returns the lines of out that contain s.
func linesWith(out, s string) []string {
	var found []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			found = append(found, l)
		}
	}
	return found
}

// TestTableGolden pins the whole output of a scenario with drops, a generator that fell
// behind, an invalid run, a superseded attempt and a clamped histogram.
func TestTableGolden(t *testing.T) {
	res := fakeResult(t, "msi-vs-line",
		fakeRun{name: "msix", rep: 0, lat: vals(1500, 1000), isr: vals(120, 500), batch: vals(3, 400)},
		fakeRun{name: "line", rep: 0, lat: vals(1900, 270), dropped: 730, behind: 2e5, isr: vals(700, 500), batch: vals(64, 20),
			validity: &results.Validity{Reasons: []string{"generator fell 200 ms behind its schedule"}, Superseded: true}},
		fakeRun{name: "line", rep: 0, attempt: 1, lat: vals(1800, 990), dropped: 10, isr: vals(650, 500), batch: vals(4, 300),
			validity: &results.Validity{Valid: true, Interference: results.Interference{CacheLineRTTNs: [2]float64{131, 140}, OtherCPUPct: 0.3}}},
		fakeRun{name: "msix", rep: 1, lat: append(vals(1400, 997), 10e9, 10e9, 10e9), isr: vals(130, 500), batch: vals(3, 400),
			validity: &results.Validity{Reasons: []string{"vCPU 0 stalled 40 ms", "steal 12%"},
				Interference: results.Interference{Clamped: map[string]uint64{metric.PacketLatency: 3}, CacheLineRTTNs: [2]float64{140, 522}, OtherCPUPct: 12.4}}},
		fakeRun{name: "line", rep: 1, lat: vals(2000, 1000), isr: vals(680, 500), batch: vals(4, 300)},
	)
	res.Env.ClockSource = "tsc"
	golden(t, "table.golden", tableOf(t, res, msixVsLine))
}

// TestTableFlagsInvalidRuns: a run that is not a measurement is marked, and its reasons
// are on the line right under its row.
func TestTableFlagsInvalidRuns(t *testing.T) {
	res := fakeResult(t, "msi-vs-line",
		fakeRun{name: "msix", lat: vals(100, 10), validity: &results.Validity{Reasons: []string{"vCPU 0 stalled 40 ms", "steal 12%"}}},
		fakeRun{name: "line", lat: vals(100, 10)})
	lines := strings.Split(tableOf(t, res, ""), "\n")
	for i, l := range lines {
		if !strings.Contains(l, "msix (invalid)") {
			continue
		}
		if want := "    ↳ msix rep 0: not valid: vCPU 0 stalled 40 ms; steal 12%"; lines[i+1] != want {
			t.Errorf("under the flagged row: %q, want %q", lines[i+1], want)
		}
		if !strings.HasPrefix(strings.TrimSpace(lines[i+2]), "line ") {
			t.Errorf("the next run's row does not follow the warning: %q", lines[i+2])
		}
		return
	}
	t.Errorf("no row marked invalid:\n%s", strings.Join(lines, "\n"))
}

// TestTableEmptyAndClampedFigures: an empty histogram's figures are "–"; a clamped
// histogram's top figures are floors at its ceiling, never a figure.
func TestTableEmptyAndClampedFigures(t *testing.T) {
	res := fakeResult(t, "x",
		fakeRun{name: "a", lat: append(vals(100, 995), vals(10e9, 5)...), isr: vals(200, 10)},
		fakeRun{name: "b", lat: vals(300, 10)})
	res.Runs[0].Validity = &results.Validity{Valid: true, Interference: results.Interference{Clamped: map[string]uint64{metric.PacketLatency: 5}}}
	out := tableOf(t, res, "")
	a, b := linesWith(out, "  a  "), linesWith(out, "  b  ")
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("rows:\n%s", out)
	}
	// a: batch empty; latency p50 100 ns, p99 100 ns, p99.9 and max clamped.
	if row := strings.Join(strings.Fields(a[0]), " "); !strings.HasSuffix(row, " 0 – – – 200 ns 200 ns 200 ns 100 ns 100 ns ≥ 10.00 s ≥ 10.00 s") {
		t.Errorf("row a: %q", a[0])
	}
	// b: no ISR→DPC figures.
	if row := strings.Join(strings.Fields(b[0]), " "); !strings.HasSuffix(row, " 0 – – – – – – 300 ns 300 ns 300 ns 300 ns") {
		t.Errorf("row b: %q", b[0])
	}
	if !strings.Contains(out, "≥: the histogram recorded values above its ceiling as the ceiling") {
		t.Errorf("no note on ≥:\n%s", out)
	}
}

// TestTableGeneratedAndLossAwareOnlyWhenNeeded: the generated rate is a column when the
// generator fell behind (so that offered ≠ achieved + drops is explained), loss-aware
// latency when a run dropped packets.
func TestTableGeneratedAndLossAwareOnlyWhenNeeded(t *testing.T) {
	calm := fakeResult(t, "x", fakeRun{name: "a", lat: vals(100, 10)}, fakeRun{name: "b", lat: vals(100, 10)})
	out := tableOf(t, calm, "")
	for _, s := range []string{"generated", "loss-aware", "lost"} {
		if strings.Contains(out, s) {
			t.Errorf("a run that kept up shows %q:\n%s", s, out)
		}
	}
	behind := fakeResult(t, "x",
		fakeRun{name: "a", lat: vals(100, 27), dropped: 73, behind: 400e3},
		fakeRun{name: "b", lat: vals(100, 10)})
	out = tableOf(t, behind, "")
	head := strings.Fields(linesWith(out, "offered")[0])
	if strings.Join(head[:6], " ") != "run rep offered generated achieved drop" {
		t.Errorf("heading: %q", head)
	}
	// a: offered 1.000, generated 0.600, achieved 0.600 × 27% = 0.162, drop 73%;
	// loss-aware p50, p99, p99.9 all lost.
	f := strings.Fields(linesWith(out, "  a  ")[0])
	if got := strings.Join(f[2:6], " "); got != "1.000 0.600 0.162 73.00" {
		t.Errorf("a's rates: %s", got)
	}
	if got := strings.Join(f[len(f)-3:], " "); got != "lost lost lost" {
		t.Errorf("a's loss-aware figures: %s", got)
	}
	for _, s := range []string{"generated: the rate the generator managed", "loss-aware: latency with every dropped packet"} {
		if !strings.Contains(out, s) {
			t.Errorf("no note %q:\n%s", s, out)
		}
	}
}

// TestTableHostLine: the header's host line gives the clock source, the range of the
// cache-line round trips measured around the runs (0: not measured, left out) and of
// what other processes took; a figure that did not move is given once.
func TestTableHostLine(t *testing.T) {
	v := func(rtt [2]float64, other float64) *results.Validity {
		return &results.Validity{Valid: true, Interference: results.Interference{CacheLineRTTNs: rtt, OtherCPUPct: other, StealNs: -1, OtherCPUNs: -1}}
	}
	res := fakeResult(t, "msi-vs-line",
		fakeRun{name: "msix", lat: vals(100, 10), validity: v([2]float64{131, 0}, 0.4)},
		fakeRun{name: "line", lat: vals(100, 10), validity: v([2]float64{452.4, 140}, 2.35)})
	res.Env.ClockSource = "tsc"
	out := tableOf(t, res, "")
	if want := "\nhost: clocksource tsc, cache-line round trip 131–452 ns, other processes and steal 0.4–2.4% of the runs' CPUs\n"; !strings.Contains(out, want) {
		t.Errorf("want %q in\n%s", want, out)
	}
	res = fakeResult(t, "msi-vs-line", fakeRun{name: "msix", lat: vals(100, 10), validity: v([2]float64{120, 120.3}, -1)})
	out = tableOf(t, res, "")
	if want := "\nhost: clocksource unknown, cache-line round trip 120 ns\n"; !strings.Contains(out, want) {
		t.Errorf("want %q in\n%s", want, out)
	}
}

// TestTableHeaderAndPerRunSettings: what every run had is in the header; what differed
// is a column.
func TestTableHeaderAndPerRunSettings(t *testing.T) {
	res := fakeResult(t, "handoff",
		fakeRun{name: "spin", idle: "spin", genCPU: -1, lat: vals(100, 10)},
		fakeRun{name: "park", idle: "spin-park", genCPU: -1, lat: vals(100, 10)})
	out := tableOf(t, res, "")
	want := "vCPUs 1 on CPU 0, queues 1, rate 1.000 Mpps, pinned yes, oversubscribed no, generator unpinned, per run: idle; machine: 2 CPUs, GOMAXPROCS 3, clock 30 ns/read\n"
	if !strings.Contains(out, want) {
		t.Errorf("header: want %q in\n%s", want, out)
	}
	if f := strings.Fields(linesWith(out, "  park  ")[0]); f[2] != "spin-park" {
		t.Errorf("park's idle column: %q", f)
	}
	shared := fakeResult(t, "x", fakeRun{name: "a", vcpus: 2, lat: vals(100, 10)})
	if out := tableOf(t, shared, ""); !strings.Contains(out, "vCPUs 2 on CPUs 0-1, ") || !strings.Contains(out, "generator CPU 1 (shared with a vCPU)") {
		t.Errorf("two vCPUs on CPUs 0-1, generator on 1:\n%s", out)
	}
}

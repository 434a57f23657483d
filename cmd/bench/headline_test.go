package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fakeRun is a run built by hand for the output tests: every figure is chosen.
type fakeRun struct {
	name     string
	rep      int
	attempt  int
	offered  float64 // pps; 0: 1 Mpps
	achieved float64 // pps; 0: offered less the drops
	behind   float64 // pps the generator fell short of offered
	lat      []int64 // packet_latency values, ns: the delivered packets
	dropped  uint64  // measured packets dropped
	isr      []int64 // isr_to_dpc values, ns
	batch    []int64 // dpc_batch_size values
	idle     string  // "": spin-park
	vcpus    int     // 0: 1
	genCPU   int     // the generator's CPU; 0: CPU 1
	validity *results.Validity
}

// summary returns a summary of vals in the standard latency range (1 ns to 10 s).
func summary(t *testing.T, unit string, vals ...int64) results.Histogram {
	t.Helper()
	h := hdrhistogram.New(1, 10e9, 3)
	for _, v := range vals {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	s, err := results.Summarize(h, unit)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeResult returns a valid result of runs, as bench run would print it.
func fakeResult(t *testing.T, scenario string, runs ...fakeRun) *results.Result {
	t.Helper()
	start := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	res := results.New(scenario, results.Environment{GOMAXPROCS: 3, NumCPU: 2, ClockCostNs: 30})
	res.Started, res.Finished = start, start.Add(time.Minute)
	for _, f := range runs {
		if f.offered == 0 {
			f.offered = 1e6
		}
		if f.idle == "" {
			f.idle = "spin-park"
		}
		if f.vcpus == 0 {
			f.vcpus = 1
		}
		if f.genCPU == 0 {
			f.genCPU = 1
		}
		measured := uint64(len(f.lat)) + f.dropped
		dropPct := 0.0
		if measured > 0 {
			dropPct = 100 * float64(f.dropped) / float64(measured)
		}
		generated := f.offered - f.behind
		if f.achieved == 0 {
			f.achieved = generated * (1 - dropPct/100)
		}
		cfg, _ := json.Marshal(map[string]any{"vcpus": f.vcpus, "queues": 1, "idle": f.idle, "rate_pps": f.offered, "schedule": "constant"})
		res.Runs = append(res.Runs, results.Run{
			Name: f.name, Repetition: f.rep, Attempt: f.attempt, Config: cfg, Started: start, DurationNs: int64(time.Second),
			Platform: &results.Platform{VCPUs: f.vcpus, CPUs: "0-1", Pinned: true, GOMAXPROCS: 3, Idle: f.idle, GeneratorCPU: f.genCPU},
			Counters: map[string]uint64{
				metric.MeasuredGenerated: measured, metric.MeasuredDropped: f.dropped, metric.MeasuredIRQs: uint64(len(f.batch)),
			},
			Rates: results.Rates{OfferedPPS: f.offered, GeneratedPPS: generated, AchievedPPS: f.achieved, DropPct: dropPct,
				BehindMaxNs: int64(f.behind / f.offered * 1e9)}, // the generator's shortfall, at the end of a 1 s run
			Histograms: map[string]results.Histogram{
				metric.PacketLatency: summary(t, metric.Nanoseconds, f.lat...),
				metric.ISRToDPC:      summary(t, metric.Nanoseconds, f.isr...),
				metric.DPCBatchSize:  summary(t, metric.NBLs, f.batch...),
			},
			Validity: f.validity,
		})
	}
	if err := res.Validate(); err != nil {
		t.Fatal(err)
	}
	return res
}

// defOf returns a scenario with the runs of res and the headline given in YAML.
func defOf(t *testing.T, res *results.Result, headline string) *scenarioDef {
	t.Helper()
	var b strings.Builder
	b.WriteString("name: " + res.Scenario + "\nruns:\n")
	seen := map[string]bool{}
	for _, r := range res.Runs {
		if !seen[r.Name] {
			seen[r.Name] = true
			b.WriteString("  - {name: \"" + r.Name + "\"}\n")
		}
	}
	if headline != "" {
		b.WriteString("headline:\n" + headline)
	}
	f, err := scenario.ParseFile("test.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return &scenarioDef{File: f, source: "file test.yaml"}
}

func headlineOf(t *testing.T, def *scenarioDef, res *results.Result) string {
	t.Helper()
	var b strings.Builder
	writeHeadline(&b, def, res)
	return b.String()
}

// vals returns n copies of v.
func vals(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

const msixVsLine = `  - {metric: achieved_pps, compare: [msix, line]}
  - {metric: packet_latency, stats: [p50, p99], compare: [msix, line]}
`

// TestHeadlineMedianSpreadAndRatios: three repetitions give each run's median and
// range, and the ratio of the pair taken repetition by repetition (repetition 1's 2×
// is not the ratio of the medians).
func TestHeadlineMedianSpreadAndRatios(t *testing.T) {
	res := fakeResult(t, "msi-vs-line",
		fakeRun{name: "msix", rep: 0, achieved: 900e3, lat: vals(100, 10)},
		fakeRun{name: "line", rep: 0, achieved: 450e3, lat: vals(400, 10)},
		fakeRun{name: "msix", rep: 1, achieved: 500e3, lat: vals(200, 10)},
		fakeRun{name: "line", rep: 1, achieved: 1000e3, lat: vals(200, 10)},
		fakeRun{name: "msix", rep: 2, achieved: 800e3, lat: vals(300, 10)},
		fakeRun{name: "line", rep: 2, achieved: 800e3, lat: vals(600, 10)},
	)
	got := headlineOf(t, defOf(t, res, msixVsLine), res)
	want := `headline (median [min–max] of 3 repetitions):
  achieved_pps: msix 0.800 Mpps [0.500–0.900 Mpps] vs line 0.800 Mpps [0.450–1.000 Mpps]; msix/line 1.00× [0.50×–2.00×]
  packet_latency p50: msix 200 ns [100–300 ns] vs line 400 ns [200–600 ns]; msix/line 0.50× [0.25×–1.00×]
  packet_latency p99: msix 200 ns [100–300 ns] vs line 400 ns [200–600 ns]; msix/line 0.50× [0.25×–1.00×]
`
	if got != want {
		t.Errorf("headline:\n%s\nwant:\n%s", got, want)
	}
}

// TestHeadlineSaysHowManySamples: with one or two repetitions the headline says so
// instead of inventing a spread.
func TestHeadlineSaysHowManySamples(t *testing.T) {
	one := fakeResult(t, "msi-vs-line",
		fakeRun{name: "msix", achieved: 900e3, lat: vals(100, 10)},
		fakeRun{name: "line", achieved: 600e3, lat: vals(300, 10)})
	got := headlineOf(t, defOf(t, one, msixVsLine), one)
	for _, want := range []string{
		"headline (one sample per run, so no spread: -count 3 or more gives a median and a spread):",
		"achieved_pps: msix 0.900 Mpps vs line 0.600 Mpps; msix/line 1.50×\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("one repetition: headline lacks %q:\n%s", want, got)
		}
	}
	two := fakeResult(t, "msi-vs-line",
		fakeRun{name: "msix", rep: 0, achieved: 900e3, lat: vals(100, 10)},
		fakeRun{name: "line", rep: 0, achieved: 600e3, lat: vals(300, 10)},
		fakeRun{name: "msix", rep: 1, achieved: 700e3, lat: vals(100, 10)},
		fakeRun{name: "line", rep: 1, achieved: 700e3, lat: vals(300, 10)})
	got = headlineOf(t, defOf(t, two, msixVsLine), two)
	for _, want := range []string{
		"headline (two samples per run: their median [both]; -count 3 or more gives a spread):",
		"achieved_pps: msix 0.800 Mpps [0.900, 0.700 Mpps] vs line 0.650 Mpps [0.600, 0.700 Mpps]; msix/line 1.25× [1.50×, 1.00×]",
		"packet_latency p50: msix 100 ns [both] vs line 300 ns [both]; msix/line 0.33× [both]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("two repetitions: headline lacks %q:\n%s", want, got)
		}
	}
}

// TestHeadlineBothKeptUp: when both runs delivered what was offered with no drops, the
// throughput line says so rather than "1.00×".
func TestHeadlineBothKeptUp(t *testing.T) {
	res := fakeResult(t, "msi-vs-line",
		fakeRun{name: "msix", achieved: 999e3, lat: vals(100, 10)},
		fakeRun{name: "line", achieved: 1e6, lat: vals(300, 10)})
	got := headlineOf(t, defOf(t, res, msixVsLine), res)
	want := "achieved_pps: msix and line both kept up with the offered 1.000 Mpps (no drops): this rate does not tell them apart\n"
	if !strings.Contains(got, want) || strings.Contains(got, "1.00×") {
		t.Errorf("headline:\n%s\nwant the line %q and no 1.00×", got, want)
	}
	// One drop is not keeping up: the ratio is back, and the drops are named.
	res = fakeResult(t, "msi-vs-line",
		fakeRun{name: "msix", achieved: 999e3, lat: vals(100, 9999), dropped: 1},
		fakeRun{name: "line", achieved: 1e6, lat: vals(300, 10)})
	got = headlineOf(t, defOf(t, res, msixVsLine), res)
	for _, want := range []string{"msix/line 1.00×", "  drops: msix 0.01%\n", "packet_latency p50 loss-aware:"} {
		if !strings.Contains(got, want) {
			t.Errorf("with a drop: headline lacks %q:\n%s", want, got)
		}
	}
}

// TestHeadlineLossAware: a run that dropped most of its packets has its latency
// percentiles lost, not the survivors' figures (issue 10: 73% drops, p50 775 ns).
func TestHeadlineLossAware(t *testing.T) {
	res := fakeResult(t, "msi-vs-line",
		fakeRun{name: "msix", lat: vals(100, 100)},
		fakeRun{name: "line", lat: vals(775, 27), dropped: 73})
	got := headlineOf(t, defOf(t, res, msixVsLine), res)
	for _, want := range []string{
		"packet_latency p50 loss-aware: msix 100 ns vs line lost; msix/line n/a\n",
		"packet_latency p99 loss-aware: msix 100 ns vs line lost; msix/line n/a\n",
		"  drops: line 73.00%\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("headline lacks %q:\n%s", want, got)
		}
	}
}

// TestHeadlineNAndDash: a zero denominator gives "n/a", an empty histogram "–", and a
// metric with no values in any run says so.
func TestHeadlineNAndDash(t *testing.T) {
	res := fakeResult(t, "x",
		fakeRun{name: "a", achieved: 5e5, lat: vals(100, 10), isr: vals(0, 10), batch: vals(4, 10)},
		fakeRun{name: "b", achieved: 1, behind: 1e6 - 1, isr: vals(0, 10)})
	res.Runs[1].Rates.AchievedPPS = 0
	got := headlineOf(t, defOf(t, res, `  - {metric: achieved_pps, compare: [a, b]}
  - {metric: isr_to_dpc, stats: [p50], compare: [a, b]}
  - {metric: dpc_batch_size, stats: [p50], compare: [a, b]}
  - {metric: isr_to_dpc_cross_cpu, stats: [p99], series: [a, b]}
`), res)
	for _, want := range []string{
		"achieved_pps: a 0.500 Mpps vs b 0.000 Mpps; a/b n/a\n",
		"isr_to_dpc p50: a 0 ns vs b 0 ns; a/b n/a\n",
		"dpc_batch_size p50: a 4 vs b –; a/b –\n",
		"isr_to_dpc_cross_cpu p99: no values in any run\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("headline lacks %q:\n%s", want, got)
		}
	}
}

// TestHeadlineLeavesOutInvalidRuns: invalid and superseded runs are not in the figures,
// and the headline counts them; with none left there is no headline.
func TestHeadlineLeavesOutInvalidRuns(t *testing.T) {
	bad := &results.Validity{Reasons: []string{"vCPU 0 stalled 40 ms"}}
	superseded := &results.Validity{Reasons: []string{"generator 12 ms behind"}, Superseded: true}
	res := fakeResult(t, "msi-vs-line",
		fakeRun{name: "msix", rep: 0, achieved: 100e3, lat: vals(9000, 10), validity: superseded},
		fakeRun{name: "msix", rep: 0, attempt: 1, achieved: 900e3, lat: vals(100, 10), validity: &results.Validity{Valid: true}},
		fakeRun{name: "line", rep: 0, achieved: 600e3, lat: vals(300, 10)},
		fakeRun{name: "msix", rep: 1, achieved: 800e3, lat: vals(100, 10)},
		fakeRun{name: "line", rep: 1, achieved: 100e3, lat: vals(5000, 10), validity: bad},
		fakeRun{name: "msix", rep: 2, achieved: 700e3, lat: vals(100, 10)},
	)
	got := headlineOf(t, defOf(t, res, msixVsLine), res)
	for _, want := range []string{
		"headline (median [min–max] of 3 repetitions):",
		"achieved_pps: msix 0.800 Mpps [0.700–0.900 Mpps] vs line 0.600 Mpps; msix/line 1.50×\n",
		"  2 of 6 runs left out: 1 invalid, 1 superseded by a retry\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("headline lacks %q:\n%s", want, got)
		}
	}
	res.Runs = res.Runs[2:5]
	res.Runs[0].Validity, res.Runs[1].Validity = bad, bad
	got = headlineOf(t, defOf(t, res, msixVsLine), res)
	if want := "headline: none: all 3 runs left out (invalid)\n"; got != want {
		t.Errorf("all invalid: %q, want %q", got, want)
	}
	res.Runs[2].Validity = nil // line rep 1 alone: msix has no measurement left
	got = headlineOf(t, defOf(t, res, msixVsLine), res)
	for _, want := range []string{"achieved_pps: no headline: msix, every run of it was left out", "  2 of 3 runs left out: invalid\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("headline lacks %q:\n%s", want, got)
		}
	}
}

// TestHeadlineWhoseRunsAreAllLeftOut: other runs were measurements, the headline's
// were not.
func TestHeadlineWhoseRunsAreAllLeftOut(t *testing.T) {
	bad := &results.Validity{Reasons: []string{"vCPU 0 stalled 40 ms"}}
	res := fakeResult(t, "x", fakeRun{name: "a", validity: bad}, fakeRun{name: "b", validity: bad}, fakeRun{name: "c"})
	got := headlineOf(t, defOf(t, res, "  - {metric: achieved_pps, compare: [a, b]}\n"), res)
	want := `headline (none of its runs is left):
  achieved_pps: no headline: a, every run of it was left out
  2 of 3 runs left out: invalid
`
	if got != want {
		t.Errorf("headline:\n%s\nwant:\n%s", got, want)
	}
}

// TestHeadlineSeriesAndMinVCPUs: a series shows every run in order; a line that needs
// more vCPUs than the runs had says it compares nothing.
func TestHeadlineSeriesAndMinVCPUs(t *testing.T) {
	res := fakeResult(t, "throttle",
		fakeRun{name: "throttle=1", batch: vals(1, 10), lat: vals(900, 10)},
		fakeRun{name: "throttle=8", batch: vals(8, 10), lat: vals(500, 10)},
		fakeRun{name: "throttle=all", batch: vals(40, 10), lat: vals(300, 10)})
	got := headlineOf(t, defOf(t, res, `  - {metric: dpc_batch_size, stats: [p50], series: [throttle=1, throttle=8, throttle=all]}
  - {metric: packet_latency, stats: [p99], label: all caps, series: [throttle=1, throttle=8, throttle=all]}
  - {metric: packet_latency, stats: [p99], compare: [throttle=1, throttle=8], min_vcpus: 2}
`), res)
	for _, want := range []string{
		"  dpc_batch_size p50: throttle=1 1, throttle=8 8, throttle=all 40\n",
		"  packet_latency p99 (all caps): throttle=1 900 ns, throttle=8 500 ns, throttle=all 300 ns\n",
		"  packet_latency: compares nothing here: the runs had 1 vCPU, and differ only with 2 or more\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("headline lacks %q:\n%s", want, got)
		}
	}
}

// TestHeadlineClampedIsAFloor: a figure among values clamped at the histogram's ceiling
// is shown as "≥", and gives no ratio.
func TestHeadlineClampedIsAFloor(t *testing.T) {
	res := fakeResult(t, "msi-vs-line",
		fakeRun{name: "msix", lat: append(vals(100, 98), 10e9, 10e9)},
		fakeRun{name: "line", lat: vals(300, 100)})
	res.Runs[0].Validity = &results.Validity{Valid: true, Interference: results.Interference{Clamped: map[string]uint64{metric.PacketLatency: 2}}}
	got := headlineOf(t, defOf(t, res, msixVsLine), res)
	for _, want := range []string{
		"packet_latency p50: msix 100 ns vs line 300 ns; msix/line 0.33×\n",
		"packet_latency p99: msix ≥ 10.00 s vs line 300 ns; msix/line n/a\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("headline lacks %q:\n%s", want, got)
		}
	}
}

// TestHeadlineOnlyWhereDeclared: a file without a headline key gets none, never its
// first run against its last; a replay says why it has none.
func TestHeadlineOnlyWhereDeclared(t *testing.T) {
	res := fakeResult(t, "mine", fakeRun{name: "a", lat: vals(1, 1)}, fakeRun{name: "b", lat: vals(1, 1)})
	def := defOf(t, res, "")
	if got, want := headlineOf(t, def, res), "headline: none: its file declares none (key \"headline\")\n"; got != want {
		t.Errorf("no headline key: %q, want %q", got, want)
	}
	def.replay = true
	if got := headlineOf(t, def, res); !strings.Contains(got, "headline: none: a replay") {
		t.Errorf("replay: %q", got)
	}
}

// TestBuiltinHeadlines: every built-in scenario declares a headline, and msi-sync's and
// rss's need two vCPUs.
func TestBuiltinHeadlines(t *testing.T) {
	for _, name := range builtinOrder {
		def, _, err := builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(def.Headline) == 0 {
			t.Errorf("%s declares no headline", name)
		}
		for _, h := range def.Headline {
			if (name == "msi-sync" || name == "rss") && h.MinVCPUs < 2 {
				t.Errorf("%s: %s compares nothing on one vCPU, yet min_vcpus is %d", name, h.Metric, h.MinVCPUs)
			}
		}
	}
	def, _, _ := builtin("handoff")
	for _, h := range def.Headline {
		kinds := map[bool]bool{}
		for _, r := range h.Runs() {
			kinds[strings.HasSuffix(r, ".same-cpu")] = true
		}
		if len(kinds) != 1 {
			t.Errorf("handoff: a line compares same-CPU with cross-CPU runs: %v", h.Runs())
		}
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestScenarioFileHeadlineEndToEnd: a user's file with a headline gets that headline,
// and one without gets none. (A run the host disturbed may be left out, and exit 3: the
// headline then says so.)
func TestScenarioFileHeadlineEndToEnd(t *testing.T) {
	ok := func(code int, out string, want string) bool {
		return (code == 0 || code == 3) && (strings.Contains(out, want) || strings.Contains(out, "left out"))
	}
	dir := t.TempDir()
	with := filepath.Join(dir, "with.yaml")
	os.WriteFile(with, []byte(`name: mine
runs: [{name: a, throttle: 4}, {name: b, throttle: 0}]
headline:
  - {metric: dpc_batch_size, stats: [max], series: [a, b]}
`), 0o644)
	out, stderr, code := runCLI(append([]string{"run", "-config", with, "-o", filepath.Join(dir, "o1")}, shortRun...)...)
	if !ok(code, out, "\n  dpc_batch_size max: a 4, b ") {
		t.Errorf("exit %d, %s\n%s", code, stderr, out)
	}
	without := filepath.Join(dir, "without.yaml")
	os.WriteFile(without, []byte("runs: [{name: a}, {name: b, mode: line}]\n"), 0o644)
	out, stderr, code = runCLI(append([]string{"run", "-config", without, "-o", filepath.Join(dir, "o2")}, shortRun...)...)
	if !ok(code, out, "headline: none: its file declares none") {
		t.Errorf("exit %d, %s\n%s", code, stderr, out)
	}
}

package compare

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

func two(mo model) map[string]model { return map[string]model{"msix": mo, "line": mo} }

func mustCompare(t *testing.T, base, new *Side, opt Options) *Report {
	t.Helper()
	rep, err := Compare(base, new, opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func regressed(rep *Report) []string {
	var names []string
	for _, r := range rep.Runs {
		for _, row := range r.Regressions() {
			names = append(names, r.Name+":"+row.Metric)
		}
	}
	return names
}

// TestSameCodeIsOK: two sets of 5 repetitions drawn from the same model (an A/A
// comparison) are decided and show no regression.
func TestSameCodeIsOK(t *testing.T) {
	rep := mustCompare(t, side(fakeResult(t, 1, 5, two(baseModel), "msix", "line")),
		side(fakeResult(t, 1000, 5, two(baseModel), "msix", "line")), Options{})
	if rep.Verdict != OK {
		t.Fatalf("verdict %s, regressions %v, reasons %v", rep.Verdict, regressed(rep), rep.Runs[0].Reasons)
	}
	if len(rep.Runs) != 2 || rep.Base.Used != 10 || rep.New.Used != 10 {
		t.Errorf("%d runs, %d+%d repetitions used", len(rep.Runs), rep.Base.Used, rep.New.Used)
	}
	r := row(t, runOf(t, rep, "msix"), "packet_latency.p99")
	if r.Base.N != 5 || r.New.N != 5 || r.ChangeUnit != Pct || r.Threshold != "+15%" || r.Level < 0.95 {
		t.Errorf("packet_latency.p99 row: %+v", r)
	}
}

// TestWorseNewIsARegression: NEW with latencies and DPCs 50% longer and a 10% lower
// rate regresses on those metrics, and names them; the same change the other way is
// an improvement and no regression.
func TestWorseNewIsARegression(t *testing.T) {
	worse := baseModel
	worse.scale, worse.achieved = 1.5, 0.9e6
	rep := mustCompare(t, side(fakeResult(t, 1, 5, two(baseModel), "msix", "line")),
		side(fakeResult(t, 1000, 5, two(worse), "msix", "line")), Options{})
	if rep.Verdict != Regression {
		t.Fatalf("verdict %s", rep.Verdict)
	}
	got := regressed(rep)
	for _, want := range []string{"msix:packet_latency.p50", "msix:packet_latency.p99", "msix:dpc_duration.p50", "msix:achieved_pps", "line:dpc_duration.p90"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s did not regress; regressions %v", want, got)
		}
	}
	r := row(t, runOf(t, rep, "msix"), "dpc_duration.p50")
	if c := float64(r.Change); c < 40 || c > 60 || !(float64(r.Lo) > 30) || float64(r.Hi) > 70 || float64(r.P) > 0.01 {
		t.Errorf("dpc_duration.p50: change %v [%v, %v] p %v, want ≈ +50%%, p 2/252", r.Change, r.Lo, r.Hi, r.P)
	}
	if r := row(t, runOf(t, rep, "msix"), "dpc_batch_size.p50"); r.Verdict != NotGated {
		t.Errorf("dpc_batch_size (better neither) is %s", r.Verdict)
	}
	if first := runOf(t, rep, "msix").Metrics[0]; first.Verdict != Regression {
		t.Errorf("the first row is %s, want the regressions first", first.Verdict)
	}
	// Swapped: an improvement, never gated.
	rep = mustCompare(t, side(fakeResult(t, 1000, 5, two(worse), "msix", "line")),
		side(fakeResult(t, 1, 5, two(baseModel), "msix", "line")), Options{})
	if rep.Verdict != OK || row(t, runOf(t, rep, "msix"), "dpc_duration.p50").Verdict != Improvement {
		t.Errorf("the better side second: verdict %s, dpc_duration.p50 %s", rep.Verdict, row(t, runOf(t, rep, "msix"), "dpc_duration.p50").Verdict)
	}
}

// TestTailOnlyRegression: NEW's slowest 1% of packets take 3× as long, the rest the
// same. p50 and p90 do not move; the distribution finds the regression from p99.5 on
// (the first grid percentile wholly inside the slowed tail; p99 sits at its edge).
func TestTailOnlyRegression(t *testing.T) {
	tail := baseModel
	tail.tailFrom, tail.tailScale = 0.99, 3
	rep := mustCompare(t, side(fakeResult(t, 1, 6, two(baseModel), "msix")),
		side(fakeResult(t, 1000, 6, two(tail), "msix")), Options{})
	run := runOf(t, rep, "msix")
	if rep.Verdict != Regression {
		t.Fatalf("verdict %s", rep.Verdict)
	}
	for _, name := range []string{"packet_latency.p50", "packet_latency.p90"} {
		if v := row(t, run, name).Verdict; v != Unchanged {
			t.Errorf("%s: %s, want unchanged", name, v)
		}
	}
	var d Distribution
	for _, x := range run.Distributions {
		if x.Histogram == "packet_latency" {
			d = x
		}
	}
	if !d.Gated || d.StartsAt != "p99.5" {
		t.Errorf("packet_latency distribution: gated %v, starts at %q, want p99.5; %s", d.Gated, d.StartsAt, d.Why)
	}
	if v := row(t, run, "packet_latency.p99.9").Verdict; v != Regression {
		t.Errorf("packet_latency.p99.9: %s", v)
	}
	// With 5 a side, Holm across 11 percentiles cannot reach 0.05: shown, not gated.
	rep = mustCompare(t, side(fakeResult(t, 1, 5, two(baseModel), "msix")),
		side(fakeResult(t, 1000, 5, two(tail), "msix")), Options{})
	for _, x := range runOf(t, rep, "msix").Distributions {
		if x.Gated || !strings.Contains(x.Why, "it takes 6 a side") {
			t.Errorf("%s with 5 a side: gated %v, %q", x.Histogram, x.Gated, x.Why)
		}
	}
}

// TestTooFewRepetitionsIsUndecided: 3 a side can never reach p ≤ 0.05, whatever the
// data: undecided, and it says why.
func TestTooFewRepetitionsIsUndecided(t *testing.T) {
	rep := mustCompare(t, side(fakeResult(t, 1, 3, two(baseModel), "msix")),
		side(fakeResult(t, 1000, 3, two(baseModel), "msix")), Options{})
	run := runOf(t, rep, "msix")
	if rep.Verdict != Undecided || run.Verdict != Undecided || !strings.Contains(strings.Join(run.Reasons, " "), "too few repetitions (3 base, 3 new)") {
		t.Errorf("verdict %s/%s, reasons %q", rep.Verdict, run.Verdict, run.Reasons)
	}
	// A regression is still one with a side of 3, when the other is large enough.
	worse := baseModel
	worse.scale = 2
	rep = mustCompare(t, side(fakeResult(t, 1, 3, two(baseModel), "msix")),
		side(fakeResult(t, 1000, 8, two(worse), "msix")), Options{})
	if rep.Verdict != Regression {
		t.Errorf("3 + 8, twice as slow: %s", rep.Verdict)
	}
}

// TestConfigMismatch: runs whose configs differ are not compared (undecided), unless
// forced (compared, noted) or the key is declared varied (compared, listed).
func TestConfigMismatch(t *testing.T) {
	other := baseModel
	other.config = map[string]any{"per_packet": "150ns"}
	other.scale = 1.5
	b := side(fakeResult(t, 1, 5, two(baseModel), "msix"))
	n := side(fakeResult(t, 1000, 5, two(other), "msix"))
	rep := mustCompare(t, b, n, Options{})
	run := runOf(t, rep, "msix")
	if rep.Verdict != Undecided || run.Compared || len(run.Metrics) != 0 {
		t.Errorf("mismatch: verdict %s, compared %v, %d rows", rep.Verdict, run.Compared, len(run.Metrics))
	}
	if want := "config per_packet: base 100ns, new 150ns"; !slices.Contains(run.Mismatches, want) {
		t.Errorf("mismatches %q, want %q", run.Mismatches, want)
	}
	rep = mustCompare(t, b, n, Options{Force: true})
	run = runOf(t, rep, "msix")
	if rep.Verdict != Regression || !run.Compared || len(run.Mismatches) == 0 || !strings.Contains(strings.Join(run.Reasons, " "), "-force") {
		t.Errorf("-force: verdict %s, compared %v, mismatches %q, reasons %q", rep.Verdict, run.Compared, run.Mismatches, run.Reasons)
	}
	rep = mustCompare(t, b, n, Options{Vary: []string{"per_packet"}})
	run = runOf(t, rep, "msix")
	if rep.Verdict != Regression || len(run.Mismatches) != 0 || !slices.Equal(run.Varied, []string{"per_packet: base 100ns, new 150ns"}) {
		t.Errorf("-vary per_packet: verdict %s, mismatches %q, varied %q", rep.Verdict, run.Mismatches, run.Varied)
	}
	if !slices.Contains(regressed(rep), "msix:dpc_duration.p50") {
		t.Errorf("-vary per_packet: regressions %v", regressed(rep))
	}
	// A vary key that did not differ is noted (a typo, or nothing varied).
	rep = mustCompare(t, b, b, Options{Vary: []string{"rate_pps"}})
	if !slices.ContainsFunc(rep.Notes, func(s string) bool { return strings.Contains(s, "-vary rate_pps: the same") }) {
		t.Errorf("notes %q", rep.Notes)
	}
}

// TestEnvironmentMismatch: another CPU model, GOMAXPROCS or ndisbench version between
// the sides, or within one, is a mismatch; another commit or host name is not.
func TestEnvironmentMismatch(t *testing.T) {
	b := fakeResult(t, 1, 5, two(baseModel), "msix")
	setRTT(b, 120, 130)
	for _, tt := range []struct {
		name   string
		change func(*results.Result)
		want   string // in the mismatches; "" for none
	}{
		{"cpu model", func(r *results.Result) { r.Env.CPUModel = "Other CPU" }, "environment cpu_model: base Test CPU @ 3.0GHz, new Other CPU"},
		{"gomaxprocs", func(r *results.Result) { r.Runs[0].Platform.GOMAXPROCS = 8 }, "gomaxprocs"},
		{"tool version", func(r *results.Result) { r.Env.ToolVersion = "v1.0.0" }, "tool_version"},
		{"go version", func(r *results.Result) { r.Env.GoVersion = "go1.27" }, "go_version"},
		{"unpinned", func(r *results.Result) {
			for i := range r.Runs {
				r.Runs[i].Platform.Pinned = false
			}
		}, "pinned"},
		{"commit and host", func(r *results.Result) { r.Env.Commit, r.Env.Hostname, r.Env.Kernel = "def456", "ci-7", "6.1" }, ""},
		{"tagged and untagged", func(r *results.Result) { r.Env.ToolVersion = "v0.0.0-20260102150405-abcdef123456" }, "tool_version: base devel, new v0.0.0 (pseudo-version)"},
		// The host moved the vCPUs apart for NEW: 500 ns round trips against BASE's 130.
		{"placement", func(r *results.Result) { setRTT(r, 480, 500) }, "machine state: median cache-line round trip base 130 ns, new 500 ns"},
		// Within PlacementRatio: the same placement, measured again.
		{"placement alike", func(r *results.Result) { setRTT(r, 150, 180) }, ""},
	} {
		n := fakeResult(t, 1000, 5, two(baseModel), "msix")
		setRTT(n, 120, 130)
		tt.change(n)
		run := runOf(t, mustCompare(t, side(b), side(n), Options{}), "msix")
		got := strings.Join(run.Mismatches, "\n")
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: mismatches %q, want %q", tt.name, got, tt.want)
		}
	}
	// Two commits built with go build in a checkout: pseudo-versions of one release.
	pb, pn := fakeResult(t, 1, 5, two(baseModel), "msix"), fakeResult(t, 1000, 5, two(baseModel), "msix")
	pb.Env.ToolVersion, pn.Env.ToolVersion = "v0.0.0-20260102150405-abcdef123456", "v0.0.0-20260103090000-0123456789ab+dirty"
	if run := runOf(t, mustCompare(t, side(pb), side(pn), Options{}), "msix"); len(run.Mismatches) != 0 {
		t.Errorf("two commits' pseudo-versions: %q", run.Mismatches)
	}
	// Within a side: two files of BASE from machines with different CPUs.
	o := fakeResult(t, 2000, 5, two(baseModel), "msix")
	o.Env.CPUModel = "Other CPU"
	run := runOf(t, mustCompare(t, side(b, o), side(b), Options{}), "msix")
	if !slices.ContainsFunc(run.Mismatches, func(s string) bool { return strings.HasPrefix(s, "base: environment cpu_model") }) {
		t.Errorf("within base: %q", run.Mismatches)
	}
}

// TestExcludedRepetitions: invalid, superseded and interrupted repetitions are left
// out and counted; an interrupted result's complete valid runs are used.
func TestExcludedRepetitions(t *testing.T) {
	n := fakeResult(t, 1000, 7, two(baseModel), "msix")
	n.Runs[0].Validity = &results.Validity{Reasons: []string{"steal 12%"}}
	n.Runs[1].Validity = &results.Validity{Reasons: []string{"vCPU 0 stalled"}, Superseded: true}
	n.Runs[2].Interrupted = true
	n.Interrupted = true
	rep := mustCompare(t, side(fakeResult(t, 1, 5, two(baseModel), "msix")), side(n), Options{})
	run := runOf(t, rep, "msix")
	want := Exclusions{Invalid: 1, Superseded: 1, Interrupted: 1}
	if run.NewN != 4 || run.NewExcluded != want || rep.New.Excluded != want || len(rep.New.Interrupted) != 1 {
		t.Errorf("new: %d used, excluded %+v (side %+v), interrupted files %q", run.NewN, run.NewExcluded, rep.New.Excluded, rep.New.Interrupted)
	}
	if got := want.String(); got != "1 invalid, 1 superseded, 1 interrupted" {
		t.Errorf("Exclusions.String() = %q", got)
	}
	// Every repetition of BASE invalid: nothing to compare it with.
	b := fakeResult(t, 1, 2, two(baseModel), "msix")
	for i := range b.Runs {
		b.Runs[i].Validity = &results.Validity{Reasons: []string{"steal"}}
	}
	run = runOf(t, mustCompare(t, side(b), side(n), Options{}), "msix")
	if run.Verdict != Undecided || !strings.Contains(strings.Join(run.Reasons, ""), "no valid repetition on base (2 invalid left out)") {
		t.Errorf("all base invalid: %s, %q", run.Verdict, run.Reasons)
	}
}

// TestRunsOnOneSideAreListed: runs only one side has are listed, not compared.
func TestRunsOnOneSideAreListed(t *testing.T) {
	rep := mustCompare(t, side(fakeResult(t, 1, 5, two(baseModel), "msix", "line")),
		side(fakeResult(t, 1000, 5, map[string]model{"msix": baseModel, "msi": baseModel}, "msix", "msi")), Options{})
	if !slices.Equal(rep.OnlyBase, []string{"line"}) || !slices.Equal(rep.OnlyNew, []string{"msi"}) || len(rep.Runs) != 1 || rep.Verdict != OK {
		t.Errorf("only base %q, only new %q, %d runs, %s", rep.OnlyBase, rep.OnlyNew, len(rep.Runs), rep.Verdict)
	}
	rep = mustCompare(t, side(fakeResult(t, 1, 5, two(baseModel), "line")), side(fakeResult(t, 1, 5, two(baseModel), "msix")), Options{})
	if rep.Verdict != Undecided {
		t.Errorf("no run in common: %s", rep.Verdict)
	}
}

// TestLossAwareLatency: a NEW that drops 2% of its packets loses its p99 and above
// (+Inf: worse than any latency), a regression however the delivered packets fared;
// a run without per-packet histograms has no packet_latency rows at all.
func TestLossAwareLatency(t *testing.T) {
	lossy := baseModel
	lossy.dropEvery = 50
	rep := mustCompare(t, side(fakeResult(t, 1, 5, two(baseModel), "msix")), side(fakeResult(t, 1000, 5, two(lossy), "msix")), Options{})
	run := runOf(t, rep, "msix")
	r := row(t, run, "packet_latency.p99")
	if r.Verdict != Regression || !isInf(r.New.Median) || !isInf(r.Change) {
		t.Errorf("p99 with 2%% dropped: %s, new median %v, change %v", r.Verdict, r.New.Median, r.Change)
	}
	if r := row(t, run, "drop_pct"); r.Verdict != Regression || r.ChangeUnit != Points || float64(r.Change) != 2 {
		t.Errorf("drop_pct: %s, change %v %s", r.Verdict, r.Change, r.ChangeUnit)
	}
	if r := row(t, run, "packet_latency.p50"); r.Verdict != Unchanged {
		t.Errorf("p50 with 2%% dropped: %s", r.Verdict)
	}
	off := baseModel
	off.noPktHists = true
	rep = mustCompare(t, side(fakeResult(t, 1, 5, two(off), "msix")), side(fakeResult(t, 1000, 5, two(off), "msix")), Options{})
	for _, r := range runOf(t, rep, "msix").Metrics {
		if strings.HasPrefix(r.Metric, "packet_latency.") {
			t.Errorf("no_packet_hists: a row %s", r.Metric)
		}
	}
}

func isInf(n Num) bool { return float64(n) > 1e308 }

// TestThresholdsDecide: a 5% slowdown is no regression at the default +10%, and is one
// at +3%; "off" never gates; a pattern reaches every figure.
func TestThresholdsDecide(t *testing.T) {
	slower := baseModel
	slower.scale = 1.05
	slower.jitter = 0.005
	quiet := baseModel
	quiet.jitter = 0.005
	b, n := side(fakeResult(t, 1, 6, two(quiet), "msix")), side(fakeResult(t, 1000, 6, two(slower), "msix"))
	if rep := mustCompare(t, b, n, Options{}); rep.Verdict != OK {
		t.Errorf("5%% slower at the defaults: %s %v", rep.Verdict, regressed(rep))
	}
	th := func(s string) Threshold {
		x, err := ParseThreshold(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	rep := mustCompare(t, b, n, Options{Thresholds: []Threshold{th("dpc_duration.p50=+3%")}})
	if got := regressed(rep); !slices.Equal(got, []string{"msix:dpc_duration.p50"}) {
		t.Errorf("dpc_duration.p50=+3%%: regressions %v", got)
	}
	rep = mustCompare(t, b, n, Options{Thresholds: []Threshold{th("dpc_duration.*=+3%"), th("dpc_duration.max=off")}})
	got := regressed(rep)
	if !slices.Contains(got, "msix:dpc_duration.p90") || slices.Contains(got, "msix:dpc_duration.max") {
		t.Errorf("dpc_duration.*=+3%%, max off: regressions %v", got)
	}
	if r := row(t, runOf(t, rep, "msix"), "dpc_duration.max"); r.Verdict != NotGated || r.Threshold != "off" {
		t.Errorf("max off: %s, %q", r.Verdict, r.Threshold)
	}
}

// TestReadSide: a side is directories or files; a missing file, a file named twice and
// a result that does not parse are errors that name the file.
func TestReadSide(t *testing.T) {
	dir := t.TempDir()
	a := writeResult(t, filepath.Join(dir, "a"), fakeResult(t, 1, 2, two(baseModel), "msix"))
	b := writeResult(t, filepath.Join(dir, "b"), fakeResult(t, 9, 2, two(baseModel), "msix"))
	s, err := ReadSide([]string{a, filepath.Join(b, results.ResultFile)})
	if err != nil || len(s.Files) != 2 {
		t.Fatalf("%v, %v", s, err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\n  \"schema\": \"ndisbench/result\",\n  \"version\": \"1.2\",\n  oops\n}\n"), 0o644)
	for _, tt := range []struct {
		paths []string
		want  string
	}{
		{[]string{filepath.Join(dir, "nosuch")}, "nosuch"},
		{[]string{dir}, filepath.Join(dir, results.ResultFile)},
		{[]string{a, filepath.Join(a, results.ResultFile)}, "named twice"},
		{[]string{bad}, bad + ":4:"},
	} {
		_, err := ReadSide(tt.paths)
		var pe *results.ParseError
		if err == nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadSide(%q): %v; want a ParseError naming %q", tt.paths, err, tt.want)
		}
	}
}

// TestPooledAcrossFiles: the repetitions of one run from several files of a side are
// pooled: five invocations of one repetition each compare as five repetitions.
func TestPooledAcrossFiles(t *testing.T) {
	var bs, ns []*results.Result
	for i := range 5 {
		bs = append(bs, fakeResult(t, uint64(1+10*i), 1, two(baseModel), "msix"))
		ns = append(ns, fakeResult(t, uint64(1000+10*i), 1, two(baseModel), "msix"))
	}
	rep := mustCompare(t, side(bs...), side(ns...), Options{})
	if run := runOf(t, rep, "msix"); run.BaseN != 5 || run.NewN != 5 || rep.Verdict != OK {
		t.Errorf("pooled: %d+%d, %s", run.BaseN, run.NewN, rep.Verdict)
	}
}

func TestRelease(t *testing.T) {
	for in, want := range map[string]string{
		"devel":                              "devel",
		"v1.2.3":                             "v1.2.3",
		"v0.0.0-20260102150405-abcdef123456": "v0.0.0 (pseudo-version)",
		"v0.0.0-20260102150405-abcdef123456+dirty": "v0.0.0 (pseudo-version)",
		"v1.2.4-0.20260102150405-abcdef123456":     "v1.2.4 (pseudo-version)",
		"v1.2.3-pre.0.20260102150405-abcdef123456": "v1.2.3-pre (pseudo-version)",
		"v1.2.3-rc1":                         "v1.2.3-rc1",
		"v0.0.0-2026010215040x-abcdef123456": "v0.0.0-2026010215040x-abcdef123456",
	} {
		if got := release(in); got != want {
			t.Errorf("release(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBadAlpha(t *testing.T) {
	s := side(fakeResult(t, 1, 1, two(baseModel), "msix"))
	for _, a := range []float64{-1, 0.6} {
		if _, err := Compare(s, s, Options{Alpha: a}); err == nil {
			t.Errorf("alpha %v accepted", a)
		}
	}
}

// TestFigureInSomeRepetitions: a histogram with values in only 2 of 5 repetitions (a
// rare path) is shown and not gated; it does not make the run undecided.
func TestFigureInSomeRepetitions(t *testing.T) {
	b, n := fakeResult(t, 1, 5, two(baseModel), "msix"), fakeResult(t, 1000, 5, two(baseModel), "msix")
	for _, res := range []*results.Result{b, n} {
		for i := range 2 {
			res.Runs[i].Histograms[metric.ISRToDPCCross] = res.Runs[i].Histograms[metric.DPCDuration]
		}
	}
	rep := mustCompare(t, side(b), side(n), Options{})
	r := row(t, runOf(t, rep, "msix"), metric.ISRToDPCCross+".p50")
	if rep.Verdict != OK || r.Verdict != NotGated || !strings.Contains(r.Why, "values in only 2 of 5 base") {
		t.Errorf("verdict %s; %s: %s (%s)", rep.Verdict, r.Metric, r.Verdict, r.Why)
	}
}

// setRTT gives every run of r a measured cache-line round trip of before and after ns.
func setRTT(r *results.Result, before, after float64) {
	for i := range r.Runs {
		if r.Runs[i].Validity == nil {
			r.Runs[i].Validity = &results.Validity{Valid: true}
		}
		r.Runs[i].Validity.Interference.CacheLineRTTNs = [2]float64{before, after}
	}
}

// TestPlacementForced: sides measured at different placements are undecided, and
// compared with -force, the note kept.
func TestPlacementForced(t *testing.T) {
	b, n := fakeResult(t, 1, 5, two(baseModel), "msix"), fakeResult(t, 1000, 5, two(baseModel), "msix")
	setRTT(b, 130, 130)
	setRTT(n, 500, 510)
	if run := runOf(t, mustCompare(t, side(b), side(n), Options{}), "msix"); run.Verdict != Undecided || run.Compared {
		t.Errorf("placements apart: verdict %s, compared %v; want undecided, not compared", run.Verdict, run.Compared)
	}
	run := runOf(t, mustCompare(t, side(b), side(n), Options{Force: true}), "msix")
	if !run.Compared || !slices.ContainsFunc(run.Mismatches, func(s string) bool { return strings.HasPrefix(s, "machine state") }) {
		t.Errorf("-force: compared %v, mismatches %q", run.Compared, run.Mismatches)
	}
}

// TestMerged: a side of two files merges into one result whose repetitions of each run
// are numbered across the files, every run kept in order.
func TestMerged(t *testing.T) {
	a, b := fakeResult(t, 1, 2, two(baseModel), "msix", "line"), fakeResult(t, 2, 3, two(baseModel), "msix", "line")
	m := side(a, b).Merged()
	if len(m.Runs) != 10 {
		t.Fatalf("%d runs, want 10", len(m.Runs))
	}
	reps := map[string][]int{}
	for _, r := range m.Runs {
		reps[r.Name] = append(reps[r.Name], r.Repetition)
	}
	for _, name := range []string{"msix", "line"} {
		if !slices.Equal(reps[name], []int{0, 1, 2, 3, 4}) {
			t.Errorf("%s repetitions %v, want 0..4", name, reps[name])
		}
	}
	if a.Runs[2].Repetition != 1 || b.Runs[0].Repetition != 0 {
		t.Error("Merged changed the side's own results")
	}
	if (&Side{}).Merged() != nil {
		t.Error("an empty side merged into a result")
	}
}

package results

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results/metric"
)

func TestWriteBenchGolden(t *testing.T) {
	res := sampleResult(t)
	interrupted := res.Runs[2]
	interrupted.Repetition = 2
	interrupted.Interrupted = true
	res.Runs = append(res.Runs, interrupted)
	var buf bytes.Buffer
	if err := WriteBench(&buf, res); err != nil {
		t.Fatal(err)
	}
	golden(t, "bench.txt", buf.Bytes())

	f := parseBenchFile(t, buf.String())
	for k, v := range map[string]string{"goos": "linux", "goarch": "amd64", "pkg": BenchPkg, "cpu": "Test CPU @ 3.00GHz"} {
		if f.config[k] != v {
			t.Errorf("config %s: %q, want %q", k, f.config[k], v)
		}
	}
	if len(f.results) != 3 {
		t.Fatalf("%d benchmark lines, want 3 (the interrupted run left out)", len(f.results))
	}
	for i, r := range f.results {
		run := &res.Runs[i]
		if want := "Ndis/scenario=msi-vs-line/run=" + run.Name + "-2"; r.name != want || r.iters != 1 {
			t.Errorf("line %d: name %q iters %d, want %q 1", i, r.name, r.iters, want)
		}
		if r.values["achieved-pps"] != run.Rates.AchievedPPS || r.values["drop-pct"] != run.Rates.DropPct || r.values["dropped"] != float64(run.Counters[metric.Dropped]) {
			t.Errorf("line %d: achieved-pps %v drop-pct %v dropped %v, want %v %v %v", i, r.values["achieved-pps"], r.values["drop-pct"], r.values["dropped"],
				run.Rates.AchievedPPS, run.Rates.DropPct, run.Counters[metric.Dropped])
		}
		if _, ok := r.values["dpcs"]; ok {
			t.Errorf("line %d: a counter with no better direction (dpcs) is on the line", i)
		}
		if h := run.Histograms[metric.ISRToDPC]; r.values["p99-isr-to-dpc-ns"] != float64(h.P99) || r.values["max-isr-to-dpc-ns"] != float64(h.Max) {
			t.Errorf("line %d: p99-isr-to-dpc-ns %v, want %d", i, r.values["p99-isr-to-dpc-ns"], h.P99)
		}
		if _, ok := r.values["p50-irq-delivery-ns"]; ok {
			t.Errorf("line %d: an empty histogram has figures", i)
		}
		for unit := range r.values {
			if _, ok := f.units[unit]; !ok {
				t.Errorf("unit %q has no Unit line", unit)
			}
		}
	}
	for unit, better := range map[string]string{"achieved-pps": "higher", "drop-pct": "lower", "dropped": "lower", "p99-isr-to-dpc-ns": "lower", "p50-dpc-batch-size-nbls": ""} {
		if got, ok := f.units[unit]; !ok || got["better"] != better || got["assume"] != "nothing" {
			t.Errorf("Unit %s: %v, want assume=nothing better=%q", unit, got, better)
		}
	}
}

func TestBenchMetricsFollowRegistry(t *testing.T) {
	run := &Run{
		Counters: map[string]uint64{
			metric.Violations: 1, metric.Dropped: 2, metric.DPCs: 3, metric.Mallocs: 4, "not_in_registry": 5,
		},
		Rates: Rates{AchievedPPS: 6, DropPct: 7},
		Histograms: map[string]Histogram{
			metric.DPCBatchSize: mustSummarize(t, batchHistogram(t, 1, 10), metric.NBLs),
			metric.ISRToDPC:     mustSummarize(t, latencyHistogram(t, 1, 10, 900), metric.Nanoseconds),
			"custom_wait":       mustSummarize(t, latencyHistogram(t, 2, 10, 900), metric.Nanoseconds),
			"custom_size":       mustSummarize(t, batchHistogram(t, 2, 10), "things"),
			metric.IRQDelivery:  mustSummarize(t, hdrhistogram.New(1, 10e9, 3), metric.Nanoseconds), // empty
		},
	}
	var units []string
	better := map[string]string{}
	for _, m := range BenchMetrics(run) {
		units = append(units, m.Unit)
		better[m.Unit] = m.Better
	}
	want := []string{
		// Rates first, then the counters with a direction in registry order (dropped before
		// violations before mallocs); dpcs and counters the registry does not know are left out.
		"achieved-pps", "drop-pct", "dropped", "violations", "mallocs",
		// Histograms with values, in name order.
		"p50-custom-size-things", "p99-custom-size-things", "p99.9-custom-size-things", "max-custom-size-things",
		"p50-custom-wait-ns", "p99-custom-wait-ns", "p99.9-custom-wait-ns", "max-custom-wait-ns",
		"p50-dpc-batch-size-nbls", "p99-dpc-batch-size-nbls", "p99.9-dpc-batch-size-nbls", "max-dpc-batch-size-nbls",
		"p50-isr-to-dpc-ns", "p99-isr-to-dpc-ns", "p99.9-isr-to-dpc-ns", "max-isr-to-dpc-ns",
	}
	if !slices.Equal(units, want) {
		t.Fatalf("units\n%q\nwant\n%q", units, want)
	}
	tests := []struct {
		unit, better string
	}{
		{"achieved-pps", "higher"},      // the registry's direction for achieved_pps
		{"drop-pct", "lower"},           // and for drop_pct
		{"mallocs", "lower"},            // a counter: its registry direction
		{"p99-dpc-batch-size-nbls", ""}, // a registered histogram with no direction
		{"p99-isr-to-dpc-ns", "lower"},  // a registered duration
		{"max-custom-wait-ns", "lower"}, // an unregistered histogram in ns: lower
		{"max-custom-size-things", ""},  // an unregistered histogram in another unit: neither
	}
	for _, tt := range tests {
		if better[tt.unit] != tt.better {
			t.Errorf("%s: better %q, want %q", tt.unit, better[tt.unit], tt.better)
		}
	}
	// Units and directions come from the registry.
	for _, name := range []string{metric.AchievedPPS, metric.DropPct, metric.Dropped, metric.Violations, metric.Mallocs} {
		m, _ := metric.Lookup(name)
		if better[m.BenchUnit()] != m.Better.String() {
			t.Errorf("%s: unit %q better %q, registry says %q", name, m.BenchUnit(), better[m.BenchUnit()], m.Better)
		}
	}
}

func TestBenchNameSanitizesScenario(t *testing.T) {
	res := sampleResult(t)
	res.Scenario = "my scenario/v2\tß"
	res.Env.GOMAXPROCS = 0
	if got, want := BenchName(res, &res.Runs[0]), "Ndis/scenario=my_scenario_v2__/run=msix"; got != want {
		t.Errorf("BenchName %q, want %q", got, want)
	}
}

type benchResult struct {
	name   string
	iters  int
	values map[string]float64
}

type benchFile struct {
	config  map[string]string
	units   map[string]map[string]string
	results []benchResult
}

// parseBenchFile is a minimal reader of the Go benchmark format, after
// golang.org/design/14313-benchmark-format and golang.org/x/perf/benchfmt: configuration
// lines "key: value" (key starting lower case, no spaces or upper case), "Unit" metadata
// lines, and "Benchmark" lines (name without spaces, integer iteration count, value/unit
// pairs). Anything else is ignored, as benchfmt does. It fails the test on malformed
// benchmark or unit lines and on conflicting unit metadata.
func parseBenchFile(t *testing.T, text string) benchFile {
	t.Helper()
	f := benchFile{config: map[string]string{}, units: map[string]map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		fields := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "Benchmark"):
			if len(fields) < 4 || len(fields)%2 != 0 {
				t.Fatalf("line %d: %q: want name, iterations and value/unit pairs", n, line)
			}
			r := benchResult{name: strings.TrimPrefix(fields[0], "Benchmark"), values: map[string]float64{}}
			var err error
			if r.iters, err = strconv.Atoi(fields[1]); err != nil || r.iters < 1 {
				t.Fatalf("line %d: iterations %q", n, fields[1])
			}
			for i := 2; i < len(fields); i += 2 {
				v, err := strconv.ParseFloat(fields[i], 64)
				if err != nil {
					t.Fatalf("line %d: value %q: %v", n, fields[i], err)
				}
				if _, dup := r.values[fields[i+1]]; dup {
					t.Fatalf("line %d: unit %q twice", n, fields[i+1])
				}
				r.values[fields[i+1]] = v
			}
			f.results = append(f.results, r)
		case len(fields) > 0 && fields[0] == "Unit":
			if len(fields) < 2 {
				t.Fatalf("line %d: Unit line without a unit", n)
			}
			unit := fields[1]
			if f.units[unit] == nil {
				f.units[unit] = map[string]string{}
			}
			for _, kv := range fields[2:] {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					t.Fatalf("line %d: %q is not key=value", n, kv)
				}
				if have, ok := f.units[unit][k]; ok && have != v {
					t.Fatalf("line %d: unit %s %s=%s conflicts with %s", n, unit, k, v, have)
				}
				if k == "better" && v != "higher" && v != "lower" || k == "assume" && v != "nothing" && v != "exact" {
					t.Fatalf("line %d: %s=%s is not a known value", n, k, v)
				}
				f.units[unit][k] = v
			}
		default:
			key, val, ok := strings.Cut(line, ":")
			if !ok || key == "" || !unicode.IsLower(rune(key[0])) || strings.ContainsFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsUpper(r) }) {
				continue
			}
			f.config[key] = strings.TrimLeft(val, " \t")
		}
	}
	return f
}

func ExampleWriteBench() {
	res := New("msi-vs-line", Environment{GOOS: "linux", GOARCH: "amd64", GOMAXPROCS: 4})
	res.Runs = []Run{{
		Name:     "msix",
		Counters: map[string]uint64{metric.Dropped: 0, metric.DPCs: 120000},
		Rates:    Rates{AchievedPPS: 14880000},
	}}
	var out strings.Builder
	if err := WriteBench(&out, res); err != nil {
		fmt.Println(err)
	}
	fmt.Print(out.String())
	// Output:
	// goos: linux
	// goarch: amd64
	// pkg: github.com/ndisbench/ndisbench
	// Unit achieved-pps assume=nothing better=higher
	// Unit drop-pct assume=nothing better=lower
	// Unit dropped assume=nothing better=lower
	// BenchmarkNdis/scenario=msi-vs-line/run=msix-4 1 14880000 achieved-pps 0 drop-pct 0 dropped
}

package results

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// BenchPkg is the "pkg:" configuration line of bench.txt.
const BenchPkg = "github.com/ndisbench/ndisbench"

// BenchMetric is one value/unit pair of a benchmark line.
type BenchMetric struct {
	Value  float64
	Unit   string // e.g. "pkts/s", "p99-isr-to-dpc-ns", "drops"
	Better string // "higher", "lower", or "" when neither is better
}

// benchPercentiles are the histogram figures each benchmark line carries, with their unit
// prefix.
var benchPercentiles = []struct {
	prefix string
	get    func(Histogram) int64
}{
	{"p50", func(h Histogram) int64 { return h.P50 }},
	{"p99", func(h Histogram) int64 { return h.P99 }},
	{"p99.9", func(h Histogram) int64 { return h.P999 }},
	{"max", func(h Histogram) int64 { return h.Max }},
}

// benchCounters are the counters each benchmark line carries, with their units. All are
// better lower.
var benchCounters = []struct{ key, unit string }{
	{CounterDropped, "drops"},
	{CounterViolations, "violations"},
	{CounterBatchesOverBudget, "batches-over-budget"},
	{CounterUnclaimed, "unclaimed"},
}

// BenchMetrics returns the values WriteBench writes for run, in order: achieved rate
// ("pkts/s", higher is better); the counters dropped ("drops"), violations,
// batches_over_budget and unclaimed, those the run has (lower is better); then, for each
// histogram with values in name order, its p50, p99, p99.9 and max as units
// "<figure>-<name>-<unit>" with '_' turned into '-' (e.g. "p99-isr-to-dpc-ns"; lower is
// better for durations, neither for other units).
func BenchMetrics(run *Run) []BenchMetric {
	m := []BenchMetric{{Value: run.Rates.AchievedPPS, Unit: "pkts/s", Better: "higher"}}
	for _, c := range benchCounters {
		if v, ok := run.Counters[c.key]; ok {
			m = append(m, BenchMetric{Value: float64(v), Unit: c.unit, Better: "lower"})
		}
	}
	for _, name := range sortedKeys(run.Histograms) {
		h := run.Histograms[name]
		if h.Count == 0 {
			continue
		}
		better := ""
		if h.Unit == UnitNanoseconds {
			better = "lower"
		}
		base := strings.ReplaceAll(name, "_", "-") + "-" + benchField(h.Unit)
		for _, p := range benchPercentiles {
			m = append(m, BenchMetric{Value: float64(p.get(h)), Unit: p.prefix + "-" + base, Better: better})
		}
	}
	return m
}

// BenchName returns run's benchmark name, without the "Benchmark" prefix:
// "Ndis/scenario=<scenario>/run=<name>-<GOMAXPROCS>", the scenario with anything but
// printable ASCII other than '/' replaced by '_'. The "-N" suffix, as go test writes it, is
// left out when GOMAXPROCS is unknown (0).
func BenchName(res *Result, run *Run) string {
	name := "Ndis/scenario=" + benchField(res.Scenario) + "/run=" + run.Name
	if res.Env.GOMAXPROCS > 0 {
		name += "-" + strconv.Itoa(res.Env.GOMAXPROCS)
	}
	return name
}

// benchField makes s usable inside a benchmark name or unit: no spaces, no '/'.
func benchField(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r >= 0x7f || r == '/' {
			return '_'
		}
		return r
	}, s)
}

// WriteBench writes res in the Go benchmark format (golang.org/design/14313-benchmark-format)
// so that benchstat can compare result sets: the configuration lines goos, goarch, pkg and
// cpu (when known); a "Unit <unit> assume=nothing [better=higher|lower]" metadata line
// per unit; then one line per run and repetition, "Benchmark<BenchName> 1 <BenchMetrics>".
// Repetitions of a run share its name, so benchstat treats them as samples. Interrupted
// runs are left out (a comment line says so): a partial run is no sample of a full one.
func WriteBench(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "goos: %s\ngoarch: %s\npkg: %s\n", benchConfig(res.Env.GOOS), benchConfig(res.Env.GOARCH), BenchPkg)
	if res.Env.CPUModel != "" {
		fmt.Fprintf(bw, "cpu: %s\n", benchConfig(res.Env.CPUModel))
	}
	metrics := make([][]BenchMetric, len(res.Runs))
	seen := make(map[string]bool)
	for i := range res.Runs {
		if res.Runs[i].Interrupted {
			continue
		}
		metrics[i] = BenchMetrics(&res.Runs[i])
		for _, m := range metrics[i] {
			if seen[m.Unit] {
				continue
			}
			seen[m.Unit] = true
			fmt.Fprintf(bw, "Unit %s assume=nothing", m.Unit)
			if m.Better != "" {
				fmt.Fprintf(bw, " better=%s", m.Better)
			}
			bw.WriteByte('\n')
		}
	}
	for i := range res.Runs {
		run := &res.Runs[i]
		if run.Interrupted {
			fmt.Fprintf(bw, "# run %s repetition %d was interrupted: left out\n", run.Name, run.Repetition)
			continue
		}
		fmt.Fprintf(bw, "Benchmark%s 1", BenchName(res, run))
		for _, m := range metrics[i] {
			fmt.Fprintf(bw, " %s %s", strconv.FormatFloat(m.Value, 'f', -1, 64), m.Unit)
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("results: write bench: %w", err)
	}
	return nil
}

// benchConfig makes s usable as a configuration value: one line.
func benchConfig(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

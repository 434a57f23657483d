package results

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ndisbench/ndisbench/results/metric"
)

// BenchPkg is the "pkg:" configuration line of bench.txt.
const BenchPkg = "github.com/ndisbench/ndisbench"

// BenchMetric is one value/unit pair of a benchmark line.
type BenchMetric struct {
	Value  float64
	Unit   string // e.g. "achieved-pps", "p99-isr-to-dpc-ns", "dropped"
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

// benchRates are the rates each benchmark line carries, first.
var benchRates = []struct {
	m   metric.Metric
	get func(Rates) float64
}{
	{mustMetric(metric.AchievedPPS), func(r Rates) float64 { return r.AchievedPPS }},
	{mustMetric(metric.DropPct), func(r Rates) float64 { return r.DropPct }},
}

// benchCounters are the counters a benchmark line may carry, in registry order: those
// with a better direction. Volumes (generated, dpcs, ...) say how much work a run did,
// not how well it did it; result.json has them.
var benchCounters = func() []metric.Metric {
	var out []metric.Metric
	for _, m := range metric.OfKind(metric.Counter) {
		if m.Better != metric.Neither {
			out = append(out, m)
		}
	}
	return out
}()

// mustMetric returns the registry's metric called name; the names are package metric's
// constants, so a miss is a programming error.
func mustMetric(name string) metric.Metric {
	m, ok := metric.Lookup(name)
	if !ok {
		panic("results: metric " + name + " is not in the registry")
	}
	return m
}

// BenchMetrics returns the values WriteBench writes for run, in order, with units and
// better directions from package metric: the rates achieved_pps ("achieved-pps", higher
// is better) and drop_pct ("drop-pct", lower); every counter the run has that has a
// better direction, in registry order, under its metric.Metric.BenchUnit (e.g. "dropped",
// "batches-over-budget"); then, for each histogram with values in name order, its p50,
// p99, p99.9 and max as units "<figure>-<name>-<unit>" with '_' turned into '-' (e.g.
// "p99-isr-to-dpc-ns"), better as the registry says (for a name it does not know: lower
// for durations, neither for other units).
func BenchMetrics(run *Run) []BenchMetric {
	m := make([]BenchMetric, 0, len(benchRates)+len(benchCounters)+len(benchPercentiles)*len(run.Histograms))
	for _, r := range benchRates {
		m = append(m, BenchMetric{Value: r.get(run.Rates), Unit: r.m.BenchUnit(), Better: r.m.Better.String()})
	}
	for _, c := range benchCounters {
		if v, ok := run.Counters[c.Name]; ok {
			m = append(m, BenchMetric{Value: float64(v), Unit: c.BenchUnit(), Better: c.Better.String()})
		}
	}
	for _, name := range sortedKeys(run.Histograms) {
		h := run.Histograms[name]
		if h.Count == 0 {
			continue
		}
		better := histogramBetter(name, h.Unit)
		base := strings.ReplaceAll(name, "_", "-") + "-" + benchField(h.Unit)
		for _, p := range benchPercentiles {
			m = append(m, BenchMetric{Value: float64(p.get(h)), Unit: p.prefix + "-" + base, Better: better})
		}
	}
	return m
}

// histogramBetter returns the better direction of the histogram called name, as
// BenchMetric.Better spells it: the registry's, or for a histogram it does not know,
// "lower" when the values are durations and "" otherwise.
func histogramBetter(name, unit string) string {
	if m, ok := metric.Lookup(name); ok && m.Kind == metric.Histogram {
		return m.Better.String()
	}
	if unit == metric.Nanoseconds {
		return metric.Lower.String()
	}
	return ""
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

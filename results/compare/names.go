package compare

import (
	"slices"
	"strconv"
	"strings"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

// The names a comparison gives its rows, from the registry: a rate's own name
// ("achieved_pps"), and a histogram's name with a figure ("packet_latency.p99",
// "dpc_duration.max").

// Alias is a short name that thresholds accept for a metric.
var aliases = map[string]string{"achieved": metric.AchievedPPS}

// histStats returns the figures every histogram row set has: results.HistogramStats
// less "min" (a best case says nothing of a regression): p50, p90, p99, p99.9, p99.99,
// max.
func histStats() []string {
	return slices.DeleteFunc(results.HistogramStats(), func(s string) bool { return s == "min" })
}

// gridPoint is one percentile of a distribution comparison.
type gridPoint struct {
	name string  // "p99.5", "max"
	p    float64 // 0 < p ≤ 100; max is 100
}

// grid is the percentiles at which distributions are compared: finer than the figures
// in the tail, where regressions hide.
var grid = func() []gridPoint {
	var g []gridPoint
	for _, p := range []float64{50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999} {
		g = append(g, gridPoint{"p" + strconv.FormatFloat(p, 'f', -1, 64), p})
	}
	return append(g, gridPoint{"max", 100})
}()

// statNames returns every figure a histogram's name may carry: histStats and the grid.
func statNames() []string {
	names := histStats()
	for _, g := range grid {
		if !slices.Contains(names, g.name) {
			names = append(names, g.name)
		}
	}
	slices.SortStableFunc(names, func(a, b string) int { return statRank(a) - statRank(b) })
	return names
}

// statRank orders figures by percentile, max last.
func statRank(s string) int {
	if s == "max" {
		return 1e9
	}
	p, _ := strconv.ParseFloat(strings.TrimPrefix(s, "p"), 64)
	return int(p * 1e5)
}

// splitName returns the histogram and figure of "hist.stat"; ok is false for a rate.
func splitName(name string) (hist, stat string, ok bool) {
	return strings.Cut(name, ".")
}

// lookup returns the registry's metric of a row name: the rate itself, or the
// histogram of "hist.stat" when stat is one of statNames.
func lookup(name string) (metric.Metric, bool) {
	if hist, stat, ok := splitName(name); ok {
		m, found := metric.Lookup(hist)
		return m, found && m.Kind == metric.Histogram && slices.Contains(statNames(), stat)
	}
	m, found := metric.Lookup(name)
	return m, found && m.Kind == metric.Rate
}

// pointsMetric reports whether a metric's change is in points rather than in %: a
// percentage (drop_pct), often 0, whose relative change says nothing.
func pointsMetric(m metric.Metric) bool { return m.Unit == metric.Percent }

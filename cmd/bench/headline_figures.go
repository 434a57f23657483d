package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/montanaflynn/stats"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

// How the table and the headline write a run's figures: in their metric's unit, "–" for
// an empty histogram, "lost" for a loss-aware percentile beyond the delivered packets,
// "≥ ceiling" for a figure among values a histogram clamped at its ceiling, and a figure
// over repetitions as its median and spread.

// figure is one run's value of a headline figure.
type figure struct {
	v       float64 // +Inf: lost (loss-aware latency beyond the delivered packets)
	empty   bool    // a histogram with no values: no figure at all
	atLeast bool    // the histogram clamped values at its ceiling and v is at it: a floor
}

// histFigure returns the figure of v, a figure of run's histogram name.
func histFigure(run *results.Run, name string, v int64) figure {
	if c, ok := clampedAt(run, name, v); ok {
		return figure{v: float64(c), atLeast: true}
	}
	return figure{v: float64(v)}
}

// clampedAt reports whether v, a figure of run's histogram name, stands for values the
// histogram clamped at its ceiling (Validity.Interference.Clamped), and returns the
// ceiling: the figure is then at least that, whatever HdrHistogram's bucket says.
func clampedAt(run *results.Run, name string, v int64) (ceiling int64, ok bool) {
	h := run.Histograms[name]
	if run.Validity == nil || run.Validity.Interference.Clamped[name] == 0 || v < h.Max {
		return 0, false
	}
	d, err := h.Decode()
	if err != nil {
		return v, true // Read checked the encoding: not reached for a result it read
	}
	return min(v, d.HighestTrackableValue()), true
}

// rateOf returns run's rate called name (metric.OfKind(metric.Rate)).
func rateOf(run *results.Run, name string) float64 {
	if v, ok := run.Rates.Value(name); ok {
		return v
	}
	return math.NaN() // the scenario package lets no other name through
}

// summarize formats a run's figures over its repetitions: the value alone, the median
// and both, or the median and the range.
func summarize(fs []figure, unit string) string {
	var vs []float64
	floor := math.Inf(1) // the lowest clamped figure: order statistics at or above it are floors
	for _, f := range fs {
		if f.empty {
			continue
		}
		vs = append(vs, f.v)
		if f.atLeast {
			floor = min(floor, f.v)
		}
	}
	if len(vs) == 0 {
		return "–"
	}
	show := func(v float64) string {
		switch {
		case math.IsInf(v, 1):
			return "lost"
		case v >= floor:
			return "≥ " + formatValue(v, unit)
		}
		return formatValue(v, unit)
	}
	return spread(vs, show)
}

// spread formats vs by show: "v" for one, "median [a, b]" for two, "median [min–max]"
// from three on, "v [all n]" when they are all the same. The unit inside the brackets
// is written once when both ends have it: "[0.136–0.453 Mpps]".
func spread(vs []float64, show func(float64) string) string {
	med, _ := stats.Median(vs)
	lo, _ := stats.Min(vs)
	hi, _ := stats.Max(vs)
	switch {
	case len(vs) == 1:
		return show(vs[0])
	case lo == hi && len(vs) == 2:
		return show(lo) + " [both]"
	case lo == hi:
		return fmt.Sprintf("%s [all %d]", show(lo), len(vs))
	case len(vs) == 2:
		a, b := oneUnit(show(vs[0]), show(vs[1]))
		return fmt.Sprintf("%s [%s, %s]", show(med), a, b)
	}
	a, b := oneUnit(show(lo), show(hi))
	return fmt.Sprintf("%s [%s–%s]", show(med), a, b)
}

// oneUnit drops a's unit when b has the same: "0.136 Mpps", "0.453 Mpps" → "0.136",
// "0.453 Mpps".
func oneUnit(a, b string) (string, string) {
	if i := strings.LastIndexByte(a, ' '); i > 0 && strings.HasSuffix(b, a[i:]) && !strings.HasPrefix(a, "≥") {
		a = a[:i]
	}
	return a, b
}

// formatValue formats a figure in its metric's unit.
func formatValue(v float64, unit string) string { return results.FormatValue(v, unit) }

func mpps(v float64) string { return results.FormatValue(v, metric.PPS) }

// plural returns "1 vCPU", "2 vCPUs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// bothOrAll names the runs as the subject of a sentence: "msix and line both", "a, b
// and c all".
func bothOrAll(names []string) string {
	if len(names) == 2 {
		return names[0] + " and " + names[1] + " both"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " all"
}

// histCell returns the cell of a histogram's figure: "–" when the histogram is empty,
// "≥ ..." when the figure stands for values clamped at the histogram's ceiling.
func histCell(name, stat string) func(*results.Run) string {
	return func(r *results.Run) string {
		h, ok := r.Histograms[name]
		if !ok || h.Count == 0 {
			return "–"
		}
		v, _ := h.Stat(stat)
		return histValue(r, name, v)
	}
}

// lossCell returns the cell of a loss-aware packet latency figure: "lost" when more than
// (100−p)% of the packets were dropped.
func lossCell(stat string) func(*results.Run) string {
	return func(r *results.Run) string {
		l, err := r.PacketLatencyLossAware()
		if err != nil || l.Empty() {
			return "–"
		}
		v, lost, _ := l.Stat(stat)
		if lost {
			return "lost"
		}
		return histValue(r, metric.PacketLatency, v)
	}
}

// histValue formats a figure of run's histogram name in its unit.
func histValue(r *results.Run, name string, v int64) string {
	if c, ok := clampedAt(r, name, v); ok {
		return "≥ " + formatValue(float64(c), metric.Unit(name))
	}
	return formatValue(float64(v), metric.Unit(name))
}

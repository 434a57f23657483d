package plot

import (
	"fmt"
	"math"
	"slices"

	"github.com/montanaflynn/stats"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

// Build returns the figures of kinds drawn from srcs, in kinds' order, with the
// problems that kept a figure from being drawn (an .hlog that does not read, say):
// the figures it could draw are returned all the same. Sources are drawn together,
// base and new overlaid, each labelled by its Label (SetLabels).
func Build(srcs []*Source, kinds []Kind) ([]*Figure, []error) {
	var figs []*Figure
	var errs []error
	for _, k := range kinds {
		var f []*Figure
		var e []error
		switch k {
		case Spectrum:
			f = spectrumFigures(srcs)
		case Time:
			f, e = timeFigures(srcs)
		case Batch:
			f = batchFigures(srcs)
		case Rate:
			f = rateFigures(srcs)
		default:
			e = []error{fmt.Errorf("plot: unknown kind %q", k)}
		}
		figs, errs = append(figs, f...), append(errs, e...)
	}
	return figs, errs
}

// latencyHistograms returns the names of the histograms in ns that a run of srcs has:
// the registry's, in its order, then any others, sorted.
func latencyHistograms(srcs []*Source) []string {
	have := map[string]bool{}
	for _, s := range srcs {
		for _, r := range s.Result.Runs {
			for name, h := range r.Histograms {
				if h.Unit == metric.Nanoseconds {
					have[name] = true
				}
			}
		}
	}
	var names []string
	for _, m := range metric.OfKind(metric.Histogram) {
		if have[m.Name] {
			names = append(names, m.Name)
			delete(have, m.Name)
		}
	}
	rest := make([]string, 0, len(have))
	for n := range have {
		rest = append(rest, n)
	}
	slices.Sort(rest)
	return append(names, rest...)
}

// meaning says what a histogram measures, from the registry: "packet_latency: from
// the packet's intended arrival (the schedule) until it is indicated up the stack".
func meaning(name string) string {
	m, ok := metric.Lookup(name)
	switch {
	case !ok:
		return name + ": not in the metric registry"
	case m.From != "":
		return fmt.Sprintf("%s: from %s until %s", name, m.From, m.To)
	}
	return name + ": " + m.Meaning
}

// clamped reports whether run recorded values of histogram name above its ceiling.
func clamped(r *results.Run, name string) bool {
	return r.Validity != nil && r.Validity.Interference.Clamped[name] > 0
}

// median returns the median of vs (+Inf, lost, counting as above every other value);
// NaN for none.
func median(vs []float64) float64 {
	m, err := stats.Median(vs)
	if err != nil {
		return math.NaN()
	}
	return m
}

// spread returns the median, minimum and maximum of vs.
func spread(vs []float64) (med, lo, hi float64) {
	lo, _ = stats.Min(vs)
	hi, _ = stats.Max(vs)
	return median(vs), lo, hi
}

// runIndex returns r's index in res.Runs.
func runIndex(res *results.Result, r *results.Run) int {
	for i := range res.Runs {
		if &res.Runs[i] == r {
			return i
		}
	}
	return -1
}

// repetitionsNote is the caption of figures with faint repetitions behind a median.
const repetitionsNote = "Faint: each repetition; bold: their median, point by point, over the valid repetitions (over all when none is valid)."

// anyRepeated reports whether a group has more than one repetition.
func anyRepeated(gs []*group) bool {
	return slices.ContainsFunc(gs, func(g *group) bool { return len(g.runs) > 1 })
}

// scaleY divides every y (and spread) of ss by div.
func scaleY(ss []Series, div float64) {
	for i := range ss {
		for j := range ss[i].Points {
			p := &ss[i].Points[j]
			p.Y, p.Lo, p.Hi = p.Y/div, p.Lo/div, p.Hi/div
		}
	}
}

// yRange returns the smallest positive and the largest y (or spread) of ss; 0, 0 when
// they have no points.
func yRange(ss []Series) (lo, hi float64) {
	lo = math.Inf(1)
	for _, s := range ss {
		for _, p := range s.Points {
			for _, v := range []float64{p.Y, p.Lo, p.Hi} {
				if v > 0 {
					lo = min(lo, v)
				}
				hi = max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo = 0
	}
	return lo, hi
}

// anyNonPositive reports whether a y of ss is 0 or below: no log scale then.
func anyNonPositive(ss []Series) bool {
	for _, s := range ss {
		for _, p := range s.Points {
			if p.Y <= 0 || p.Lo <= 0 {
				return true
			}
		}
	}
	return false
}

// finishY scales ss's values of unit for display and returns their axis, labelled
// "<what> (<unit>)".
func finishY(ss []Series, what, unit string) Axis {
	lo, hi := yRange(ss)
	ref, log := hi, lo > 0 && hi/lo >= logSpan && !anyNonPositive(ss)
	if log {
		ref = math.Sqrt(lo * hi)
	}
	u := displayUnit(unit, ref, log)
	scaleY(ss, u.div)
	lo, hi = yRange(ss)
	return valueAxis(what+" ("+u.name+")", lo, hi, anyNonPositive(ss))
}

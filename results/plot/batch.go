package plot

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

// zeroAt is where a batch-size axis, on a log scale, draws batches of 0 NBLs.
const zeroAt = 0.5

// batchFigures returns the distribution of DPC batch sizes: for each run, the share
// of DPC calls that indicated at most x NBLs, with the receive throttle's cap in the
// legend when a run set one.
func batchFigures(srcs []*Source) []*Figure {
	name := metric.DPCBatchSize
	gs := groups(srcs)
	f := &Figure{Name: "batch." + name, Kind: Batch, Title: title(srcs, "DPC batch sizes"), Subtitle: machines(srcs)}
	capped := slices.ContainsFunc(gs, func(g *group) bool { v, _ := configNumber(g.runs[0], "throttle"); return v > 0 })
	var faint, bold []Series
	var empty []string
	var top float64
	zero := false
	for _, g := range gs {
		var all, med []cdf
		for _, r := range g.runs {
			c, ok := batchCDF(r, name)
			if !ok {
				continue
			}
			all = append(all, c)
			if g.inMedian(r) {
				med = append(med, c)
			}
			top = max(top, c.xs[len(c.xs)-1])
			zero = zero || c.xs[0] == 0
		}
		if len(med) == 0 {
			empty = append(empty, g.label())
			continue
		}
		if len(g.runs) > 1 {
			for _, c := range all {
				faint = append(faint, Series{Color: g.color, Dash: Dash(g.srcIdx % 4), Weight: Faint, Style: Steps, Points: c.points(c.xs)})
			}
		}
		label := g.label()
		if capped {
			if v, _ := configNumber(g.runs[0], "throttle"); v > 0 {
				label += fmt.Sprintf(", cap %g", v)
			} else {
				label += ", no cap"
			}
		}
		bold = append(bold, Series{Label: label, Color: g.color, Dash: Dash(g.srcIdx % 4), Weight: Bold, Style: Steps, Points: medianCDF(med)})
	}
	if len(bold) == 0 {
		return nil
	}
	f.Series = append(faint, bold...)
	for i := range f.Series {
		for j := range f.Series[i].Points {
			if p := &f.Series[i].Points[j]; p.X == 0 {
				p.X = zeroAt
			}
		}
	}
	f.X = batchAxis(top, zero)
	f.Y = linearAxis("DPC calls indicating at most x NBLs (%)", 0, 100)
	f.Notes = append(f.Notes, meaning(name))
	if capped {
		f.Notes = append(f.Notes, "A line reaches 100% at its run's largest batch: a throttled run's at its cap or below.")
	}
	if anyRepeated(gs) {
		f.Notes = append(f.Notes, repetitionsNote)
	}
	if len(empty) > 0 {
		f.Notes = append(f.Notes, "Not drawn, no DPC calls: "+strings.Join(empty, ", ")+".")
	}
	return []*Figure{f}
}

// cdf is a run's batch sizes as a cumulative distribution: ys[i] is the percentage of
// DPC calls that indicated at most xs[i] NBLs.
type cdf struct{ xs, ys []float64 }

// batchCDF returns r's distribution of histogram name; false when it has no values.
func batchCDF(r *results.Run, name string) (cdf, bool) {
	hs, ok := r.Histograms[name]
	if !ok || hs.Count == 0 {
		return cdf{}, false
	}
	h, err := hs.Decode()
	if err != nil {
		return cdf{}, false // Read checked the encoding: not reached for a result it read
	}
	var c cdf
	var seen int64
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		seen += b.Count
		c.xs = append(c.xs, float64(b.To)) // exact below 2048, as batch sizes are
		c.ys = append(c.ys, 100*float64(seen)/float64(hs.Count))
	}
	return c, true
}

// at returns the percentage of calls at or below x.
func (c cdf) at(x float64) float64 {
	i, found := slices.BinarySearch(c.xs, x)
	switch {
	case found:
		return c.ys[i]
	case i == 0:
		return 0
	}
	return c.ys[i-1]
}

// points returns the step function's points at xs, starting from 0% at the first.
func (c cdf) points(xs []float64) []Point {
	ps := []Point{{xs[0], 0, 0, 0}}
	for _, x := range xs {
		y := c.at(x)
		ps = append(ps, Point{x, y, y, y})
	}
	return ps
}

// medianCDF returns the median of cs at every batch size any of them has.
func medianCDF(cs []cdf) []Point {
	var xs []float64
	for _, c := range cs {
		xs = append(xs, c.xs...)
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	ps := []Point{{xs[0], 0, 0, 0}}
	vs := make([]float64, len(cs))
	for _, x := range xs {
		for i, c := range cs {
			vs[i] = c.at(x)
		}
		y := median(vs)
		ps = append(ps, Point{x, y, y, y})
	}
	return ps
}

// batchAxis returns the batch-size axis: log 2 from 1 (or zeroAt, labelled 0, when a
// call indicated nothing) to the power of two at or above top.
func batchAxis(top float64, zero bool) Axis {
	a := Axis{Label: "NBLs indicated by one DPC call (log scale)", Scale: Log, Min: 1, Max: math.Max(2, math.Exp2(math.Ceil(math.Log2(math.Max(top, 1)))))}
	if zero {
		a.Min = zeroAt
		a.Ticks = append(a.Ticks, Tick{zeroAt, "0"})
	}
	step := 1.0
	if a.Max > 1<<12 {
		step = 2 // every other power of two: the labels would crowd
	}
	for k := 0.0; math.Exp2(k) <= a.Max; k += step {
		a.Ticks = append(a.Ticks, Tick{math.Exp2(k), tickLabel(math.Exp2(k))})
	}
	return a
}

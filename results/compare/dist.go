package compare

import (
	"fmt"
	"math"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

// Distributions compared percentile by percentile.
//
// Each repetition's full HDR histogram gives its percentile curve; at each percentile
// of the grid the repetitions' values of the two sides are compared as a metric's are
// (median change, shift interval, U test). The grid tests many percentiles of one
// histogram, so a point is significant only after Holm's correction across the
// histogram's points (family-wise error at alpha): with g points the smallest p must
// be ≤ alpha/g, which at alpha 0.05 and 11 points takes 6 repetitions a side. With
// fewer the curve is shown, not gated. A percentile is supported only where the
// smallest repetition has a value beyond it, (1 − p)·count ≥ 1; the max always is.

// distributions compares, for every histogram of the registry better lower that both
// sides have values of, its percentile curves.
func distributions(base, new []rep, opt Options) ([]Distribution, error) {
	var out []Distribution
	for _, m := range metric.OfKind(metric.Histogram) {
		if m.Better != metric.Lower {
			continue
		}
		d, ok, err := distribution(m, base, new, opt)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, d)
		}
	}
	return out, nil
}

func distribution(m metric.Metric, base, new []rep, opt Options) (Distribution, bool, error) {
	collect := func(reps []rep) ([]results.LossAware, error) {
		var out []results.LossAware
		for _, r := range reps {
			la, ok, err := lossAware(r, m.Name)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, la)
			}
		}
		return out, nil
	}
	lb, err := collect(base)
	if err != nil {
		return Distribution{}, false, err
	}
	ln, err := collect(new)
	if err != nil {
		return Distribution{}, false, err
	}
	if len(lb) == 0 || len(ln) == 0 {
		return Distribution{}, false, nil
	}
	smallest := int64(math.MaxInt64)
	for _, la := range append(append([]results.LossAware(nil), lb...), ln...) {
		smallest = min(smallest, la.Delivered+la.Dropped)
	}
	var points []gridPoint
	for _, g := range grid {
		if g.p == 100 || (1-g.p/100)*float64(smallest) >= 1-1e-9 {
			points = append(points, g)
		}
	}
	ps := make([]float64, len(points))
	for i, g := range points {
		ps[i] = g.p
	}
	// curves returns, per point, the repetitions' values: +Inf where lost.
	curves := func(las []results.LossAware) [][]float64 {
		out := make([][]float64, len(points))
		for _, la := range las {
			v, lost := la.Percentiles(ps)
			for i := range points {
				x := float64(v[i])
				if lost[i] {
					x = math.Inf(1)
				}
				out[i] = append(out[i], x)
			}
		}
		return out
	}
	cb, cn := curves(lb), curves(ln)
	d := Distribution{Histogram: m.Name, Gated: true}
	specs := make([]rowSpec, len(points))
	pv := make([]float64, len(points))
	for i, g := range points {
		name := m.Name + "." + g.name
		th, ok := resolve(opt.Thresholds, name)
		specs[i] = rowSpec{name: name, m: m, th: th, hasTh: ok, alpha: opt.Alpha, family: len(points), reps: [2]int{len(base), len(new)}}
		row := compareRow(specs[i], cb[i], cn[i])
		d.Points = append(d.Points, row)
		pv[i] = float64(row.P)
		if math.IsNaN(pv[i]) {
			pv[i] = 1
		}
	}
	if k := minP(len(lb), len(ln)) * float64(len(points)); k > opt.Alpha {
		d.Gated = false
		d.Why = fmt.Sprintf("shown, not gated: across %d percentiles (Holm) the U test cannot reach p ≤ %g with %d base and %d new repetitions",
			len(points), opt.Alpha, len(lb), len(ln))
		if n := needReps(opt.Alpha, len(points)); n > 0 {
			d.Why += fmt.Sprintf("; it takes %d a side", n)
		}
	}
	for i, adj := range holm(pv) {
		row := &d.Points[i]
		row.PHolm = Num(adj)
		if row.Base.N > 0 && row.New.N > 0 {
			decide(row, specs[i], adj)
		}
		if row.Verdict == Regression && d.StartsAt == "" {
			d.StartsAt = points[i].name
		}
	}
	return d, true, nil
}

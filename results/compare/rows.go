package compare

import (
	"fmt"
	"math"

	"github.com/montanaflynn/stats"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

// valueFunc returns one repetition's figure of a metric; ok is false when the
// repetition has none (an empty histogram, a run that recorded no per-packet latency).
type valueFunc func(r rep) (v float64, ok bool, err error)

// rateValue returns the rate name of each repetition.
func rateValue(name string) valueFunc {
	return func(r rep) (float64, bool, error) {
		v, ok := r.run.Rates.Value(name)
		return v, ok, nil
	}
}

// histValue returns a histogram's figure (one of histStats) of each repetition:
// packet_latency loss-aware, a lost figure +Inf; the others as result.json has them.
func histValue(name, stat string) valueFunc {
	return func(r rep) (float64, bool, error) {
		h, ok := r.run.Histograms[name]
		if !ok {
			return 0, false, nil
		}
		if name == metric.PacketLatency {
			la, err := r.run.PacketLatencyLossAware()
			if err != nil {
				return 0, false, fmt.Errorf("%s: %w", r.file, err)
			}
			if la.Empty() {
				return 0, false, nil // nothing measured, or no_packet_hists: unknown, not lost
			}
			v, lost, _ := la.Stat(stat)
			if lost {
				return math.Inf(1), true, nil
			}
			return float64(v), true, nil
		}
		if h.Count == 0 {
			return 0, false, nil
		}
		v, _ := h.Stat(stat)
		return float64(v), true, nil
	}
}

// values returns get's figures of reps, in order, leaving out those with none.
func values(reps []rep, get valueFunc) ([]float64, error) {
	var out []float64
	for _, r := range reps {
		v, ok, err := get(r)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// rowSpec is what compareRow needs to know of a row besides its values.
type rowSpec struct {
	name   string
	m      metric.Metric
	th     Threshold
	hasTh  bool
	alpha  float64
	family int // tests corrected together (1 for a metric row, the grid's size for a point)
	// reps are the repetitions each side has of the run; a row may have values in
	// fewer (a histogram empty in some).
	reps [2]int
}

// gated reports whether a row of spec can be a regression.
func (s rowSpec) gated() bool { return s.hasTh && !s.th.Off && s.m.Better != metric.Neither }

// sampleOf summarizes one side's values (montanaflynn/stats for the descriptive
// figures, benchmath for the median's interval).
func sampleOf(vs []float64, alpha float64) Sample {
	s := Sample{N: len(vs), Median: nan(), MedianLo: nan(), MedianHi: nan(), Min: nan(), Max: nan()}
	for _, v := range vs {
		s.Values = append(s.Values, Num(v))
	}
	if len(vs) == 0 {
		return s
	}
	med, _ := stats.Median(vs)
	lo, _ := stats.Min(vs)
	hi, _ := stats.Max(vs)
	s.Median, s.Min, s.Max = Num(med), Num(lo), Num(hi)
	mlo, mhi := medianInterval(vs, 1-alpha)
	s.MedianLo, s.MedianHi = Num(mlo), Num(mhi)
	return s
}

func nan() Num { return Num(math.NaN()) }

// relChange returns 100·(b/a − 1), with lost (+Inf) medians: both lost 0, NEW lost
// +Inf, BASE lost −100.
func relChange(a, b float64) float64 {
	switch {
	case math.IsInf(a, 1) && math.IsInf(b, 1):
		return 0
	case math.IsInf(b, 1):
		return math.Inf(1)
	case math.IsInf(a, 1):
		return -100
	case a == 0 && b == 0:
		return 0
	case a == 0:
		return math.Inf(1)
	}
	return 100 * (b/a - 1)
}

// compareRow compares one metric's values of the two sides; p is adjusted later for
// distribution points (see decide).
func compareRow(spec rowSpec, base, new []float64) Row {
	row := Row{Metric: spec.name, Unit: spec.m.Unit, Better: spec.m.Better.String(),
		Base: sampleOf(base, spec.alpha), New: sampleOf(new, spec.alpha),
		Change: nan(), ChangePct: nan(), Lo: nan(), Hi: nan(), P: nan(), PHolm: nan()}
	if spec.hasTh {
		row.Threshold = spec.th.ValueString()
	}
	if len(base) == 0 || len(new) == 0 {
		side := "base"
		if len(base) > 0 {
			side = "new"
		}
		row.Verdict, row.Why = NotGated, "no values in "+side
		return row
	}
	mb, mn := float64(row.Base.Median), float64(row.New.Median)
	positive := true
	for _, v := range append(append([]float64(nil), base...), new...) {
		positive = positive && v > 0
	}
	conf := 1 - spec.alpha
	switch {
	case pointsMetric(spec.m) || !positive:
		row.ChangeUnit = spec.m.Unit
		if pointsMetric(spec.m) {
			row.ChangeUnit = Points
		} else {
			row.ChangePct = Num(relChange(mb, mn))
		}
		row.Change = Num(diff(mb, mn))
		if lo, hi, level, ok := shiftInterval(base, new, conf); ok {
			row.Lo, row.Hi, row.Level = Num(lo), Num(hi), level
		}
	default:
		row.ChangeUnit = Pct
		row.Change = Num(relChange(mb, mn))
		row.ChangePct = row.Change
		lb, ln := logs(base), logs(new)
		if lo, hi, level, ok := shiftInterval(lb, ln, conf); ok {
			row.Lo, row.Hi, row.Level = Num(100*math.Expm1(lo)), Num(100*math.Expm1(hi)), level
		}
	}
	row.P = Num(uTest(base, new, spec.alpha))
	decide(&row, spec, float64(row.P))
	return row
}

func logs(vs []float64) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = math.Log(v) // +Inf stays +Inf
	}
	return out
}

// decide sets row's verdict from p (the p-value that decides: raw for a metric row,
// Holm's for a distribution point).
func decide(row *Row, spec rowSpec, p float64) {
	row.Why = ""
	m, n := row.Base.N, row.New.N
	if need := minP(m, n) * float64(spec.family); need > spec.alpha {
		why := fmt.Sprintf("too few repetitions (%d base, %d new): the U test cannot reach p ≤ %g", m, n, spec.alpha)
		if spec.family > 1 {
			why += fmt.Sprintf(" across %d percentiles (Holm)", spec.family)
		}
		if k := needReps(spec.alpha, spec.family); k > 0 {
			why += fmt.Sprintf(" below %d a side", k)
		}
		row.Why = why
		row.Verdict = NotGated
		// Undecided when the run has too few repetitions; a figure that only some of
		// enough repetitions have (a histogram empty in the others) is not gated.
		if spec.gated() && spec.family == 1 && minP(spec.reps[0], spec.reps[1]) > spec.alpha {
			row.Verdict = Undecided
		} else if m < spec.reps[0] || n < spec.reps[1] {
			row.Why = fmt.Sprintf("values in only %d of %d base and %d of %d new repetitions: too few for the U test",
				m, spec.reps[0], n, spec.reps[1])
		}
		return
	}
	if !spec.gated() {
		row.Verdict = NotGated
		switch {
		case spec.m.Better == metric.Neither:
			row.Why = "neither higher nor lower is better"
		case spec.hasTh && spec.th.Off:
			row.Why = "threshold off"
		default:
			row.Why = "no threshold"
		}
		return
	}
	change := float64(row.ChangePct)
	if spec.th.Unit == Points {
		change = float64(row.Change)
	}
	worse := change > 0
	if spec.m.Better == metric.Higher {
		worse = change < 0
	}
	beyond := math.Abs(change) > math.Abs(spec.th.Value)
	switch {
	case p > spec.alpha || math.IsNaN(change):
		row.Verdict = Unchanged
	case worse && beyond:
		row.Verdict = Regression
	case !worse && beyond && change != 0:
		row.Verdict = Improvement
	default:
		row.Verdict = Unchanged
		row.Why = "significant, within the threshold"
	}
}

// metricRows compares every metric of the registry both sides have: the rates, then
// each histogram's figures (histStats).
func metricRows(base, new []rep, opt Options) ([]Row, error) {
	var rows []Row
	add := func(name string, m metric.Metric, get valueFunc) error {
		vb, err := values(base, get)
		if err != nil {
			return err
		}
		vn, err := values(new, get)
		if err != nil {
			return err
		}
		if len(vb) == 0 && len(vn) == 0 {
			return nil
		}
		th, ok := resolve(opt.Thresholds, name)
		spec := rowSpec{name: name, m: m, th: th, hasTh: ok, alpha: opt.Alpha, family: 1, reps: [2]int{len(base), len(new)}}
		rows = append(rows, compareRow(spec, vb, vn))
		return nil
	}
	for _, m := range metric.OfKind(metric.Rate) {
		if err := add(m.Name, m, rateValue(m.Name)); err != nil {
			return nil, err
		}
	}
	for _, m := range metric.OfKind(metric.Histogram) {
		for _, stat := range histStats() {
			if err := add(m.Name+"."+stat, m, histValue(m.Name, stat)); err != nil {
				return nil, err
			}
		}
	}
	return rows, nil
}

// lossAware returns each repetition's distribution of histogram name, with its dropped
// packets for packet_latency; ok is false for a repetition without values.
func lossAware(r rep, name string) (results.LossAware, bool, error) {
	h, ok := r.run.Histograms[name]
	if !ok {
		return results.LossAware{}, false, nil
	}
	if name == metric.PacketLatency {
		la, err := r.run.PacketLatencyLossAware()
		if err != nil {
			return la, false, fmt.Errorf("%s: %w", r.file, err)
		}
		return la, !la.Empty(), nil
	}
	if h.Count == 0 {
		return results.LossAware{}, false, nil
	}
	d, err := h.Decode()
	if err != nil {
		return results.LossAware{}, false, fmt.Errorf("%s: run %s: %s: %w", r.file, r.run.Name, name, err)
	}
	return results.NewLossAware(d, 0), true, nil
}

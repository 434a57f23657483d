package plot

import (
	"math"
	"strconv"
	"strings"

	"github.com/ndisbench/ndisbench/results/metric"
)

// How figures scale and mark their axes: values in a unit a reader takes in at a
// glance (ns, µs or ms, chosen from the top of a linear axis, the middle of a log
// one), log scales when the values span
// more than logSpan, ticks at 1-2-5 steps.

// logSpan is the ratio of the largest to the smallest value from which a value axis is
// drawn on a log scale.
const logSpan = 20

// unitScale is a display unit: values are divided by div and labelled with name.
type unitScale struct {
	name string
	div  float64
}

// displayUnit returns the unit to show values of unit in: ref is the top of a linear
// axis (which reads best below 10 000 of its unit) or the middle of a log one (best
// between 1 and 1000).
func displayUnit(unit string, ref float64, log bool) unitScale {
	if unit != metric.Nanoseconds {
		return unitScale{unit, 1}
	}
	step := 1e4
	if log {
		step = 1e3
	}
	switch {
	case ref >= 1e3*step:
		return unitScale{"ms", 1e6}
	case ref >= step:
		return unitScale{"µs", 1e3}
	}
	return unitScale{"ns", 1}
}

// valueAxis returns an axis labelled label for values from lo to hi (lo > 0 for a log
// scale): log when all are positive and they span logSpan or more, unless linear is
// forced; a linear axis starts at zero.
func valueAxis(label string, lo, hi float64, forceLinear bool) Axis {
	if !forceLinear && lo > 0 && hi/lo >= logSpan {
		return logAxis(label, lo, hi)
	}
	return linearAxis(label, 0, hi)
}

// linearAxis returns a linear axis from lo to at least hi, ending on a tick.
func linearAxis(label string, lo, hi float64) Axis {
	if !(hi > lo) {
		hi = lo + 1
	}
	step := niceStep((hi - lo) / 5)
	a := Axis{Label: label, Scale: Linear, Min: math.Floor(lo/step) * step, Max: math.Ceil(hi/step-1e-9) * step}
	for v := a.Min; v <= a.Max+step/2; v += step {
		v = math.Round(v/step) * step
		a.Ticks = append(a.Ticks, Tick{v, tickLabel(v)})
	}
	return a
}

// niceStep returns the 1, 2 or 5 times a power of ten nearest above raw.
func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// logAxis returns a log axis from a 1-2-5 step at or below lo to one at or above hi;
// the steps between are labelled while the axis spans three decades or fewer, else
// only the powers of ten are.
func logAxis(label string, lo, hi float64) Axis {
	steps := func(k int) []float64 { p := math.Pow(10, float64(k)); return []float64{p, 2 * p, 5 * p} }
	kLo, kHi := int(math.Floor(math.Log10(lo)+1e-9)), int(math.Ceil(math.Log10(hi)-1e-9))
	a := Axis{Label: label, Scale: Log, Min: math.Pow(10, float64(kLo)), Max: math.Pow(10, float64(kHi))}
	for _, v := range steps(kLo) {
		if v <= lo*(1+1e-9) {
			a.Min = v
		}
	}
	for _, v := range steps(kHi - 1) {
		if v >= hi*(1-1e-9) && v < a.Max {
			a.Max = v
		}
	}
	labelAll := kHi-kLo <= 3
	for k := kLo; k <= kHi; k++ {
		for i, v := range steps(k) {
			if v < a.Min*(1-1e-9) || v > a.Max*(1+1e-9) {
				continue
			}
			t := Tick{Value: v}
			if i == 0 || labelAll {
				t.Label = tickLabel(v)
			}
			a.Ticks = append(a.Ticks, t)
		}
	}
	return a
}

// tickLabel formats a tick's value: "0.5", "20", "1000", "1e+06".
func tickLabel(v float64) string {
	if v != 0 && (math.Abs(v) >= 1e6 || math.Abs(v) < 1e-3) {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}

// percentileAxis returns the spectrum's x axis, 1/(1−p) on a log scale from 1 (0%) to
// the decade at or above top, ticks at each decade: 0%, 90%, 99%, 99.9%, ...
func percentileAxis(top float64) Axis {
	kHi := max(2, int(math.Ceil(math.Log10(top)-1e-9)))
	a := Axis{Label: "percentile (axis: 1/(1−p), log)", Scale: Log, Min: 1, Max: math.Pow(10, float64(kHi))}
	for k := 0; k <= kHi; k++ {
		a.Ticks = append(a.Ticks, Tick{math.Pow(10, float64(k)), percentileLabel(k)})
	}
	return a
}

// percentileLabel labels 1/(1−p) = 10^k: "0%", "90%", "99%", "99.9%", ...
func percentileLabel(k int) string {
	switch k {
	case 0:
		return "0%"
	case 1:
		return "90%"
	}
	return "99" + strings.TrimSuffix("."+strings.Repeat("9", k-2), ".") + "%"
}

// percentileName names a percentile as the tables do: "p99.9".
func percentileName(p float64) string { return "p" + strconv.FormatFloat(p, 'f', -1, 64) }

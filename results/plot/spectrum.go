package plot

import (
	"fmt"
	"math"
	"strings"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

// pointsPerDecade is how many points a spectrum has per decade of 1/(1−p): 0% to 90%,
// 90% to 99%, ...
const pointsPerDecade = 20

// spectrumGrid returns the x values of a spectrum of n values: 1/(1−p) from 1 (0%) in
// steps of a twentieth of a decade while below n, then n itself, where the top value
// (p100) is drawn, as the last rank's.
func spectrumGrid(n int64) []float64 {
	var xs []float64
	for k := 0; ; k++ {
		x := math.Pow(10, float64(k)/pointsPerDecade)
		if x >= float64(n)*(1-1e-12) {
			break
		}
		xs = append(xs, x)
	}
	return append(xs, max(1, float64(n)))
}

// curve is one run's spectrum on its group's grid: y at each x, NaN beyond its own
// values, +Inf where the percentile is lost (loss-aware packet latency).
type curve []float64

// runCurve returns run's spectrum of histogram name on grid, and its distribution's
// size and drops; ok is false when the run has no values of it.
func runCurve(r *results.Run, name string, grid []float64) (c curve, n, dropped int64, ok bool) {
	h, has := r.Histograms[name]
	if !has {
		return nil, 0, 0, false
	}
	var l results.LossAware
	switch {
	case name == metric.PacketLatency:
		var err error
		if l, err = r.PacketLatencyLossAware(); err != nil {
			return nil, 0, 0, false // Read checked the encoding: not reached for a result it read
		}
	case h.Count > 0:
		d, err := h.Decode()
		if err != nil {
			return nil, 0, 0, false
		}
		l = results.NewLossAware(d, 0) // no drops: HdrHistogram's own percentiles
	}
	if l.Empty() {
		return nil, 0, 0, false
	}
	n = l.Delivered + l.Dropped
	var ps []float64
	for _, x := range grid {
		switch {
		case x > float64(n)*(1+1e-12):
		case x > float64(n)*(1-1e-12):
			ps = append(ps, 100) // the last point: the top value
			continue
		default:
			ps = append(ps, 100*(1-1/x))
			continue
		}
		break
	}
	vs, lost := l.Percentiles(ps)
	c = make(curve, len(grid))
	for i := range c {
		switch {
		case i >= len(vs):
			c[i] = math.NaN()
		case lost[i]:
			c[i] = math.Inf(1)
		default:
			c[i] = float64(vs[i])
		}
	}
	return c, n, l.Dropped, true
}

// spectrumFigures returns a spectrum for each latency histogram with values.
func spectrumFigures(srcs []*Source) []*Figure {
	gs := groups(srcs)
	var figs []*Figure
	for _, name := range latencyHistograms(srcs) {
		if f := spectrumFigure(srcs, gs, name); f != nil {
			figs = append(figs, f)
		}
	}
	return figs
}

// spectrumFigure returns histogram name's spectrum, nil when no run has values of it.
func spectrumFigure(srcs []*Source, gs []*group, name string) *Figure {
	f := &Figure{Name: "spectrum." + name, Kind: Spectrum, Title: title(srcs, name+", percentile spectrum"), Subtitle: machines(srcs)}
	var faint, bold []Series
	var off, empty []string
	anyDrops := false
	for _, g := range gs {
		if strings.HasPrefix(name, "packet_") && packetHistsOff(g.runs[0]) {
			off = append(off, g.label())
			continue
		}
		var nMax int64
		for _, r := range g.runs {
			if h, ok := r.Histograms[name]; ok {
				nMax = max(nMax, h.Count+int64(dropsOf(r, name)))
			}
		}
		grid := spectrumGrid(nMax)
		var curves []curve
		var medCurves []curve
		var dropPcts []float64
		isClamped := false
		for _, r := range g.runs {
			c, n, dropped, ok := runCurve(r, name, grid)
			if !ok {
				continue
			}
			curves = append(curves, c)
			if g.inMedian(r) {
				medCurves = append(medCurves, c)
				dropPcts = append(dropPcts, 100*float64(dropped)/float64(n))
			}
			isClamped = isClamped || clamped(r, name)
		}
		if len(medCurves) == 0 {
			empty = append(empty, g.label())
			continue
		}
		if len(g.runs) > 1 {
			for _, c := range curves {
				faint = append(faint, Series{Color: g.color, Dash: Dash(g.srcIdx % 4), Weight: Faint, Points: curvePoints(grid, c)})
			}
		}
		med := medianCurve(medCurves)
		label := g.label()
		if d := median(dropPcts); d > 0 {
			anyDrops = true
			label += ", " + lostLabel(d)
		}
		if isClamped {
			label += ", clamped at the ceiling"
		}
		bold = append(bold, Series{Label: label, Color: g.color, Dash: Dash(g.srcIdx % 4), Weight: Bold, Points: curvePoints(grid, med)})
	}
	if len(bold) == 0 {
		return nil
	}
	f.Series = append(faint, bold...)
	var xTop float64
	for _, s := range f.Series {
		if n := len(s.Points); n > 0 {
			xTop = max(xTop, s.Points[n-1].X)
		}
	}
	f.X = percentileAxis(xTop)
	f.Y = finishY(f.Series, name, metric.Unit(name))
	f.Notes = append(f.Notes, meaning(name))
	if anyDrops {
		f.Notes = append(f.Notes, "Loss-aware: a dropped packet counts as worse than any delivered one; "+
			"a line ends where the dropped packets begin, the percentiles above it lost.")
	}
	if anyRepeated(gs) {
		f.Notes = append(f.Notes, repetitionsNote)
	}
	if len(off) > 0 {
		f.Notes = append(f.Notes, "Not drawn, no per-packet histograms (no_packet_hists): "+strings.Join(off, ", ")+".")
	}
	if len(empty) > 0 {
		f.Notes = append(f.Notes, "Not drawn, no values: "+strings.Join(empty, ", ")+".")
	}
	return f
}

// dropsOf returns the packets run dropped that histogram name's loss-aware spectrum
// counts: packet_latency's, none for the others.
func dropsOf(r *results.Run, name string) uint64 {
	if name != metric.PacketLatency {
		return 0
	}
	return r.Counters[metric.MeasuredDropped]
}

// medianCurve returns the median of cs point by point, as far as all of them reach.
func medianCurve(cs []curve) curve {
	out := make(curve, len(cs[0]))
	vs := make([]float64, len(cs))
	for i := range out {
		for j, c := range cs {
			vs[j] = c[i]
		}
		out[i] = math.NaN()
		if !anyNaN(vs) {
			out[i] = median(vs)
		}
	}
	return out
}

func anyNaN(vs []float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) {
			return true
		}
	}
	return false
}

// curvePoints returns c's points up to its first missing or lost value.
func curvePoints(grid []float64, c curve) []Point {
	var ps []Point
	for i, y := range c {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			break
		}
		ps = append(ps, Point{X: grid[i], Y: y, Lo: y, Hi: y})
	}
	return ps
}

// lostLabel says how many packets were dropped, d percent, and from which percentile on
// the latency is lost, with the decimals a small d needs: "0.0021% dropped: lost above
// 99.9979%".
func lostLabel(d float64) string {
	prec := max(2, 1-int(math.Floor(math.Log10(d))))
	return fmt.Sprintf("%.*f%% dropped: lost above %.*f%%", prec, d, prec, 100-d)
}

package plot

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

// headroom is how far above the highest value a per-run axis ends: a marker at the
// top is not cut by the frame.
const headroom = 1.08

// loadStats are the loss-aware latency figures drawn against the offered load.
var loadStats = []float64{50, 99, 99.9}

// rateFigures returns the achieved rate and the drops per run, and, when a source's
// runs were offered different rates (a sweep), latency against the offered load.
func rateFigures(srcs []*Source) []*Figure {
	gs := groups(srcs)
	if len(gs) == 0 {
		return nil
	}
	var names []string
	for _, g := range gs {
		if !slices.Contains(names, g.name) {
			names = append(names, g.name)
		}
	}
	achieved := perRunFigure(srcs, gs, names, "rate.achieved", "achieved rate", "achieved (Mpps)",
		func(r *results.Run) float64 { return r.Rates.AchievedPPS / 1e6 })
	achieved.Notes = append([]string{"Achieved: measured packets delivered, not dropped, per second of the window as run."}, achieved.Notes...)
	var offered []Point
	for _, g := range gs {
		vs := make([]float64, len(g.median))
		for i, r := range g.median {
			vs[i] = r.Rates.OfferedPPS / 1e6
		}
		v := median(vs)
		offered = append(offered, Point{categoryX(g, names, len(srcs)), v, v, v})
	}
	achieved.Series = append(achieved.Series, Series{Label: "offered (the schedule's rate)", Color: Black, Style: Marks, Glyph: Ring, Points: offered})
	_, hi := yRange(achieved.Series)
	achieved.Y = linearAxis(achieved.Y.Label, 0, hi*headroom)

	drops := perRunFigure(srcs, gs, names, "rate.drops", "drops", "dropped (% of the measured packets)",
		func(r *results.Run) float64 { return r.Rates.DropPct })
	if _, hi := yRange(drops.Series); hi == 0 {
		drops.Notes = append(drops.Notes, "No run dropped a packet.")
	}
	figs := []*Figure{achieved, drops}
	if f := loadFigure(srcs, gs); f != nil {
		figs = append(figs, f)
	}
	return figs
}

// categoryX returns g's x on a per-run axis: its run's position, shifted by source.
func categoryX(g *group, names []string, nsrc int) float64 {
	return float64(slices.Index(names, g.name)) + 0.12*(float64(g.srcIdx)-float64(nsrc-1)/2)
}

// perRunFigure returns a figure of one value per run: the median over its valid
// repetitions, with their min–max.
func perRunFigure(srcs []*Source, gs []*group, names []string, name, what, yLabel string, get func(*results.Run) float64) *Figure {
	f := &Figure{Name: name, Kind: Rate, Title: title(srcs, what+" per run"), Subtitle: machines(srcs)}
	for _, g := range gs {
		vs := make([]float64, len(g.median))
		for i, r := range g.median {
			vs[i] = get(r)
		}
		med, lo, hi := spread(vs)
		f.Series = append(f.Series, Series{Label: g.label(), Color: g.color, Style: Points, Glyph: Glyph(g.srcIdx % 3),
			Points: []Point{{categoryX(g, names, len(srcs)), med, lo, hi}}})
	}
	f.X = Axis{Label: "run", Min: -0.5, Max: float64(len(names)) - 0.5}
	long := 0
	for i, n := range names {
		f.X.Ticks = append(f.X.Ticks, Tick{float64(i), n})
		long = max(long, len(n))
	}
	f.X.Rotate = len(names)*long > 60
	_, hi := yRange(f.Series)
	f.Y = linearAxis(yLabel, 0, hi*headroom)
	if anyRepeated(gs) {
		f.Notes = append(f.Notes, "Marker: the median over the valid repetitions (over all when none is valid); bar: their min–max.")
	}
	return f
}

// loadFigure returns loss-aware packet latency against the offered rate, for the
// sources whose runs were offered different rates; nil when none were.
func loadFigure(srcs []*Source, gs []*group) *Figure {
	f := &Figure{Name: "rate.load", Kind: Rate, Title: title(srcs, "latency against offered load"), Subtitle: machines(srcs)}
	var lost, off []string
	for si, src := range srcs {
		type point struct {
			offered float64
			g       *group
		}
		var pts []point
		rates := map[float64]bool{}
		for _, g := range gs {
			if g.srcIdx != si {
				continue
			}
			if v, ok := configNumber(g.runs[0], "rate_pps"); ok {
				rates[v] = true
			}
			if packetHistsOff(g.runs[0]) {
				off = append(off, g.label())
				continue
			}
			vs := make([]float64, len(g.median))
			for i, r := range g.median {
				vs[i] = r.Rates.OfferedPPS / 1e6
			}
			pts = append(pts, point{median(vs), g})
		}
		if len(rates) < 2 {
			continue
		}
		slices.SortStableFunc(pts, func(a, b point) int { return cmp.Compare(a.offered, b.offered) })
		for k, p := range loadStats {
			s := Series{Label: strings.TrimSpace(src.Label + " packet_latency " + percentileName(p) + " loss-aware"),
				Color: k, Dash: Dash(si % 4), Weight: Bold, Style: LinePoints, Glyph: Glyph(si % 3)}
			for _, pt := range pts {
				var vs []float64
				for _, r := range pt.g.median {
					l, err := r.PacketLatencyLossAware()
					if err != nil || l.Empty() {
						continue
					}
					v, isLost := l.Percentile(p)
					if isLost {
						vs = append(vs, math.Inf(1))
					} else {
						vs = append(vs, float64(v))
					}
				}
				if len(vs) == 0 {
					continue
				}
				med, lo, hi := spread(vs)
				if math.IsInf(med, 1) {
					lost = append(lost, fmt.Sprintf("%s at %.3f Mpps", percentileName(p), pt.offered))
					continue
				}
				hi = min(hi, med*1e3) // a lost repetition's bar ends at the median's thousandfold
				s.Points = append(s.Points, Point{pt.offered, med, lo, hi})
			}
			f.Series = append(f.Series, s)
		}
	}
	if len(f.Series) == 0 {
		return nil
	}
	var xHi float64
	for _, s := range f.Series {
		for _, p := range s.Points {
			xHi = max(xHi, p.X)
		}
	}
	f.X = linearAxis("offered (Mpps)", 0, xHi)
	f.Y = finishY(f.Series, "packet_latency, loss-aware", metric.Nanoseconds)
	f.Notes = append(f.Notes, meaning(metric.PacketLatency),
		"Loss-aware: a dropped packet counts as worse than any delivered one. Marker: the median over the valid repetitions (over all when none is valid); bar: their min–max.")
	if len(lost) > 0 {
		f.Notes = append(f.Notes, "Lost (more than 100−p% of the packets dropped), not drawn: "+strings.Join(lost, ", ")+".")
	}
	if len(off) > 0 {
		f.Notes = append(f.Notes, "Not drawn, no per-packet histograms (no_packet_hists): "+strings.Join(off, ", ")+".")
	}
	return f
}

package plot

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

// interval is what an over-time plot keeps of one interval histogram.
type interval struct {
	start, length float64 // seconds; start since the run's measured window began
	p50, p99, max float64
	flagged       bool // values clamped at the ceiling in it, or its run not valid
}

// readLog reads run i's .hlog in src.Dir into its intervals by tag, one histogram at a
// time (a long run's log is never held whole). A run without a log gives nil, nil.
func readLog(src *Source, i int) (map[string][]interval, error) {
	run := &src.Result.Runs[i]
	name := results.RunStem(src.Result, i) + results.HLogExt
	path := filepath.Join(src.Dir, name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]interval{}
	lr := results.NewIntervalLogReader(f, path)
	for lr.Scan() {
		iv := lr.Interval()
		h := iv.Histogram
		if h.TotalCount() == 0 {
			continue
		}
		start := lr.BaseTime().Add(iv.Start).Sub(run.Started).Seconds()
		start = max(0, math.Round(start*1000)/1000) // the log's millisecond resolution
		p := h.ValueAtPercentilesSlice([]float64{50, 99})
		out[iv.Tag] = append(out[iv.Tag], interval{
			start: start, length: iv.Length.Seconds(),
			p50: float64(p[0]), p99: float64(p[1]), max: float64(h.Max()),
			flagged: !run.Valid() || clamped(run, iv.Tag) && h.ValuesAreEquivalent(h.Max(), h.HighestTrackableValue()),
		})
	}
	return out, lr.Err()
}

// timeStats are the figures an over-time plot draws per interval, each with its dash.
var timeStats = []struct {
	name  string
	dash  Dash
	glyph Glyph
	get   func(interval) float64
}{
	{"p50", Solid, Circle, func(iv interval) float64 { return iv.p50 }},
	{"p99", Dashed, Triangle, func(iv interval) float64 { return iv.p99 }},
	{"max", Dotted, Square, func(iv interval) float64 { return iv.max }},
}

// markedIntervals is the most intervals a line marks each of: with more, the markers
// would hide the line.
const markedIntervals = 30

// timeFigures returns, for each source, an over-time figure per latency histogram its
// logs hold: sources are not overlaid, as their runs did not run at the same time.
func timeFigures(srcs []*Source) ([]*Figure, []error) {
	var figs []*Figure
	var errs []error
	gs := groups(srcs)
	for si, src := range srcs {
		logs := map[*results.Run]map[string][]interval{}
		var missing []string
		failed := false
		for _, g := range gs {
			if g.srcIdx != si {
				continue
			}
			for _, r := range g.runs {
				l, err := readLog(src, runIndex(src.Result, r))
				if err != nil {
					errs = append(errs, fmt.Errorf("plot: over time: %w", err))
					failed = true
					break
				}
				if l == nil {
					missing = append(missing, results.RunStem(src.Result, runIndex(src.Result, r))+results.HLogExt)
				}
				logs[r] = l
			}
		}
		if failed {
			continue
		}
		for _, name := range latencyHistograms([]*Source{src}) {
			if f := timeFigure(srcs, src, gs, si, logs, name, missing); f != nil {
				figs = append(figs, f)
			}
		}
	}
	return figs, errs
}

// timeFigure returns histogram name over time in src's runs; nil when no log holds it.
func timeFigure(srcs []*Source, src *Source, gs []*group, si int, logs map[*results.Run]map[string][]interval, name string, missing []string) *Figure {
	f := &Figure{Name: "time." + name, Kind: Time, Title: title([]*Source{src}, name+" over time"), Subtitle: machines([]*Source{src})}
	if len(srcs) > 1 {
		f.Name += "." + src.Label
		f.Title = title([]*Source{src}, name+" over time, "+src.Label)
	}
	var faint, bold, marks []Series
	var length float64
	for _, g := range gs {
		if g.srcIdx != si {
			continue
		}
		var all, med [][]interval
		for _, r := range g.runs {
			ivs := logs[r][name]
			if len(ivs) == 0 {
				continue
			}
			length = ivs[0].length
			all = append(all, ivs)
			if g.inMedian(r) {
				med = append(med, ivs)
			}
			var m []Point
			for _, iv := range ivs {
				if iv.flagged {
					m = append(m, Point{iv.start, iv.max, iv.max, iv.max})
				}
			}
			if len(m) > 0 {
				marks = append(marks, Series{Color: Black, Style: Marks, Glyph: Cross, Points: m})
			}
		}
		if len(med) == 0 {
			continue
		}
		for _, st := range timeStats {
			if len(g.runs) > 1 {
				for _, ivs := range all {
					faint = append(faint, Series{Color: g.color, Dash: st.dash, Weight: Faint, Points: intervalPoints(ivs, st.get)})
				}
			}
			s := Series{Label: g.labelAs(g.name+" "+st.name, false), Color: g.color, Dash: st.dash, Weight: Bold, Glyph: st.glyph, Points: medianIntervals(med, st.get)}
			if len(s.Points) <= markedIntervals {
				s.Style = LinePoints
			}
			bold = append(bold, s)
		}
	}
	if len(bold) == 0 {
		return nil
	}
	if len(marks) > 0 {
		marks[0].Label = "flagged interval"
	}
	f.Series = append(append(faint, bold...), marks...)
	var end float64
	for _, s := range f.Series {
		for _, p := range s.Points {
			end = max(end, p.X+length)
		}
	}
	f.X = linearAxis("time since the measured window began (s)", 0, end)
	f.Y = finishY(f.Series, name, metric.Unit(name))
	f.Notes = append(f.Notes, meaning(name),
		fmt.Sprintf("One point per %s interval of the run's .hlog, at the interval's start.", seconds(length)))
	if len(marks) > 0 {
		f.Notes = append(f.Notes, "×: an interval with values clamped at the histogram's ceiling, or of a run that is not a valid measurement.")
	}
	if name == metric.PacketLatency {
		f.Notes = append(f.Notes, "Over time packet_latency holds the delivered packets only: the log has no drops per interval.")
	}
	if anyRepeated(gs) {
		f.Notes = append(f.Notes, "Faint: each repetition; bold: their median, interval by interval, over the valid repetitions (over all when none is valid).")
	}
	if len(missing) > 0 {
		f.Notes = append(f.Notes, "No interval log: "+strings.Join(missing, ", ")+".")
	}
	return f
}

// intervalPoints returns one point per interval: its start and its figure get.
func intervalPoints(ivs []interval, get func(interval) float64) []Point {
	ps := make([]Point, len(ivs))
	for i, iv := range ivs {
		v := get(iv)
		ps[i] = Point{iv.start, v, v, v}
	}
	return ps
}

// medianIntervals returns the median of the repetitions' figures interval by
// interval (the i-th interval of each, at the median of their starts), as far as all of
// them reach.
func medianIntervals(reps [][]interval, get func(interval) float64) []Point {
	n := len(reps[0])
	for _, ivs := range reps {
		n = min(n, len(ivs))
	}
	ps := make([]Point, n)
	starts, vs := make([]float64, len(reps)), make([]float64, len(reps))
	for i := range ps {
		for j, ivs := range reps {
			starts[j], vs[j] = ivs[i].start, get(ivs[i])
		}
		v := median(vs)
		ps[i] = Point{median(starts), v, v, v}
	}
	return ps
}

// seconds formats an interval's length: "1s", "50ms".
func seconds(s float64) string {
	if s >= 1 {
		return fmt.Sprintf("%gs", s)
	}
	return fmt.Sprintf("%gms", math.Round(s*1e6)/1e3)
}

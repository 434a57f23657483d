package plot

import (
	"bytes"
	"encoding"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Kind is a kind of plot: what Build draws from a set of result directories.
type Kind string

// The kinds of plot.
const (
	// Spectrum is the percentile spectrum of each latency histogram, HdrHistogram
	// plotter style: x the percentile on a 1/(1−p) log axis, one line per run.
	Spectrum Kind = "spectrum"
	// Time is each latency histogram over the run, from the .hlog: p50, p99 and max
	// per interval, flagged intervals marked.
	Time Kind = "time"
	// Batch is the distribution of the NBLs each DPC call indicated, per run.
	Batch Kind = "batch"
	// Rate is the achieved rate and the drops per run with their spread over the
	// repetitions, and latency against the offered load when the runs sweep the rate.
	Rate Kind = "rate"
)

// Kinds returns every kind, in the order Build draws them.
func Kinds() []Kind { return []Kind{Spectrum, Time, Batch, Rate} }

// ParseKinds parses a comma-separated list of kinds ("spectrum,rate"); "" or "all"
// is every kind.
func ParseKinds(s string) ([]Kind, error) {
	if s == "" || s == "all" {
		return Kinds(), nil
	}
	var out []Kind
	for _, part := range strings.Split(s, ",") {
		k := Kind(strings.TrimSpace(part))
		if !slices.Contains(Kinds(), k) {
			return nil, fmt.Errorf("plot: unknown kind %q (want spectrum, time, batch, rate or all)", part)
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// Figure is one plot as data: what is drawn, before it is drawn. The drawing
// (Image) follows it exactly, so that a test of the figure is a test of the picture
// but for pixels.
type Figure struct {
	Name     string // file stem, unique among one Build's figures: "spectrum.packet_latency"
	Kind     Kind
	Title    string // the scenario and what is plotted
	Subtitle string // the machine (or machines) it was measured on
	X, Y     Axis
	Series   []Series // drawn in order: faint repetitions first, bold medians on top
	Notes    []string // caption lines under the legend
}

// Scale is an axis's scale.
type Scale uint8

// Scales.
const (
	Linear Scale = iota
	Log
)

// Axis is one axis: its label (with the unit), scale, range and ticks.
type Axis struct {
	Label    string
	Scale    Scale
	Min, Max float64
	Ticks    []Tick
	Rotate   bool // tick labels drawn slanted: long category names
}

// Tick is a tick mark; a minor one has no label.
type Tick struct {
	Value float64
	Label string
}

// Series is one set of points drawn one way.
type Series struct {
	Label  string // legend entry; "" for none (a faint repetition)
	Color  int    // palette index (Palette); Black for black
	Dash   Dash
	Weight Weight
	Style  Style
	Glyph  Glyph // the marker of Points and Marks
	Points []Point
}

// Point is a point of a series; Lo and Hi are its spread (error bar) when the series
// is Points with a spread, else equal to Y.
type Point struct {
	X, Y, Lo, Hi float64
}

// Dash is a line's dash pattern.
type Dash uint8

// Dash patterns.
const (
	Solid Dash = iota
	Dashed
	Dotted
	DashDot
)

// Weight is how heavily a series is drawn.
type Weight uint8

// Weights.
const (
	Normal Weight = iota
	Faint         // thin and translucent: a repetition behind its median
	Bold          // the median over repetitions, or a lone run
)

// Style is how a series's points are joined.
type Style uint8

// Styles.
const (
	Line       Style = iota // points joined by straight lines
	Steps                   // a step function: horizontal to the next x, then vertical
	Points                  // markers with error bars from Lo to Hi, not joined
	LinePoints              // markers with error bars, joined by straight lines
	Marks                   // markers only, no bars: flagged points, a reference
)

// Glyph is a marker's shape.
type Glyph uint8

// Glyphs.
const (
	Circle Glyph = iota
	Triangle
	Square
	Ring
	Cross
)

var _ encoding.TextMarshaler = (*Figure)(nil)

// MarshalText writes the figure as text, one line per fact and per point, values to
// four significant digits: what the golden tests compare.
func (f *Figure) MarshalText() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "figure %s (%s)\ntitle: %s\nsubtitle: %s\n", f.Name, f.Kind, f.Title, f.Subtitle)
	for _, a := range []struct {
		name string
		ax   *Axis
	}{{"x", &f.X}, {"y", &f.Y}} {
		scale := "linear"
		if a.ax.Scale == Log {
			scale = "log"
		}
		fmt.Fprintf(&b, "%s: %q %s %s..%s", a.name, a.ax.Label, scale, num(a.ax.Min), num(a.ax.Max))
		if a.ax.Rotate {
			b.WriteString(" rotated")
		}
		b.WriteString("\n  ticks:")
		for _, t := range a.ax.Ticks {
			fmt.Fprintf(&b, " %s", num(t.Value))
			if t.Label != "" {
				fmt.Fprintf(&b, "=%q", t.Label)
			}
		}
		b.WriteByte('\n')
	}
	for _, s := range f.Series {
		fmt.Fprintf(&b, "series %q color %d %s %s %s %s: %d points\n", s.Label, s.Color,
			[...]string{"solid", "dashed", "dotted", "dash-dot"}[s.Dash],
			[...]string{"normal", "faint", "bold"}[s.Weight],
			[...]string{"line", "steps", "points", "line-points", "marks"}[s.Style],
			[...]string{"circle", "triangle", "square", "ring", "cross"}[s.Glyph], len(s.Points))
		for _, p := range s.Points {
			fmt.Fprintf(&b, "  %s %s", num(p.X), num(p.Y))
			if p.Lo != p.Y || p.Hi != p.Y {
				fmt.Fprintf(&b, " [%s, %s]", num(p.Lo), num(p.Hi))
			}
			b.WriteByte('\n')
		}
	}
	for _, n := range f.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.Bytes(), nil
}

// num formats v to four significant digits.
func num(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Sprint(v)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"

	xfont "golang.org/x/image/font"
	gonum "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Format is an image format Image draws.
type Format string

// Formats.
const (
	PNG Format = "png"
	SVG Format = "svg"
)

// ParseFormats parses a comma-separated list of formats ("png,svg").
func ParseFormats(s string) ([]Format, error) {
	var out []Format
	for _, part := range strings.Split(s, ",") {
		f := Format(strings.TrimSpace(part))
		if f != PNG && f != SVG {
			return nil, fmt.Errorf("plot: unknown format %q (want png or svg)", part)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// Image is a figure drawn in a format with gonum.org/v1/plot: a title, the plot, the
// legend under it and the figure's notes under that.
type Image struct {
	Figure *Figure
	Format Format
}

var _ io.WriterTo = Image{}

// Layout, in points: the width of every figure, the plot's height, and the DPI of PNGs
// (96: 1 pt = 4/3 px, text as large on screen at 100% as in the SVG).
const (
	width      = 540
	plotHeight = 300
	pngDPI     = 96
	margin     = 10
)

// Text sizes, in points: legible at 100% zoom.
const (
	titleSize  = 13
	labelSize  = 11
	tickSize   = 10
	legendSize = 10
	noteSize   = 9.5
)

var (
	sans     = font.Font{Typeface: "Liberation", Variant: "Sans"}
	sansBold = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
	grey     = color.Gray{0x55}
)

// textStyle returns a style of fnt at size, aligned left and top.
func textStyle(fnt font.Font, size vg.Length, c color.Color) text.Style {
	return text.Style{Color: c, Font: font.From(fnt, size), XAlign: draw.XLeft, YAlign: draw.YTop, Handler: gonum.DefaultTextHandler}
}

// WriteTo draws the figure and writes it. Drawing never panics out of it: what
// gonum/plot refuses comes back as an error.
func (im Image) WriteTo(w io.Writer) (n int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("plot: %s: drawing failed: %v", im.Figure.Name, p)
		}
	}()
	var buf bytes.Buffer
	if err := im.draw(&buf); err != nil {
		return 0, fmt.Errorf("plot: %s: %w", im.Figure.Name, err)
	}
	return buf.WriteTo(w)
}

func (im Image) draw(w io.Writer) error {
	f := im.Figure
	p, entries, err := gonumPlot(f)
	if err != nil {
		return err
	}
	legendSty := textStyle(sans, legendSize, color.Black)
	noteSty := textStyle(sans, noteSize, grey)
	inner := vg.Length(width - 2*margin)
	var notes []string
	for _, n := range f.Notes {
		notes = append(notes, wrap(n, noteSty, inner)...)
	}
	cols := legendColumns(entries, legendSty, inner)
	rows := (len(entries) + cols - 1) / cols
	rowH := legendSty.Height("Mg") + rowGap
	noteH := noteSty.Height("Mg") + 1
	header := vg.Length(margin + titleSize + 4 + noteSize + 8)
	footer := vg.Length(margin) + vg.Length(rows)*rowH + 6 + vg.Length(len(notes))*noteH
	height := header + plotHeight + footer

	var c vg.CanvasWriterTo
	switch im.Format {
	case PNG:
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))}
	case SVG:
		c = vgsvg.New(width, height)
	default:
		return fmt.Errorf("unknown format %q", im.Format)
	}
	dc := draw.New(c)
	dc.FillPolygon(color.White, []vg.Point{{X: 0, Y: 0}, {X: width, Y: 0}, {X: width, Y: height}, {X: 0, Y: height}})
	y := height - margin
	dc.FillText(textStyle(sansBold, titleSize, color.Black), vg.Point{X: margin, Y: y}, f.Title)
	y -= titleSize + 4
	dc.FillText(noteSty, vg.Point{X: margin, Y: y}, f.Subtitle)
	drawPlot(dc, p, f, draw.Crop(dc, margin, -margin, footer, -header))

	y = footer - 4
	colW := inner / vg.Length(cols)
	for col := 0; col < cols; col++ {
		l := gonum.NewLegend()
		l.TextStyle = legendSty
		l.TextStyle.YAlign = draw.YBottom // entryHeight measures text above its baseline
		l.Top, l.Left = true, true
		l.Padding = rowGap
		l.ThumbnailWidth = thumbWidth
		for _, e := range entries[min(col*rows, len(entries)):min((col+1)*rows, len(entries))] {
			l.Add(e.label, e.thumbs...)
		}
		x := margin + vg.Length(col)*colW
		l.Draw(draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: x, Y: y - vg.Length(rows)*rowH}, Max: vg.Point{X: x + colW, Y: y}}})
	}
	y -= vg.Length(rows)*rowH + 6
	for _, n := range notes {
		dc.FillText(noteSty, vg.Point{X: margin, Y: y}, n)
		y -= noteH
	}
	if im.Format == SVG {
		return writeSVG(w, c)
	}
	_, err = c.WriteTo(w)
	return err
}

// rowGap is the space between two rows of the legend, and thumbWidth the width of an
// entry's sample of its line, in points.
const (
	rowGap     = 3
	thumbWidth = 28
)

// drawPlot draws p into area with f's axis labels, which it draws itself: gonum places
// an axis label's box at the linear middle of the range, which on a log scale pads
// the plot away from one end.
func drawPlot(dc draw.Canvas, p *gonum.Plot, f *Figure, area draw.Canvas) {
	sty := textStyle(sans, labelSize, color.Black)
	h := sty.Height("Mg")
	inner := draw.Crop(area, h+4, 0, h+4, 0)
	p.Draw(inner)
	data := p.DataCanvas(inner)
	x := sty
	x.XAlign, x.YAlign = draw.XCenter, draw.YBottom
	dc.FillText(x, vg.Point{X: data.Center().X, Y: area.Min.Y}, f.X.Label)
	y := sty
	y.XAlign, y.YAlign, y.Rotation = draw.XCenter, draw.YTop, math.Pi/2
	dc.FillText(y, vg.Point{X: area.Min.X, Y: data.Center().Y}, f.Y.Label)
}

// writeSVG writes c with a font list that falls back to the reader's own sans-serif
// fonts: gonum names Liberation Sans alone, which a browser without it replaces with
// its default serif.
func writeSVG(w io.Writer, c vg.CanvasWriterTo) error {
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return err
	}
	out := bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;"))
	_, err := w.Write(out)
	return err
}

// legendColumns returns how many columns the legend's entries take in width w: one
// for three entries or fewer, else two, or three for more than eight, as long as the
// widest entry fits its column.
func legendColumns(entries []legendEntry, sty text.Style, w vg.Length) int {
	cols := 3
	switch n := len(entries); {
	case n <= 3:
		cols = 1
	case n <= 8:
		cols = 2
	}
	var widest vg.Length
	for _, e := range entries {
		widest = max(widest, sty.Width(e.label))
	}
	for cols > 1 && w/vg.Length(cols) < widest+thumbWidth+sty.Width("  ") {
		cols--
	}
	return cols
}

// wrap breaks s into lines no wider than w in sty.
func wrap(s string, sty text.Style, w vg.Length) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && sty.Width(line+" "+word) > w {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// legendEntry is an entry of the legend: a series's label and its look.
type legendEntry struct {
	label  string
	thumbs []gonum.Thumbnailer
}

// gonumPlot returns f's plot, without title or legend, and its legend's entries.
func gonumPlot(f *Figure) (*gonum.Plot, []legendEntry, error) {
	p := gonum.New()
	p.BackgroundColor = nil // the canvas is white already; gonum writes a transparent fill as no colour at all
	for _, ax := range []struct {
		a   *gonum.Axis
		fig Axis
	}{{&p.X, f.X}, {&p.Y, f.Y}} {
		ax.a.Tick.Label.Font = font.From(sans, tickSize)
		if ax.fig.Scale == Log {
			ax.a.Scale = gonum.LogScale{}
		}
		ticks := make([]gonum.Tick, len(ax.fig.Ticks))
		for i, t := range ax.fig.Ticks {
			ticks[i] = gonum.Tick{Value: t.Value, Label: t.Label}
		}
		ax.a.Tick.Marker = gonum.ConstantTicks(ticks)
		if ax.fig.Rotate {
			ax.a.Tick.Label.Rotation = math.Pi / 6
			ax.a.Tick.Label.XAlign, ax.a.Tick.Label.YAlign = draw.XRight, draw.YCenter
		}
	}
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = color.Gray{0xe4}, color.Gray{0xe4}
	p.Add(grid)
	var entries []legendEntry
	for _, s := range f.Series {
		ps, err := plotters(s)
		if err != nil {
			return nil, nil, fmt.Errorf("series %q: %w", s.Label, err)
		}
		for _, x := range ps {
			p.Add(x)
		}
		if s.Label != "" {
			var th []gonum.Thumbnailer
			for _, x := range ps {
				if t, ok := x.(gonum.Thumbnailer); ok {
					th = append(th, t)
				}
			}
			entries = append(entries, legendEntry{s.Label, th})
		}
	}
	// After Add, which widens the axes to the data: the figure's range is the truth.
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = f.X.Min, f.X.Max, f.Y.Min, f.Y.Max
	return p, entries, nil
}

// lineWidths are each Weight's line width, in points.
var lineWidths = [...]vg.Length{Normal: 1.4, Faint: 0.8, Bold: 2.2}

// dashes are each Dash's pattern, in points.
var dashes = [...][]vg.Length{Solid: nil, Dashed: {6, 3}, Dotted: {1.5, 2.5}, DashDot: {6, 2, 1.5, 2}}

// glyphs are each Glyph's shape: filled, but for the ring and the cross.
var glyphs = [...]draw.GlyphDrawer{Circle: draw.CircleGlyph{}, Triangle: draw.PyramidGlyph{}, Square: draw.BoxGlyph{}, Ring: draw.RingGlyph{}, Cross: draw.CrossGlyph{}}

// plotters returns the gonum plotters that draw s. A series without points draws
// nothing, but for its legend entry.
func plotters(s Series) ([]gonum.Plotter, error) {
	xys := make(plotter.XYs, len(s.Points))
	for i, p := range s.Points {
		xys[i] = plotter.XY{X: p.X, Y: p.Y}
	}
	line := draw.LineStyle{Color: seriesColor(s), Width: lineWidths[s.Weight], Dashes: dashes[s.Dash]}
	glyph := draw.GlyphStyle{Color: seriesColor(s), Radius: 3.5, Shape: glyphs[s.Glyph]}
	var out []gonum.Plotter
	if s.Style == Line || s.Style == Steps || s.Style == LinePoints {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.LineStyle = line
		if s.Style == Steps {
			l.StepStyle = plotter.PostStep
		}
		out = append(out, l)
	}
	if s.Style == Points || s.Style == LinePoints || s.Style == Marks {
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = glyph
		switch s.Style {
		case Marks:
			sc.GlyphStyle.Radius = 3
		case LinePoints:
			sc.GlyphStyle.Radius = 2.5
		}
		out = append(out, sc)
	}
	if (s.Style == Points || s.Style == LinePoints) && slices.ContainsFunc(s.Points, func(p Point) bool { return p.Lo != p.Y || p.Hi != p.Y }) {
		e, err := plotter.NewYErrorBars(spreadBars(s.Points))
		if err != nil {
			return nil, err
		}
		e.LineStyle = draw.LineStyle{Color: seriesColor(s), Width: 1.2}
		e.CapWidth = 6
		out = append(out, e)
	}
	return out, nil
}

// spreadBars is a series's points as gonum's error bars: Lo to Hi around Y.
type spreadBars []Point

func (b spreadBars) Len() int                      { return len(b) }
func (b spreadBars) XY(i int) (float64, float64)   { return b[i].X, b[i].Y }
func (b spreadBars) YError(i int) (lo, hi float64) { return b[i].Y - b[i].Lo, b[i].Hi - b[i].Y }

// Package report writes report.html: one self-contained page per result directory
// that opens without a network, holding the caller's text summaries (bench's headline
// and run table), the runs' validity warnings, every plot of package results/plot
// inline as SVG, the environment and each run's resolved config.
//
// A page may hold several result sets: drawn together, base and new overlaid, they
// make the page of a comparison, whose caller adds its own summary as a Section.
//
// The page references nothing off itself: no scripts, no fonts, no style sheets or
// images to fetch, no link but to its own sections, and a Content-Security-Policy that
// forbids any fetch, so that a browser, even online, loads nothing else. A plot that
// cannot be drawn is named on the page with why, and the rest is written all the same.
//
// The package does not run anything or decide what the figures mean: the summaries
// come from its caller, the plots from package results/plot.
package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/ndisbench/ndisbench/results/plot"
)

// Page is a report: the result sets it is about, what the caller says of them, and
// their plots.
type Page struct {
	// Title heads the page; "" gives "ndisbench: <scenario>" (scenarios joined by "
	// vs " for several sources).
	Title string
	// Sources are the result sets, drawn together (plot.SetLabels labels several).
	Sources []*plot.Source
	// Sections are the caller's text summaries, shown first, in order, as
	// preformatted text: the headline, the run table, a comparison.
	Sections []Section
	// Kinds are the plots drawn; nil for every kind.
	Kinds []plot.Kind
}

// Section is a summary the caller wrote: a heading over preformatted text.
type Section struct {
	Heading string
	Text    string
}

var _ io.WriterTo = (*Page)(nil)

//go:embed page.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("page").Parse(pageTemplate))

// WriteTo draws the page's plots and writes the page. It fails only when w does: a
// plot that cannot be built or drawn is named on the page instead.
func (p *Page) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, p.safeData()); err != nil {
		return 0, fmt.Errorf("report: %w", err) // a template bug: the tests execute it
	}
	return buf.WriteTo(w)
}

// pageData is what the template shows.
type pageData struct {
	Title, Subtitle string
	Sections        []Section
	Warnings        []string
	Plots           []plotSection
	Problems        []string
	Envs            []envTable
	Configs         []configTable
}

// plotSection is the plots of one kind.
type plotSection struct {
	ID, Heading string
	Figures     []figure
}

// figure is a drawn plot, or why it is not.
type figure struct {
	ID, Title string
	SVG       template.HTML // the drawing, made here from data only
	Problem   string
}

// kindHeadings are the plot sections' headings.
var kindHeadings = map[plot.Kind]string{
	plot.Spectrum: "Percentile spectra",
	plot.Time:     "Over time",
	plot.Batch:    "DPC batch sizes",
	plot.Rate:     "Rates and drops",
}

// safeData is data, or, should odd data make it panic, a page that says so with the
// caller's sections.
func (p *Page) safeData() (d pageData) {
	defer func() {
		if r := recover(); r != nil {
			title := p.Title
			if title == "" {
				title = "ndisbench report"
			}
			d = pageData{Title: title, Sections: p.Sections, Problems: []string{fmt.Sprintf("The report could not be built: %v", r)}}
		}
	}()
	return p.data()
}

func (p *Page) data() pageData {
	d := pageData{Title: p.Title, Sections: p.Sections}
	var scenarios, subs []string
	for _, s := range p.Sources {
		if !slices.Contains(scenarios, s.Result.Scenario) {
			scenarios = append(scenarios, s.Result.Scenario)
		}
		sub := fmt.Sprintf("run %s to %s", s.Result.Started.Format("2006-01-02 15:04:05 MST"), s.Result.Finished.Format("15:04:05"))
		if s.Result.Interrupted {
			sub += ", interrupted"
		}
		if s.Label != "" {
			sub = s.Label + ": " + sub
		}
		subs = append(subs, sub)
	}
	if d.Title == "" {
		d.Title = "ndisbench: " + strings.Join(scenarios, " vs ")
	}
	d.Subtitle = strings.Join(subs, "; ")
	d.Warnings = warnings(p.Sources)
	d.Envs, d.Configs = envTables(p.Sources), configTables(p.Sources)
	d.Plots, d.Problems = p.plots()
	return d
}

// plots builds and draws the page's figures, turning every failure into a problem.
func (p *Page) plots() (sections []plotSection, problems []string) {
	kinds := p.Kinds
	if kinds == nil {
		kinds = plot.Kinds()
	}
	figs, errs := build(p.Sources, kinds)
	for _, err := range errs {
		problems = append(problems, "A plot could not be drawn: "+err.Error())
	}
	for _, k := range kinds {
		sec := plotSection{ID: "plots-" + string(k), Heading: kindHeadings[k]}
		for _, f := range figs {
			if f.Kind != k {
				continue
			}
			fig := figure{ID: f.Name, Title: f.Title}
			var svg bytes.Buffer
			if _, err := (plot.Image{Figure: f, Format: plot.SVG}).WriteTo(&svg); err != nil {
				fig.Problem = fmt.Sprintf("%s could not be drawn: %v", f.Name, err)
				problems = append(problems, fig.Problem)
			} else {
				fig.SVG = template.HTML(inlineSVG(svg.Bytes())) // gonum's SVG, its text escaped by svgo
			}
			sec.Figures = append(sec.Figures, fig)
		}
		if len(sec.Figures) == 0 {
			sec.Figures = append(sec.Figures, figure{Problem: "Nothing to draw: no run has values for these plots."})
		}
		sections = append(sections, sec)
	}
	return sections, problems
}

// build is plot.Build, a panic on odd data turned into a problem.
func build(srcs []*plot.Source, kinds []plot.Kind) (figs []*plot.Figure, errs []error) {
	defer func() {
		if r := recover(); r != nil {
			figs, errs = nil, []error{fmt.Errorf("plot: building the figures failed: %v", r)}
		}
	}()
	return plot.Build(srcs, kinds)
}

// svgPrelude matches what an SVG file has before its svg element: the XML declaration
// and comments.
var svgPrelude = regexp.MustCompile(`^(?s)\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*`)

// svgNamespaces matches the namespace declarations of an svg element, which HTML does
// not need (its parser puts an inline svg in the SVG namespace itself).
var svgNamespaces = regexp.MustCompile(`\s+xmlns(:xlink)?="[^"]*"`)

// inlineSVG returns an SVG file as an element to put in HTML: without its prelude and
// its namespace declarations, which are URIs that name, but do not fetch, anything.
func inlineSVG(svg []byte) string {
	svg = svgPrelude.ReplaceAll(svg, nil)
	end := bytes.IndexByte(svg, '>')
	if end < 0 {
		return string(svg)
	}
	head := svgNamespaces.ReplaceAll(svg[:end], nil)
	return string(head) + string(svg[end:])
}

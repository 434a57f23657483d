package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/plot"
	"github.com/ndisbench/ndisbench/results/report"
)

var reportCommand = command{
	summary: "write report.html, the offline page of a result directory",
	usage:   reportUsage,
	run:     runReport,
}

const reportUsage = `Usage: bench report [-config FILE] DIR

Report writes DIR/report.html from the result set in DIR (result.json and the .hlog
files), replacing the one bench run wrote: one self-contained page that opens without a
network, with the headline, the validity warnings, the run table, every plot inline
(see "bench help plot"), the environment and each run's resolved config. A plot that
cannot be drawn is named on the page, the rest is drawn.

result.json does not record its scenario file's headline: a built-in scenario's is
taken from the built-in file of its name; for a scenario of one's own, give its file.

Flags (before DIR):
  -config FILE   the scenario file whose headline the page shows

Exit status: 0 success; 2 bad usage or input (no DIR, no readable result.json in it,
an unreadable .hlog); 1 the page could not be written.

Examples:
  bench report bench-results/msi-vs-line-20260102-150405
  bench report -config moderation.yaml out
`

func runReport(_ context.Context, stdout, _ io.Writer, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	config := fs.String("config", "", "")
	dirs, err := parseFlagsArgs(fs, reportUsage, stdout, args)
	if err != nil {
		return err
	}
	if len(dirs) != 1 {
		return usagef("report: want one result directory, got %d (see \"bench help report\")", len(dirs))
	}
	src, err := plot.Open(dirs[0])
	if err != nil {
		return usagef("report: %v", err)
	}
	def, err := headlineScenario(src.Result, *config)
	if err != nil {
		return err
	}
	page := &report.Page{Sources: []*plot.Source{src}, Sections: reportSections(def, src.Result)}
	path := filepath.Join(dirs[0], results.ReportFile)
	if err := results.WriteFileAtomic(path, func(w io.Writer) error { _, err := page.WriteTo(w); return err }); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}

// headlineScenario returns the scenario whose headline a report of res shows: the
// file -config names, else the built-in scenario of res's name, else one without a
// headline that says why.
func headlineScenario(res *results.Result, config string) (*scenarioDef, error) {
	if config != "" {
		f, err := scenario.ReadFile(config)
		if err != nil {
			return nil, usagef("report: flag -config: %v", err)
		}
		return &scenarioDef{File: f, source: "file " + config}, nil
	}
	if def, _, err := builtin(res.Scenario); err == nil {
		return def, nil
	}
	return &scenarioDef{File: &scenario.File{Name: res.Scenario}, source: "result", noHeadline: "result.json does not record its scenario file's headline (bench report -config FILE shows it)"}, nil
}

// reportSections returns the text sections of res's report: the headline and the run
// table, as bench run prints them.
func reportSections(def *scenarioDef, res *results.Result) []report.Section {
	var headline, table bytes.Buffer
	writeHeadline(&headline, def, res)
	writeRunSummary(&table, def, res)
	return []report.Section{
		{Heading: "Headline", Text: strings.TrimRight(headline.String(), "\n")},
		{Heading: "Runs", Text: strings.TrimRight(table.String(), "\n")},
	}
}

// reportFile returns the report.html of a result set bench run commits: drawn from the
// set, complete in its temporary directory. It fails only when writing fails.
func reportFile(def *scenarioDef, res *results.Result) results.ExtraFile {
	return results.ExtraFile{Name: results.ReportFile, Write: func(w io.Writer, dir string) error {
		page := &report.Page{Sources: []*plot.Source{{Dir: dir, Result: res}}, Sections: reportSections(def, res)}
		_, err := page.WriteTo(w)
		return err
	}}
}

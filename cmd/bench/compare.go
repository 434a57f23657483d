package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/compare"
	"github.com/ndisbench/ndisbench/results/plot"
	"github.com/ndisbench/ndisbench/results/report"
)

var compareCommand = command{
	summary: "compare two sets of results, BASE and NEW, and gate on regressions",
	usage:   compareUsage,
	run:     runCompare,
}

const compareUsage = `Usage: bench compare [flags] BASE NEW

Compare compares the runs of two sets of results by name, metric by metric, and says
whether NEW regressed. BASE and NEW are each a result directory or a result.json, or a
comma-separated list of them: the repetitions of a run in a side's files are pooled
(bench run -count 1 five times is five repetitions).

For every metric of the registry both sides have (the rates; every histogram's p50,
p90, p99, p99.9, p99.99 and max, packet_latency counting dropped packets as lost) it
prints each side's median over repetitions, the change with its interval, the
Mann-Whitney U test's p (or "~", not significant) and a verdict. A regression is a
change in the metric's worse direction, significant at -alpha and beyond its
threshold. The latency histograms are also compared percentile by percentile from the
full HDR histograms, so a regression of the tail alone is found where it starts.

Runs whose configuration or environment (CPU model and count, GOMAXPROCS, vCPUs,
pinning, the ndisbench release and the Go version; not the commit) or machine state
(below) differ are reported and not compared; runs that were not valid measurements, superseded attempts and interrupted runs are left out and
counted; runs on one side only are listed. Compare runs and baselines on the same
machine, the same day, interleaved (scripts/ci-bench.sh): a baseline from another
machine or another day measures the machine, and is compared only with -force.

Flags:
  -threshold NAME=VALUE  how far a metric may move the worse way before a significant
                         change is a regression; repeat it. NAME is a metric
                         (achieved_pps or achieved, drop_pct, behind_max_ns,
                         HISTOGRAM.FIGURE such as packet_latency.p99 or
                         dpc_duration.p99.5), HISTOGRAM.* or *.FIGURE; VALUE a signed
                         percentage in the worse direction (+10%, -2%), points for
                         drop_pct (+0.05pp), or off. Of several that apply, a
                         metric's own name wins, then HISTOGRAM.*, then *.FIGURE;
                         a -threshold overrides -thresholds' entry of the same NAME.
  -thresholds FILE       thresholds from a YAML (.yaml, .yml) or JSON file: an object of
                         NAME: VALUE ("packet_latency.p99": "+10%")
  -alpha A               significance level of the tests; intervals are at 1-A
                         (default 0.05)
  -vary KEY[,KEY]        scenario keys allowed to differ between BASE and NEW: an A/B test
                         of a setting (see "bench help run" for the keys)
  -force                 compare runs whose configuration, environment or machine state
                         differ, with the difference noted
  -allow-undecided       exit 0 rather than 4 when the results cannot decide
  -format F              text, markdown or json (default text)
  -o FILE                write the -format output to FILE (atomically) and print the
                         text table
  -color WHEN            colour the text table's verdicts: auto (a terminal, and
                         NO_COLOR unset), always or never (default auto)
  -html FILE             also write the comparison as one self-contained HTML page
                         (atomically): the table, then base and new overlaid in the
                         percentile spectra, batch sizes and rates (see bench report)
  -all                   the text table lists the figures that are not gated too
                         (markdown and json always hold them)

Default thresholds, chosen from A/A comparisons on a noisy 2-CPU VM (README): achieved_pps
-2%, drop_pct +0.1pp; packet_latency, isr_to_dpc, dpc_duration, batch_duration and
isr_duration +15% up to p99 and +50% from p99.5 to p99.95. Shown, never gated unless
given a threshold: irq_delivery, packet_service, the same- and cross-CPU halves of
isr_to_dpc, p99.99 and the max (a handful of packets, which one host stall moves
several-fold), generator_lag and behind_max_ns (the host's, not the driver's), and the
metrics neither better higher nor lower (dpc_batch_size, offered_pps, generated_pps).

Machine state: a host that moves a VM's vCPUs apart moves every figure with them. When
the two sides' median cache-line round trips (result.json's cache_line_rtt_ns) are more
than 1.5x apart, the run is reported as measured on a different machine and not
compared (-force compares it).

The statistics: the unit of replication is the repetition, not the packet. The test is
benchstat's two-sided Mann-Whitney U (golang.org/x/perf/benchmath), which assumes only
that with no change the repetitions of both sides are exchangeable (independent, from
one distribution); it cannot reach p <= 0.05 with fewer than 4 repetitions a side,
and then says undecided. The interval is Hodges-Lehmann's for a shift (on log values:
a ratio, read in %), which assumes both sides have the same shape. The percentiles of
a distribution are Holm-corrected together: at alpha 0.05 that takes 6 repetitions a
side; with fewer they are shown, not gated.

Exit status:
  0    no regression (improvements are shown, never gated)
  1    a regression (it outranks undecided)
  2    bad usage or input: a flag, a threshold, a missing or invalid result file,
       named in the message; no -o file is written
  4    could not decide: too few valid repetitions, configurations, environments or
       machine states that differ, no run on both sides (0 with -allow-undecided)

Examples:
  bench compare base new
  bench compare -format markdown -o compare.md base-1,base-2,base-3 new-1,new-2,new-3
  bench compare -threshold packet_latency.p99=+5% -threshold achieved=-1% base new
  bench compare -vary per_packet base/result.json new/result.json
  bench compare -force -allow-undecided old-baseline new
`

// compareFlags are bench compare's flags.
type compareFlags struct {
	thresholds     []compare.Threshold // -threshold, in order
	thresholdsFile string
	alpha          float64
	vary           string
	force, allow   bool
	all            bool
	format, out    string
	html           string
	color          string
}

func runCompare(_ context.Context, stdout, stderr io.Writer, args []string) error {
	f := compareFlags{alpha: compare.DefaultAlpha, format: "text", color: "auto"}
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.Func("threshold", "", func(v string) error {
		t, err := compare.ParseThreshold(v)
		if err != nil {
			return errors.New(strings.TrimPrefix(err.Error(), "threshold "))
		}
		f.thresholds = append(f.thresholds, t)
		return nil
	})
	fs.StringVar(&f.thresholdsFile, "thresholds", "", "")
	fs.Float64Var(&f.alpha, "alpha", f.alpha, "")
	fs.StringVar(&f.vary, "vary", "", "")
	fs.BoolVar(&f.force, "force", false, "")
	fs.BoolVar(&f.allow, "allow-undecided", false, "")
	fs.BoolVar(&f.all, "all", false, "")
	fs.StringVar(&f.format, "format", f.format, "")
	fs.StringVar(&f.out, "o", "", "")
	fs.StringVar(&f.html, "html", "", "")
	fs.StringVar(&f.color, "color", f.color, "")
	pos, err := parseInterspersed(fs, compareUsage, stdout, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("compare: want BASE and NEW, got %d arguments (see \"bench help compare\")", len(pos))
	}
	opt, err := f.options()
	if err != nil {
		return err
	}
	write, err := reportWriter(f.format)
	if err != nil {
		return err
	}
	for _, out := range []struct{ flag, path string }{{"-o", f.out}, {"-html", f.html}} {
		if out.path == "" {
			continue
		}
		if err := checkOutputFile(out.path); err != nil { // before comparing: the verdict's status is never lost to it
			return usagef("compare: flag %s: %v", out.flag, err)
		}
	}
	if !slices.Contains([]string{"auto", "always", "never"}, f.color) {
		return usagef("compare: flag -color: %q: want auto, always or never", f.color)
	}
	var sides [2]*compare.Side
	for i, arg := range pos {
		paths, err := splitList(arg)
		if err == nil {
			sides[i], err = compare.ReadSide(paths)
		}
		if err != nil {
			return usagef("compare: %s: %v", [2]string{"BASE", "NEW"}[i], err)
		}
	}
	rep, err := compare.Compare(sides[0], sides[1], opt)
	if err != nil {
		return usagef("%v", err)
	}
	colour := f.color == "always" || (f.color == "auto" && os.Getenv("NO_COLOR") == "" && isTerminalWriter(stdout))
	if f.out == "" {
		if f.format == "text" {
			err = rep.WriteText(stdout, colour, f.all)
		} else {
			err = write(rep, stdout)
		}
	} else {
		if err := results.WriteFileAtomic(f.out, func(w io.Writer) error { return write(rep, w) }); err != nil {
			return usagef("compare: flag -o: %v", err)
		}
		if err = rep.WriteText(stdout, colour, f.all); err == nil {
			_, err = fmt.Fprintf(stdout, "\nwrote %s\n", f.out)
		}
	}
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	if f.html != "" {
		if err := writeCompareHTML(f.html, rep, sides, f.all); err != nil {
			return usagef("compare: flag -html: %v", err)
		}
		fmt.Fprintf(stdout, "wrote %s\n", f.html)
	}
	switch rep.Verdict {
	case compare.Regression:
		return statusError{"compare: " + rep.Headline(), errRegression}
	case compare.Undecided:
		if f.allow {
			fmt.Fprintf(stderr, "bench: compare: %s; exit 0 as -allow-undecided asks\n", rep.Headline())
			return nil
		}
		return statusError{"compare: " + rep.Headline() + " (-allow-undecided exits 0)", errUndecided}
	}
	return nil
}

// options checks the flags that shape the comparison and returns them as
// compare.Options: the thresholds file's entries first, so that -threshold overrides
// them; -vary's keys checked against the scenario table.
func (f compareFlags) options() (compare.Options, error) {
	opt := compare.Options{Alpha: f.alpha, Force: f.force}
	if !(f.alpha > 0 && f.alpha <= 0.5) {
		return opt, usagef("compare: flag -alpha: %v: want a level in (0, 0.5], such as 0.05", f.alpha)
	}
	if f.thresholdsFile != "" {
		data, err := os.ReadFile(f.thresholdsFile)
		if err == nil && len(data) > compare.MaxThresholdsFile {
			err = fmt.Errorf("larger than %d bytes", compare.MaxThresholdsFile)
		}
		if err != nil {
			return opt, usagef("compare: flag -thresholds: %v", err)
		}
		ts, err := compare.ParseThresholdsFile(f.thresholdsFile, data)
		if err != nil {
			return opt, usagef("compare: flag -thresholds: %v", err)
		}
		opt.Thresholds = ts
	}
	opt.Thresholds = append(opt.Thresholds, f.thresholds...)
	if f.vary != "" {
		for _, k := range strings.Split(f.vary, ",") {
			if !slices.Contains(scenario.Keys(), k) {
				return opt, usagef("compare: flag -vary: %q is not a scenario key (see \"bench help run\" for the keys)", k)
			}
			if !slices.Contains(opt.Vary, k) {
				opt.Vary = append(opt.Vary, k)
			}
		}
	}
	return opt, nil
}

// reportWriter returns the function that writes a report in format.
func reportWriter(format string) (func(*compare.Report, io.Writer) error, error) {
	switch format {
	case "text":
		return func(r *compare.Report, w io.Writer) error { return r.WriteText(w, false, true) }, nil
	case "markdown":
		return (*compare.Report).WriteMarkdown, nil
	case "json":
		return (*compare.Report).WriteJSON, nil
	}
	return nil, usagef("compare: flag -format: %q: want text, markdown or json", format)
}

// splitList splits a side's comma-separated list of result paths.
func splitList(arg string) ([]string, error) {
	paths := strings.Split(arg, ",")
	for _, p := range paths {
		if p == "" {
			return nil, fmt.Errorf("%q: an empty path in the list", arg)
		}
	}
	return paths, nil
}

// isTerminalWriter reports whether w is a terminal.
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

// writeCompareHTML writes the comparison as a report page: its text table, then each
// side drawn as one set (compare.Side.Merged), base and new overlaid. The plots over
// time are left out: they belong to one invocation's intervals, not to a side.
func writeCompareHTML(path string, rep *compare.Report, sides [2]*compare.Side, all bool) error {
	var table strings.Builder
	if err := rep.WriteText(&table, false, all); err != nil {
		return err
	}
	srcs := []*plot.Source{
		{Label: "base", Result: sides[0].Merged()},
		{Label: "new", Result: sides[1].Merged()},
	}
	page := &report.Page{
		Title:    "ndisbench compare: " + rep.Headline(),
		Sources:  srcs,
		Sections: []report.Section{{Heading: "Comparison", Text: table.String()}},
		Kinds:    []plot.Kind{plot.Spectrum, plot.Batch, plot.Rate},
	}
	return results.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := page.WriteTo(w)
		return err
	})
}

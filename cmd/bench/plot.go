package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/plot"
)

var plotCommand = command{
	summary: "draw result directories: spectra, over time, batch sizes, rates (PNG, SVG)",
	usage:   plotUsage,
	run:     runPlot,
}

const plotUsage = `Usage: bench plot [-format png,svg] [-o DIR] [-kind KINDS] RESULTDIR...

Plot draws the result sets in the RESULTDIRs (what bench run -o wrote) as images in -o,
one file per figure and format, named <kind>.<what>.<format>. Several directories are
drawn together, base and new overlaid, each named by its directory's name in the
legends; runs are named as the run table names them, repetitions drawn faint behind
their median (over the valid ones).

Kinds of plot (-kind, comma-separated; default all):
  spectrum  the percentile spectrum of each latency histogram, HdrHistogram plotter
            style: x the percentile on a 1/(1−p) log axis (0%, 90%, 99%, 99.9%, ...);
            packet_latency loss-aware: a line ends where the dropped packets begin
  time      each latency histogram over the run, from the .hlog: p50, p99 and max per
            interval, intervals with clamped values or of an invalid run marked ×
  batch     the NBLs each DPC call indicated, per run, the throttle's cap in the legend
  rate      achieved rate and drops per run with their spread over the repetitions;
            latency against the offered load when the runs were offered different rates

Flags (before the directories):
  -format F,...  png, svg or both (default png,svg)
  -o DIR         where the images go, created if absent; files of the same names are
                 replaced (default plots)
  -kind K,...    the kinds above, or all (default all)

Nothing is written unless every directory reads and every figure draws: each image is
written whole (a temporary file renamed into place).

Exit status: 0 success; 2 bad usage or input (an unknown -format or -kind, a directory
without a readable result.json, an unreadable .hlog, nothing to draw); 1 an image could
not be drawn or written.

Examples:
  bench plot bench-results/msi-vs-line-20260102-150405
  bench plot -o cmp base new
  bench plot -kind spectrum,rate -format svg -o figs out
`

func runPlot(_ context.Context, stdout, _ io.Writer, args []string) error {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	formatFlag := fs.String("format", "png,svg", "")
	kindFlag := fs.String("kind", "all", "")
	out := fs.String("o", "plots", "")
	dirs, err := parseFlagsArgs(fs, plotUsage, stdout, args)
	if err != nil {
		return err
	}
	formats, err := plot.ParseFormats(*formatFlag)
	if err != nil {
		return usagef("plot: flag -format: %s", strings.TrimPrefix(err.Error(), "plot: "))
	}
	kinds, err := plot.ParseKinds(*kindFlag)
	if err != nil {
		return usagef("plot: flag -kind: %s", strings.TrimPrefix(err.Error(), "plot: "))
	}
	if len(dirs) == 0 {
		return usagef("plot: no result directory given (see \"bench help plot\")")
	}
	if fi, err := os.Stat(*out); err == nil && !fi.IsDir() {
		return usagef("plot: flag -o: %s exists and is not a directory", *out)
	}
	var srcs []*plot.Source
	for _, d := range dirs {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			return usagef("plot: %s: not a result directory (%v)", d, orNotDir(err))
		}
		src, err := plot.Open(d)
		if err != nil {
			return usagef("plot: %v", err)
		}
		srcs = append(srcs, src)
	}
	plot.SetLabels(srcs)
	figs, errs := plot.Build(srcs, kinds)
	if len(errs) > 0 {
		return usagef("plot: %w", errors.Join(errs...))
	}
	if len(figs) == 0 {
		return usagef("plot: nothing to draw: no run of %v has values for -kind %s", dirs, *kindFlag)
	}
	// Every image drawn before any is written: a figure that fails leaves no files.
	type image struct {
		name string
		data []byte
	}
	var images []image
	for _, f := range figs {
		for _, format := range formats {
			var b bytes.Buffer
			if _, err := (plot.Image{Figure: f, Format: format}).WriteTo(&b); err != nil {
				return err
			}
			images = append(images, image{f.Name + "." + string(format), b.Bytes()})
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("plot: flag -o: %w", err)
	}
	for _, im := range images {
		path := filepath.Join(*out, im.name)
		err := results.WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(im.data); return err })
		if err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	return nil
}

// orNotDir returns err, or one saying the path is not a directory.
func orNotDir(err error) error {
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	return errors.New("not a directory")
}

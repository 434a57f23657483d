package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core/calibrate"
	"github.com/ndisbench/ndisbench/core/hist"
	"github.com/ndisbench/ndisbench/results"
)

var calibrateCommand = command{
	summary: "measure this machine's latency floors (clock, cache line, futex, channel, ring)",
	usage:   calibrateUsage,
	run:     runCalibrate,
}

const calibrateUsage = `Usage: bench calibrate [flags]

Calibrate measures the floors every later figure is read against, on two CPUs of this
machine (pinned where the OS allows it):

  clock            the cost of one timestamp read, for each clock ndisbench could use
  cache-line RTT   two threads ping-pong a value through two padded cache lines
  ring handoff     one item through the SPSC ring to a spinning consumer on the other CPU
  futex wake       a thread parked on a futex, woken by the other CPU, until it runs
  chan wake        a goroutine parked on a buffered channel, woken by a running producer

With a single usable CPU it measures the clocks and says which floors it cannot measure.

Flags:
  -cpus LIST        CPUs to measure on, e.g. 0-3,8 (default: every allowed CPU; a pair of
                    distinct physical cores is preferred)
  -samples N        samples for the spin measurements (default 20000)
  -wake-samples N   samples for the futex and channel wakes (default 2000)
  -o FILE           also write the floors as JSON to FILE (atomically)
  -json             print JSON instead of the table

Examples:
  bench calibrate
  bench calibrate -cpus 2,3 -o cal.json
`

func runCalibrate(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
	var opts calibrate.Options
	fs.Var(&opts.CPUs, "cpus", "")
	fs.IntVar(&opts.Samples, "samples", 20000, "")
	fs.IntVar(&opts.WakeSamples, "wake-samples", 2000, "")
	out := fs.String("o", "", "")
	asJSON := fs.Bool("json", false, "")
	if err := parseFlags(fs, calibrateUsage, stdout, args); err != nil {
		return err
	}
	if opts.Samples < 1 || opts.Samples > 10_000_000 {
		return usagef("calibrate: flag -samples: must be between 1 and 10000000, got %d", opts.Samples)
	}
	if opts.WakeSamples < 1 || opts.WakeSamples > 1_000_000 {
		return usagef("calibrate: flag -wake-samples: must be between 1 and 1000000, got %d", opts.WakeSamples)
	}
	if len(opts.CPUs) > 0 {
		allowed, err := affinity.Allowed()
		if err != nil {
			return fmt.Errorf("calibrate: %w", err)
		}
		for _, c := range opts.CPUs {
			if !allowed.Contains(c) {
				return usagef("calibrate: flag -cpus: CPU %d is not allowed to this process (allowed: %s)", c, allowed)
			}
		}
	}
	if *out != "" {
		// Fail on an unwritable destination before spending time measuring.
		if err := checkOutputFile(*out); err != nil {
			return usagef("calibrate: flag -o: %v", err)
		}
	}
	f, err := calibrate.Measure(opts)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := results.WriteFileAtomic(*out, func(w io.Writer) error { return writeJSON(w, f) }); err != nil {
			return fmt.Errorf("calibrate: %w", err)
		}
	}
	if *asJSON {
		return writeJSON(stdout, f)
	}
	printFloors(stdout, f)
	if *out != "" {
		fmt.Fprintf(stdout, "\nwrote %s\n", *out)
	}
	return nil
}

// checkOutputFile fails early when path cannot be written: its directory is missing, is
// not a directory or is not writable, or path itself is a directory.
func checkOutputFile(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory of %s: %w", path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if err := probeWritable(dir); err != nil {
		return fmt.Errorf("%s is not writable (%w)", dir, err)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printFloors(w io.Writer, f *calibrate.Floors) {
	pin := "pinned"
	if !f.Pinned {
		pin = "NOT pinned"
		if f.PinError != "" {
			pin += " (" + f.PinError + ")"
		}
	}
	if f.PairA >= 0 {
		where := "different cores"
		if f.SameCore {
			where = "SMT siblings of one core"
		}
		fmt.Fprintf(w, "ndisbench calibrate: %d CPUs allowed (%s); measured between CPU %d and CPU %d (%s), %s, GOMAXPROCS %d\n\n",
			f.CPUs, f.CPUList, f.PairA, f.PairB, where, pin, f.GOMAXPROCS)
	} else {
		fmt.Fprintf(w, "ndisbench calibrate: %d CPU allowed (%s), GOMAXPROCS %d\n\n", f.CPUs, f.CPUList, f.GOMAXPROCS)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "clock\tns/read\t")
	for _, c := range f.Clocks {
		fmt.Fprintf(tw, "%s\t%.1f\t\n", c.Name, c.NsPerRead)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "floor\tp50\tp99\tmax\tsamples\t")
	rows := []struct {
		name, key string
		s         *hist.Summary
	}{
		{"cache-line round trip", "cacheline_rtt_ns", f.CachelineRTT},
		{"SPSC ring handoff", "ring_handoff_ns", f.RingHandoff},
		{"futex wake-to-run", "futex_wake_ns", f.FutexWake},
		{"chan wake-to-run", "chan_wake_ns", f.ChanWake},
	}
	for _, r := range rows {
		if r.s == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t0\t\n", r.name)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t\n", r.name, ns(r.s.P50), ns(r.s.P99), ns(r.s.Max), r.s.Count)
	}
	tw.Flush()
	for _, r := range rows {
		if why, ok := f.Unmeasured[r.key]; ok {
			fmt.Fprintf(w, "not measured: %s: %s\n", r.name, why)
		}
	}
}

// ns formats a nanosecond figure the way a reader scans it: ns, µs or ms.
func ns(v int64) string { return results.FormatDuration(time.Duration(v)) }

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/results"
)

var runCommand = command{
	summary: "run a scenario: traffic through the interrupt model, results as HDR histograms",
	usage:   runUsage(),
	run:     runRun,
}

var listCommand = command{
	summary: "list the built-in scenarios and the drivers",
	usage:   listUsage,
	run:     runList,
}

const listUsage = `Usage: bench list [-files]

List prints each built-in scenario with a one-line description and what its runs set,
then the drivers a scenario may name (key "driver", flag -driver). With -files it prints
the built-in scenario files themselves, a start for a file of one's own.
`

// scenarioFlags are the flags that set a scenario key, for the settings used most; -set
// reaches every key.
var scenarioFlags = []struct{ flag, key, arg string }{
	{"driver", "driver", "NAME"},
	{"duration", "duration", "D"},
	{"warmup", "warmup", "D"},
	{"rate", "rate_pps", "PPS"},
	{"mode", "mode", "M"},
	{"queues", "queues", "N"},
	{"vcpus", "vcpus", "N"},
	{"cpus", "cpus", "LIST"},
	{"idle", "idle", "S"},
	{"throttle", "throttle", "N"},
	{"seed", "seed", "N"},
	{"trace-window", "trace_window", "D"},
	{"trace-at", "trace_at", "WHERE"},
	{"trace-events", "trace_events", "N"},
}

// runUsage is bench run's help: its flags, then every scenario key from the table.
func runUsage() string {
	var b strings.Builder
	b.WriteString(`Usage: bench run [flags]

Run runs a scenario: for each of its runs, open-loop traffic goes through the simulated
NIC, its interrupts (MSI-X, MSI or a line), a driver's ISRs and DPCs on CPU-pinned vCPUs,
up to a stack that checks every packet. It prints a table and a headline, and writes into
-o: result.json, one .hgrm per run and histogram, one .hlog per run, bench.txt, and
report.html, a page with all of it and every plot that opens without a network (bench
report rewrites it, bench plot draws the plots as images).

What to run (one of; default: -scenario msi-vs-line):
  -scenario NAME     a built-in scenario (see "bench list")
  -config FILE       a scenario file (JSON, or YAML when named .yaml/.yml; see below)
  -replay FILE[:RUN] rerun exactly the runs recorded in a result.json (or only RUN)
  -runs A,B,...      do only these runs of it, by name (see "bench list")

Scenario flags (they set the base every run starts from; a flag naming a key the
scenario's runs set themselves is refused, and so is any with -replay but the trace's):
`)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, sf := range scenarioFlags {
		f, _ := fieldOf(sf.key)
		fmt.Fprintf(tw, "  -%s %s\t%s (key %s; default %s)\n", sf.flag, sf.arg, f.Doc, f.Key, orNone(f.Default))
	}
	fmt.Fprintf(tw, "  -set KEY=VALUE\tset any key below; repeat it for more\n")
	tw.Flush()
	b.WriteString(`
Other flags:
  -count N           repeat every run N times, interleaved A B A B (default 1)
  -retries N         run a run that was not a valid measurement again, up to N times;
                     every attempt is kept in result.json (default 0)
  -interval D        period of the .hlog's interval histograms (default 1s; one longer
                     than the run makes no cut)
  -o DIR             result directory (default bench-results/<scenario>-<time>)
  -json              print result.json on stdout instead of the table
  -cpuprofile FILE   write a CPU profile of the runs (go tool pprof FILE): where the
                     generator's and the vCPUs' time goes; the profiler's signals
                     disturb what it profiles a little
  -trace FILE        record a timeline of each run: every ISR, DPC call, raise, re-enable
                     and interrupt DPC batch on each vCPU, and the generator's writes, in
                     a window of the run (-trace-window, default the first 50ms of the
                     measured run; -trace-at worst: around the run's longest batch,
                     batch_duration, the worst sample the trace sees: packet_latency is
                     not an event), written as Chrome Trace Event JSON: open it in
                     ui.perfetto.dev or chrome://tracing. With several runs, -count or
                     -retries, one file per run: the run's name (and .r<repetition>,
                     .a<attempt>) goes before FILE's extension: t.msix.json. An
                     interrupted run's trace is written too, after the results.
                     Recording costs a vCPU some 30 ns an event, 6 to 8 an interrupt
                     (README, Timeline traces): compare traced runs with traced runs

A scenario file has a name, a summary, a base (keys every run starts from, over the
defaults) and runs, each a name (letters, digits and "._=+-") and the keys it changes.
result.json's config of each run is itself such a set of keys, which -replay reads back.
Unknown keys, duplicate keys and wrong types are errors naming the file and the key.
An optional "headline" lists what the scenario is about: a metric, its statistics, and
the runs it compares ("compare: [a, b]") or the series it follows ("series: [...]");
a file without one gets no headline (README has the key's fields).

  name: moderation
  summary: interrupt moderation off and at 50us
  base: {mode: msix, duration: 2s}
  runs:
    - name: off
    - name: itr50
      moderation_interval: 50us

Keys (type; default; allowed values):
`)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, f := range scenario.Fields() {
		values := ""
		if f.Values != "" {
			values = "; " + f.Values
		}
		fmt.Fprintf(tw, "  %s\t%s (%s; default %s%s)\n", f.Key, f.Doc, f.Type, orNone(f.Default), values)
	}
	tw.Flush()
	b.WriteString(`
Durations are written as "2s", "50us"; CPU lists as "0-3,6". A key's zero means
automatic where the default says so.

A run is judged as it ends: if the host disturbed it (other processes or the hypervisor
took its CPUs, a vCPU or the generator stalled, the generator could not send what the
schedule offered, nothing was delivered, values beyond a histogram's ceiling), it is not
a measurement: a warning line under it in the table says why, result.json records the
verdict (runs[].validity), and headlines leave it out.

Exit status: 0 success; 1 an invariant broke (results are still written); 2 bad usage or
input (nothing is written); 3 a run was not a valid measurement (results are written,
flagged); 130 interrupted (what was measured is written, marked interrupted).

Examples:
  bench run
  bench run -scenario throttle -duration 2s
  bench run -scenario msi-vs-line -count 5 -o base
  bench run -config moderation.yaml -set per_packet=70ns
  bench run -driver minimal -duration 1s
  bench run -replay base/result.json:msix -o again
  bench run -runs msix -idle spin -rate 14880000 -cpuprofile cpu.prof
  bench run -runs msix -duration 1s -trace t.json
  bench run -replay base/result.json:msix -trace worst.json -trace-at worst -o again
`)
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// fieldOf returns the table row of key.
func fieldOf(key string) (scenario.Field, bool) {
	for _, f := range scenario.Fields() {
		if f.Key == key {
			return f, true
		}
	}
	return scenario.Field{}, false
}

// runFlags are bench run's flags; settings are the scenario flags given, in order.
type runFlags struct {
	scenario, out, config, replay string
	runs                          string // -runs: the runs to do, by name; empty: all
	cpuProfile                    string // -cpuprofile: where the runs' CPU profile goes
	trace                         string // -trace: where the runs' timeline traces go
	interval                      time.Duration
	count, retries                int
	asJSON                        bool
	settings                      []flagSetting
	set                           map[string]bool
}

// flagSetting is a scenario key set by a flag.
type flagSetting struct {
	flag string // as given: "duration", or "set" for -set
	scenario.Setting
}

func runList(_ context.Context, stdout, _ io.Writer, args []string) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	files := fs.Bool("files", false, "")
	if err := parseFlags(fs, listUsage, stdout, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Scenarios:")
	for _, name := range builtinOrder {
		def, data, err := builtin(name)
		if err != nil {
			return err
		}
		if *files {
			fmt.Fprintf(stdout, "# %s\n%s\n", name+".yaml", data)
			continue
		}
		mark := ""
		if name == defaultScenario {
			mark = " (default)"
		}
		fmt.Fprintf(tw, "  %s%s\t%s\n\truns: %s\n", name, mark, def.Summary, def.params())
	}
	if *files {
		return nil
	}
	fmt.Fprintln(tw, "\nDrivers (-driver NAME, key driver):")
	for _, d := range harness.Drivers() {
		mark := ""
		if d.Name == scenario.Default().Driver {
			mark = " (default)"
		}
		fmt.Fprintf(tw, "  %s%s\t%s\n", d.Name, mark, d.Summary)
	}
	return tw.Flush()
}

func runRun(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	f := runFlags{set: map[string]bool{}}
	fs := runFlagSet("run", &f)
	if err := parseFlags(fs, runUsage(), stdout, args); err != nil {
		return err
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	return runPlanned(ctx, stdout, stderr, f)
}

// runFlagSet returns a flag set of bench run's flags (bench ndr's too) writing into f.
func runFlagSet(name string, f *runFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&f.scenario, "scenario", defaultScenario, "")
	fs.StringVar(&f.config, "config", "", "")
	fs.StringVar(&f.replay, "replay", "", "")
	fs.StringVar(&f.runs, "runs", "", "")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "")
	fs.StringVar(&f.trace, "trace", "", "")
	fs.IntVar(&f.count, "count", 1, "")
	fs.IntVar(&f.retries, "retries", 0, "")
	fs.DurationVar(&f.interval, "interval", time.Second, "")
	fs.StringVar(&f.out, "o", "", "")
	fs.BoolVar(&f.asJSON, "json", false, "")
	for _, sf := range scenarioFlags {
		fs.Func(sf.flag, "", func(v string) error {
			st, err := scenario.ParseSetting(sf.key, v)
			if err != nil {
				return errors.New(strings.TrimPrefix(err.Error(), fmt.Sprintf("key %q: ", sf.key)))
			}
			f.settings = append(f.settings, flagSetting{sf.flag, st})
			return nil
		})
	}
	fs.Func("set", "", func(v string) error {
		key, value, ok := strings.Cut(v, "=")
		if !ok {
			return errors.New("want KEY=VALUE")
		}
		st, err := scenario.ParseSetting(key, value)
		if err != nil {
			return err
		}
		f.settings = append(f.settings, flagSetting{"set", st})
		return nil
	})
	return fs
}

// runPlanned is bench run once its flags are parsed.
func runPlanned(ctx context.Context, stdout, stderr io.Writer, f runFlags) error {
	def, plan, dir, err := resolvePlan(f, stderr, "")
	if err != nil {
		return err
	}
	if f.interval < time.Millisecond {
		return usagef("run: flag -interval: %v is shorter than the log format's millisecond resolution", f.interval)
	}
	if err := checkOutputDir(dir); err != nil {
		return usagef("run: flag -o: %v", err)
	}
	if f.trace != "" {
		if err := checkOutputFile(f.trace); err != nil {
			return usagef("run: flag -trace: %v", err)
		}
	}
	prof, err := startCPUProfile(f.cpuProfile)
	if err != nil {
		return err
	}
	if prof != nil {
		fmt.Fprintln(stderr, "bench: -cpuprofile: the profiler interrupts every thread 100 times a second; compare profiled runs with profiled runs only")
	}
	// Stopped once the runs end; this is for the way out of a failure.
	defer prof.stop()
	out, err := results.CreateDir(dir, false) // the runs' interval logs stream into it
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	defer out.Abort() // unless committed
	// Spinning vCPUs hold their Ps: make room for the generator and the collector, as
	// the library leaves GOMAXPROCS to its caller.
	need := 0
	for _, p := range plan {
		need = max(need, core.GOMAXPROCSNeeded(p.sc.VCPUs))
	}
	var abandoned string // a run that did not stop within a second of Ctrl-C
	if runtime.GOMAXPROCS(0) < need {
		old := runtime.GOMAXPROCS(need)
		defer func() {
			// Not after an abandoned run: its pinned threads still spin, and the stop
			// of the world that GOMAXPROCS makes would wait for them.
			if abandoned == "" {
				runtime.GOMAXPROCS(old)
			}
		}()
	}

	env := results.DetectEnvironment()
	var clock core.Clock // the real clock, the one every run uses
	env.ClockCostNs = results.MeasureClockCost(clock.Now)
	res := results.New(def.Name, env)
	res.Started = time.Now()
	printPortabilityNotes(stderr, runtime.GOOS, plan)
	prog := newProgress(stderr, isTerminal(os.Stderr))
	prog.start(def.Name, len(plan))
	var broken []string
	var logs []*results.IntervalLogStream
	var failed error // a run that could not start; what the others measured is still written
	var traceErrs []error
	var lateTrace *runTrace // an interrupted run's trace: written after the results
	pinned, cpus := true, ""
	invalid := 0
plan:
	for i, p := range plan {
		for attempt := 0; ; attempt++ {
			if ctx.Err() != nil {
				break plan
			}
			log, err := out.IntervalLog()
			if err != nil {
				return fmt.Errorf("run: %w", err)
			}
			opts := harness.Options{Progress: prog.update(i, p.name), Interval: f.interval, OnInterval: logIntervals(log), Limits: verdictLimits}
			tr, err := newRunTrace(f.trace, plan, i, attempt)
			if err != nil {
				return err
			}
			if tr != nil {
				opts.Trace = tr.rec
			}
			rep, err := runOne(ctx, func(ctx context.Context) (*harness.Report, error) { return harness.Run(ctx, p.sc, opts) })
			if errors.Is(err, errAbandoned) {
				log.Remove() // and its trace: its threads may still be writing to it
				abandoned = p.name
				break plan
			}
			if rep == nil {
				log.Remove()
				failed = fmt.Errorf("run %s: %w", p.name, err)
				break plan
			}
			if tr != nil {
				if rep.Interrupted || ctx.Err() != nil {
					lateTrace = tr // the results come first: Ctrl-C gives them within a second
				} else if msgs, err := tr.write(); err != nil {
					traceErrs = append(traceErrs, err)
				} else {
					for _, m := range msgs {
						prog.note(m)
					}
				}
			}
			pinned = pinned && rep.Platform.Pinned
			if cpus == "" {
				cpus = rep.Platform.CPUs
			}
			if err != nil {
				broken = append(broken, fmt.Sprintf("run %s (repetition %d): %v", p.name, p.rep, err))
			}
			run, err := toResultRun(p, rep)
			if err != nil {
				return err
			}
			run.Attempt = attempt
			retry := !rep.Validity.Valid && attempt < f.retries && !rep.Interrupted && ctx.Err() == nil
			if retry {
				run.Validity.Superseded = true
				prog.note(fmt.Sprintf("run %s (repetition %d) was not a valid measurement (%s): attempt %d of %d",
					p.name, p.rep, strings.Join(rep.Validity.Reasons, "; "), attempt+2, f.retries+1))
			} else if !rep.Validity.Valid && !rep.Interrupted {
				invalid++
			}
			res.Runs = append(res.Runs, run)
			logs = append(logs, log)
			if rep.Interrupted {
				break plan
			}
			if !retry {
				break
			}
		}
	}
	prog.finish()
	res.Finished = time.Now()
	if err := prof.stop(); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err) // the measurement is still written
	}
	res.Interrupted = ctx.Err() != nil
	res.Env.CPUs, res.Env.Pinned = cpus, pinned && len(res.Runs) > 0
	if len(res.Runs) == 0 {
		if failed != nil {
			return failed
		}
		if abandoned != "" {
			return fmt.Errorf("%w: run %s did not stop within a second and is lost; no run had finished, so nothing is written", errInterrupted, abandoned)
		}
		return errInterrupted
	}
	// report.html is drawn from the set as it is committed, after every run: it costs
	// the runs nothing, and a plot that cannot be drawn is named on the page.
	set := &results.Output{Result: res, IntervalLogs: logs, Extra: []results.ExtraFile{reportFile(def, res)}}
	if err := out.Commit(set); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if lateTrace != nil {
		msgs, err := lateTrace.write()
		if err != nil {
			traceErrs = append(traceErrs, err)
		}
		for _, m := range msgs {
			fmt.Fprintln(stderr, "bench: "+m)
		}
	}
	if f.asJSON {
		if _, err := res.WriteTo(stdout); err != nil {
			return err
		}
	} else {
		printRunTable(stdout, def, res)
		fmt.Fprintf(stdout, "\nwrote %s; its plots are in %s\n", dir, filepath.Join(dir, results.ReportFile))
	}
	if failed != nil {
		return fmt.Errorf("%w (the runs before it are written to %s)", failed, dir)
	}
	if len(traceErrs) > 0 {
		return fmt.Errorf("%w (the results are written to %s)", errors.Join(traceErrs...), dir)
	}
	if len(broken) > 0 {
		return fmt.Errorf("INVARIANT BROKEN (results written to %s):\n%s", dir, strings.Join(broken, "\n"))
	}
	if res.Interrupted {
		if abandoned != "" {
			return fmt.Errorf("%w: run %s did not stop within a second and is lost; the runs before it are written to %s", errInterrupted, abandoned, dir)
		}
		return fmt.Errorf("%w: partial results written to %s", errInterrupted, dir)
	}
	if invalid > 0 {
		return fmt.Errorf("%w: %d of %d runs (results written to %s; see the warnings above, or -retries)", errInvalidRun, invalid, len(res.Runs), dir)
	}
	return nil
}

// errAbandoned is runOne's error for a run that did not return within abandonAfter of
// an interrupt.
var errAbandoned = errors.New("run abandoned")

// abandonAfter is how long an interrupted run may take to stop before the CLI writes
// what the earlier runs measured without it: Ctrl-C takes effect within a second in
// every state, even when a stalled host keeps the run's threads from finishing.
const abandonAfter = 900 * time.Millisecond

// runOne calls run (a harness.Run), and returns errAbandoned when ctx is cancelled and
// run does not return within abandonAfter (its goroutines are left to the process's
// exit).
func runOne(ctx context.Context, run func(context.Context) (*harness.Report, error)) (*harness.Report, error) {
	type outcome struct {
		rep *harness.Report
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		rep, err := run(ctx)
		done <- outcome{rep, err}
	}()
	select {
	case o := <-done:
		return o.rep, o.err
	case <-ctx.Done():
	}
	t := time.NewTimer(abandonAfter)
	defer t.Stop()
	select {
	case o := <-done:
		return o.rep, o.err
	case <-t.C:
		return nil, errAbandoned
	}
}

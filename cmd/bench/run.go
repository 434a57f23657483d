package main

import (
	"context"
	"encoding/json"
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

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
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
}

// runUsage is bench run's help: its flags, then every scenario key from the table.
func runUsage() string {
	var b strings.Builder
	b.WriteString(`Usage: bench run [flags]

Run runs a scenario: for each of its runs, open-loop traffic goes through the simulated
NIC, its interrupts (MSI-X, MSI or a line), a driver's ISRs and DPCs on CPU-pinned vCPUs,
up to a stack that checks every packet. It prints a table and a headline, and writes into
-o: result.json, one .hgrm per run and histogram, one .hlog per run, and bench.txt.

What to run (one of; default: -scenario msi-vs-line):
  -scenario NAME     a built-in scenario (see "bench list")
  -config FILE       a scenario file (JSON, or YAML when named .yaml/.yml; see below)
  -replay FILE[:RUN] rerun exactly the runs recorded in a result.json (or only RUN)

Scenario flags (they set the base every run starts from; a flag naming a key the
scenario's runs set themselves is refused, and so is any with -replay):
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
  -interval D        period of the .hlog's interval histograms (default 1s)
  -o DIR             result directory (default bench-results/<scenario>-<time>)
  -json              print result.json on stdout instead of the table

A scenario file has a name, a summary, a base (keys every run starts from, over the
defaults) and runs, each a name (letters, digits and "._=+-") and the keys it changes.
result.json's config of each run is itself such a set of keys, which -replay reads back.
Unknown keys, duplicate keys and wrong types are errors naming the file and the key.

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

Exit status: 0, 1 when an invariant broke (results are still written), 2 for bad usage,
130 when interrupted (what was measured is written, marked interrupted).

Examples:
  bench run
  bench run -scenario throttle -duration 2s
  bench run -scenario msi-vs-line -count 5 -o base
  bench run -config moderation.yaml -set per_packet=70ns
  bench run -driver minimal -duration 1s
  bench run -replay base/result.json:msix -o again
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
	interval                      time.Duration
	count                         int
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
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&f.scenario, "scenario", defaultScenario, "")
	fs.StringVar(&f.config, "config", "", "")
	fs.StringVar(&f.replay, "replay", "", "")
	fs.IntVar(&f.count, "count", 1, "")
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
	if err := parseFlags(fs, runUsage(), stdout, args); err != nil {
		return err
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })

	def, err := chooseScenario(f)
	if err != nil {
		return err
	}
	plan, err := planRuns(def, f)
	if err != nil {
		return err
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Join("bench-results", def.Name+"-"+time.Now().Format("20060102-150405"))
	}
	if f.interval < time.Millisecond {
		return usagef("run: flag -interval: %v is shorter than the log format's millisecond resolution", f.interval)
	}
	if err := checkOutputDir(dir); err != nil {
		return usagef("run: flag -o: %v", err)
	}
	// Spinning vCPUs hold their Ps: make room for the generator and the collector, as
	// the library leaves GOMAXPROCS to its caller.
	need := 0
	for _, p := range plan {
		need = max(need, core.GOMAXPROCSNeeded(p.sc.VCPUs))
	}
	if runtime.GOMAXPROCS(0) < need {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(need))
	}

	env := results.DetectEnvironment()
	clock := core.Monotonic{}
	env.ClockSource = clock.String()
	env.ClockCostNs = results.MeasureClockCost(clock.Now)
	res := results.New(def.Name, env)
	res.Started = time.Now()
	prog := newProgress(stderr, isTerminal(os.Stderr))
	prog.start(def.Name, len(plan))
	var broken []string
	var intervals [][]results.IntervalSet
	var failed error // a run that could not start; what the others measured is still written
	pinned, cpus := true, ""
	for i, p := range plan {
		if ctx.Err() != nil {
			break
		}
		rep, err := harness.Run(ctx, p.sc, harness.Options{Progress: prog.update(i, p.name), Interval: f.interval})
		if rep == nil {
			failed = fmt.Errorf("run %s: %w", p.name, err)
			break
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
		res.Runs = append(res.Runs, run)
		intervals = append(intervals, intervalSets(rep))
		if rep.Interrupted {
			break
		}
	}
	prog.finish()
	res.Finished = time.Now()
	res.Interrupted = ctx.Err() != nil
	res.Env.CPUs, res.Env.Pinned = cpus, pinned && len(res.Runs) > 0
	if len(res.Runs) == 0 {
		if failed != nil {
			return failed
		}
		return errInterrupted
	}
	if err := results.WriteDir(dir, &results.Output{Result: res, Intervals: intervals}); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if f.asJSON {
		if _, err := res.WriteTo(stdout); err != nil {
			return err
		}
	} else {
		printRunTable(stdout, def, res)
		fmt.Fprintf(stdout, "\nwrote %s\n", dir)
	}
	if failed != nil {
		return fmt.Errorf("%w (the runs before it are written to %s)", failed, dir)
	}
	if len(broken) > 0 {
		return fmt.Errorf("INVARIANT BROKEN (results written to %s):\n%s", dir, strings.Join(broken, "\n"))
	}
	if res.Interrupted {
		return fmt.Errorf("%w: partial results written to %s", errInterrupted, dir)
	}
	return nil
}

// chooseScenario returns what -scenario, -config or -replay names.
func chooseScenario(f runFlags) (*scenarioDef, error) {
	chosen := 0
	for _, name := range []string{"scenario", "config", "replay"} {
		if f.set[name] {
			chosen++
		}
	}
	if chosen > 1 {
		return nil, usagef("run: flags -scenario, -config and -replay: give one of them")
	}
	switch {
	case f.config != "":
		file, err := scenario.ReadFile(f.config)
		if err != nil {
			return nil, usagef("run: flag -config: %v", err)
		}
		return &scenarioDef{File: file, source: "file " + f.config}, nil
	case f.replay != "":
		def, err := replayScenario(f.replay)
		if err != nil {
			return nil, usagef("run: flag -replay: %v", err)
		}
		return def, nil
	}
	def, _, err := builtin(f.scenario)
	if err != nil {
		return nil, usagef("run: flag -scenario: %v", err)
	}
	return def, nil
}

// replayScenario reads a result.json (PATH, or PATH:RUN for one run) and returns a
// scenario whose runs are the recorded configs: the first repetition of each run name,
// in the order they ran.
func replayScenario(arg string) (*scenarioDef, error) {
	path, only := arg, ""
	if _, err := os.Stat(path); err != nil {
		if i := strings.LastIndex(arg, ":"); i > 0 {
			path, only = arg[:i], arg[i+1:]
		}
	}
	res, err := results.ReadFile(path)
	if err != nil {
		return nil, err
	}
	file := &scenario.File{Name: res.Scenario, Summary: "a replay of " + path}
	seen := map[string]bool{}
	for _, r := range res.Runs {
		if seen[r.Name] || (only != "" && r.Name != only) {
			continue
		}
		seen[r.Name] = true
		sc := scenario.Default()
		if err := json.Unmarshal(r.Config, &sc); err != nil {
			return nil, fmt.Errorf("%s: run %s: its config is not a scenario this ndisbench can replay (result.json before schema 1.1 kept another layout): %v", path, r.Name, err)
		}
		file.Runs = append(file.Runs, scenario.Run{Name: r.Name, Set: scenario.PatchOf(sc)})
	}
	if len(file.Runs) == 0 {
		if only != "" {
			return nil, fmt.Errorf("%s has no run %q", path, only)
		}
		return nil, fmt.Errorf("%s has no runs", path)
	}
	return &scenarioDef{File: file, source: "replay of " + path, replay: true}, nil
}

// plannedRun is one run to do.
type plannedRun struct {
	name string
	rep  int
	sc   scenario.Scenario
}

// planRuns builds every run's scenario: Default, the scenario's base, the flags, then
// the run's own settings; the repetitions interleaved (A B A B ...). Every scenario is
// resolved and validated here, so that a bad one exits 2 before anything runs.
func planRuns(def *scenarioDef, f runFlags) ([]plannedRun, error) {
	varies := def.varies()
	for _, st := range f.settings {
		switch {
		case def.replay:
			return nil, usagef("run: flag -%s: -replay reruns the recorded configuration exactly; to change it, write it as a scenario file", st.flag)
		case contains(varies, st.Key):
			return nil, usagef("run: flag -%s: %s varies %s itself; drop the flag or pick another scenario", st.flag, def.source, st.Key)
		}
	}
	if f.count < 1 || f.count > 1000 {
		return nil, usagef("run: flag -count: must be 1..1000, got %d", f.count)
	}
	allowed, err := affinity.Allowed()
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	base := scenario.Default()
	def.Base.Apply(&base)
	byFlag := map[string]string{} // key → the flag that set it last
	for _, st := range f.settings {
		st.Apply(&base)
		byFlag[st.Key] = st.flag
	}
	var plan []plannedRun
	for rep := 0; rep < f.count; rep++ {
		for _, r := range def.Runs {
			sc := base
			r.Set.Apply(&sc)
			sc = sc.Resolved()
			if err := checkScenario(sc, allowed); err != nil {
				return nil, usagef("run: %s", blame(def, r.Name, err, byFlag))
			}
			plan = append(plan, plannedRun{name: r.Name, rep: rep, sc: sc})
		}
	}
	return plan, nil
}

// checkScenario validates sc, and what only this machine can tell: the CPUs it names
// and the driver.
func checkScenario(sc scenario.Scenario, allowed affinity.CPUList) error {
	var errs []error
	if err := sc.Validate(); err != nil {
		errs = append(errs, err)
	}
	for _, c := range sc.CPUs {
		if !allowed.Contains(c) {
			errs = append(errs, &scenario.KeyError{Key: "cpus", Msg: fmt.Sprintf("CPU %d is not allowed to this process (allowed: %s)", c, allowed)})
			break
		}
	}
	if _, ok := harness.LookupDriver(sc.Driver); !ok {
		var names []string
		for _, d := range harness.Drivers() {
			names = append(names, d.Name)
		}
		errs = append(errs, &scenario.KeyError{Key: "driver", Msg: fmt.Sprintf("%q is not a registered driver (want one of %s)", sc.Driver, strings.Join(names, ", "))})
	}
	return errors.Join(errs...)
}

// blame words a validation error for the user: the flag that set a bad key when one
// did, else where the run came from.
func blame(def *scenarioDef, run string, err error, byFlag map[string]string) string {
	var flags []string
	for _, k := range scenario.ErrKeys(err) {
		if fl, ok := byFlag[k]; ok && !contains(flags, fl) {
			flags = append(flags, fl)
		}
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	if len(flags) > 0 {
		return fmt.Sprintf("flag -%s: %s", strings.Join(flags, ", -"), msg)
	}
	return fmt.Sprintf("%s, run %s: %s", def.source, run, msg)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkOutputDir fails early when dir cannot receive results: it exists and is a file, or
// holds files that are not a previous result set, or its parent cannot be made.
func checkOutputDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("%s exists and is not a directory", dir)
	case err == nil:
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		if len(ents) > 0 {
			return fmt.Errorf("%s is not empty; choose a new directory", dir)
		}
		return nil
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(filepath.Dir(filepath.Clean(dir)), 0o755)
	default:
		return err
	}
}

func toResultRun(p plannedRun, rep *harness.Report) (results.Run, error) {
	cfg, err := json.Marshal(rep.Scenario) // the resolved scenario: -replay reads it back
	if err != nil {
		return results.Run{}, err
	}
	pi := rep.Platform
	run := results.Run{
		Name: p.name, Repetition: p.rep, Config: cfg, Started: rep.Started,
		DurationNs: int64(rep.Measured), Interrupted: rep.Interrupted, Counters: rep.Counters,
		Platform: &results.Platform{
			VCPUs: pi.VCPUs, CPUs: pi.CPUs, Pinned: pi.Pinned, PinError: pi.PinError, GOMAXPROCS: pi.GOMAXPROCS,
			Idle: pi.Idle, Oversubscribed: pi.Oversubscribed, GeneratorCPU: rep.GeneratorCPU,
		},
		Rates: results.Rates{
			OfferedPPS: rep.OfferedPPS, GeneratedPPS: rep.GeneratedPPS, AchievedPPS: rep.AchievedPPS,
			DropPct: rep.DropPct, BehindMaxNs: rep.BehindMaxNs,
		},
		Histograms: map[string]results.Histogram{},
	}
	if run.Started.IsZero() {
		run.Started = time.Now() // interrupted before the measured window began
	}
	for name, h := range rep.Hists {
		unit := metric.Unit(name)
		if unit == "" {
			unit = metric.Nanoseconds
		}
		s, err := results.Summarize(h, unit)
		if err != nil {
			return results.Run{}, fmt.Errorf("run %s: histogram %s: %w", p.name, name, err)
		}
		run.Histograms[name] = s
	}
	return run, nil
}

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// intervalSets turns a run's periods into the interval log's sets, kept sparse.
func intervalSets(rep *harness.Report) []results.IntervalSet {
	sets := make([]results.IntervalSet, 0, len(rep.Intervals))
	for _, iv := range rep.Intervals {
		sets = append(sets, results.IntervalSet{Start: iv.Start, Length: iv.Length, Packed: iv.Hists})
	}
	return sets
}

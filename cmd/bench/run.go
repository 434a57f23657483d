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
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/results"
)

var runCommand = command{
	summary: "run a scenario: traffic through the interrupt model, results as HDR histograms",
	usage:   runUsage,
	run:     runRun,
}

var listCommand = command{
	summary: "list the built-in scenarios",
	usage:   listUsage,
	run:     runList,
}

const listUsage = "Usage: bench list\n\nList prints each built-in scenario with a one-line description and what its runs vary.\n"

const runUsage = `Usage: bench run [flags]

Run runs a scenario: for each of its runs, open-loop traffic goes through the simulated
NIC, its interrupts (MSI-X, MSI or a line), ISRs and DPCs on CPU-pinned vCPUs, up to a
stack that checks every packet. It prints a table and a headline, and writes into -o:
result.json, one .hgrm per run and histogram, one .hlog per run, and bench.txt.

Flags (they set the base every run of the scenario starts from; a flag naming what the
scenario itself varies is refused):
  -scenario NAME   built-in scenario (default msi-vs-line; see "bench list")
  -config FILE     a scenario file instead (JSON, or YAML when named .yaml/.yml; see below)
  -duration D      measured traffic per run (default 3s)
  -warmup D        traffic before it, not in the histograms (default 500ms)
  -rate PPS        offered packets per second (default 1000000)
  -mode M          msix, msi or line
  -queues N        RX queues (default: one per vCPU)
  -vcpus N         vCPUs (default: allowed CPUs - 1, at most 4, at least 1)
  -cpus LIST       real CPUs for the vCPUs, then the generator (default: all allowed)
  -idle S          spin, spin-yield or spin-park (default spin-park)
  -throttle N      most NBLs per DPC call, 0 for all (default 0)
  -seed N          traffic seed (default 1)
  -count N         repeat every run N times, interleaved A B A B (default 1)
  -interval D      period of the .hlog's interval histograms (default 1s)
  -o DIR           result directory (default bench-results/<scenario>-<time>)
  -json            print result.json on stdout instead of the table

A scenario file names its runs and what each changes over a common base; keys are the
snake_case names of the scenario's fields (mode, queues, vcpus, cpus, idle, ring_size,
buffers, throttle, budget, moderation_interval, moderation_packets, rss, fan_out,
indicate_batch, msi_sync, schedule, rate_pps, ramp_to_pps, ramp, on, off, flows, flow_dist,
zipf_s, size, imix, mmio_read, per_packet, per_indication, noise_rate, duration, warmup,
seed); durations are strings such as "2s" or "50us". Unknown keys, duplicate keys and wrong
types are errors.

  {"name": "moderation", "base": {"mode": "msix", "duration": "2s"},
   "runs": [{"name": "off"}, {"name": "itr50", "moderation_interval": "50us"}]}

or, as moderation.yaml:

  name: moderation
  base: {mode: msix, duration: 2s}
  runs:
    - name: default
    - name: itr50
      moderation_interval: 50us

Exit status: 0, 1 when an invariant broke (results are still written), 2 for bad usage,
130 when interrupted (what was measured is written, marked interrupted).

Examples:
  bench run
  bench run -scenario throttle -duration 2s
  bench run -scenario msi-vs-line -count 5 -o base
`

// runFlags are bench run's flags; set records which were given.
type runFlags struct {
	scenario, out, config   string
	duration, warmup        time.Duration
	interval                time.Duration
	rate                    float64
	mode, idle              string
	queues, vcpus, throttle int
	cpus                    affinity.CPUList
	seed                    uint64
	count                   int
	asJSON                  bool
	set                     map[string]bool
}

func runList(_ context.Context, stdout, _ io.Writer, args []string) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	if err := parseFlags(fs, listUsage, stdout, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, s := range scenarios {
		def := ""
		if s.name == defaultScenario {
			def = " (default)"
		}
		fmt.Fprintf(tw, "%s%s\t%s\n\truns: %s\n", s.name, def, s.summary, s.params)
	}
	return tw.Flush()
}

func runRun(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	f := runFlags{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&f.scenario, "scenario", defaultScenario, "")
	fs.DurationVar(&f.duration, "duration", 3*time.Second, "")
	fs.DurationVar(&f.warmup, "warmup", 500*time.Millisecond, "")
	fs.Float64Var(&f.rate, "rate", 1e6, "")
	fs.StringVar(&f.mode, "mode", "msix", "")
	fs.IntVar(&f.queues, "queues", 0, "")
	fs.IntVar(&f.vcpus, "vcpus", 0, "")
	fs.Var(&f.cpus, "cpus", "")
	fs.StringVar(&f.idle, "idle", "spin-park", "")
	fs.IntVar(&f.throttle, "throttle", 0, "")
	fs.Uint64Var(&f.seed, "seed", 1, "")
	fs.IntVar(&f.count, "count", 1, "")
	fs.DurationVar(&f.interval, "interval", time.Second, "")
	fs.StringVar(&f.out, "o", "", "")
	fs.StringVar(&f.config, "config", "", "")
	fs.BoolVar(&f.asJSON, "json", false, "")
	if err := parseFlags(fs, runUsage, stdout, args); err != nil {
		return err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })

	var def *scenarioDef
	var err error
	if f.config != "" {
		if f.set["scenario"] {
			return usagef("run: flags -config and -scenario: give one or the other")
		}
		if def, err = fileScenario(f.config); err != nil {
			return usagef("run: flag -config: %v", err)
		}
	} else if def, err = findScenario(f.scenario); err != nil {
		return usagef("run: flag -scenario: %v", err)
	}
	plan, err := planRuns(def, f)
	if err != nil {
		return err
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Join("bench-results", def.name+"-"+time.Now().Format("20060102-150405"))
	}
	if f.interval < time.Millisecond {
		return usagef("run: flag -interval: %v is shorter than the log format's millisecond resolution", f.interval)
	}
	if err := checkOutputDir(dir); err != nil {
		return usagef("run: flag -o: %v", err)
	}

	env := results.DetectEnvironment()
	env.ClockSource = core.ClockSource
	env.ClockCostNs = results.MeasureClockCost(core.Now)
	res := results.New(def.name, env)
	res.Started = time.Now()
	prog := newProgress(stderr, isTerminal(os.Stderr))
	prog.start(def.name, len(plan))
	var broken []string
	var intervals [][]results.IntervalSet
	var failed error // a run that could not start; what the others measured is still written
	pinned, cpus := true, ""
	for i, p := range plan {
		if ctx.Err() != nil {
			break
		}
		rep, err := nicmodel.Run(ctx, p.sc, nicmodel.RunOptions{Progress: prog.update(i, p.name), Interval: f.interval})
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

// plannedRun is one run to do.
type plannedRun struct {
	name string
	rep  int
	sc   nicmodel.Scenario
}

// planRuns builds the base scenario from the flags and lists every run, the repetitions
// interleaved (A B A B ...).
func planRuns(def *scenarioDef, f runFlags) ([]plannedRun, error) {
	for _, v := range def.varies {
		if f.set[v] {
			return nil, usagef("run: flag -%s: scenario %s varies %s itself; drop the flag or pick another scenario", v, def.name, v)
		}
	}
	if f.count < 1 || f.count > 1000 {
		return nil, usagef("run: flag -count: must be 1..1000, got %d", f.count)
	}
	if f.duration <= 0 {
		return nil, usagef("run: flag -duration: must be positive, got %v", f.duration)
	}
	if f.warmup < 0 {
		return nil, usagef("run: flag -warmup: must not be negative, got %v", f.warmup)
	}
	if !(f.rate > 0) || f.rate > 1e9 {
		return nil, usagef("run: flag -rate: must be 0 < rate <= 1e9 packets/s, got %v", f.rate)
	}
	mode, err := nicmodel.ParseMode(f.mode)
	if err != nil {
		return nil, usagef("run: flag -mode: %v", err)
	}
	idle, err := core.ParseIdleStrategy(f.idle)
	if err != nil {
		return nil, usagef("run: flag -idle: %v", err)
	}
	if f.throttle < 0 {
		return nil, usagef("run: flag -throttle: must be >= 0 (0: indicate all), got %d", f.throttle)
	}
	allowed, err := affinity.Allowed()
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	for _, c := range f.cpus {
		if !allowed.Contains(c) {
			return nil, usagef("run: flag -cpus: CPU %d is not allowed to this process (allowed: %s)", c, allowed)
		}
	}
	vcpus := f.vcpus
	if vcpus == 0 {
		n := len(allowed)
		if len(f.cpus) > 0 {
			n = len(f.cpus)
		}
		vcpus = max(1, min(4, n-1))
	}
	// Each flag's value, defaults included, starts the base; the scenario's (or file's)
	// base changes go over it; then the flags given on the command line win again.
	flagSetters := map[string]func(*nicmodel.Scenario){
		"mode":     func(s *nicmodel.Scenario) { s.Mode = mode },
		"idle":     func(s *nicmodel.Scenario) { s.Idle = idle },
		"queues":   func(s *nicmodel.Scenario) { s.Queues = f.queues }, // 0: one per vCPU (WithDefaults)
		"vcpus":    func(s *nicmodel.Scenario) { s.VCPUs = vcpus },
		"cpus":     func(s *nicmodel.Scenario) { s.CPUs = f.cpus },
		"throttle": func(s *nicmodel.Scenario) { s.Throttle = f.throttle },
		"duration": func(s *nicmodel.Scenario) { s.Duration = f.duration },
		"warmup":   func(s *nicmodel.Scenario) { s.Warmup = f.warmup },
		"seed":     func(s *nicmodel.Scenario) { s.Seed = f.seed },
		"rate":     func(s *nicmodel.Scenario) { s.Schedule.RatePPS = f.rate },
	}
	var base nicmodel.Scenario
	for _, set := range flagSetters {
		set(&base)
	}
	if def.base != nil {
		def.base(&base)
		for name, set := range flagSetters {
			if f.set[name] {
				set(&base)
			}
		}
	}
	var plan []plannedRun
	for rep := 0; rep < f.count; rep++ {
		for _, v := range def.variants {
			sc := base
			v.set(&sc)
			sc = sc.WithDefaults()
			if err := sc.Validate(); err != nil {
				return nil, usagef("run: %s, run %s: %v", def.where(), v.name, err)
			}
			plan = append(plan, plannedRun{name: v.name, rep: rep, sc: sc})
		}
	}
	return plan, nil
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

// scenarioConfig is the resolved scenario as result.json shows it: names, not enum numbers.
type scenarioConfig struct {
	Mode               string                  `json:"mode"`
	Queues             int                     `json:"queues"`
	VCPUs              int                     `json:"vcpus"`
	CPUs               string                  `json:"cpus"`
	Idle               string                  `json:"idle"`
	SpinNs             int64                   `json:"spin_ns"`
	RingSize           int                     `json:"ring_size"`
	Buffers            int                     `json:"buffers"`
	Throttle           int                     `json:"throttle"`
	BudgetNs           int64                   `json:"budget_ns"`
	ModerationInterval int64                   `json:"moderation_interval_ns"`
	ModerationPackets  int                     `json:"moderation_packets"`
	RSS                string                  `json:"rss"`
	IndirectionEntries int                     `json:"indirection_entries"`
	FanOut             string                  `json:"fan_out"`
	IndicateBatch      int                     `json:"indicate_batch"`
	MSISync            bool                    `json:"msi_sync"`
	Schedule           nicmodel.ScheduleConfig `json:"schedule"`
	Flows              nicmodel.FlowConfig     `json:"flows"`
	Sizes              nicmodel.SizeConfig     `json:"sizes"`
	MMIOReadNs         int64                   `json:"mmio_read_ns"`
	PerPacketNs        int64                   `json:"per_packet_ns"`
	PerIndicationNs    int64                   `json:"per_indication_ns"`
	NoiseRate          float64                 `json:"noise_rate"`
	DurationNs         int64                   `json:"duration_ns"`
	WarmupNs           int64                   `json:"warmup_ns"`
	Seed               uint64                  `json:"seed"`
	// How it ran.
	Platform     core.RunInfo `json:"platform"`
	GeneratorCPU int          `json:"generator_cpu"`
}

func configOf(sc nicmodel.Scenario, rep *nicmodel.Report) scenarioConfig {
	return scenarioConfig{
		Mode: sc.Mode.String(), Queues: sc.Queues, VCPUs: sc.VCPUs, CPUs: sc.CPUs.String(), Idle: sc.Idle.String(),
		SpinNs: int64(sc.Spin), RingSize: sc.RingSize, Buffers: sc.Buffers, Throttle: sc.Throttle, BudgetNs: int64(sc.Budget),
		ModerationInterval: int64(sc.ModerationInterval), ModerationPackets: sc.ModerationPackets,
		RSS: sc.RSS.String(), IndirectionEntries: sc.IndirectionEntries, FanOut: sc.FanOut.String(),
		IndicateBatch: sc.IndicateBatch, MSISync: sc.MSISync, Schedule: sc.Schedule, Flows: sc.Flows, Sizes: sc.Sizes,
		MMIOReadNs: int64(sc.MMIORead), PerPacketNs: int64(sc.PerPacket), PerIndicationNs: int64(sc.PerIndication),
		NoiseRate: sc.NoiseRate, DurationNs: int64(sc.Duration), WarmupNs: int64(sc.Warmup), Seed: sc.Seed,
		Platform: rep.Platform, GeneratorCPU: rep.GeneratorCPU,
	}
}

func toResultRun(p plannedRun, rep *nicmodel.Report) (results.Run, error) {
	cfg, err := json.Marshal(configOf(p.sc, rep))
	if err != nil {
		return results.Run{}, err
	}
	run := results.Run{
		Name: p.name, Repetition: p.rep, Config: cfg, Started: rep.Started,
		DurationNs: int64(rep.Measured), Interrupted: rep.Interrupted, Counters: rep.Counters,
		Rates: results.Rates{
			OfferedPPS: rep.OfferedPPS, GeneratedPPS: rep.GeneratedPPS, AchievedPPS: rep.AchievedPPS,
			BehindMaxNs: rep.BehindMaxNs,
		},
		Histograms: map[string]results.Histogram{},
	}
	if run.Started.IsZero() {
		run.Started = time.Now() // interrupted before the measured window began
	}
	for name, h := range rep.Hists {
		unit := results.UnitNanoseconds
		if name == results.HistDPCBatchSize {
			unit = results.UnitNBLs
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
func intervalSets(rep *nicmodel.Report) []results.IntervalSet {
	sets := make([]results.IntervalSet, 0, len(rep.Intervals))
	for _, iv := range rep.Intervals {
		sets = append(sets, results.IntervalSet{Start: iv.Start, Length: iv.Length, Packed: iv.Hists})
	}
	return sets
}

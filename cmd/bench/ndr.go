package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/nicmodel/ndr"
	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

var ndrCommand = command{
	summary: "search each run's zero-loss throughput (NDR) and PDR, with CPU per packet",
	usage:   ndrUsage,
	run:     runNDR,
}

const ndrUsage = `Usage: bench ndr [bench run's flags] [search flags]

Ndr searches, for each run of a scenario, the largest offered rate whose loss ratio is
at most a goal: NDR (no loss) and PDR (-pdr-loss, 0.5% by default), as RFC 2544 §26.1
defines the throughput and RFC 9971 (MLRsearch) refines its search. Each trial is a
fixed-rate run of -trial of traffic (after the scenario's warm-up, at most -trial) and is
judged like any bench run: a trial that is not a valid measurement is run again at the
same rate and never counted. A goal's bounds are final when (upper - lower) / upper is
at most -precision and the lower bound held in two valid trials; -max-time limits each
run's search. Then one trial each at 10%, 50% and 90% of the NDR gives latency under
load, as FD.io CSIT reports it.

It takes bench run's scenario, flag and file arguments (bench help run); the rate comes
from the search, so -rate is refused. It writes result.json into -o, each run's figures
those of its trial at the NDR with runs[].ndr holding the search (results/SCHEMA.md).

Use bench run for latency and batching at a rate you choose; use bench ndr to ask how
much a design carries, and at what CPU cost per packet.

Search flags:
  -trial D         measured traffic per trial (default 500ms)
  -precision F     relative width at which bounds are final (default 0.05)
  -pdr-loss F      the PDR goal's loss ratio, 0 to 1 (default 0.005)
  -min-rate PPS    the lowest rate searched (default 10000)
  -max-rate PPS    the highest, tried first (default 4e6)
  -max-time D      time limit of each run's search (default 50s)

Exit status: 0 success; 1 an invariant broke in a trial; 2 bad usage; 3 a run had no
valid answer (no valid trial, or no rate in range met the NDR goal); 130 interrupted
(the search so far is written, marked interrupted).

Examples:
  bench ndr
  bench ndr -runs msix -max-rate 2e6 -precision 0.02
  bench ndr -set costs=zero -set per_packet=500ns -vcpus 1
`

// ndrFlags are bench ndr's own flags.
type ndrFlags struct {
	trial, maxTime     time.Duration
	precision, pdrLoss float64
	minRate, maxRate   float64
}

func runNDR(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	f := runFlags{set: map[string]bool{}}
	fs := runFlagSet("ndr", &f)
	var nf ndrFlags
	fs.DurationVar(&nf.trial, "trial", 500*time.Millisecond, "")
	fs.DurationVar(&nf.maxTime, "max-time", 50*time.Second, "")
	fs.Float64Var(&nf.precision, "precision", 0.05, "")
	fs.Float64Var(&nf.pdrLoss, "pdr-loss", 0.005, "")
	fs.Float64Var(&nf.minRate, "min-rate", 1e4, "")
	fs.Float64Var(&nf.maxRate, "max-rate", 4e6, "")
	if err := parseFlags(fs, ndrUsage, stdout, args); err != nil {
		return err
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if f.set["rate"] {
		return usagef("ndr: flag -rate: the search chooses the rate; use -min-rate and -max-rate")
	}
	if f.set["retries"] || f.set["interval"] || f.set["cpuprofile"] {
		return usagef("ndr: flags -retries, -interval and -cpuprofile are bench run's: the search repeats invalid trials itself")
	}
	switch {
	case nf.trial < 10*time.Millisecond:
		return usagef("ndr: flag -trial: want at least 10ms, got %v", nf.trial)
	case !(nf.pdrLoss > 0 && nf.pdrLoss < 1):
		return usagef("ndr: flag -pdr-loss: want > 0 and < 1, got %g", nf.pdrLoss)
	case nf.maxTime <= 0:
		return usagef("ndr: flag -max-time: must be positive")
	}
	cfg := ndr.Config{
		MinPPS: nf.minRate, MaxPPS: nf.maxRate, Precision: nf.precision, MaxTime: nf.maxTime,
		MaxInvalid: 10, // a shared machine stalls runs in bursts: ride one out
		Goals:      []ndr.Goal{{Name: "ndr", LossRatio: 0}, {Name: "pdr", LossRatio: nf.pdrLoss}},
	}
	if _, err := ndr.Search(context.Background(), ndr.Config{MinPPS: cfg.MinPPS, MaxPPS: cfg.MaxPPS, Precision: cfg.Precision, MaxTime: time.Nanosecond, Goals: cfg.Goals},
		ndr.TrialFunc(func(context.Context, float64) (ndr.Trial, error) { return ndr.Trial{}, errors.New("unused") })); errors.Is(err, ndr.ErrConfig) {
		return usagef("ndr: flags -min-rate, -max-rate, -precision: %v", err)
	}
	def, plan, dir, err := resolvePlan(f, stderr, "-ndr")
	if err != nil {
		return err
	}
	if err := checkOutputDir(dir); err != nil {
		return usagef("ndr: flag -o: %v", err)
	}
	out, err := results.CreateDir(dir, false)
	if err != nil {
		return fmt.Errorf("ndr: %w", err)
	}
	defer out.Abort()
	need := 0
	for _, p := range plan {
		need = max(need, core.GOMAXPROCSNeeded(p.sc.VCPUs))
	}
	abandoned := false
	if runtime.GOMAXPROCS(0) < need {
		old := runtime.GOMAXPROCS(need)
		defer func() {
			if !abandoned {
				runtime.GOMAXPROCS(old)
			}
		}()
	}
	env := results.DetectEnvironment()
	var clock core.Clock
	env.ClockCostNs = results.MeasureClockCost(clock.Now)
	res := results.New(def.Name, env)
	res.Started = time.Now()
	prog := newProgress(stderr, isTerminal(os.Stderr))
	prog.start(def.Name+" (ndr)", len(plan))
	var broken []string
	noAnswer := 0
	pinned, cpus := true, ""
	for i, p := range plan {
		if ctx.Err() != nil {
			break
		}
		s := &ndrRun{p: p, trial: nf.trial, progress: prog.update(i, p.name), note: prog.note}
		run, err := s.search(ctx, cfg)
		if errors.Is(err, errAbandoned) {
			abandoned = true
		}
		if run == nil {
			if err != nil && !errors.Is(err, errAbandoned) {
				prog.finish()
				return fmt.Errorf("ndr: run %s: %w", p.name, err)
			}
			break
		}
		pinned = pinned && run.Platform != nil && run.Platform.Pinned
		if cpus == "" && run.Platform != nil {
			cpus = run.Platform.CPUs
		}
		broken = append(broken, s.broken...)
		if errors.Is(err, ndr.ErrNoValid) || run.NDR.Goals[0].LowerPPS == 0 {
			noAnswer++
		}
		res.Runs = append(res.Runs, *run)
		if abandoned {
			break
		}
	}
	prog.finish()
	res.Finished = time.Now()
	res.Interrupted = ctx.Err() != nil
	res.Env.CPUs, res.Env.Pinned = cpus, pinned && len(res.Runs) > 0
	if len(res.Runs) == 0 {
		return errInterrupted
	}
	if err := out.Commit(&results.Output{Result: res}); err != nil {
		return fmt.Errorf("ndr: %w", err)
	}
	if f.asJSON {
		if _, err := res.WriteTo(stdout); err != nil {
			return err
		}
	} else {
		printNDRTable(stdout, def, res)
		fmt.Fprintf(stdout, "\nwrote %s\n", dir)
	}
	switch {
	case len(broken) > 0:
		return fmt.Errorf("INVARIANT BROKEN (results written to %s):\n%s", dir, strings.Join(broken, "\n"))
	case res.Interrupted:
		return fmt.Errorf("%w: partial results written to %s", errInterrupted, dir)
	case noAnswer > 0:
		return fmt.Errorf("%w: %d of %d runs found no valid NDR (results written to %s)", errInvalidRun, noAnswer, len(res.Runs), dir)
	}
	return nil
}

// ndrRun is one planned run's search: its Trialer runs the harness at a rate.
type ndrRun struct {
	p        plannedRun
	trial    time.Duration
	progress func(harness.Progress)
	note     func(string)
	broken   []string
}

// trialOf is what a trial keeps of its run.
type trialOf struct {
	run *results.Run
}

// Trial runs p's scenario at rate for one trial's length.
func (s *ndrRun) Trial(ctx context.Context, rate float64) (ndr.Trial, error) {
	sc := s.p.sc
	sc.Schedule.RatePPS = rate
	sc.Duration = s.trial
	sc.Warmup = min(sc.Warmup, s.trial)
	opts := harness.Options{Progress: s.progress, Limits: verdictLimits}
	rep, err := runOne(ctx, func(ctx context.Context) (*harness.Report, error) { return harness.Run(ctx, sc, opts) })
	if rep == nil {
		return ndr.Trial{}, err
	}
	if err != nil {
		s.broken = append(s.broken, fmt.Sprintf("run %s at %.0f pkts/s: %v", s.p.name, rate, err))
		return ndr.Trial{}, err // a broken invariant ends the search
	}
	run, err := toResultRun(s.p, rep)
	if err != nil {
		return ndr.Trial{}, err
	}
	t := ndr.Trial{AchievedPPS: rep.AchievedPPS, Valid: rep.Validity.Valid && !rep.Interrupted, Reasons: rep.Validity.Reasons, Data: trialOf{&run}}
	if rep.Interrupted {
		t.Reasons = append(t.Reasons, "interrupted")
	}
	if g := rep.Counters[metric.MeasuredGenerated]; g > 0 {
		t.LossRatio = float64(rep.Counters[metric.MeasuredDropped]) / float64(g)
	} else {
		t.Valid = false
	}
	if !t.Valid {
		s.note(fmt.Sprintf("run %s at %s: not a valid trial (%s): repeated", s.p.name, mpps(rate), strings.Join(t.Reasons, "; ")))
	}
	return t, nil
}

// search runs the search and the latency trials, and returns the run result.json gets:
// the trial at the NDR (else the last) with the search in its ndr section.
func (s *ndrRun) search(ctx context.Context, cfg ndr.Config) (*results.Run, error) {
	out, err := ndr.Search(ctx, cfg, s)
	if out == nil || len(out.Trials) == 0 {
		return nil, err
	}
	sec := &results.NDR{
		TrialNs: int64(s.trial), Precision: cfg.Precision, MinPPS: cfg.MinPPS, MaxPPS: cfg.MaxPPS,
		MaxTimeNs: int64(cfg.MaxTime), TimedOut: out.TimedOut, Interrupted: out.Interrupted || ctx.Err() != nil,
		InvalidCount: out.Invalid,
	}
	for _, tr := range out.Trials {
		sec.Trials = append(sec.Trials, trialRecord(tr))
	}
	pick := out.Trials[len(out.Trials)-1]
	for i, b := range out.Bounds {
		g := results.Goal{Name: b.Name, LossRatio: b.LossRatio, LowerPPS: b.Lower, UpperPPS: b.Upper, Capped: b.Capped, Final: b.Final}
		if b.LowerTrial >= 0 {
			g.CPUNsPerPacket = sec.Trials[b.LowerTrial].CPUNsPerPacket
			if i == 0 {
				pick = out.Trials[b.LowerTrial]
			}
		}
		sec.Goals = append(sec.Goals, g)
	}
	if nd := out.Bounds[0]; err == nil && nd.Lower > 0 && !sec.Interrupted {
		for _, f := range ndr.Fractions() {
			tr, terr := s.validTrial(ctx, f*nd.Lower, 5)
			if terr != nil {
				err = terr
				break
			}
			if tr == nil {
				break
			}
			sec.Latency = append(sec.Latency, results.LoadPoint{Fraction: f, Trial: trialRecord(*tr)})
		}
	}
	sec.ElapsedNs = int64(out.Elapsed)
	td, ok := pick.Data.(trialOf)
	if !ok {
		return nil, err
	}
	run := *td.run
	run.NDR = sec
	return &run, err
}

// validTrial runs trials at rate until one is valid, at most tries; nil when none was
// (or the user stopped it).
func (s *ndrRun) validTrial(ctx context.Context, rate float64, tries int) (*ndr.Trial, error) {
	for i := 0; i < tries && ctx.Err() == nil; i++ {
		tr, err := s.Trial(ctx, rate)
		if err != nil {
			return nil, err
		}
		if tr.Valid {
			tr.OfferedPPS = rate
			return &tr, nil
		}
	}
	return nil, nil
}

// trialRecord is result.json's record of a trial.
func trialRecord(tr ndr.Trial) results.Trial {
	r := results.Trial{OfferedPPS: tr.OfferedPPS, AchievedPPS: tr.AchievedPPS, LossRatio: tr.LossRatio, Valid: tr.Valid, Reasons: tr.Reasons}
	if td, ok := tr.Data.(trialOf); ok {
		run := td.run
		if run.CPU != nil {
			r.CPUNsPerPacket = run.CPU.NsPerPacket
		}
		r.ISRToDPCP99Ns = run.Histograms[metric.ISRToDPC].P99
		r.LatencyP50Ns = run.Histograms[metric.PacketLatency].P50
		r.LatencyP99Ns = run.Histograms[metric.PacketLatency].P99
	}
	return r
}

// printNDRTable prints each run's answer, the latency under load, and the headline.
func printNDRTable(w io.Writer, def *scenarioDef, res *results.Result) {
	fmt.Fprintf(w, "scenario %s (ndr): %s\n", def.Name, def.Summary)
	common, _ := splitSetup(res.Runs)
	var keep []string
	for _, c := range common {
		if !strings.HasPrefix(c, "rate ") { // each trial has its own
			keep = append(keep, c)
		}
	}
	fmt.Fprintln(w, strings.Join(keep, ", "))
	fmt.Fprintln(w, hostLine(res))
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\trep\tNDR\tNDR bounds\tPDR\tPDR bounds\tCPU/pkt\tISR/pkt\tDPC/pkt\tISR→DPC p99\ttrials\tinvalid\ttime\t")
	for _, r := range res.Runs {
		n := r.NDR
		if n == nil {
			continue
		}
		nd, pd := n.Goals[0], n.Goals[1]
		var isr, dpc string
		if r.CPU != nil {
			isr, dpc = fmt.Sprintf("%.0f ns", r.CPU.ISRNsPerPacket), fmt.Sprintf("%.0f ns", r.CPU.DPCNsPerPacket)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%.0f ns\t%s\t%s\t%s\t%d\t%d\t%.0fs\t\n", r.Name, r.Repetition,
			goalRate(nd), bounds(nd), goalRate(pd), bounds(pd), nd.CPUNsPerPacket, isr, dpc,
			ns(r.Histograms[metric.ISRToDPC].P99), len(n.Trials), n.InvalidCount, float64(n.ElapsedNs)/1e9)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nlatency under load (packet_latency p50 / p99, one trial each at a fraction of the NDR):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\trep\t10% NDR\t50% NDR\t90% NDR\t")
	for _, r := range res.Runs {
		if r.NDR == nil {
			continue
		}
		cells := []string{"-", "-", "-"}
		for i, lp := range r.NDR.Latency {
			if i < len(cells) {
				cells[i] = ns(lp.LatencyP50Ns) + " / " + ns(lp.LatencyP99Ns)
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", r.Name, r.Repetition, strings.Join(cells, "\t"))
	}
	tw.Flush()
	if h := ndrHeadline(res); h != "" {
		fmt.Fprintf(w, "\nheadline: %s\n", h)
	}
}

func goalRate(g results.Goal) string {
	switch {
	case g.LowerPPS == 0:
		return "none"
	case g.Capped:
		return "≥ " + mpps(g.LowerPPS)
	}
	s := mpps(g.LowerPPS)
	if !g.Final {
		s += " (not final)"
	}
	return s
}

func bounds(g results.Goal) string {
	return fmt.Sprintf("[%s, %s]", strings.TrimSuffix(mpps(g.LowerPPS), " Mpps"), mpps(g.UpperPPS))
}

// ndrHeadline answers the scenario's question from its first two runs (msi-vs-line:
// msix and line), the first repetition of each: "At zero loss MSI-X carried A Mpps and
// the line B Mpps (A/B ×), spending C vs D ns of CPU per packet; ISR→DPC p99 E vs F."
func ndrHeadline(res *results.Result) string {
	var a, b *results.Run
	for i := range res.Runs {
		r := &res.Runs[i]
		if r.NDR == nil || r.Repetition != 0 || r.NDR.Goals[0].LowerPPS == 0 {
			continue
		}
		if a == nil {
			a = r
		} else if b == nil && r.Name != a.Name {
			b = r
		}
	}
	if a == nil || b == nil {
		return ""
	}
	name := func(r *results.Run) string {
		switch configValue(r, "mode") {
		case "msix":
			return "MSI-X"
		case "msi":
			return "MSI"
		case "line":
			return "the line"
		}
		return r.Name
	}
	ga, gb := a.NDR.Goals[0], b.NDR.Goals[0]
	return fmt.Sprintf("At zero loss %s carried %s and %s %s (%.2f×), spending %.0f vs %.0f ns of CPU per packet; ISR→DPC p99 %s vs %s.",
		name(a), mpps(ga.LowerPPS), name(b), mpps(gb.LowerPPS), ga.LowerPPS/gb.LowerPPS,
		ga.CPUNsPerPacket, gb.CPUNsPerPacket, ns(a.Histograms[metric.ISRToDPC].P99), ns(b.Histograms[metric.ISRToDPC].P99))
}

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

// progress shows how a scenario is going: a bar redrawn in place on a terminal, only a
// start and an end line otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	total int
	t0    time.Time
	drawn bool
}

func newProgress(w io.Writer, tty bool) *progress { return &progress{w: w, tty: tty} }

func (p *progress) start(scenario string, runs int) {
	p.total, p.t0 = runs, time.Now()
	fmt.Fprintf(p.w, "bench: scenario %s: %d runs\n", scenario, runs)
}

// update returns the progress callback of run i.
func (p *progress) update(i int, name string) func(harness.Progress) {
	if !p.tty {
		return nil
	}
	var last harness.Progress
	var lastAt time.Time
	return func(pr harness.Progress) {
		p.mu.Lock()
		defer p.mu.Unlock()
		now := time.Now()
		var rate float64 // since the last update; at the first, since the traffic started
		switch {
		case !lastAt.IsZero():
			rate = float64(pr.Indicated-last.Indicated) / now.Sub(lastAt).Seconds()
		case pr.Elapsed > 0:
			rate = float64(pr.Indicated) / pr.Elapsed.Seconds()
		}
		last, lastAt = pr, now
		frac := 0.0
		if pr.Total > 0 {
			frac = min(1, float64(pr.Elapsed)/float64(pr.Total))
		}
		const width = 24
		bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
		fmt.Fprintf(p.w, "\r\033[K[%s] run %d/%d %-28s %5.1fs/%.1fs  %7.3f Mpps  drops %d",
			bar, i+1, p.total, name, pr.Elapsed.Seconds(), pr.Total.Seconds(), rate/1e6, pr.Dropped)
		p.drawn = true
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "bench: done in %.1fs\n", time.Since(p.t0).Seconds())
}

// printRunTable prints what the runs had in common, one row per run with what differed
// between them, and the scenario's headline.
func printRunTable(w io.Writer, def *scenarioDef, res *results.Result) {
	writeRunSummary(w, def, res)
	fmt.Fprintln(w)
	writeHeadline(w, def, res)
}

// writeRunSummary prints the run table with its header: what the runs had in common,
// and one row per run with what differed between them.
func writeRunSummary(w io.Writer, def *scenarioDef, res *results.Result) {
	title := "scenario " + res.Scenario
	if def.Summary != "" {
		title += ": " + def.Summary
	}
	common, perRun := splitSetup(res.Runs)
	if len(perRun) > 0 {
		names := make([]string, len(perRun))
		for i, a := range perRun {
			names[i] = a.name
		}
		common = append(common, "per run: "+strings.Join(names, ", "))
	}
	fmt.Fprintf(w, "%s\n%s; machine: %d CPUs, GOMAXPROCS %d, clock %.0f ns/read\n%s\n\n",
		title, strings.Join(common, ", "), res.Env.NumCPU, res.Env.GOMAXPROCS, res.Env.ClockCostNs, hostLine(res))
	writeTable(w, res, perRun)
}

// column is one column of the run table: two heading lines and a cell per run.
type column struct {
	head, unit string
	cell       func(*results.Run) string
}

// writeTable prints one row per run: perRun's settings, rates, interrupts, and the
// histograms' figures; under a run that is not a measurement, why.
func writeTable(w io.Writer, res *results.Result, perRun []setupAttr) {
	runs := res.Runs
	anyRun := func(f func(*results.Run) bool) bool {
		return slices.ContainsFunc(runs, func(r results.Run) bool { return f(&r) })
	}
	cols := []column{{"run", "", runLabel}, {"rep", "", func(r *results.Run) string { return fmt.Sprint(r.Repetition) }}}
	if anyRun(func(r *results.Run) bool { return r.Attempt > 0 }) {
		cols = append(cols, column{"attempt", "", func(r *results.Run) string { return fmt.Sprint(r.Attempt) }})
	}
	for _, a := range perRun {
		cols = append(cols, column{a.name, "", a.value})
	}
	rate := func(get func(results.Rates) float64) func(*results.Run) string {
		return func(r *results.Run) string { return fmt.Sprintf("%.3f", get(r.Rates)/1e6) }
	}
	cols = append(cols, column{"offered", "Mpps", rate(func(rt results.Rates) float64 { return rt.OfferedPPS })})
	fellBehind := anyRun(func(r *results.Run) bool {
		return fmt.Sprintf("%.3f", r.Rates.GeneratedPPS/1e6) != fmt.Sprintf("%.3f", r.Rates.OfferedPPS/1e6)
	})
	if fellBehind {
		cols = append(cols, column{"generated", "Mpps", rate(func(rt results.Rates) float64 { return rt.GeneratedPPS })})
	}
	cols = append(cols,
		column{"achieved", "Mpps", rate(func(rt results.Rates) float64 { return rt.AchievedPPS })},
		column{"drop", "%", func(r *results.Run) string { return fmt.Sprintf("%.2f", r.Rates.DropPct) }},
		column{"irq/s", "", irqRate},
		column{"pkts/irq", "", pktsPerIRQ},
		column{"batch", "p50", histCell(metric.DPCBatchSize, "p50")},
		column{"batch", "max", histCell(metric.DPCBatchSize, "max")},
		column{"ISR→DPC", "p50", histCell(metric.ISRToDPC, "p50")},
		column{"ISR→DPC", "p99", histCell(metric.ISRToDPC, "p99")},
		column{"ISR→DPC", "p99.9", histCell(metric.ISRToDPC, "p99.9")},
		column{"latency", "p50", histCell(metric.PacketLatency, "p50")},
		column{"latency", "p99", histCell(metric.PacketLatency, "p99")},
		column{"latency", "p99.9", histCell(metric.PacketLatency, "p99.9")},
		column{"latency", "max", histCell(metric.PacketLatency, "max")},
	)
	dropped := anyRun(func(r *results.Run) bool { return r.Counters[metric.MeasuredDropped] > 0 })
	if dropped {
		for _, stat := range []string{"p50", "p99", "p99.9"} {
			cols = append(cols, column{"loss-aware", stat, lossCell(stat)})
		}
	}

	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, line := range []func(column) string{func(c column) string { return c.head }, func(c column) string { return c.unit }} {
		for _, c := range cols {
			fmt.Fprintf(tw, "%s\t", line(c))
		}
		fmt.Fprintln(tw)
	}
	for i := range runs {
		for _, c := range cols {
			fmt.Fprintf(tw, "%s\t", c.cell(&runs[i]))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	lines := strings.SplitAfter(buf.String(), "\n")
	io.WriteString(w, lines[0]+lines[1])
	for i := range runs {
		io.WriteString(w, lines[2+i])
		if why := flagged(&runs[i]); why != "" {
			fmt.Fprintf(w, "    ↳ %s rep %d: %s\n", runs[i].Name, runs[i].Repetition, why)
		}
	}

	var notes []string
	if fellBehind {
		var behind int64
		for _, r := range runs {
			behind = max(behind, r.Rates.BehindMaxNs)
		}
		by := ""
		if behind > 0 {
			by = fmt.Sprintf(" (by up to %s)", ns(behind))
		}
		notes = append(notes, fmt.Sprintf("generated: the rate the generator managed; below offered, it fell behind its schedule%s, "+
			"and achieved is generated less the drops", by))
	}
	if dropped {
		notes = append(notes, "loss-aware: latency with every dropped packet counted worse than any delivered one; "+
			"lost: more than (100−p)% of the packets were dropped")
	}
	if anyRun(func(r *results.Run) bool { return r.Validity != nil && len(r.Validity.Interference.Clamped) > 0 }) {
		notes = append(notes, "≥: the histogram recorded values above its ceiling as the ceiling")
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
}

// runLabel is a run's name with what sets it apart: interrupted, invalid, superseded.
func runLabel(r *results.Run) string {
	var marks []string
	if r.Interrupted {
		marks = append(marks, "interrupted")
	}
	switch {
	case r.Validity != nil && r.Validity.Superseded:
		marks = append(marks, "superseded")
	case !r.Valid():
		marks = append(marks, "invalid")
	}
	if len(marks) == 0 {
		return r.Name
	}
	return r.Name + " (" + strings.Join(marks, ", ") + ")"
}

// flagged says why run is not a measurement; "" when it is.
func flagged(r *results.Run) string {
	if r.Valid() {
		return ""
	}
	why := "not valid: " + strings.Join(r.Validity.Reasons, "; ")
	if r.Validity.Superseded {
		why = fmt.Sprintf("attempt %d, superseded by a retry; %s", r.Attempt, why)
	}
	return why
}

// irqRate is the run's interrupts per second of its measured window.
func irqRate(r *results.Run) string {
	if r.DurationNs <= 0 {
		return "–"
	}
	return siCount(float64(r.Counters[metric.MeasuredIRQs]) / (float64(r.DurationNs) / 1e9))
}

// pktsPerIRQ is the packets delivered per interrupt in the measured window.
func pktsPerIRQ(r *results.Run) string {
	irq := r.Counters[metric.MeasuredIRQs]
	if irq == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", float64(r.Counters[metric.MeasuredGenerated]-r.Counters[metric.MeasuredDropped])/float64(irq))
}

func siCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

package main

import (
	"fmt"
	"io"
	"os"
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

// printRunTable prints one row per run and the scenario's headline.
func printRunTable(w io.Writer, def *scenarioDef, res *results.Result) {
	fmt.Fprintf(w, "scenario %s (%s), %d CPUs, GOMAXPROCS %d, pinned %v, clock %.0f ns/read\n\n",
		res.Scenario, def.Summary, res.Env.NumCPU, res.Env.GOMAXPROCS, res.Env.Pinned, res.Env.ClockCostNs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\trep\toffered\tachieved\tdrop\tirq/s\tpkts/irq\tbatch\tbatch\tISR→DPC\tISR→DPC\tISR→DPC\tlatency\tlatency\tlatency\tlatency\t")
	fmt.Fprintln(tw, "\t\tMpps\tMpps\t%\t\t\tp50\tmax\tp50\tp99\tp99.9\tp50\tp99\tp99.9\tmax\t")
	for i := range res.Runs {
		r := &res.Runs[i]
		secs := float64(r.DurationNs) / 1e9
		// Both over the measured window: interrupts from the warm-up's end to the halt,
		// packets delivered of those intended in the window.
		irq := float64(r.Counters[metric.MeasuredIRQs])
		perIRQ := 0.0
		if irq > 0 {
			perIRQ = float64(r.Counters[metric.MeasuredGenerated]-r.Counters[metric.MeasuredDropped]) / irq
		}
		drop := r.Rates.DropPct
		irqRate := 0.0
		if secs > 0 {
			irqRate = irq / secs
		}
		name := r.Name
		if r.Interrupted {
			name += " (interrupted)"
		}
		b, d, l := r.Histograms[metric.DPCBatchSize], r.Histograms[metric.ISRToDPC], r.Histograms[metric.PacketLatency]
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.2f\t%s\t%.1f\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			name, r.Repetition, r.Rates.OfferedPPS/1e6, r.Rates.AchievedPPS/1e6, drop, siCount(irqRate), perIRQ,
			b.P50, b.Max, ns(d.P50), ns(d.P99), ns(d.P999), ns(l.P50), ns(l.P99), ns(l.P999), ns(l.Max))
	}
	tw.Flush()
	fmt.Fprintln(w)
	writeHeadline(w, def, res)
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

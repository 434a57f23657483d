package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

// The headline says what a scenario is about, as its file declares it (scenario.Headline):
// for each line, the metric's figure per run as the median over the repetitions with
// their spread (min–max) from three on, and for a comparison the ratio of the two runs,
// repetition by repetition (A B A B ... ran side by side), then its median and spread.
// Runs that are not measurements (Run.Valid false, or superseded by a retry) are left out
// and counted; packet latency is loss-aware (results.LossAware); figures of a histogram
// that clamped values at its ceiling are lower bounds ("≥").

// keptUpShare is how much of the offered rate a run must deliver, with no drops, to
// have kept up with it: the achieved rate divides by the window as run, which a late
// last packet can stretch a little.
const keptUpShare = 0.99

// writeHeadline prints the headline of res, as def declares it.
func writeHeadline(w io.Writer, def *scenarioDef, res *results.Result) {
	if len(def.Headline) == 0 {
		why := `its file declares none (key "headline")`
		switch {
		case def.replay:
			why = "a replay reruns runs, not a scenario file's headline"
		case def.noHeadline != "":
			why = def.noHeadline
		}
		fmt.Fprintf(w, "headline: none: %s\n", why)
		return
	}
	hl := newHeadlineRuns(res)
	if hl.invalid+hl.superseded == len(res.Runs) {
		fmt.Fprintf(w, "headline: none: all %d runs left out (%s)\n", len(res.Runs), hl.leftOutWhy())
		return
	}
	fmt.Fprintf(w, "headline (%s):\n", hl.samplesTitle(def.Headline))
	for _, h := range def.Headline {
		for _, line := range hl.lines(h) {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	if d := hl.drops(def.Headline); d != "" {
		fmt.Fprintf(w, "  drops: %s\n", d)
	}
	if c := hl.cpuPerPacket(def.Headline); c != "" {
		fmt.Fprintf(w, "  CPU per delivered packet (ISR + DPC): %s\n", c)
	}
	if n := hl.invalid + hl.superseded; n > 0 {
		fmt.Fprintf(w, "  %d of %d runs left out: %s\n", n, len(res.Runs), hl.leftOutWhy())
	}
}

// headlineRuns are a result's runs as the headline uses them.
type headlineRuns struct {
	all                 []results.Run
	used                map[string][]*results.Run // by name, in repetition order: the measurements
	invalid, superseded int
	loss                map[*results.Run]results.LossAware
}

func newHeadlineRuns(res *results.Result) *headlineRuns {
	hl := &headlineRuns{all: res.Runs, used: map[string][]*results.Run{}, loss: map[*results.Run]results.LossAware{}}
	for i := range res.Runs {
		r := &res.Runs[i]
		switch {
		case r.Validity != nil && r.Validity.Superseded:
			hl.superseded++
		case !r.Valid():
			hl.invalid++
		default:
			hl.used[r.Name] = append(hl.used[r.Name], r)
		}
	}
	for _, runs := range hl.used {
		slices.SortStableFunc(runs, func(a, b *results.Run) int { return a.Repetition - b.Repetition })
	}
	return hl
}

// leftOutWhy says why runs were left out: "invalid", or "1 invalid, 2 superseded by a
// retry" when both kinds were.
func (hl *headlineRuns) leftOutWhy() string {
	const sup = "superseded by a retry"
	switch {
	case hl.superseded == 0:
		return "invalid"
	case hl.invalid == 0:
		return sup
	}
	return fmt.Sprintf("%d invalid, %d %s", hl.invalid, hl.superseded, sup)
}

// samplesTitle says how many repetitions the figures summarize.
func (hl *headlineRuns) samplesTitle(hs []scenario.Headline) string {
	n := 0
	for _, h := range hs {
		for _, name := range h.Runs() {
			n = max(n, len(hl.used[name]))
		}
	}
	switch n {
	case 0:
		return "none of its runs is left"
	case 1:
		return "one sample per run, so no spread: -count 3 or more gives a median and a spread"
	case 2:
		return "two samples per run: their median [both]; -count 3 or more gives a spread"
	}
	return fmt.Sprintf("median [min–max] of %d repetitions", n)
}

// lines returns h's lines: one per figure of a histogram, one for a rate.
func (hl *headlineRuns) lines(h scenario.Headline) []string {
	m, _ := metric.Lookup(h.Metric)
	stats := h.Stats
	if m.Kind == metric.Rate {
		stats = []string{""}
	}
	label := func(stat string) string {
		s := h.Metric
		if stat != "" {
			s += " " + stat
		}
		if h.Metric == metric.PacketLatency && hl.anyDrops(h.Runs()) {
			s += " loss-aware"
		}
		if h.Label != "" {
			s += " (" + h.Label + ")"
		}
		return s
	}
	for _, name := range h.Runs() {
		if len(hl.used[name]) > 0 {
			continue
		}
		why := "every run of it was left out"
		if !slices.ContainsFunc(hl.all, func(r results.Run) bool { return r.Name == name }) {
			why = "it did not run"
		}
		return []string{fmt.Sprintf("%s: no headline: %s, %s", label(""), name, why)}
	}
	if v := hl.fewestVCPUs(h.Runs()); h.MinVCPUs > 0 && v < h.MinVCPUs {
		return []string{fmt.Sprintf("%s: compares nothing here: the runs had %s, and differ only with %d or more",
			label(""), plural(v, "vCPU"), h.MinVCPUs)}
	}
	if h.Metric == metric.AchievedPPS {
		if offered, ok := hl.allKeptUp(h.Runs()); ok {
			return []string{fmt.Sprintf("%s: %s kept up with the offered %s (no drops): this rate does not tell them apart",
				label(""), bothOrAll(h.Runs()), mpps(offered))}
		}
	}
	var out []string
	for _, stat := range stats {
		figs := make([][]figure, len(h.Runs()))
		empty := true
		for i, name := range h.Runs() {
			for _, r := range hl.used[name] {
				f := hl.figureOf(r, h.Metric, stat)
				figs[i] = append(figs[i], f)
				empty = empty && f.empty
			}
		}
		if empty {
			out = append(out, fmt.Sprintf("%s: no values in any run", label(stat)))
			continue
		}
		parts := make([]string, len(figs))
		for i, fs := range figs {
			parts[i] = h.Runs()[i] + " " + summarize(fs, m.Unit)
		}
		if h.Compare != nil {
			out = append(out, fmt.Sprintf("%s: %s vs %s; %s/%s %s", label(stat), parts[0], parts[1],
				h.Compare[0], h.Compare[1], hl.ratio(h.Compare, h.Metric, stat)))
		} else {
			out = append(out, fmt.Sprintf("%s: %s", label(stat), strings.Join(parts, ", ")))
		}
	}
	return out
}

// figureOf returns run's figure stat of the metric called name ("" for a rate).
func (hl *headlineRuns) figureOf(run *results.Run, name, stat string) figure {
	if stat == "" {
		return figure{v: rateOf(run, name)}
	}
	h, ok := run.Histograms[name]
	if !ok {
		return figure{empty: true}
	}
	if name == metric.PacketLatency {
		l, ok := hl.loss[run]
		if !ok {
			var err error
			if l, err = run.PacketLatencyLossAware(); err != nil {
				return figure{empty: true} // Read checked the encoding: not reached for a result it read
			}
			hl.loss[run] = l
		}
		if l.Empty() {
			return figure{empty: true}
		}
		v, lost, _ := l.Stat(stat)
		if lost {
			return figure{v: math.Inf(1)}
		}
		return histFigure(run, name, v)
	}
	if h.Count == 0 {
		return figure{empty: true}
	}
	v, _ := h.Stat(stat)
	return histFigure(run, name, v)
}

// ratio returns the ratio of a comparison's runs, repetition by repetition: "1.52×",
// "1.52× [1.40×, 1.64×]", "1.52× [0.24×–4.42×]". Pairs with a zero denominator, a lost
// or clamped figure give no ratio ("n/a"), nor do empty histograms ("–"); when some
// pairs give one, it says of how many repetitions.
func (hl *headlineRuns) ratio(pair []string, name, stat string) string {
	byRep := map[int]*results.Run{}
	for _, r := range hl.used[pair[1]] {
		byRep[r.Repetition] = r
	}
	var rs []float64
	why, pairs := "–", 0
	for _, ra := range hl.used[pair[0]] {
		rb := byRep[ra.Repetition]
		if rb == nil {
			continue
		}
		pairs++
		a, b := hl.figureOf(ra, name, stat), hl.figureOf(rb, name, stat)
		switch {
		case a.empty || b.empty:
		case b.v == 0, math.IsInf(a.v, 1), math.IsInf(b.v, 1), a.atLeast, b.atLeast:
			why = "n/a"
		default:
			rs = append(rs, a.v/b.v)
		}
	}
	if len(rs) == 0 {
		return why
	}
	r := spread(rs, func(v float64) string { return fmt.Sprintf("%.2f×", v) })
	if len(rs) < pairs {
		r += fmt.Sprintf(" (%d of %d repetitions; the others %s)", len(rs), pairs, why)
	}
	return r
}

// anyDrops reports whether a run of names dropped packets in its measured window.
func (hl *headlineRuns) anyDrops(names []string) bool {
	for _, name := range names {
		for _, r := range hl.used[name] {
			if r.Counters[metric.MeasuredDropped] > 0 {
				return true
			}
		}
	}
	return false
}

// allKeptUp reports whether every repetition of every run of names delivered the rate
// it was offered, with no drops, and returns that rate (the highest offered).
func (hl *headlineRuns) allKeptUp(names []string) (offered float64, ok bool) {
	for _, name := range names {
		for _, r := range hl.used[name] {
			if r.Counters[metric.MeasuredDropped] > 0 || r.Rates.OfferedPPS <= 0 || r.Rates.AchievedPPS < keptUpShare*r.Rates.OfferedPPS {
				return 0, false
			}
			offered = max(offered, r.Rates.OfferedPPS)
		}
	}
	return offered, true
}

// fewestVCPUs returns the fewest vCPUs a run of names had (a large number when none says).
func (hl *headlineRuns) fewestVCPUs(names []string) int {
	n := math.MaxInt
	for _, name := range names {
		for _, r := range hl.used[name] {
			if r.Platform != nil {
				n = min(n, r.Platform.VCPUs)
			}
		}
	}
	return n
}

// cpuPerPacket says what a delivered packet cost the vCPUs in each headline run
// (runs[].cpu), median and spread over the repetitions: the honest form of "MSI-X vs
// line throughput" when both keep up. "" when no run recorded it.
func (hl *headlineRuns) cpuPerPacket(hs []scenario.Headline) string {
	var parts []string
	for _, name := range headlineRunNames(hs) {
		var all, isr, dpc []float64
		for _, r := range hl.used[name] {
			if r.CPU != nil && r.CPU.Delivered > 0 {
				all, isr, dpc = append(all, r.CPU.NsPerPacket), append(isr, r.CPU.ISRNsPerPacket), append(dpc, r.CPU.DPCNsPerPacket)
			}
		}
		if len(all) == 0 {
			continue
		}
		f := func(v float64) string { return fmt.Sprintf("%.0f ns", v) }
		parts = append(parts, fmt.Sprintf("%s %s (%s + %s)", name, spread(all, f), spread(isr, f), spread(dpc, f)))
	}
	return strings.Join(parts, " vs ")
}

// headlineRunNames returns the runs the headlines name, each once, in the order named.
func headlineRunNames(hs []scenario.Headline) []string {
	var names []string
	for _, h := range hs {
		for _, name := range h.Runs() {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	return names
}

// drops lists the headline's runs that dropped packets, with their drop percentage.
func (hl *headlineRuns) drops(hs []scenario.Headline) string {
	var parts []string
	for _, name := range headlineRunNames(hs) {
		if !hl.anyDrops([]string{name}) {
			continue
		}
		var vs []float64
		for _, r := range hl.used[name] {
			vs = append(vs, r.Rates.DropPct)
		}
		parts = append(parts, name+" "+spread(vs, func(v float64) string { return fmt.Sprintf("%.2f%%", v) }))
	}
	return strings.Join(parts, ", ")
}

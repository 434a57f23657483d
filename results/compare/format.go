package compare

import (
	"fmt"
	"math"
	"strings"

	"github.com/ndisbench/ndisbench/results"
)

// Cells and sentences every format shares: a figure, a change with its interval, a
// p-value, the headline.

// cellValue writes a median or a figure: "lost" for +Inf (a loss-aware percentile
// beyond the delivered packets), "–" for none.
func cellValue(n Num, unit string) string {
	v := float64(n)
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "lost"
	}
	return results.FormatValue(v, unit)
}

// signed writes a change or a bound in unit u (Pct, Points or the metric's unit) with
// its sign: "+12.3%", "-0.40pp", "+35 ns", "+∞".
func signed(n Num, u string) string {
	v := float64(n)
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "+∞"
	case math.IsInf(v, -1):
		return "-∞"
	}
	sign := "+"
	if v < 0 {
		sign = "-"
	}
	a := math.Abs(v)
	switch u {
	case Pct:
		return fmt.Sprintf("%s%.1f%%", sign, a)
	case Points:
		return fmt.Sprintf("%s%.2fpp", sign, a)
	}
	return sign + results.FormatValue(a, u)
}

// cellChange writes a row's change with its interval: "+12.3% [+8.1%, +17.0%]";
// "lost" when NEW's median is lost and BASE's is not.
func cellChange(r Row) string {
	if math.IsInf(float64(r.New.Median), 1) && !math.IsInf(float64(r.Base.Median), 1) {
		return "lost [" + signed(r.Lo, r.ChangeUnit) + ", " + signed(r.Hi, r.ChangeUnit) + "]"
	}
	s := signed(r.Change, r.ChangeUnit)
	if math.IsNaN(float64(r.Lo)) {
		return s
	}
	return s + " [" + signed(r.Lo, r.ChangeUnit) + ", " + signed(r.Hi, r.ChangeUnit) + "]"
}

// deciding returns the p-value that decided r: Holm's for a distribution point.
func deciding(r Row) float64 {
	if !math.IsNaN(float64(r.PHolm)) {
		return float64(r.PHolm)
	}
	return float64(r.P)
}

// cellP writes the deciding p-value, or "~" when it is not significant at alpha.
func cellP(r Row, alpha float64) string {
	p := deciding(r)
	switch {
	case math.IsNaN(p):
		return "–"
	case p > alpha:
		return "~"
	case p < 0.001:
		return fmt.Sprintf("%.1e", p)
	}
	return fmt.Sprintf("%.3f", p)
}

// cellVerdict writes a row's verdict: the word, with why for undecided and not gated
// rows where it is short.
func cellVerdict(r Row) string {
	if r.Verdict == Unchanged {
		if r.Why != "" { // significant, but not beyond its threshold
			return "within " + r.Threshold
		}
		return "~"
	}
	return string(r.Verdict)
}

// Headline returns the report's verdict in one line: "2 regressions (msix:
// packet_latency.p99 +31.0%, dpc_duration.p50 +48.2%)", "no regression", "undecided
// (msix: too few repetitions ...)". It names a run's first three regressions.
func (r *Report) Headline() string {
	const most = 3
	switch r.Verdict {
	case Regression:
		var runs []string
		for i := range r.Runs {
			regs := r.Runs[i].Regressions()
			if len(regs) == 0 {
				continue
			}
			var items []string
			for _, row := range regs[:min(len(regs), most)] {
				items = append(items, row.Metric+" "+headlineChange(row))
			}
			if len(regs) > most {
				items = append(items, fmt.Sprintf("%d more", len(regs)-most))
			}
			runs = append(runs, r.Runs[i].Name+": "+strings.Join(items, ", "))
		}
		return fmt.Sprintf("%s (%s)", plural(r.Regressions(), "regression"), strings.Join(runs, "; "))
	case Undecided:
		var runs []string
		for _, run := range r.Runs {
			if run.Verdict == Undecided {
				runs = append(runs, run.Name)
			}
		}
		why := "no run is on both sides"
		if len(runs) > 0 {
			why = strings.Join(runs, ", ") + ": " + r.undecidedWhy()
		}
		return "undecided (" + why + ")"
	}
	return "no regression"
}

// headlineChange is a row's change alone: "+31.0%", "lost".
func headlineChange(r Row) string {
	if math.IsInf(float64(r.New.Median), 1) && !math.IsInf(float64(r.Base.Median), 1) {
		return "lost"
	}
	return signed(r.Change, r.ChangeUnit)
}

// undecidedWhy returns the first undecided run's first reason, shortened.
func (r *Report) undecidedWhy() string {
	for _, run := range r.Runs {
		if run.Verdict == Undecided && len(run.Reasons) > 0 {
			s := run.Reasons[0]
			if i := strings.Index(s, " (-force"); i > 0 {
				s = s[:i]
			}
			return s
		}
	}
	return ""
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// distSummary says in one line what a distribution comparison found.
func distSummary(d Distribution, alpha float64) string {
	curve := make([]string, len(d.Points))
	for i, p := range d.Points {
		_, stat, _ := splitName(p.Metric)
		mark := ""
		if deciding(p) <= alpha && d.Gated {
			mark = "*"
		}
		curve[i] = stat + " " + signed(p.Change, p.ChangeUnit) + mark
	}
	var verdict string
	switch {
	case d.StartsAt != "":
		verdict = "regression from " + d.StartsAt
	case !d.Gated:
		verdict = "not gated"
	default:
		verdict = "no regression"
	}
	return verdict + ": " + strings.Join(curve, ", ")
}

// notes returns what a reader of a report needs besides the tables: what each side
// is, what was left out, mismatches and varied keys, runs on one side only, and how it
// was decided.
func (r *Report) notes() []string {
	var out []string
	for _, s := range []struct {
		name string
		info SideInfo
	}{{"base", r.Base}, {"new", r.New}} {
		line := fmt.Sprintf("%s: %s (%s; %s used", s.name, strings.Join(s.info.Files, ", "), strings.Join(s.info.Scenarios, ", "), plural(s.info.Used, "repetition"))
		if ex := s.info.Excluded.String(); ex != "" {
			line += "; left out: " + ex
		}
		line += ")"
		if len(s.info.Interrupted) > 0 {
			line += "; interrupted early, its complete valid runs used: " + strings.Join(s.info.Interrupted, ", ")
		}
		out = append(out, line)
	}
	for _, run := range r.Runs {
		if !run.Compared {
			continue // its section says why, and what differs
		}
		for _, m := range run.Mismatches {
			out = append(out, run.Name+": differs: "+m)
		}
		for _, v := range run.Varied {
			out = append(out, run.Name+": varied: "+v)
		}
		for _, why := range run.Reasons {
			out = append(out, run.Name+": "+why)
		}
	}
	if len(r.OnlyBase) > 0 {
		out = append(out, "only in base, not compared: "+strings.Join(r.OnlyBase, ", "))
	}
	if len(r.OnlyNew) > 0 {
		out = append(out, "only in new, not compared: "+strings.Join(r.OnlyNew, ", "))
	}
	out = append(out, r.Notes...)
	th := "the defaults"
	if len(r.Thresholds) > 0 {
		th = strings.Join(r.Thresholds, ", ") + ", then the defaults"
	}
	out = append(out, fmt.Sprintf("a regression is worse beyond its threshold and significant at α = %g (two-sided Mann–Whitney U over repetitions; "+
		"distributions Holm-corrected across their percentiles); intervals are Hodges–Lehmann at %g%%; thresholds: %s", r.Alpha, 100*(1-r.Alpha), th))
	return out
}

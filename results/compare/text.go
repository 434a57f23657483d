package compare

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// ANSI colours for the verdict cells of a terminal.
const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

// colourOf returns the colour of a verdict; "" for none.
func colourOf(v Verdict) string {
	switch v {
	case Regression:
		return red
	case Improvement, OK:
		return green
	case Undecided:
		return yellow
	}
	return ""
}

// WriteText writes r as a terminal table: the headline, then per run its rows
// (regressions first), its distributions in a line each, then the notes. With colour,
// verdicts are red (regression), green (improvement, ok) or yellow (undecided). With
// all, the figures that are not gated are listed too; otherwise a line counts them.
func (r *Report) WriteText(w io.Writer, colour, all bool) error {
	paint := func(v Verdict, s string) string {
		if c := colourOf(v); colour && c != "" {
			return c + s + reset
		}
		return s
	}
	var b strings.Builder
	head := "bench compare: " + r.Headline()
	if colour {
		head = bold + paint(r.Verdict, head) + reset
	}
	b.WriteString(head + "\n")
	for _, run := range r.Runs {
		fmt.Fprintf(&b, "\n%s: %s (%d base, %d new repetitions)\n", run.Name, paint(run.Verdict, string(run.Verdict)), run.BaseN, run.NewN)
		if !run.Compared {
			for _, why := range run.Reasons {
				b.WriteString("  " + why + "\n")
			}
			for _, m := range run.Mismatches {
				b.WriteString("  differs: " + m + "\n")
			}
			continue
		}
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  metric\tbase\tnew\tchange [%g%% interval]\tp\tverdict\n", 100*(1-r.Alpha))
		hidden := 0
		for _, row := range run.Metrics {
			if row.Verdict == NotGated && !all {
				hidden++
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", row.Metric, cellValue(row.Base.Median, row.Unit),
				cellValue(row.New.Median, row.Unit), cellChange(row), cellP(row, r.Alpha), paint(row.Verdict, cellVerdict(row)))
		}
		tw.Flush()
		if hidden > 0 {
			fmt.Fprintf(&b, "  (%d figures not gated: -all lists them)\n", hidden)
		}
		if len(run.Distributions) > 0 {
			b.WriteString("  distributions, percentile by percentile (* significant after Holm):\n")
			tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
			for _, d := range run.Distributions {
				v := Unchanged
				if d.StartsAt != "" {
					v = Regression
				}
				fmt.Fprintf(tw, "    %s\t%s\n", d.Histogram, paint(v, distSummary(d, r.Alpha)))
			}
			tw.Flush()
			for _, d := range run.Distributions {
				if !d.Gated {
					b.WriteString("    (" + d.Why + ")\n")
					break
				}
			}
		}
	}
	b.WriteString("\nnotes:\n")
	for _, n := range r.notes() {
		b.WriteString("  - " + n + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

package compare

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes r as GitHub-flavoured markdown, for a pull request comment or a
// CI job summary: a headline verdict line first ("**ndisbench compare: 2
// regressions** (...)"), then a table per run of what moved (regressions first), the
// rest folded under <details>, the distributions, and the notes.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	verdict, detail, _ := strings.Cut(r.Headline(), " (")
	fmt.Fprintf(&b, "**ndisbench compare: %s**", mdEscape(verdict))
	if detail != "" {
		b.WriteString(" (" + mdEscape(detail))
	}
	b.WriteString("\n")
	for _, run := range r.Runs {
		fmt.Fprintf(&b, "\n### %s: %s (%d base, %d new repetitions)\n\n", mdEscape(run.Name), run.Verdict, run.BaseN, run.NewN)
		if !run.Compared {
			for _, why := range run.Reasons {
				b.WriteString("- " + mdEscape(why) + "\n")
			}
			for _, m := range run.Mismatches {
				b.WriteString("- differs: " + mdEscape(m) + "\n")
			}
			continue
		}
		var moved, rest []Row
		for _, row := range run.Metrics {
			if row.Verdict == Regression || row.Verdict == Improvement || row.Verdict == Undecided {
				moved = append(moved, row)
			} else {
				rest = append(rest, row)
			}
		}
		if len(moved) > 0 {
			r.mdTable(&b, moved)
		} else {
			b.WriteString("No metric moved beyond its threshold.\n")
		}
		if len(rest) > 0 {
			fmt.Fprintf(&b, "\n<details><summary>%d more: unchanged or not gated</summary>\n\n", len(rest))
			r.mdTable(&b, rest)
			b.WriteString("\n</details>\n")
		}
		if len(run.Distributions) > 0 {
			b.WriteString("\nDistributions, percentile by percentile (* significant after Holm):\n\n")
			for _, d := range run.Distributions {
				fmt.Fprintf(&b, "- **%s**: %s\n", mdEscape(d.Histogram), mdEscape(distSummary(d, r.Alpha)))
			}
			for _, d := range run.Distributions {
				if !d.Gated {
					b.WriteString("\n" + mdEscape(d.Why) + "\n")
					break
				}
			}
		}
	}
	b.WriteString("\n#### Notes\n\n")
	for _, n := range r.notes() {
		b.WriteString("- " + mdEscape(n) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) mdTable(b *strings.Builder, rows []Row) {
	fmt.Fprintf(b, "| metric | base | new | change [%g%% interval] | p | verdict |\n|---|--:|--:|--:|--:|---|\n", 100*(1-r.Alpha))
	for _, row := range rows {
		v := cellVerdict(row)
		if row.Verdict == Regression {
			v = "**regression**"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", mdEscape(row.Metric), mdEscape(cellValue(row.Base.Median, row.Unit)),
			mdEscape(cellValue(row.New.Median, row.Unit)), mdEscape(cellChange(row)), mdEscape(cellP(row, r.Alpha)), v)
	}
}

// mdEscape makes s safe in a markdown table cell and in running text: pipes, '*' and
// '`' (emphasis, code), backslashes and angle brackets (HTML) are escaped; newlines
// become spaces. Underscores inside words, as in metric names, are left: GitHub's
// markdown does not read them as emphasis.
func mdEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '|', '*', '`', '\\', '<', '>':
			b.WriteByte('\\')
			b.WriteRune(c)
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

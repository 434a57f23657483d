package compare

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// The compare report: what Compare found, which the text, markdown and JSON formats
// write. SCHEMA.md in this directory documents the JSON form.

// SchemaName and SchemaVersion identify the JSON form of a Report ("schema",
// "version"); the version's rules are result.json's: a minor version only adds.
const (
	SchemaName    = "ndisbench-compare"
	SchemaVersion = "1.0"
)

// Verdict is what a row, a run or a whole comparison came to.
type Verdict string

// Verdicts. A row is a Regression, an Improvement, Unchanged, Undecided or NotGated; a
// run and a report are a Regression, Undecided or OK.
const (
	Regression  Verdict = "regression"  // significantly worse, beyond its threshold
	Improvement Verdict = "improvement" // significantly better, beyond its threshold mirrored; never gated
	Unchanged   Verdict = "unchanged"   // not significant, or within its threshold
	Undecided   Verdict = "undecided"   // the data cannot decide: too few repetitions, or not comparable
	NotGated    Verdict = "not gated"   // shown only: no direction is better, or no threshold applies
	OK          Verdict = "ok"          // a run or report: decided, and no regression
)

// Report is the outcome of a comparison.
type Report struct {
	Schema     string   `json:"schema"`
	Version    string   `json:"version"`
	Verdict    Verdict  `json:"verdict"`    // Regression, Undecided or OK
	Alpha      float64  `json:"alpha"`      // the tests' significance level; intervals are at 1 − Alpha
	Force      bool     `json:"force"`      // mismatched runs were compared anyway
	Vary       []string `json:"vary"`       // scenario keys allowed to differ between the sides
	Thresholds []string `json:"thresholds"` // the user's thresholds, NAME=VALUE, before the defaults
	Base       SideInfo `json:"base"`
	New        SideInfo `json:"new"`
	Runs       []Run    `json:"runs"` // runs on both sides: regressions first, then undecided, then the rest
	OnlyBase   []string `json:"only_base"`
	OnlyNew    []string `json:"only_new"`
	Notes      []string `json:"notes"` // for the whole comparison
}

// SideInfo describes one side: its files and what of them was used.
type SideInfo struct {
	Files     []string   `json:"files"`
	Scenarios []string   `json:"scenarios"`
	Used      int        `json:"used"`     // repetitions compared (of runs on both sides)
	Excluded  Exclusions `json:"excluded"` // repetitions left out
	// Interrupted lists the files whose scenario was stopped early: their complete,
	// valid runs are used.
	Interrupted []string `json:"interrupted"`
}

// Run is one run's comparison.
type Run struct {
	Name     string   `json:"name"`
	Verdict  Verdict  `json:"verdict"`  // Regression, Undecided or OK
	Compared bool     `json:"compared"` // false when a mismatch (not forced) or a missing side kept it from being compared
	Reasons  []string `json:"reasons"`  // why it is undecided
	// Mismatches are the configuration keys and environment facts that differ within a
	// side or between the sides ("config per_packet: base 100ns, new 150ns"); Varied are
	// the declared vary keys that differ between the sides.
	Mismatches    []string       `json:"mismatches"`
	Varied        []string       `json:"varied"`
	BaseN         int            `json:"base_n"` // repetitions used
	NewN          int            `json:"new_n"`
	BaseExcluded  Exclusions     `json:"base_excluded"`
	NewExcluded   Exclusions     `json:"new_excluded"`
	Metrics       []Row          `json:"metrics"`       // regressions first, then improvements, undecided, unchanged, not gated
	Distributions []Distribution `json:"distributions"` // the latency histograms, percentile by percentile
}

// Row is one metric of one run compared.
type Row struct {
	Metric string `json:"metric"` // "achieved_pps", "packet_latency.p99"
	Unit   string `json:"unit"`   // the metric's unit (package metric)
	Better string `json:"better"` // "lower", "higher" or "" (neither)
	Base   Sample `json:"base"`
	New    Sample `json:"new"`
	// ChangeUnit is "%" (relative to the base median: every value positive), or points
	// in the metric's unit ("pp" for drop_pct; the unit itself when a value is 0).
	ChangeUnit string `json:"change_unit"`
	Change     Num    `json:"change"`     // the medians' change, in ChangeUnit
	ChangePct  Num    `json:"change_pct"` // the medians' change in %; null for drop_pct or a base median of 0
	// Lo and Hi bound the shift from base to new at level Level (≥ 1 − alpha), in
	// ChangeUnit; null without an interval (too few repetitions).
	Lo    Num     `json:"ci_lo"`
	Hi    Num     `json:"ci_hi"`
	Level float64 `json:"ci_level"`
	P     Num     `json:"p"` // the U test's two-sided p-value; null when not tested
	// PHolm is P adjusted across a distribution's percentiles (Holm), which decides
	// there; null for a metric row.
	PHolm     Num     `json:"p_holm"`
	Threshold string  `json:"threshold"` // "+10%", "-2%", "+0.1pp", "off"; "" when none applies
	Verdict   Verdict `json:"verdict"`
	Why       string  `json:"why"` // for Undecided and NotGated: why
}

// Sample is one side's values of a metric, one per repetition.
type Sample struct {
	N      int   `json:"n"`
	Values []Num `json:"values"` // in the order read; +Inf: lost (loss-aware latency)
	Median Num   `json:"median"`
	// MedianLo and MedianHi bound the median (benchmath's distribution-free interval at
	// 1 − alpha); ±Inf when there are too few values for one.
	MedianLo Num `json:"median_lo"`
	MedianHi Num `json:"median_hi"`
	Min      Num `json:"min"`
	Max      Num `json:"max"`
}

// Distribution is one histogram compared percentile by percentile.
type Distribution struct {
	Histogram string `json:"histogram"`
	// Points are the percentiles its smallest repetition's count supports, named as
	// rows ("packet_latency.p99.5", "packet_latency.max").
	Points []Row `json:"points"`
	// Gated is false when, corrected across Points, no p could reach alpha with these
	// repetitions (Why says how many it takes).
	Gated bool   `json:"gated"`
	Why   string `json:"why"`
	// StartsAt is the lowest percentile that regressed ("p99.5"); "" when none did.
	StartsAt string `json:"starts_at"`
}

// Num is a float64 that JSON writes as a number, or as the string "+Inf" or "-Inf",
// or null for NaN (not defined).
type Num float64

// MarshalJSON writes n as a number, "+Inf", "-Inf" or null.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	switch {
	case math.IsNaN(f):
		return []byte("null"), nil
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (n *Num) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "null":
		*n = Num(math.NaN())
		return nil
	case `"+Inf"`:
		*n = Num(math.Inf(1))
		return nil
	case `"-Inf"`:
		*n = Num(math.Inf(-1))
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("want a number, \"+Inf\", \"-Inf\" or null, got %s", b)
	}
	*n = Num(f)
	return nil
}

// Regressions returns the rows of r that regressed, metric rows and distribution
// points, in report order.
func (r *Run) Regressions() []Row {
	var out []Row
	seen := map[string]bool{}
	add := func(rows []Row) {
		for _, row := range rows {
			if row.Verdict == Regression && !seen[row.Metric] {
				seen[row.Metric] = true
				out = append(out, row)
			}
		}
	}
	add(r.Metrics)
	for _, d := range r.Distributions {
		add(d.Points)
	}
	return out
}

// Regressions counts the regressed metrics of every run (a percentile that regressed
// both as a figure and in its distribution counts once).
func (r *Report) Regressions() int {
	n := 0
	for i := range r.Runs {
		n += len(r.Runs[i].Regressions())
	}
	return n
}

package compare

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// DefaultAlpha is the significance level when Options gives none: benchstat's.
const DefaultAlpha = 0.05

// Options say how to compare.
type Options struct {
	// Alpha is the significance level of the tests, and 1 − Alpha the level of the
	// intervals; 0 means DefaultAlpha. It must be in (0, 0.5].
	Alpha float64
	// Thresholds are the user's, in the order given; DefaultThresholds apply to the
	// metrics none of them names.
	Thresholds []Threshold
	// Vary lists scenario keys allowed to differ between the sides (an A/B test of a
	// setting): the differences are noted, not mismatches. The caller checks that they
	// are scenario keys.
	Vary []string
	// Force compares runs whose configuration or environment differ, keeping the note.
	Force bool
}

// Compare compares the runs of base and new that have the same name. It fails only on
// bad options or a result it cannot read; every other problem is in the Report.
func Compare(base, new *Side, opt Options) (*Report, error) {
	if opt.Alpha == 0 {
		opt.Alpha = DefaultAlpha
	}
	if !(opt.Alpha > 0 && opt.Alpha <= 0.5) {
		return nil, fmt.Errorf("compare: alpha %v: want a level in (0, 0.5]", opt.Alpha)
	}
	if base == nil || new == nil {
		return nil, errors.New("compare: a side is missing")
	}
	rep := &Report{Schema: SchemaName, Version: SchemaVersion, Alpha: opt.Alpha, Force: opt.Force,
		Vary: nonNil(opt.Vary), Thresholds: []string{}, OnlyBase: []string{}, OnlyNew: []string{}, Notes: []string{},
		Base: sideInfo(base), New: sideInfo(new)}
	for _, t := range opt.Thresholds {
		rep.Thresholds = append(rep.Thresholds, t.String())
	}
	pb, orderB := base.pools()
	pn, orderN := new.pools()
	for _, name := range orderB {
		if pn[name] == nil {
			rep.OnlyBase = append(rep.OnlyBase, name)
		}
	}
	for _, name := range orderN {
		if pb[name] == nil {
			rep.OnlyNew = append(rep.OnlyNew, name)
		}
	}
	varied := map[string]bool{}
	for _, name := range orderB {
		if pn[name] == nil {
			continue
		}
		run, err := compareRun(name, pb[name], pn[name], opt)
		if err != nil {
			return nil, err
		}
		for _, v := range run.Varied {
			k, _, _ := strings.Cut(v, ":")
			varied[k] = true
		}
		rep.Base.Used += run.BaseN
		rep.New.Used += run.NewN
		rep.Base.Excluded.add(run.BaseExcluded)
		rep.New.Excluded.add(run.NewExcluded)
		rep.Runs = append(rep.Runs, run)
	}
	for _, k := range opt.Vary {
		if !varied[k] {
			rep.Notes = append(rep.Notes, fmt.Sprintf("-vary %s: the same on both sides in every run compared", k))
		}
	}
	slices.SortStableFunc(rep.Runs, func(a, b Run) int { return runRank(a.Verdict) - runRank(b.Verdict) })
	rep.Verdict = OK
	switch {
	case rep.Regressions() > 0:
		rep.Verdict = Regression
	case len(rep.Runs) == 0:
		rep.Verdict = Undecided
		rep.Notes = append(rep.Notes, "no run is on both sides: nothing to compare")
	default:
		for _, r := range rep.Runs {
			if r.Verdict == Undecided {
				rep.Verdict = Undecided
			}
		}
	}
	if rep.Runs == nil {
		rep.Runs = []Run{}
	}
	return rep, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func sideInfo(s *Side) SideInfo {
	info := SideInfo{Files: nonNil(s.Files), Scenarios: []string{}, Interrupted: []string{}}
	for i, res := range s.results {
		if !slices.Contains(info.Scenarios, res.Scenario) {
			info.Scenarios = append(info.Scenarios, res.Scenario)
		}
		if res.Interrupted {
			info.Interrupted = append(info.Interrupted, s.Files[i])
		}
	}
	return info
}

// compareRun compares one run's repetitions on the two sides.
func compareRun(name string, base, new *pool, opt Options) (Run, error) {
	run := Run{Name: name, BaseN: len(base.reps), NewN: len(new.reps),
		BaseExcluded: base.excluded, NewExcluded: new.excluded,
		Reasons: []string{}, Metrics: []Row{}, Distributions: []Distribution{}}
	run.Mismatches, run.Varied = mismatches(base.reps, new.reps, opt.Vary)
	run.Mismatches, run.Varied = nonNil(run.Mismatches), nonNil(run.Varied)
	for _, side := range []struct {
		name string
		p    *pool
	}{{"base", base}, {"new", new}} {
		if len(side.p.reps) == 0 {
			run.Reasons = append(run.Reasons, fmt.Sprintf("no valid repetition on %s (%s left out)", side.name, side.p.excluded))
		}
	}
	if len(run.Reasons) > 0 {
		run.Verdict = Undecided
		return run, nil
	}
	if len(run.Mismatches) > 0 && !opt.Force {
		run.Verdict = Undecided
		run.Reasons = append(run.Reasons, "not compared: configuration, environment or machine state differs (-force compares anyway; -vary KEY allows a scenario key to differ)")
		return run, nil
	}
	run.Compared = true
	var err error
	if run.Metrics, err = metricRows(base.reps, new.reps, opt); err != nil {
		return run, err
	}
	if run.Distributions, err = distributions(base.reps, new.reps, opt); err != nil {
		return run, err
	}
	slices.SortStableFunc(run.Metrics, func(a, b Row) int { return rowRank(a.Verdict) - rowRank(b.Verdict) })
	undecided := 0
	for _, r := range run.Metrics {
		if r.Verdict == Undecided {
			undecided++
		}
	}
	run.Verdict = OK
	switch {
	case len(run.Regressions()) > 0:
		run.Verdict = Regression
	case undecided > 0:
		run.Verdict = Undecided
		run.Reasons = append(run.Reasons, fmt.Sprintf("%d gated metrics undecided: %s", undecided, firstWhy(run.Metrics)))
	}
	if len(run.Mismatches) > 0 {
		run.Reasons = append(run.Reasons, "compared with -force although configuration, environment or machine state differs")
	}
	return run, nil
}

func firstWhy(rows []Row) string {
	for _, r := range rows {
		if r.Verdict == Undecided {
			return r.Why
		}
	}
	return ""
}

// rowRank orders rows: regressions first, then improvements, undecided, unchanged and
// not gated.
func rowRank(v Verdict) int {
	return slices.Index([]Verdict{Regression, Improvement, Undecided, Unchanged, NotGated}, v)
}

// runRank orders runs: regressions first, then undecided, then the rest.
func runRank(v Verdict) int {
	return slices.Index([]Verdict{Regression, Undecided, OK}, v)
}

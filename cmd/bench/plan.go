package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/results"
)

// chooseScenario returns what -scenario, -config or -replay names.
func chooseScenario(f runFlags) (*scenarioDef, error) {
	chosen := 0
	for _, name := range []string{"scenario", "config", "replay"} {
		if f.set[name] {
			chosen++
		}
	}
	if chosen > 1 {
		return nil, usagef("run: flags -scenario, -config and -replay: give one of them")
	}
	switch {
	case f.config != "":
		file, err := scenario.ReadFile(f.config)
		if err != nil {
			return nil, usagef("run: flag -config: %v", err)
		}
		return &scenarioDef{File: file, source: "file " + f.config}, nil
	case f.replay != "":
		def, err := replayScenario(f.replay)
		if err != nil {
			return nil, usagef("run: flag -replay: %v", err)
		}
		return def, nil
	}
	def, _, err := builtin(f.scenario)
	if err != nil {
		return nil, usagef("run: flag -scenario: %v", err)
	}
	return def, nil
}

// selectRuns keeps, when list (-runs) is not empty, only the runs of def it names, in
// def's order; a name def has no run of is refused, naming the runs it has.
func selectRuns(def *scenarioDef, list string) (*scenarioDef, error) {
	if list == "" {
		return def, nil
	}
	want := map[string]bool{}
	var names []string
	for _, r := range def.Runs {
		names = append(names, r.Name)
	}
	for _, name := range strings.Split(list, ",") {
		if name = strings.TrimSpace(name); name == "" {
			return nil, usagef("run: flag -runs: an empty run name in %q", list)
		}
		if !contains(names, name) {
			return nil, usagef("run: flag -runs: %s has no run %q (its runs: %s)", def.source, name, strings.Join(names, ", "))
		}
		want[name] = true
	}
	var kept []scenario.Run
	for _, r := range def.Runs {
		if want[r.Name] {
			kept = append(kept, r)
		}
	}
	file := *def.File
	file.Runs = kept
	sel := *def
	sel.File = &file
	return &sel, nil
}

// replayScenario reads a result.json (PATH, or PATH:RUN for one run) and returns the
// scenario that reruns its recorded configs exactly.
func replayScenario(arg string) (*scenarioDef, error) {
	path, only := arg, ""
	if _, err := os.Stat(path); err != nil {
		if i := strings.LastIndex(arg, ":"); i > 0 {
			path, only = arg[:i], arg[i+1:]
		}
	}
	res, err := results.ReadFile(path)
	if err != nil {
		return nil, err
	}
	file, err := scenario.FromResult(res, path, only)
	if err != nil {
		return nil, err
	}
	return &scenarioDef{File: file, source: "replay of " + path, replay: true}, nil
}

// plannedRun is one run to do.
type plannedRun struct {
	name string
	rep  int
	sc   scenario.Scenario
}

// planRuns builds every run's scenario: Default, the scenario's base, the flags, then
// the run's own settings; the repetitions interleaved (A B A B ...). Every scenario is
// resolved (held to the file's min_vcpus) and validated here, so that a bad one exits 2
// before anything runs.
func planRuns(def *scenarioDef, f runFlags) ([]plannedRun, error) {
	varies := def.Varies()
	for _, st := range f.settings {
		f, _ := fieldOf(st.Key)
		switch {
		case def.replay && !f.Recording:
			return nil, usagef("run: flag -%s: -replay reruns the recorded configuration exactly; to change it, write it as a scenario file", st.flag)
		case contains(varies, st.Key):
			return nil, usagef("run: flag -%s: %s varies %s itself; drop the flag or pick another scenario", st.flag, def.source, st.Key)
		}
	}
	if f.retries < 0 || f.retries > 100 {
		return nil, usagef("run: flag -retries: must be 0..100, got %d", f.retries)
	}
	if f.count < 1 || f.count > 1000 {
		return nil, usagef("run: flag -count: must be 1..1000, got %d", f.count)
	}
	allowed, err := affinity.Allowed()
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	base := scenario.Default()
	def.Base.Apply(&base)
	byFlag := map[string]string{} // key → the flag that set it last
	for _, st := range f.settings {
		st.Apply(&base)
		byFlag[st.Key] = st.flag
	}
	var plan []plannedRun
	for rep := 0; rep < f.count; rep++ {
		for _, r := range def.Runs {
			sc := base
			r.Set.Apply(&sc)
			sc, err := def.Resolve(sc)
			if err == nil {
				err = checkScenario(sc, allowed)
			}
			if err != nil {
				return nil, usagef("run: %s", blame(def, r.Name, err, byFlag))
			}
			plan = append(plan, plannedRun{name: r.Name, rep: rep, sc: sc})
		}
	}
	return plan, nil
}

// planNotes says, once per vCPU count, which planned runs oversubscribe the machine:
// their vCPUs and the load generator need more CPUs than the runs have (key cpus, else
// the CPUs this process may use), so they share CPUs. A file's min_vcpus may ask for
// that (a comparison about several CPUs on a small machine); the figures are then
// correct, but not those of dedicated CPUs.
func planNotes(def *scenarioDef, plan []plannedRun) []string {
	allowed, _ := affinity.Allowed()
	var notes []string
	seen := map[int]bool{}
	for _, p := range plan {
		cpus := len(p.sc.CPUs)
		if cpus == 0 {
			cpus = len(allowed)
		}
		if cpus == 0 || p.sc.VCPUs+1 <= cpus || seen[p.sc.VCPUs] {
			continue
		}
		seen[p.sc.VCPUs] = true
		why := ""
		if def.MinVCPUs > 0 && p.sc.VCPUs == def.MinVCPUs {
			why = fmt.Sprintf(" (%s needs at least %d: min_vcpus)", def.source, def.MinVCPUs)
		}
		plural := "s"
		if cpus == 1 {
			plural = ""
		}
		notes = append(notes, fmt.Sprintf("run %s: %d vCPUs%s and the load generator share %d CPU%s: oversubscribed, the figures are not those of dedicated CPUs",
			p.name, p.sc.VCPUs, why, cpus, plural))
	}
	return notes
}

// checkScenario validates sc, and what only this machine can tell: the CPUs it names
// and the driver.
func checkScenario(sc scenario.Scenario, allowed affinity.CPUList) error {
	var errs []error
	if err := sc.Validate(); err != nil {
		errs = append(errs, err)
	}
	for _, c := range sc.CPUs {
		if !allowed.Contains(c) {
			errs = append(errs, &scenario.KeyError{Key: "cpus", Msg: fmt.Sprintf("CPU %d is not allowed to this process (allowed: %s)", c, allowed)})
			break
		}
	}
	if err := harness.CheckDriver(sc.Driver); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// blame words a validation error for the user: the flag that set a bad key when one
// did, else where the run came from.
func blame(def *scenarioDef, run string, err error, byFlag map[string]string) string {
	var flags []string
	for _, k := range scenario.ErrKeys(err) {
		if fl, ok := byFlag[k]; ok && !contains(flags, fl) {
			flags = append(flags, fl)
		}
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	if len(flags) > 0 {
		return fmt.Sprintf("flag -%s: %s", strings.Join(flags, ", -"), msg)
	}
	return fmt.Sprintf("%s, run %s: %s", def.source, run, msg)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// resolvePlan is what bench run and bench ndr do first with their flags: the scenario
// and the runs asked for, planned, the plan's notes told on stderr, and the result
// directory, -o or bench-results/<scenario><suffix>-<time>.
func resolvePlan(f runFlags, stderr io.Writer, suffix string) (*scenarioDef, []plannedRun, string, error) {
	def, err := chooseScenario(f)
	if err == nil {
		def, err = selectRuns(def, f.runs)
	}
	if err != nil {
		return nil, nil, "", err
	}
	plan, err := planRuns(def, f)
	if err != nil {
		return nil, nil, "", err
	}
	for _, note := range planNotes(def, plan) {
		fmt.Fprintln(stderr, "bench: "+note)
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Join("bench-results", def.Name+suffix+"-"+time.Now().Format("20060102-150405"))
	}
	return def, plan, dir, nil
}

package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
)

// TestScenariosAboutSeveralCPUsNeedTwo: the built-in scenarios about more than one CPU
// say so in data (min_vcpus 2); planning resolves automatic vcpus to at least that, and
// refuses, as bad usage naming the flag and the key, a setting of fewer.
func TestScenariosAboutSeveralCPUsNeedTwo(t *testing.T) {
	for _, name := range []string{"msi-sync", "rss", "handoff"} {
		def, _, err := builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if def.MinVCPUs != 2 {
			t.Errorf("%s: min_vcpus %d, want 2", name, def.MinVCPUs)
		}
		plan, err := planRuns(def, runFlags{count: 1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range plan {
			if p.sc.VCPUs < 2 {
				t.Errorf("%s run %s: automatic vcpus resolved to %d", name, p.name, p.sc.VCPUs)
			}
		}
		for _, flag := range []string{"vcpus", "set"} {
			st, err := scenario.ParseSetting("vcpus", "1")
			if err != nil {
				t.Fatal(err)
			}
			_, err = planRuns(def, runFlags{count: 1, settings: []flagSetting{{flag, st}}})
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), "flag -"+flag) || !strings.Contains(err.Error(), "min_vcpus") {
				t.Errorf("%s with -%s vcpus=1: %v; want a usage error naming -%s and min_vcpus", name, flag, err, flag)
			}
		}
	}
	def, _, _ := builtin("msi-vs-line")
	if def.MinVCPUs != 0 {
		t.Errorf("msi-vs-line asks for %d vCPUs; it compares delivery modes on any number", def.MinVCPUs)
	}
}

// TestPlanNotesOversubscription: a run whose vCPUs and generator need more CPUs than it
// has is noted, once per vCPU count, with min_vcpus named when it asked for them.
func TestPlanNotesOversubscription(t *testing.T) {
	def, _, err := builtin("rss")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := scenario.ParseSetting("cpus", "0")
	if allowed, err := affinity.Allowed(); err != nil || !allowed.Contains(0) {
		t.Skip("CPU 0 is not allowed here")
	}
	plan, err := planRuns(def, runFlags{count: 2, settings: []flagSetting{{"cpus", st}}})
	if err != nil {
		t.Fatal(err)
	}
	notes := planNotes(def, plan)
	if len(notes) != 1 || !strings.Contains(notes[0], "oversubscribed") || !strings.Contains(notes[0], "min_vcpus") ||
		!strings.Contains(notes[0], "2 vCPUs") || !strings.Contains(notes[0], "share 1 CPU:") {
		t.Errorf("notes = %q; want one saying 2 vCPUs (min_vcpus) and the generator share 1 CPU", notes)
	}
	ok, _, _ := builtin("msi-vs-line")
	cpu0, _ := scenario.ParseSetting("cpus", "0")
	one, _ := scenario.ParseSetting("vcpus", "1")
	plan, err = planRuns(ok, runFlags{count: 1, settings: []flagSetting{{"cpus", cpu0}, {"vcpus", one}}})
	if err != nil {
		t.Fatal(err)
	}
	if notes := planNotes(ok, plan); len(notes) != 1 || strings.Contains(notes[0], "min_vcpus") {
		t.Errorf("one vCPU and the generator on one CPU: notes %q, want one, not blaming min_vcpus", notes)
	}
}

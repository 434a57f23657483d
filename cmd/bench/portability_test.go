package main

import (
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/nicmodel/scenario"
)

// TestPortabilityNotes: outside Linux a run says, before it starts, that it cannot pin
// and how its idle strategies fall back; on Linux it says nothing. The handoff scenario
// uses every idle strategy. Runs on Linux, checking the other systems' text.
func TestPortabilityNotes(t *testing.T) {
	def, _, err := builtin("handoff")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := planRuns(def, runFlags{count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if notes := portabilityNotes("linux", plan); len(notes) != 0 {
		t.Errorf("linux: %q", notes)
	}
	var b strings.Builder
	printPortabilityNotes(&b, "darwin", plan)
	for _, want := range []string{
		"bench: pinning is not supported on darwin", "unpinned", "pin_error",
		"bench: idle spin-park: no futex on darwin", "bench: idle spin-yield: no sched_yield on darwin", "idle_fallback",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("darwin notes lack %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "idle spin:") {
		t.Errorf("spinning needs nothing from the OS, yet:\n%s", b.String())
	}
	// With no_pin set there is nothing to refuse.
	st, err := scenario.ParseSetting("no_pin", "true")
	if err != nil {
		t.Fatal(err)
	}
	plan, err = planRuns(def, runFlags{count: 1, settings: []flagSetting{{"set", st}}})
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(portabilityNotes("windows", plan), "\n"); strings.Contains(notes, "pinning") || !strings.Contains(notes, "no futex on windows") {
		t.Errorf("windows, no_pin: %s", notes)
	}
}

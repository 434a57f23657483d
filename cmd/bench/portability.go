package main

import (
	"fmt"
	"io"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
)

// portabilityNotes says what goos cannot do that plan asks for: pin threads, park an
// idle vCPU on a futex, yield with sched_yield. ndisbench measures those paths on Linux;
// elsewhere the runs still go on, correct but not measuring the same thing, and
// result.json records it per run. None on Linux.
func portabilityNotes(goos string, plan []plannedRun) []string {
	pin, idle := false, map[core.IdleStrategy]bool{}
	for _, p := range plan {
		pin = pin || !p.sc.NoPin
		idle[p.sc.Idle] = true
	}
	var notes []string
	if why := affinity.Unsupported(goos); why != "" && pin {
		notes = append(notes, why+"; the runs go on unpinned (result.json: platform.pinned, pin_error)")
	}
	for _, s := range []core.IdleStrategy{core.IdleSpinPark, core.IdleSpinYield} {
		if why := core.IdleFallback(s, goos); why != "" && idle[s] {
			notes = append(notes, fmt.Sprintf("idle %s: %s (result.json: platform.idle_fallback)", s, why))
		}
	}
	return notes
}

// printPortabilityNotes prints portabilityNotes on w, before the runs start.
func printPortabilityNotes(w io.Writer, goos string, plan []plannedRun) {
	for _, n := range portabilityNotes(goos, plan) {
		fmt.Fprintf(w, "bench: %s\n", n)
	}
}

package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},     // success
		{errHelp, 0}, // -h
		{fmt.Errorf("INVARIANT BROKEN: run msix: lost a packet"), 1},                      // anything else
		{usagef("run: flag -rate: must be > 0"), 2},                                       // bad usage
		{fmt.Errorf("run: %w", usagef("flag -o: not a directory")), 2},                    // wrapped usage
		{fmt.Errorf("run msix: %w (results written to x)", errInvalidRun), 3},             // not a measurement
		{fmt.Errorf("compare: %w", errUndecided), 4},                                      // compare undecided
		{fmt.Errorf("compare: 2 regressions: %w", errRegression), 1},                      // compare regression
		{fmt.Errorf("%w: partial results written to x", errInterrupted), 130},             // Ctrl-C
		{errors.Join(fmt.Errorf("run a: %w", errInvalidRun), usagef("flag -o: gone")), 2}, // usage first
		{errors.Join(fmt.Errorf("run a: %w", errInvalidRun), errInterrupted), 130},        // interrupted first
	}
	for _, tt := range tests {
		var stderr strings.Builder
		if got := exitCode(&stderr, tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
		if printed := stderr.Len() > 0; printed != (tt.want != 0) {
			t.Errorf("exitCode(%v) printed %q", tt.err, stderr.String())
		}
	}
}

// TestHelpDocumentsEveryExitStatus: "bench help" lists each status exitCode returns.
func TestHelpDocumentsEveryExitStatus(t *testing.T) {
	out, _, code := runCLI("help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, status := range []int{exitOK, exitFailed, exitUsage, exitInvalidRun, exitUndecided, exitInterrupted} {
		if !strings.Contains(out, fmt.Sprintf("\n  %-4d ", status)) {
			t.Errorf("bench help does not document exit status %d:\n%s", status, out)
		}
	}
}

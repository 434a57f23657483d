package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/results"
)

// TestRunOneAbandonsAStuckRun: a run that does not stop when told (a host that froze
// its threads) is abandoned soon after Ctrl-C instead of holding the CLI.
func TestRunOneAbandonsAStuckRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stuck := make(chan struct{})
	defer close(stuck)
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	start := time.Now()
	rep, err := runOne(ctx, func(context.Context) (*harness.Report, error) { <-stuck; return nil, nil })
	if !errors.Is(err, errAbandoned) || rep != nil {
		t.Fatalf("got %v, %v; want errAbandoned", rep, err)
	}
	if d := time.Since(start); d < abandonAfter {
		t.Errorf("abandoned after %v, before the %v it allows", d, abandonAfter)
	}
	// A run that stops when told is waited for, and its report kept.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	want := &harness.Report{Interrupted: true}
	rep, err = runOne(ctx, func(ctx context.Context) (*harness.Report, error) { <-ctx.Done(); return want, nil })
	if rep != want || err != nil {
		t.Errorf("got %v, %v; want the run's report", rep, err)
	}
}

func TestExitStatusInvalidRun(t *testing.T) {
	var e bytes.Buffer
	if code := exitCode(&e, errInvalidRun); code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
}

// TestEveryBuiltinScenarioWritesItsResults: each built-in scenario runs through the CLI
// and writes one result per planned run (handoff once measured all six runs, then
// failed on a run name and wrote nothing).
func TestEveryBuiltinScenarioWritesItsResults(t *testing.T) {
	for _, name := range builtinOrder {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			_, stderr, code := runCLI("run", "-scenario", name, "-o", dir, "-duration", "40ms", "-warmup", "10ms", "-rate", "50000")
			if !measured(t, code) {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			def, _, err := builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			res := readResult(t, dir)
			if len(res.Runs) != len(def.Runs) {
				t.Fatalf("%d runs written, %d planned", len(res.Runs), len(def.Runs))
			}
			for i, r := range res.Runs {
				if r.Name != def.Runs[i].Name || r.Validity == nil {
					t.Errorf("run %d: %q with verdict %v, want %q with a verdict", i, r.Name, r.Validity, def.Runs[i].Name)
				}
				if _, err := os.Stat(filepath.Join(dir, r.Name+".hlog")); err != nil {
					t.Errorf("run %s: %v", r.Name, err)
				}
			}
		})
	}
}

// TestRetriesKeepEveryAttempt: with runs that are never valid, -retries 1 runs each
// twice, writes both attempts with files of their own, marks the first superseded, and
// exits 3.
func TestRetriesKeepEveryAttempt(t *testing.T) {
	strict := harness.DefaultLimits()
	strict.GeneratorLag = -1 // any lag at all is too much: every run is invalid
	verdictLimits = &strict
	defer func() { verdictLimits = nil }()
	dir := filepath.Join(t.TempDir(), "out")
	_, stderr, code := runCLI("run", "-o", dir, "-retries", "1", "-duration", "30ms", "-warmup", "5ms", "-rate", "50000")
	if code != 3 {
		t.Fatalf("exit %d, want 3: %s", code, stderr)
	}
	res := readResult(t, dir)
	var got []string
	for i, r := range res.Runs {
		got = append(got, fmt.Sprintf("%s/%d/%v", r.Name, r.Attempt, r.Validity.Superseded))
		if _, err := os.Stat(filepath.Join(dir, results.RunStem(res, i)+".hlog")); err != nil {
			t.Errorf("attempt %d of %s: %v", r.Attempt, r.Name, err)
		}
	}
	if want := "msix/0/true msix/1/false line/0/true line/1/false"; strings.Join(got, " ") != want {
		t.Errorf("runs %q, want %q", strings.Join(got, " "), want)
	}
}

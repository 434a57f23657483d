package main

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/nicmodel/harness"
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

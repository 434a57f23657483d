package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/core/trace/tracetest"
	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

// readTrace reads and checks a trace file against the Trace Event Format.
func readTrace(t *testing.T, path string) tracetest.Summary {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := tracetest.Check(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

func traceInt(t *testing.T, s tracetest.Summary, key string) int {
	t.Helper()
	n, err := s.MetaInt(key)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRunTraceHoldsEveryDPCCall: bench run -trace writes a well-formed trace whose
// window, with no warm-up and longer than the run, holds a slice for every DPC call and
// every ISR the run's counters counted.
func TestRunTraceHoldsEveryDPCCall(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.json")
	_, stderr, code := runCLI("run", "-runs", "msix", "-duration", "200ms", "-rate", "20000", "-warmup", "0s",
		"-trace-window", "10s", "-trace", path, "-o", filepath.Join(dir, "out"))
	if !measured(t, code) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "trace of run msix: "+path) {
		t.Errorf("stderr does not say where the trace went: %s", stderr)
	}
	s := readTrace(t, path)
	c := readResult(t, filepath.Join(dir, "out")).Runs[0].Counters
	if c[metric.DPCs] == 0 || uint64(s.Slices["DPC"]) != c[metric.DPCs] || uint64(s.Slices["ISR"]) != c[metric.ISRCalls] {
		t.Errorf("%d DPC and %d ISR slices; the run counted %d DPC calls and %d ISR calls",
			s.Slices["DPC"], s.Slices["ISR"], c[metric.DPCs], c[metric.ISRCalls])
	}
	if s.Metadata["complete"] != true || uint64(s.Flows) != c[metric.DPCs] {
		t.Errorf("complete %v, %d arrows for %d DPC calls", s.Metadata["complete"], s.Flows, c[metric.DPCs])
	}
}

// TestRunTraceDefaultWindow: by default the window is the first 50 ms of the measured
// run; it holds as many DPC slices as DPC calls started in it, and none outside it.
func TestRunTraceDefaultWindow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.json")
	_, stderr, code := runCLI("run", "-runs", "msix", "-duration", "200ms", "-rate", "20000", "-warmup", "20ms",
		"-trace", path, "-o", filepath.Join(dir, "out"))
	if !measured(t, code) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	s := readTrace(t, path)
	dpcs := s.Slices["DPC"]
	if dpcs == 0 || dpcs != traceInt(t, s, "dpcs_started_in_window") || traceInt(t, s, "window_ns") != int(50*time.Millisecond) {
		t.Errorf("%d DPC slices; metadata %v", dpcs, s.Metadata)
	}
	if span := s.Starts["DPC"]; span[0] < 0 || span[1] >= int64(50*time.Millisecond) {
		t.Errorf("DPC slices start from %d to %d ns: outside the window", span[0], span[1])
	}
}

// TestRunTraceOneFilePerRun: with several runs and repetitions each run has its own
// trace, its name and repetition before the extension.
func TestRunTraceOneFilePerRun(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := runCLI("run", "-count", "2", "-duration", "100ms", "-rate", "20000", "-warmup", "10ms",
		"-trace", filepath.Join(dir, "t.json"), "-o", filepath.Join(dir, "out"))
	if !measured(t, code) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, name := range []string{"t.msix.r0.json", "t.msix.r1.json", "t.line.r0.json", "t.line.r1.json"} {
		if s := readTrace(t, filepath.Join(dir, name)); s.Slices["DPC"] == 0 {
			t.Errorf("%s has no DPC slice", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "t.json")); err == nil {
		t.Errorf("t.json written beside the runs' traces")
	}
}

// TestRunTraceOfAReplayAtWorst: -replay takes the trace's keys (they change what is
// recorded, not what runs), and -trace-at worst puts the window around the longest
// batch.
func TestRunTraceOfAReplayAtWorst(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	if _, stderr, code := runCLI(append([]string{"run", "-runs", "msix", "-o", a}, shortRun...)...); !measured(t, code) {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	path := filepath.Join(dir, "worst.json")
	_, stderr, code := runCLI("run", "-replay", filepath.Join(a, results.ResultFile), "-trace", path, "-trace-at", "worst",
		"-trace-window", "3ms", "-o", filepath.Join(dir, "b"))
	if !measured(t, code) {
		t.Fatalf("replay: exit %d: %s", code, stderr)
	}
	s := readTrace(t, path)
	if s.Metadata["at"] != "worst" || traceInt(t, s, "worst_batch_ns") <= 0 || s.Batches == 0 {
		t.Errorf("metadata %v, %d batches", s.Metadata, s.Batches)
	}
	if _, stderr, code := runCLI("run", "-replay", filepath.Join(a, results.ResultFile), "-rate", "5000", "-o", filepath.Join(dir, "c")); code != 2 {
		t.Errorf("-replay with -rate: exit %d, want 2: %s", code, stderr)
	}
}

// TestRunInterruptedWritesItsTrace: Ctrl-C in the middle of a run writes its results,
// then its trace: what it has of the window.
func TestRunInterruptedWritesItsTrace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.json")
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	var o, e strings.Builder
	err := run(ctx, &o, &e, []string{"run", "-runs", "msix", "-o", filepath.Join(dir, "out"), "-duration", "1h", "-warmup", "10ms",
		"-rate", "20000", "-trace", path})
	if code := exitCode(&e, err); code != 130 {
		t.Fatalf("exit %d, want 130: %s", code, e.String())
	}
	if res := readResult(t, filepath.Join(dir, "out")); !res.Interrupted {
		t.Errorf("result not marked interrupted")
	}
	// How much of the window had run by the Ctrl-C depends on how busy the machine
	// was (a loaded one may not have written a packet yet): the trace must hold what
	// there was, well-formed (readTrace checks), a slice for every DPC that started,
	// less one a vCPU may have been inside when the run stopped (unfinished).
	s := readTrace(t, path)
	started, open := traceInt(t, s, "dpcs_started_in_window"), traceInt(t, s, "unfinished_slices")
	if s.Slices["DPC"] > started || s.Slices["DPC"]+open < started || s.Metadata["complete"] != true {
		t.Errorf("the interrupted run's trace has %d DPC slices (%d unfinished) of the %d DPCs started in its window: %v",
			s.Slices["DPC"], open, started, s.Metadata)
	}
}

// TestRunBadTraceFlagsExit2: a bad window, place or file is refused before anything is
// measured, naming the flag; no trace, no results.
func TestRunBadTraceFlagsExit2(t *testing.T) {
	dir := t.TempDir()
	aFile := filepath.Join(dir, "a-file")
	os.WriteFile(aFile, []byte("x"), 0o644)
	path := filepath.Join(dir, "t.json")
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"run", "-trace", path, "-trace-window", "-1ms"}, []string{"-trace-window", "trace_window"}},
		{[]string{"run", "-trace", path, "-trace-window", "1us"}, []string{"-trace-window", "100µs"}},
		{[]string{"run", "-trace", path, "-trace-at", "nonsense"}, []string{"-trace-at", "nonsense"}},
		{[]string{"run", "-trace", path, "-trace-events", "10"}, []string{"-trace-events", "trace_events"}},
		{[]string{"run", "-trace", path, "-set", "trace_at=middle"}, []string{"-set", "trace_at"}},
		{[]string{"run", "-trace", filepath.Join(aFile, "t.json")}, []string{"-trace", aFile}},
		{[]string{"run", "-trace", dir}, []string{"-trace", dir, "directory"}},
		{[]string{"run", "-trace", filepath.Join(dir, "no", "such", "t.json")}, []string{"-trace", "no such"}},
	} {
		checkRefused(t, filepath.Join(dir, "out"), tt.args, tt.want...)
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("bench %q: refused, yet wrote %s", tt.args, path)
		}
	}
}

func TestTraceName(t *testing.T) {
	one := []plannedRun{{name: "msix"}}
	two := []plannedRun{{name: "msix"}, {name: "line"}}
	reps := []plannedRun{{name: "msix"}, {name: "line"}, {name: "msix", rep: 1}, {name: "line", rep: 1}}
	for _, tt := range []struct {
		base    string
		plan    []plannedRun
		i, att  int
		want    string
		comment string
	}{
		{"t.json", one, 0, 0, "t.json", "one run: the file named"},
		{"t.json", one, 0, 2, "t.a2.json", "its third attempt"},
		{"t.json", two, 1, 0, "t.line.json", "two runs: the run's name"},
		{"dir/t.json", reps, 2, 0, "dir/t.msix.r1.json", "repeated: and its repetition"},
		{"dir/t.json", reps, 3, 1, "dir/t.line.r1.a1.json", "and an attempt"},
		{"trace", two, 0, 0, "trace.msix", "no extension"},
	} {
		if got := traceName(tt.base, tt.plan, tt.i, tt.att); got != tt.want {
			t.Errorf("%s: traceName(%q, run %d, attempt %d) = %q, want %q", tt.comment, tt.base, tt.i, tt.att, got, tt.want)
		}
	}
}

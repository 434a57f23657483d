package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ndisbench/ndisbench/core/trace"
	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/results"
)

// traceName is the trace file of attempt attempt of plan[i], for -trace base: base
// itself for the one run of a plan of one, else base with the run's name inserted before
// its extension (t.json: t.msix.json), and its repetition when the plan repeats it
// (t.msix.r1.json); an attempt after the first (-retries) adds ".a<attempt>".
func traceName(base string, plan []plannedRun, i, attempt int) string {
	p := plan[i]
	var stem string
	if len(plan) > 1 {
		stem = p.name
		for j, q := range plan {
			if j != i && q.name == p.name {
				stem += ".r" + strconv.Itoa(p.rep)
				break
			}
		}
	}
	if attempt > 0 {
		stem += ".a" + strconv.Itoa(attempt)
	}
	if stem == "" {
		return base
	}
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "." + strings.TrimPrefix(stem, ".") + ext
}

// runTrace is one run's timeline trace, to be written to path once the run is over.
type runTrace struct {
	rec  *trace.Recorder
	path string
	run  string // the run's name, repetition and attempt, for messages
}

// newRunTrace makes the trace of attempt attempt of plan[i]; nil when -trace is not set.
func newRunTrace(base string, plan []plannedRun, i, attempt int) (*runTrace, error) {
	if base == "" {
		return nil, nil
	}
	p := plan[i]
	rec, err := harness.NewTrace(p.sc, p.name)
	if err != nil {
		return nil, fmt.Errorf("run %s: -trace: %w", p.name, err)
	}
	run := p.name
	for j, q := range plan {
		if j != i && q.name == p.name {
			run += fmt.Sprintf(" (repetition %d)", p.rep)
			break
		}
	}
	if attempt > 0 {
		run += fmt.Sprintf(" attempt %d", attempt+1)
	}
	return &runTrace{rec: rec, path: traceName(base, plan, i, attempt), run: run}, nil
}

// write writes the trace, atomically, and returns what to tell the user of it: what it
// holds, and a warning when the window held more than its buffers (nothing is left out
// silently).
func (t *runTrace) write() ([]string, error) {
	start := time.Now()
	err := results.WriteFileAtomic(t.path, func(w io.Writer) error {
		_, err := t.rec.WriteTo(w)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("run %s: -trace: %w", t.run, err)
	}
	st := t.rec.Stats()
	cfg := t.rec.Config()
	where := "the first " + cfg.Window.String() + " of the measured run"
	if cfg.At == trace.AtWorst {
		where = fmt.Sprintf("%v around the longest batch (%v)", cfg.Window, st.WorstBatch)
		if st.From == st.To {
			where = "none: no batch ended in the measured run"
		}
	}
	msgs := []string{fmt.Sprintf("trace of run %s: %s: %d events, %d DPC calls; window %s (written in %v)",
		t.run, t.path, st.Kept, st.DPCs, where, time.Since(start).Round(time.Millisecond))}
	if missed := st.Overflow + st.Lost; missed > 0 {
		msgs = append(msgs, fmt.Sprintf("warning: trace %s lacks %d of the window's %d events: they did not fit its buffers (%d events a vCPU; raise -trace-events)",
			t.path, missed, st.Told, cfg.Capacity))
	}
	return msgs, nil
}

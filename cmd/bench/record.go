package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

// toResultRun turns one run's report into result.json's run.
func toResultRun(p plannedRun, rep *harness.Report) (results.Run, error) {
	cfg, err := json.Marshal(rep.Scenario) // the resolved scenario: -replay reads it back
	if err != nil {
		return results.Run{}, err
	}
	pi := rep.Platform
	run := results.Run{
		Name: p.name, Repetition: p.rep, Config: cfg, Started: rep.Started,
		DurationNs: int64(rep.Measured), Interrupted: rep.Interrupted, Counters: rep.Counters,
		Platform: &results.Platform{
			VCPUs: pi.VCPUs, CPUs: pi.CPUs, Pinned: pi.Pinned, PinError: pi.PinError, GOMAXPROCS: pi.GOMAXPROCS,
			Idle: pi.Idle, IdleFallback: pi.IdleFallback, Oversubscribed: pi.Oversubscribed, GeneratorCPU: rep.GeneratorCPU,
		},
		Rates: results.Rates{
			OfferedPPS: rep.OfferedPPS, GeneratedPPS: rep.GeneratedPPS, AchievedPPS: rep.AchievedPPS,
			DropPct: rep.DropPct, BehindMaxNs: rep.BehindMaxNs,
		},
		Histograms: map[string]results.Histogram{},
		CPU:        rep.CPU,
	}
	v := rep.Validity
	run.Validity = &v
	if len(rep.Unchecked) > 0 {
		v.Warnings = append(v.Warnings, rep.Unchecked...)
	}
	if run.Started.IsZero() {
		run.Started = time.Now() // interrupted before the measured window began
	}
	for name, h := range rep.Hists {
		unit := metric.Unit(name)
		if unit == "" {
			return results.Run{}, fmt.Errorf("run %s: histogram %s is not in the metric registry (results/metric)", p.name, name)
		}
		s, err := results.Summarize(h, unit)
		if err != nil {
			return results.Run{}, fmt.Errorf("run %s: histogram %s: %w", p.name, name, err)
		}
		run.Histograms[name] = s
	}
	return run, nil
}

// logIntervals returns the run's interval sink: each interval of the measured window
// goes to log as it closes, kept sparse, so that memory stays flat however long the run.
// What goes wrong is kept in log, for Dir.Commit to report.
func logIntervals(log *results.IntervalLogStream) func(harness.Interval) {
	return func(iv harness.Interval) {
		if log.Begin(iv.Base) == nil {
			_ = log.WriteSet(results.IntervalSet{Start: iv.Start, Length: iv.Length, Packed: iv.Hists})
		}
	}
}

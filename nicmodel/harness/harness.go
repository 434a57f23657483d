// Package harness runs one scenario end to end: it builds the NIC, the platform, the
// driver (any registered one, or a factory the caller gives) and the checking stack,
// sends the open-loop traffic through warm-up and the measured window, drains, halts the
// driver, and checks the invariants of DESIGN.md §5. The report it returns carries the
// merged histograms, the counters, the rates and the measured window period by period.
//
// Every timestamp and injected cost of a run goes through its clock (Options.Clock).
// The histograms' cuts are times of that clock too; the harness's own waits are not:
// when it collects the intervals, the progress ticks and the drain deadline are real
// time, which is what the real clock needs; a simulated-time engine will drive those
// from its virtual clock.
//
// The harness leaves process-wide state alone: GOMAXPROCS is the caller's choice (a
// platform of n spinning vCPUs wants core.GOMAXPROCSNeeded(n); Report.Platform says
// when a run was oversubscribed).
package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/trace"
	"github.com/ndisbench/ndisbench/nicmodel/driver"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/results"
)

// Options are how a caller runs and watches a run; all optional.
type Options struct {
	// Driver, when its New is set, is the run's driver, whatever the scenario's key
	// "driver" says: the run takes its Name there, so the report and result files name
	// the driver that ran. Unset, the scenario's driver is looked up among the
	// registered ones (Drivers).
	Driver driver.Info
	// Clock is the run's time source; the zero Clock is the real one.
	Clock core.Clock
	// Observer, when set, is told of every interrupt and DPC event (core.Observer).
	Observer core.Observer
	// Trace, when set, records a timeline of the run (package core/trace; NewTrace makes
	// one for a scenario): it observes every event beside Observer, is told of the
	// generator's writes, and its window counts from the end of the warm-up. Write it out
	// (Recorder.WriteTo) once Run has returned.
	Trace *trace.Recorder
	// Progress, if set, is called about every ProgressEvery from a goroutine of its own.
	Progress      func(Progress)
	ProgressEvery time.Duration // 0: 250ms
	// Interval is the length of the histogram intervals of Report.Intervals; 0: 1s. A
	// length beyond the run gives one interval: the run without cuts.
	Interval time.Duration
	// OnInterval, when set, is given the histograms of each interval of the measured
	// window as it closes, and Report.Intervals stays empty: a caller that writes them out
	// as they come keeps memory flat however long the run. An interval comes in several
	// calls, one per histogram that recorded anything, in name order (a caller that writes
	// each as it comes spreads the work over a few milliseconds rather than take a busy
	// CPU for long); intervals come in order; calls are made on the goroutine that called
	// Run. The histograms are valid during the call only (PackedHistogram.Clone keeps one).
	OnInterval func(Interval)
	// Limits, when set, replaces DefaultLimits in the run's verdict (Report.Validity).
	Limits *Limits
	// SendAll sends every packet the schedule offers, however far behind the generator
	// falls (traffic.GeneratorConfig.SendAll): for checks that two runs had the same
	// traffic. Without it a run ends on time and counts what it never sent.
	SendAll bool
}

// Progress is a live snapshot of a run, for progress displays.
type Progress struct {
	Elapsed   time.Duration // since the traffic started
	Total     time.Duration // warm-up + duration
	Generated uint64        // written + dropped so far (packets held for write-back not yet)
	Indicated uint64
	Dropped   uint64
}

// Report is what one run measured: counters, merged histograms, rates, and whether every
// invariant held. Histograms and rates cover the measured window (after warm-up);
// counters cover the whole run, warm-up included, as conservation needs (package metric
// says which window each covers).
type Report struct {
	Scenario scenario.Scenario // resolved
	Platform core.RunInfo      // CPUs, pinning, GOMAXPROCS
	// GeneratorCPU is the real CPU the load generator was pinned to; -1: not pinned (no
	// CPU was left over from the vCPUs, or pinning was refused).
	GeneratorCPU int
	Started      time.Time     // wall clock when the measured window began
	Measured     time.Duration // measured window as run: warm-up end to the last write (at least Duration)
	Interrupted  bool          // stopped early (context cancelled): figures cover what ran

	OfferedPPS   float64 // measured-window packets the schedule asked for / Duration
	GeneratedPPS float64 // measured-window packets written or dropped / Measured
	AchievedPPS  float64 // measured-window packets delivered (not dropped) / Measured
	BehindMaxNs  int64   // most a write lagged its intended time in the window
	DropPct      float64 // measured-window drops, % of measured-window packets

	PerQueue []uint64 // descriptors written per RX queue (how RSS spread the flows)
	PerCPU   []uint64 // NBLs indicated per vCPU

	Counters   map[string]uint64                  // every counter of package metric the run keeps
	Hists      map[string]*hdrhistogram.Histogram // every histogram of package metric
	Intervals  []Interval                         // the measured window, period by period (Options.Interval)
	Violations []core.Violation                   // contract violations the framework described
	Broken     []Failure                          // invariants that failed (DESIGN.md §5); empty: all held
	Unchecked  []string                           // invariants an interrupted run could not check, and why

	// Clamped holds, for each histogram that had any in the measured window, how many
	// values were beyond its ceiling (recorded as the ceiling).
	Clamped map[string]uint64
	// VCPUGapMaxNs holds each vCPU's longest gap between turns of its loop in the
	// measured window (core.Platform.LoopGaps): how long it did not look at its
	// interrupts and DPCs, its handlers' own runs and time parked left out.
	VCPUGapMaxNs []int64

	// Validity is the verdict on the run: whether its figures measure the model or a
	// host that disturbed it, with the reasons and the interference seen (Limits).
	Validity results.Validity

	// CPU is where the vCPUs' time went over the measured window, and what a delivered
	// packet cost; nil when the run stopped before the warm-up ended.
	CPU *results.CPU

	offered float64 // packets the schedule offered in the measured window
}

// Failure is one invariant a run broke.
type Failure struct {
	// Invariant names it: "conservation", "order", "drain", "accounting", "R11", or the
	// contract rule the framework saw broken ("R3", "R6", "R8", "R9").
	Invariant string
	Detail    string
}

func (f Failure) String() string { return f.Invariant + ": " + f.Detail }

// Interval is one period of a run's measured window: what every histogram recorded in
// it, merged over the vCPUs. Periods are cut at fixed times (every Options.Interval from
// the end of the warm-up; the last one takes in the end of the traffic and the drain),
// and each writer puts a piece of work in the period its own clock says it began in: an
// ISR or a DPC wholly in one, a packet by its indication, a generator's write by its
// time. A period in which the host stalled a writer is simply emptier.
type Interval struct {
	Start  time.Duration // since the measured window began (the end of the warm-up)
	Length time.Duration
	Base   time.Time // wall clock when the measured window began (Report.Started): Start counts from it
	// Hists holds the histograms that recorded anything in the period, by name (as
	// Report.Hists), in HdrHistogram's sparse form: a run of many periods stays small.
	Hists map[string]*hdrhistogram.PackedHistogram
}

// ErrInvariant is the errors.Is target of a run whose invariants failed.
var ErrInvariant = errors.New("invariant broken")

// Err returns nil when every invariant held, else an error listing the broken ones.
func (r *Report) Err() error {
	if len(r.Broken) == 0 {
		return nil
	}
	lines := make([]string, len(r.Broken))
	for i, f := range r.Broken {
		lines[i] = f.String()
	}
	return fmt.Errorf("harness: run: %w:\n  %s", ErrInvariant, strings.Join(lines, "\n  "))
}

// Broke reports whether invariant is among the broken ones.
func (r *Report) Broke(invariant string) bool {
	for _, f := range r.Broken {
		if f.Invariant == invariant {
			return true
		}
	}
	return false
}

// Run runs sc end to end. It validates sc (defaults filled in), builds the run, sends
// warm-up + duration of traffic, drains, halts the driver and checks the invariants. A
// bad scenario or a driver that cannot start is an error with no report. Otherwise the
// report is returned, and err is non-nil (errors.Is ErrInvariant) when an invariant
// broke. Cancelling ctx stops the traffic early: the run drains, is checked, and its
// report is marked Interrupted.
func Run(ctx context.Context, sc scenario.Scenario, opts Options) (*Report, error) {
	if opts.Driver.New != nil {
		sc.Driver = opts.Driver.Name
	}
	sc = sc.WithDefaults()
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	factory := opts.Driver.New
	if factory == nil {
		if err := CheckDriver(sc.Driver); err != nil {
			return nil, err
		}
		d, _ := LookupDriver(sc.Driver)
		factory = d.New
	}
	r, err := newRig(sc, factory, opts)
	if err != nil {
		return nil, err
	}
	return r.run(ctx, opts)
}

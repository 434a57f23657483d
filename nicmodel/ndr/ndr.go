// Package ndr searches for the largest offered rate a system carries within a loss goal:
// the non-drop rate (NDR, loss 0) and the partial-drop rate (PDR, 0.5% by default), as
// RFC 2544 §26.1 defines the throughput and RFC 9971 (MLRsearch) refines its search.
//
// A Trialer runs one trial at an offered rate and reports its loss ratio and whether the
// trial was a valid measurement. The search keeps, per goal, a lower bound (the largest
// rate whose trials met the goal) and an upper bound (the smallest rate a trial failed
// it at), narrows them in log space until their relative width is within Precision,
// repeats the trial at the lower bound until it has Repeats valid trials (a bound is
// never one lucky trial), and stops at MaxTime with the bounds it has. An invalid trial
// is run again at the same rate and never counted; a run of MaxInvalid invalid trials
// in a row ends the search with ErrNoValid.
//
// What MLRsearch adds that this package does not: goal exceed ratios and duration sums
// over many short trials (here every valid trial at a rate must meet the goal), and
// trial durations that grow as the search ends (here every trial is as long as the
// Trialer makes it). The package runs nothing itself: it is unit-tested against
// simulated systems, and bench ndr gives it a Trialer that runs the harness.
package ndr

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Trial is one trial's outcome.
type Trial struct {
	OfferedPPS  float64  // the rate asked for
	AchievedPPS float64  // the rate delivered (a forwarding rate: the next guess below a failing rate)
	LossRatio   float64  // lost / offered packets, 0 to 1
	Valid       bool     // the trial was a measurement (its validity verdict)
	Reasons     []string // why not, when not
	Data        any      // the Trialer's own record of the trial (a run's report), kept with it
}

// Trialer runs trials.
type Trialer interface {
	// Trial runs one trial at ratePPS. An error ends the search (it is returned with the
	// trials so far); an invalid trial is Trial.Valid false, not an error.
	Trial(ctx context.Context, ratePPS float64) (Trial, error)
}

// TrialFunc is a function that is a Trialer.
type TrialFunc func(ctx context.Context, ratePPS float64) (Trial, error)

// Trial calls f.
func (f TrialFunc) Trial(ctx context.Context, ratePPS float64) (Trial, error) { return f(ctx, ratePPS) }

var _ Trialer = TrialFunc(nil)

// Goal is a loss goal: a rate meets it when no valid trial there lost more than
// LossRatio.
type Goal struct {
	Name      string  // "ndr", "pdr"
	LossRatio float64 // 0 to 1
}

// DefaultGoals are NDR (no loss) and PDR (0.5% loss), as FD.io CSIT reports them.
func DefaultGoals() []Goal { return []Goal{{"ndr", 0}, {"pdr", 0.005}} }

// Config is a search's settings. The zero value of a field means its default.
type Config struct {
	MinPPS, MaxPPS float64       // the range searched; MaxPPS is tried first
	Goals          []Goal        // default DefaultGoals
	Precision      float64       // relative width (upper-lower)/upper at which a goal is final; default 0.05
	Repeats        int           // valid trials a lower bound needs; default 2
	MaxInvalid     int           // invalid trials in a row at one rate before ErrNoValid; default 5
	MaxTime        time.Duration // limit on the search's time; default 2 minutes
	// Now returns the time since the search began; nil: the real clock. Tests pass a
	// simulated system's clock.
	Now func() time.Duration
}

// ErrNoValid is the error of a search that could not get a valid trial.
var ErrNoValid = errors.New("ndr: no valid trial")

// ErrConfig is the errors.Is target of a bad Config.
var ErrConfig = errors.New("ndr: invalid search configuration")

// Bound is one goal's answer.
type Bound struct {
	Goal
	// Lower is the largest rate whose trials met the goal (Repeats valid trials, none
	// over the goal): the answer; 0 when no rate did. Upper is the smallest rate a
	// valid trial failed the goal at; MaxPPS when none did (Capped).
	Lower, Upper float64
	Capped       bool // MaxPPS met the goal: the answer is at least MaxPPS
	Final        bool // within precision (or capped, or MinPPS failed), the lower bound repeated
	// LowerTrial is the index in Outcome.Trials of the last valid trial at Lower; -1 when none.
	LowerTrial int
}

// Outcome is a search's result.
type Outcome struct {
	Bounds      []Bound // one per goal, in Config.Goals order
	Trials      []Trial // every trial in the order run, invalid ones included
	Invalid     int     // of those, invalid
	Elapsed     time.Duration
	TimedOut    bool // MaxTime stopped it before every goal was final
	Interrupted bool // ctx was cancelled
}

func (c Config) withDefaults() (Config, error) {
	if len(c.Goals) == 0 {
		c.Goals = DefaultGoals()
	}
	if c.Precision == 0 {
		c.Precision = 0.05
	}
	if c.Repeats == 0 {
		c.Repeats = 2
	}
	if c.MaxInvalid == 0 {
		c.MaxInvalid = 5
	}
	if c.MaxTime == 0 {
		c.MaxTime = 2 * time.Minute
	}
	switch {
	case !(c.MinPPS > 0) || !(c.MaxPPS > c.MinPPS) || math.IsInf(c.MaxPPS, 0):
		return c, fmt.Errorf("%w: want 0 < min rate < max rate, got %g and %g", ErrConfig, c.MinPPS, c.MaxPPS)
	case !(c.Precision > 0 && c.Precision < 1):
		return c, fmt.Errorf("%w: precision must be > 0 and < 1, got %g", ErrConfig, c.Precision)
	case c.Repeats < 1 || c.MaxInvalid < 1 || c.MaxTime < 0:
		return c, fmt.Errorf("%w: repeats, max invalid and max time must be positive", ErrConfig)
	}
	for _, g := range c.Goals {
		if !(g.LossRatio >= 0 && g.LossRatio < 1) {
			return c, fmt.Errorf("%w: goal %s: loss ratio must be >= 0 and < 1, got %g", ErrConfig, g.Name, g.LossRatio)
		}
	}
	return c, nil
}

// Search runs the search. It returns the outcome so far with any error: ErrNoValid, a
// Trialer's error, ErrConfig; an interrupted or timed-out search is no error (its
// Outcome says so).
func Search(ctx context.Context, cfg Config, t Trialer) (*Outcome, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		start := time.Now()
		now = func() time.Duration { return time.Since(start) }
	}
	s := &search{cfg: cfg, out: &Outcome{}}
	var longest time.Duration // the longest trial so far: whether another fits in MaxTime
	for {
		s.out.Elapsed = now()
		rate, ok := s.next()
		if !ok {
			break
		}
		if ctx.Err() != nil {
			s.out.Interrupted = true
			break
		}
		if s.out.Elapsed+longest > cfg.MaxTime {
			s.out.TimedOut = true
			break
		}
		began := now()
		tr, err := s.trial(ctx, t, rate)
		longest = max(longest, now()-began)
		if err != nil {
			s.out.Elapsed = now()
			s.finish()
			return s.out, err
		}
		if ctx.Err() != nil && !tr.Valid {
			s.out.Interrupted = true
			break
		}
	}
	s.out.Elapsed = now()
	s.finish()
	return s.out, nil
}

type search struct {
	cfg Config
	out *Outcome
}

// trial runs valid trials at rate: invalid ones again, up to MaxInvalid in a row.
func (s *search) trial(ctx context.Context, t Trialer, rate float64) (Trial, error) {
	for n := 1; ; n++ {
		tr, err := t.Trial(ctx, rate)
		if err != nil {
			return tr, err
		}
		tr.OfferedPPS = rate
		s.out.Trials = append(s.out.Trials, tr)
		if tr.Valid || ctx.Err() != nil {
			return tr, nil
		}
		s.out.Invalid++
		if n >= s.cfg.MaxInvalid {
			return tr, fmt.Errorf("%w: %d trials in a row at %.0f pkts/s were not valid measurements (last: %v)",
				ErrNoValid, n, rate, tr.Reasons)
		}
	}
}

// state is what the valid trials say of one goal.
type state struct {
	upper      float64 // smallest failing rate; +Inf: none
	lower      float64 // largest passing rate below upper; 0: none
	lowerN     int     // valid trials at lower
	lowerTrial int
	upperFwd   float64 // the achieved rate of the trial that set upper
}

// classify works out goal g's bounds from every valid trial so far.
func (s *search) classify(g Goal) state {
	st := state{upper: math.Inf(1), lowerTrial: -1}
	for _, tr := range s.out.Trials {
		if tr.Valid && tr.LossRatio > g.LossRatio && tr.OfferedPPS < st.upper {
			st.upper, st.upperFwd = tr.OfferedPPS, tr.AchievedPPS
		}
	}
	for i, tr := range s.out.Trials {
		if !tr.Valid || tr.OfferedPPS >= st.upper {
			continue
		}
		switch r := tr.OfferedPPS; {
		case r > st.lower:
			st.lower, st.lowerN, st.lowerTrial = r, 1, i
		case r == st.lower:
			st.lowerN++
			st.lowerTrial = i
		}
	}
	return st
}

// next returns the next rate to try, for the first goal not yet final; false when every
// goal is final.
func (s *search) next() (float64, bool) {
	c := s.cfg
	for _, g := range c.Goals {
		st := s.classify(g)
		switch {
		case math.IsInf(st.upper, 1) && st.lower < c.MaxPPS:
			return c.MaxPPS, true // first the most: MLRsearch's initial trial
		case st.upper <= c.MinPPS:
			continue // nothing in range meets it: final, no answer
		case st.lower == 0:
			// Below a failing rate with no passing one: its forwarding rate is the
			// first guess (MLRsearch's initial phase), else a step down in log space.
			guess := st.upperFwd * (1 - g.LossRatio)
			if !(guess > c.MinPPS && guess < st.upper*(1-c.Precision/2)) {
				guess = math.Max(c.MinPPS, st.upper*math.Pow(1-c.Precision, 4))
			}
			return guess, true
		case st.lowerN < c.Repeats:
			return st.lower, true // a bound is repeated, never one lucky trial
		case st.upper-st.lower > c.Precision*st.upper:
			if math.IsInf(st.upper, 1) { // capped
				continue
			}
			return math.Sqrt(st.lower * st.upper), true // halve the width in log space
		}
	}
	return 0, false
}

// finish writes the bounds.
func (s *search) finish() {
	c := s.cfg
	s.out.Bounds = s.out.Bounds[:0]
	for _, g := range c.Goals {
		st := s.classify(g)
		b := Bound{Goal: g, Lower: st.lower, Upper: st.upper, LowerTrial: st.lowerTrial}
		if st.lower == 0 {
			b.LowerTrial = -1
		}
		if math.IsInf(st.upper, 1) {
			b.Upper = c.MaxPPS
			b.Capped = st.lower >= c.MaxPPS
		}
		repeated := st.lowerN >= c.Repeats
		b.Final = (b.Capped && repeated) || (st.upper <= c.MinPPS) ||
			(repeated && st.upper-st.lower <= c.Precision*st.upper)
		s.out.Bounds = append(s.out.Bounds, b)
	}
}

// Fractions are the fractions of the NDR at which bench ndr measures latency, as FD.io
// CSIT does.
func Fractions() []float64 { return slices.Clone(fractions) }

var fractions = []float64{0.1, 0.5, 0.9}

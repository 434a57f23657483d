package ndr

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// sim is a simulated system of known capacity: it delivers up to capacity pkts/s and
// loses the rest. noise adds that loss ratio to a trial with probability noiseP; every
// invalidEvery-th trial is not a valid measurement. Each trial takes trialTime of its
// simulated clock.
type sim struct {
	capacity     float64
	noise        float64
	noiseP       float64
	invalidEvery int
	trialTime    time.Duration
	rng          *rand.Rand
	n            int
	clock        time.Duration
	rates        []float64
}

func (s *sim) Trial(_ context.Context, rate float64) (Trial, error) {
	s.n++
	s.clock += s.trialTime
	s.rates = append(s.rates, rate)
	if s.invalidEvery > 0 && s.n%s.invalidEvery == 0 {
		// An invalid trial's figures are garbage: a search that counted it would go wrong.
		return Trial{LossRatio: 0, AchievedPPS: rate, Valid: false, Reasons: []string{"host stalled"}}, nil
	}
	loss := math.Max(0, 1-s.capacity/rate)
	if s.rng != nil && s.rng.Float64() < s.noiseP {
		loss = math.Min(1, loss+s.noise)
	}
	return Trial{LossRatio: loss, AchievedPPS: rate * (1 - loss), Valid: true}, nil
}

func (s *sim) now() time.Duration { return s.clock }

func newSim(capacity float64) *sim { return &sim{capacity: capacity, trialTime: time.Second} }

func cfgFor(s *sim) Config {
	return Config{MinPPS: 1e4, MaxPPS: 1e7, Precision: 0.05, MaxTime: time.Hour, Now: s.now}
}

// checkBound asserts that b's bounds bracket want within the precision and that every
// valid trial at or below Lower met the goal.
func checkBound(t *testing.T, out *Outcome, b Bound, want, precision float64) {
	t.Helper()
	if !b.Final {
		t.Errorf("%s: not final: %+v", b.Name, b)
	}
	if b.Lower > want*(1+1e-9) || b.Upper < want*(1-1e-9) {
		t.Errorf("%s: bounds [%.0f, %.0f] do not bracket %.0f", b.Name, b.Lower, b.Upper, want)
	}
	if (b.Upper-b.Lower)/b.Upper > precision+1e-9 {
		t.Errorf("%s: width %.3f > precision %.3f", b.Name, (b.Upper-b.Lower)/b.Upper, precision)
	}
	n := 0
	for _, tr := range out.Trials {
		if tr.Valid && tr.OfferedPPS == b.Lower {
			n++
		}
	}
	if n < 2 {
		t.Errorf("%s: lower bound %.0f has %d valid trials, want it repeated (2)", b.Name, b.Lower, n)
	}
}

// A deterministic system: NDR is its capacity, PDR capacity/(1-0.005); both found to
// 5% with the lower bounds repeated.
func TestSearchDeterministic(t *testing.T) {
	for _, capacity := range []float64{2.3e4, 1.234e6, 9.5e6} { // near the bottom, middle, top of the range
		s := newSim(capacity)
		out, err := Search(context.Background(), cfgFor(s), s)
		if err != nil {
			t.Fatal(err)
		}
		checkBound(t, out, out.Bounds[0], capacity, 0.05)
		checkBound(t, out, out.Bounds[1], capacity/(1-0.005), 0.05)
		if out.Invalid != 0 || out.TimedOut || len(out.Trials) > 30 {
			t.Errorf("capacity %.0f: %d trials (%d invalid), timed out %v", capacity, len(out.Trials), out.Invalid, out.TimedOut)
		}
		if out.Trials[0].OfferedPPS != 1e7 {
			t.Errorf("first trial at %.0f, want the max rate", out.Trials[0].OfferedPPS)
		}
	}
}

// A noisy system: one trial in five loses 0.1% more. NDR's bound may be pushed down by
// a noisy trial (a loss is a loss), but never above the capacity; PDR, whose goal the
// noise stays under, is still found where capacity/(1-0.005+0.001) and
// capacity/(1-0.005) say.
func TestSearchNoisy(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		s := newSim(1e6)
		s.noise, s.noiseP, s.rng = 0.001, 0.2, rand.New(rand.NewPCG(seed, 0))
		out, err := Search(context.Background(), cfgFor(s), s)
		if err != nil {
			t.Fatal(err)
		}
		ndr, pdr := out.Bounds[0], out.Bounds[1]
		if ndr.Lower > 1e6 {
			t.Errorf("seed %d: NDR %.0f above the capacity", seed, ndr.Lower)
		}
		if pdr.Lower > 1e6/0.995 || pdr.Upper < 1e6/0.996*(1-1e-9) || !pdr.Final {
			t.Errorf("seed %d: PDR [%.0f, %.0f] final %v, want it about [%.0f, %.0f]", seed, pdr.Lower, pdr.Upper, pdr.Final, 1e6/0.996, 1e6/0.995)
		}
		if (pdr.Upper-pdr.Lower)/pdr.Upper > 0.05 {
			t.Errorf("seed %d: PDR width %.3f", seed, (pdr.Upper-pdr.Lower)/pdr.Upper)
		}
	}
}

// A system whose validity flaps (every third trial invalid, reporting no loss at any
// rate): the search gets the deterministic answer, repeats each invalid trial at the
// same rate and counts none of them.
func TestSearchFlappingValidity(t *testing.T) {
	s := newSim(1.234e6)
	s.invalidEvery = 3
	out, err := Search(context.Background(), cfgFor(s), s)
	if err != nil {
		t.Fatal(err)
	}
	checkBound(t, out, out.Bounds[0], 1.234e6, 0.05)
	checkBound(t, out, out.Bounds[1], 1.234e6/0.995, 0.05)
	if out.Invalid == 0 || out.Invalid != len(out.Trials)/3 {
		t.Errorf("%d invalid of %d trials, want every third", out.Invalid, len(out.Trials))
	}
	for i, tr := range out.Trials {
		if !tr.Valid && (i+1 >= len(out.Trials) || out.Trials[i+1].OfferedPPS != tr.OfferedPPS) {
			t.Errorf("trial %d at %.0f was invalid and not repeated at once", i, tr.OfferedPPS)
		}
	}
}

// A system that never gives a valid trial: ErrNoValid after MaxInvalid, with the trials.
func TestSearchNoValidTrial(t *testing.T) {
	s := newSim(1e6)
	s.invalidEvery = 1
	out, err := Search(context.Background(), cfgFor(s), s)
	if !errors.Is(err, ErrNoValid) || out == nil || len(out.Trials) != 5 {
		t.Fatalf("err %v, outcome %+v; want ErrNoValid after 5 trials", err, out)
	}
	if out.Bounds[0].Lower != 0 || out.Bounds[0].Final {
		t.Errorf("bound %+v from invalid trials", out.Bounds[0])
	}
}

// The time limit stops the search with the bounds it has, not final.
func TestSearchTimeLimit(t *testing.T) {
	s := newSim(1.234e6)
	cfg := cfgFor(s)
	cfg.MaxTime = 4 * time.Second
	out, err := Search(context.Background(), cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	if !out.TimedOut || len(out.Trials) != 4 || out.Elapsed > cfg.MaxTime {
		t.Errorf("timed out %v after %d trials, %v; want true, 4, <= 4s", out.TimedOut, len(out.Trials), out.Elapsed)
	}
	if out.Bounds[0].Final {
		t.Errorf("NDR final after 4 trials: %+v", out.Bounds[0])
	}
}

// Capacity above the range: capped at the max; below it: no answer, final.
func TestSearchOutOfRange(t *testing.T) {
	s := newSim(5e7)
	out, err := Search(context.Background(), cfgFor(s), s)
	if err != nil {
		t.Fatal(err)
	}
	if b := out.Bounds[0]; !b.Capped || !b.Final || b.Lower != 1e7 || len(out.Trials) != 2 {
		t.Errorf("capped: %+v after %d trials", b, len(out.Trials))
	}
	s = newSim(5e3)
	out, err = Search(context.Background(), cfgFor(s), s)
	if err != nil {
		t.Fatal(err)
	}
	if b := out.Bounds[0]; b.Lower != 0 || b.Upper != 1e4 || !b.Final || b.LowerTrial != -1 {
		t.Errorf("below range: %+v", b)
	}
}

// A cancelled context ends the search, marked interrupted, without an error.
func TestSearchInterrupted(t *testing.T) {
	s := newSim(1e6)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	tr := TrialFunc(func(c context.Context, r float64) (Trial, error) {
		if n++; n == 3 {
			cancel()
		}
		return s.Trial(c, r)
	})
	out, err := Search(ctx, cfgFor(s), tr)
	if err != nil || !out.Interrupted || len(out.Trials) != 3 {
		t.Errorf("err %v, interrupted %v after %d trials; want nil, true, 3", err, out.Interrupted, len(out.Trials))
	}
}

func TestSearchRefusesBadConfig(t *testing.T) {
	for _, c := range []Config{
		{MinPPS: 0, MaxPPS: 1},                          // no minimum
		{MinPPS: 2, MaxPPS: 1},                          // min above max
		{MinPPS: 1, MaxPPS: 2, Precision: 1.5},          // precision out of range
		{MinPPS: 1, MaxPPS: 2, Goals: []Goal{{"x", 1}}}, // a goal of total loss
		{MinPPS: 1, MaxPPS: math.Inf(1)},                // infinite max
	} {
		if _, err := Search(context.Background(), c, newSim(1)); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err %v, want ErrConfig", c, err)
		}
	}
}

package traffic

import (
	"errors"
	"math"
	"math/bits"
	"strings"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/nicmodel"
)

func mustToeplitz(tb testing.TB, key []byte) *nicmodel.Toeplitz {
	tb.Helper()
	t, err := nicmodel.NewToeplitz(key)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func mustSchedule(tb testing.TB, c ScheduleConfig) *Schedule {
	tb.Helper()
	s, err := NewSchedule(c)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestScheduleConfigErrors(t *testing.T) {
	const ms = int64(1e6)
	tests := []struct {
		c    ScheduleConfig
		want string
	}{
		{ScheduleConfig{Kind: "", RatePPS: 1}, "schedule must be"},                                                                               // no kind
		{ScheduleConfig{Kind: "sawtooth", RatePPS: 1}, `got "sawtooth"`},                                                                         // unknown kind
		{ScheduleConfig{Kind: KindConstant, RatePPS: -3}, "rate_pps must be > 0, got -3"},                                                        // negative rate
		{ScheduleConfig{Kind: KindPoisson, RatePPS: 0}, "rate_pps must be > 0, got 0"},                                                           // zero rate
		{ScheduleConfig{Kind: KindPoisson, RatePPS: math.NaN()}, "rate_pps must be > 0, got NaN"},                                                // NaN rate
		{ScheduleConfig{Kind: KindConstant, RatePPS: math.Inf(1)}, "rate_pps must be > 0, got +Inf"},                                             // infinite rate
		{ScheduleConfig{Kind: KindRamp, RatePPS: 1, Ramp: time.Duration(ms)}, "ramp_to_pps must be > 0"},                                         // ramp to nothing
		{ScheduleConfig{Kind: KindRamp, RatePPS: 1, RampToPPS: 2}, "ramp must be > 0"},                                                           // ramp of no length
		{ScheduleConfig{Kind: KindConstant, RatePPS: 1, RampToPPS: 2}, "ramp_to_pps applies only to kind"},                                       // stray ramp target
		{ScheduleConfig{Kind: KindPoisson, RatePPS: 1, Ramp: time.Duration(ms)}, "ramp applies only to kind"},                                    // stray ramp length
		{ScheduleConfig{Kind: KindBursts, RatePPS: 1, Off: time.Duration(ms)}, "burst_on must be > 0"},                                           // bursts of nothing
		{ScheduleConfig{Kind: KindBursts, RatePPS: 1, On: time.Duration(ms), Off: time.Duration(-1)}, "burst_off must be >= 0"},                  // negative silence
		{ScheduleConfig{Kind: KindBursts, RatePPS: 1, On: time.Duration(math.MaxInt64), Off: time.Duration(1)}, "burst_off must leave on + off"}, // period overflows
		{ScheduleConfig{Kind: KindRamp, RatePPS: 1, RampToPPS: 2, Ramp: time.Duration(ms), On: time.Duration(ms)}, "burst_on applies"},           // stray burst length
		{ScheduleConfig{Kind: KindConstant, RatePPS: 1, Off: time.Duration(ms)}, "burst_off applies"},                                            // stray silence
	}
	for _, tt := range tests {
		err := tt.c.Validate()
		if !errors.Is(err, ErrConfig) || !strings.HasPrefix(err.Error(), "traffic: schedule: ") ||
			!strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v.Validate() = %v; want an ErrConfig containing %q", tt.c, err, tt.want)
		}
		if s, err2 := NewSchedule(tt.c); s != nil || err2 == nil || err2.Error() != err.Error() {
			t.Errorf("NewSchedule(%+v) = %v, %v; want nil and Validate's error", tt.c, s, err2)
		}
	}
}

func TestScheduleConstantIsExact(t *testing.T) {
	tests := []struct {
		rate float64
		want []int64
	}{
		{1e6, []int64{0, 1000, 2000, 3000, 4000}},                     // 1 µs gaps
		{3, []int64{0, 333333333, 666666666, 1000000000, 1333333333}}, // gaps that are not whole ns: no drift
		{14.88e6, []int64{0, 67, 134, 201, 268}},                      // 10GbE line rate at 64 bytes
		{2e9, []int64{0, 0, 1, 1, 2}},                                 // faster than one per ns: ties, never backwards
	}
	for _, tt := range tests {
		s := mustSchedule(t, ScheduleConfig{Kind: KindConstant, RatePPS: tt.rate})
		for i, w := range tt.want {
			if got := s.Next(); got != w {
				t.Errorf("rate %v: packet %d at %d ns, want %d", tt.rate, i, got, w)
			}
		}
	}
	// A long run stays on the grid: packet n at exactly n µs.
	s := mustSchedule(t, ScheduleConfig{Kind: KindConstant, RatePPS: 1e6})
	for n := int64(0); n < 1_000_000; n++ {
		if got := s.Next(); got != n*1000 {
			t.Fatalf("packet %d at %d ns, want %d", n, got, n*1000)
		}
	}
}

// TestScheduleConstantIsFloor: at a whole number of packets per second, packet n is due
// at exactly floor(n·1e9/rate) ns (computed here in 128-bit integers), also past
// n = 2^53/1e9, about 9 million packets, beyond which n·1e9 no longer fits a float64's
// mantissa.
func TestScheduleConstantIsFloor(t *testing.T) {
	for _, rate := range []uint64{1, 3, 7, 999_983, 1_000_000, 14_880_000, 29_999_999, 100_000_000} {
		s := mustSchedule(t, ScheduleConfig{Kind: KindConstant, RatePPS: float64(rate)})
		check := func(n uint64, got int64) {
			hi, lo := bits.Mul64(n, 1e9)
			want, _ := bits.Div64(hi, lo, rate)
			if uint64(got) != want {
				t.Fatalf("rate %d: packet %d at %d ns, want floor(n·1e9/rate) = %d", rate, n, got, want)
			}
		}
		for n := uint64(0); n < 200_000; n++ {
			check(n, s.Next())
		}
		if testing.Short() {
			continue
		}
		for n := uint64(200_000); n < 12_000_000; n++ { // an add per packet: cheap
			if got := s.Next(); n%1_000_003 == 0 || n == 9_007_199 || n == 9_007_200 {
				check(n, got)
			}
		}
	}
}

func TestSchedulePoissonStatistics(t *testing.T) {
	const n, rate = 200_000, 1e6
	s := mustSchedule(t, ScheduleConfig{Kind: KindPoisson, RatePPS: rate, Seed: 42})
	mean := 1e9 / rate
	prev := s.Next()
	if prev != 0 {
		t.Fatalf("first packet at %d, want 0", prev)
	}
	var sum, sumSq float64
	var long int
	for range n {
		at := s.Next()
		gap := float64(at - prev)
		if gap < 0 {
			t.Fatalf("time went backwards: %d after %d", at, prev)
		}
		sum += gap
		sumSq += gap * gap
		if gap > mean {
			long++
		}
		prev = at
	}
	m := sum / n
	sd := math.Sqrt(sumSq/n - m*m)
	if math.Abs(m-mean)/mean > 0.02 {
		t.Errorf("mean gap %.1f ns, want %.1f ± 2%%", m, mean)
	}
	// Exponential gaps: the standard deviation equals the mean, and e^-1 of the gaps
	// are longer than the mean. Evenly spaced or uniform gaps fail both.
	if math.Abs(sd-mean)/mean > 0.05 {
		t.Errorf("gap standard deviation %.1f ns, want %.1f ± 5%% (exponential)", sd, mean)
	}
	if f := float64(long) / n; math.Abs(f-math.Exp(-1)) > 0.01 {
		t.Errorf("%.4f of the gaps exceed the mean, want e^-1 = %.4f ± 0.01", f, math.Exp(-1))
	}
}

func TestScheduleBurstsSilentWhenOff(t *testing.T) {
	const on, off = int64(100_000), int64(400_000) // 100 µs bursts every 500 µs
	s := mustSchedule(t, ScheduleConfig{Kind: KindBursts, RatePPS: 1e6, On: time.Duration(on), Off: time.Duration(off)})
	perBurst := map[int64]int{}
	for range 10_000 {
		at := s.Next()
		if phase := at % (on + off); phase >= on {
			t.Fatalf("packet at %d ns: %d ns into the period, inside the off window [%d, %d)", at, phase, on, on+off)
		}
		perBurst[at/(on+off)]++
	}
	for b, c := range perBurst {
		if c != 100 {
			t.Errorf("burst %d has %d packets, want 100 (100 µs at 1 Mpps)", b, c)
		}
	}
	if len(perBurst) != 100 {
		t.Errorf("%d bursts, want 100", len(perBurst))
	}
}

func TestScheduleRamp(t *testing.T) {
	const ramp = int64(100e6) // 100 ms from 100 kpps to 1 Mpps
	s := mustSchedule(t, ScheduleConfig{Kind: KindRamp, RatePPS: 1e5, RampToPPS: 1e6, Ramp: time.Duration(ramp)})
	const windows = 10
	var counts [windows + 2]int
	var prev, last, afterGap int64
	for {
		at := s.Next()
		if at < prev {
			t.Fatalf("time went backwards: %d after %d", at, prev)
		}
		prev = at
		w := int(at / (ramp / windows))
		if w >= len(counts) {
			afterGap = at - last
			break
		}
		counts[w]++
		last = at
	}
	for w := 1; w < windows; w++ {
		if counts[w] <= counts[w-1] {
			t.Errorf("window %d: %d packets, not more than window %d's %d: the rate must rise", w, counts[w], w-1, counts[w-1])
		}
	}
	// The first 10 ms window averages 145 kpps: 1450 packets; after the ramp, 1 Mpps.
	if counts[0] < 1440 || counts[0] > 1460 {
		t.Errorf("first window: %d packets, want 1450 ± 10", counts[0])
	}
	for _, w := range []int{windows, windows + 1} {
		if counts[w] < 9_999 || counts[w] > 10_001 {
			t.Errorf("window %d, after the ramp: %d packets, want 10000 ± 1 (held at 1 Mpps)", w, counts[w])
		}
	}
	if afterGap < 999 || afterGap > 1001 {
		t.Errorf("gap after the ramp %d ns, want 1000 ± 1", afterGap)
	}

	// A falling ramp slows down.
	s = mustSchedule(t, ScheduleConfig{Kind: KindRamp, RatePPS: 1e6, RampToPPS: 1e5, Ramp: time.Duration(ramp)})
	var early, late int
	for {
		at := s.Next()
		if at >= ramp {
			break
		}
		if at < ramp/10 {
			early++
		} else if at >= ramp*9/10 {
			late++
		}
	}
	if early <= late*5 {
		t.Errorf("falling ramp: %d packets in the first tenth, %d in the last; want the first far busier", early, late)
	}
}

// TestScheduleOfferedRateMatchesSchedule checks the analytic rate against a count of
// the arrivals the schedule produced in the same window.
func TestScheduleOfferedRateMatchesSchedule(t *testing.T) {
	const ms = int64(1e6)
	tests := []struct {
		c   ScheduleConfig
		d   int64
		tol float64 // packets
	}{
		{ScheduleConfig{Kind: KindConstant, RatePPS: 1e6}, 10 * ms, 1},                                                      // 10000
		{ScheduleConfig{Kind: KindBursts, RatePPS: 1e6, On: time.Duration(ms), Off: time.Duration(3 * ms)}, 10 * ms, 1},     // 3 bursts
		{ScheduleConfig{Kind: KindBursts, RatePPS: 1e6, On: time.Duration(ms), Off: time.Duration(3 * ms)}, 9*ms + ms/2, 1}, // ends mid-burst
		{ScheduleConfig{Kind: KindRamp, RatePPS: 1e5, RampToPPS: 1e6, Ramp: time.Duration(100 * ms)}, 50 * ms, 1},           // mid-ramp
		{ScheduleConfig{Kind: KindRamp, RatePPS: 1e5, RampToPPS: 1e6, Ramp: time.Duration(100 * ms)}, 150 * ms, 1},          // after the ramp
		{ScheduleConfig{Kind: KindRamp, RatePPS: 1e6, RampToPPS: 2e5, Ramp: time.Duration(10 * ms)}, 20 * ms, 1},            // falling
		{ScheduleConfig{Kind: KindPoisson, RatePPS: 1e6, Seed: 7}, 200 * ms, 200_000 * 0.02},                                // ± 2%
	}
	for _, tt := range tests {
		s := mustSchedule(t, tt.c)
		var n int
		for s.Next() < tt.d {
			n++
		}
		want := s.OfferedRate(tt.d) * float64(tt.d) / 1e9
		if math.Abs(float64(n)-want) > tt.tol {
			t.Errorf("%+v over %d ns: %d arrivals, OfferedRate says %.1f (± %v)", tt.c, tt.d, n, want, tt.tol)
		}
	}
	s := mustSchedule(t, ScheduleConfig{Kind: KindBursts, RatePPS: 1e6, On: time.Duration(ms), Off: time.Duration(3 * ms)})
	if got := s.OfferedRate(0); got != 1e6 {
		t.Errorf("OfferedRate(0) = %v, want the rate at 0, 1e6", got)
	}
	if got := s.OfferedRate(400 * ms); got != 0.25e6 {
		t.Errorf("bursts on 1 ms of 4: OfferedRate(400 ms) = %v, want 250000", got)
	}
}

// TestScheduleFarFutureSaturates: rates so low that the next packet is centuries away
// give math.MaxInt64, never a wrapped, negative time.
func TestScheduleFarFutureSaturates(t *testing.T) {
	tests := []ScheduleConfig{
		{Kind: KindConstant, RatePPS: 1e-10},                          // one packet per 317 years
		{Kind: KindPoisson, RatePPS: 1e-12},                           // likewise, on average
		{Kind: KindBursts, RatePPS: 1e-3, On: 1, Off: 1e18},           // 31-year silences
		{Kind: KindRamp, RatePPS: 1, RampToPPS: 1e-12, Ramp: 1e9},     // ramps down to almost nothing
		{Kind: KindBursts, RatePPS: 1, On: 1, Off: math.MaxInt64 - 1}, // the longest period
	}
	for _, c := range tests {
		s := mustSchedule(t, c)
		if at := s.Next(); at != 0 {
			t.Errorf("%+v: first packet at %d, want 0", c, at)
		}
		for i := 1; i < 4; i++ {
			if at := s.Next(); at != math.MaxInt64 {
				t.Errorf("%+v: packet %d at %d, want math.MaxInt64", c, i, at)
			}
		}
	}
}

func TestScheduleDeterminism(t *testing.T) {
	seq := func(c ScheduleConfig) []int64 {
		s := mustSchedule(t, c)
		out := make([]int64, 1000)
		for i := range out {
			out[i] = s.Next()
		}
		return out
	}
	c := ScheduleConfig{Kind: KindPoisson, RatePPS: 1e6, Seed: 1}
	a, b := seq(c), seq(c)
	c.Seed = 2
	other := seq(c)
	if !equalInts(a, b) {
		t.Error("two poisson schedules with seed 1 differ")
	}
	if equalInts(a, other) {
		t.Error("poisson schedules with seeds 1 and 2 are identical")
	}
}

func equalInts[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzScheduleConfig(f *testing.F) {
	f.Add("constant", 1e6, 0.0, int64(0), int64(0), int64(0), uint64(0))
	f.Add("poisson", 14.88e6, 0.0, int64(0), int64(0), int64(0), uint64(9))
	f.Add("bursts", 1e6, 0.0, int64(0), int64(1000), int64(3000), uint64(0))
	f.Add("ramp", 1e3, 1e9, int64(1e6), int64(0), int64(0), uint64(0))
	f.Add("ramp", 1e9, 1.0, int64(1e3), int64(0), int64(0), uint64(0))
	f.Add("bursts", -1.0, 0.0, int64(0), int64(-5), int64(0), uint64(0))
	f.Add("constant", 1e-10, 0.0, int64(0), int64(0), int64(0), uint64(0))
	f.Add("bursts", 1e-3, 0.0, int64(0), int64(1), int64(1e18), uint64(0))
	f.Add("ramp", 1.0, 1e-12, int64(1e9), int64(0), int64(0), uint64(0))
	f.Fuzz(func(t *testing.T, kind string, rate, rampTo float64, rampNs, on, off int64, seed uint64) {
		c := ScheduleConfig{Kind: kind, RatePPS: rate, RampToPPS: rampTo, Ramp: time.Duration(rampNs), On: time.Duration(on), Off: time.Duration(off), Seed: seed}
		err := c.Validate()
		s, err2 := NewSchedule(c)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("Validate = %v but NewSchedule = %v", err, err2)
		}
		if err != nil {
			if !errors.Is(err, ErrConfig) || !strings.HasPrefix(err.Error(), "traffic: schedule: ") {
				t.Fatalf("Validate = %v, want a schedule ErrConfig", err)
			}
			return
		}
		prev := s.Next()
		if prev != 0 {
			t.Fatalf("first packet at %d, want 0", prev)
		}
		for range 1000 {
			at := s.Next()
			if at < prev {
				t.Fatalf("%+v: time went backwards: %d after %d", c, at, prev)
			}
			if kind == KindBursts && at != math.MaxInt64 && at%(on+off) >= on { // MaxInt64: never
				t.Fatalf("%+v: packet at %d ns is in an off window", c, at)
			}
			prev = at
		}
		if r := s.OfferedRate(prev + 1); !(r >= 0) || math.IsInf(r, 0) {
			t.Fatalf("%+v: OfferedRate(%d) = %v", c, prev+1, r)
		}
	})
}

func mustFlows(tb testing.TB, c FlowConfig) *Flows {
	tb.Helper()
	f, err := NewFlows(c, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func TestFlowConfigErrors(t *testing.T) {
	tests := []struct {
		c    FlowConfig
		want string
	}{
		{FlowConfig{Count: 0}, "flows must be 1.."},                                               // no flow
		{FlowConfig{Count: MaxFlows + 1}, "flows must be 1.."},                                    // too many
		{FlowConfig{Count: 4, Dist: "pareto"}, `flow_dist must be uniform or zipf, got "pareto"`}, // unknown distribution
		{FlowConfig{Count: 4, Dist: DistZipf}, "zipf_s must be > 1, got 0"},                       // zipf without exponent
		{FlowConfig{Count: 4, Dist: DistZipf, ZipfS: 1}, "zipf_s must be > 1, got 1"},             // exponent at the bound
		{FlowConfig{Count: 4, Dist: DistZipf, ZipfS: math.NaN()}, "zipf_s must be > 1"},           // NaN exponent
		{FlowConfig{Count: 4, ZipfS: 1.2}, "zipf_s applies only to flow_dist zipf"},               // stray exponent
		{FlowConfig{Count: 4, NonRSSPct: -1}, "non_rss_pct must be 0..100, got -1"},               // a negative share
		{FlowConfig{Count: 4, NonRSSPct: 100.5}, "non_rss_pct must be 0..100"},                    // more than all
		{FlowConfig{Count: 4, NonRSSPct: math.NaN()}, "non_rss_pct must be 0..100"},               // NaN
	}
	for _, tt := range tests {
		err := tt.c.Validate()
		if !errors.Is(err, ErrConfig) || !strings.HasPrefix(err.Error(), "traffic: flows: ") ||
			!strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v.Validate() = %v; want an ErrConfig containing %q", tt.c, err, tt.want)
		}
		if _, err := NewFlows(tt.c, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("NewFlows(%+v) = %v, want ErrConfig", tt.c, err)
		}
	}
}

func TestNewFlowsRefusesAShortKey(t *testing.T) {
	_, err := NewFlows(FlowConfig{Count: 1}, mustToeplitz(t, make([]byte, 15)))
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "rss_key of 15 bytes") {
		t.Errorf("NewFlows with a 15-byte key = %v, want an ErrConfig naming rss_key", err)
	}
	if _, err := NewFlows(FlowConfig{Count: 1}, mustToeplitz(t, make([]byte, 16))); err != nil {
		t.Errorf("NewFlows with a 16-byte key = %v, want success", err)
	}
}

func TestFlowsAreDistinctAndHashed(t *testing.T) {
	key := nicmodel.DefaultRSSKey()
	key[0] ^= 1 // a non-default key: the hashes must come from the Toeplitz given
	tz := mustToeplitz(t, key)
	f, err := NewFlows(FlowConfig{Count: 10_000, Seed: 3}, tz)
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 10_000 {
		t.Fatalf("Len() = %d, want 10000", f.Len())
	}
	seen := map[nicmodel.FlowTuple]int{}
	for i := range f.Len() {
		ft := f.Tuple(i)
		if j, dup := seen[ft]; dup {
			t.Fatalf("flows %d and %d are both %+v", j, i, ft)
		}
		seen[ft] = i
		if ft.SrcIP[0] != 10 || ft.DstIP[0] != 192 || ft.DstIP[1] != 168 || ft.SrcPort < 1024 || ft.DstPort < 1024 {
			t.Fatalf("flow %d = %+v, outside 10.0.0.0/8:1024+ -> 192.168.0.0/16:1024+", i, ft)
		}
		if f.Hash(i) != tz.HashFlow(ft) {
			t.Fatalf("flow %d: Hash = %#08x, HashFlow = %#08x", i, f.Hash(i), tz.HashFlow(ft))
		}
	}
	// The hashes spread over an indirection table's queues.
	x, _ := nicmodel.NewIndirection(128, 4)
	var perQueue [4]int
	for i := range f.Len() {
		perQueue[x.Lookup(f.Hash(i))]++
	}
	for q, n := range perQueue {
		if n < 2250 || n > 2750 {
			t.Errorf("queue %d gets %d of 10000 flows, want 2500 ± 250", q, n)
		}
	}
}

func TestFlowsUniform(t *testing.T) {
	const flows, draws = 16, 160_000
	f := mustFlows(t, FlowConfig{Count: flows, Dist: DistUniform, Seed: 5})
	var counts [flows]int
	for range draws {
		counts[f.Next()]++
	}
	for i, c := range counts {
		if c < 9_000 || c > 11_000 {
			t.Errorf("flow %d drawn %d times of %d, want 10000 ± 10%%", i, c, draws)
		}
	}
}

func TestFlowsZipf(t *testing.T) {
	const flows, draws, s = 100, 200_000, 1.5
	f := mustFlows(t, FlowConfig{Count: flows, Dist: DistZipf, ZipfS: s, Seed: 5})
	counts := make([]int, flows)
	for range draws {
		i := f.Next()
		if i < 0 || i >= flows {
			t.Fatalf("Next() = %d, out of 0..%d", i, flows-1)
		}
		counts[i]++
	}
	for i := 1; i < 8; i++ {
		if counts[i] >= counts[i-1] {
			t.Errorf("flow %d drawn %d times, flow %d %d: want decreasing frequencies", i, counts[i], i-1, counts[i-1])
		}
	}
	for i := 8; i < flows; i++ {
		if counts[i] >= counts[0] {
			t.Errorf("flow %d drawn %d times, not fewer than flow 0's %d", i, counts[i], counts[0])
		}
	}
	// P(0)/P(1) = 2^s.
	if r := float64(counts[0]) / float64(counts[1]); math.Abs(r-math.Pow(2, s))/math.Pow(2, s) > 0.1 {
		t.Errorf("flow 0 / flow 1 = %.2f, want 2^%v = %.2f ± 10%%", r, s, math.Pow(2, s))
	}
	// One flow: always flow 0.
	one := mustFlows(t, FlowConfig{Count: 1, Dist: DistZipf, ZipfS: 2})
	for range 100 {
		if i := one.Next(); i != 0 {
			t.Fatalf("one flow: Next() = %d", i)
		}
	}
}

// TestAliasTableMatchesWeights reads the probabilities back out of alias tables: each
// outcome's share of its own column plus the spill of the columns aliased to it.
func TestAliasTableMatchesWeights(t *testing.T) {
	zipf := make([]float64, 1000)
	for k := range zipf {
		zipf[k] = math.Pow(float64(k+1), -1.1)
	}
	tests := []struct {
		name string
		w    []float64
	}{
		{"zipf", zipf},                      // the flows' use
		{"one", []float64{3}},               // a single outcome
		{"uniform", []float64{1, 1, 1, 1}},  // all columns full
		{"zero", []float64{0, 5, 0, 1, 2}},  // outcomes that must never be drawn
		{"skewed", []float64{1e6, 1, 1, 1}}, // one column feeds all others
	}
	for _, tt := range tests {
		thresh, alias := newAlias(tt.w)
		n := float64(len(tt.w))
		got := make([]float64, len(tt.w))
		for i := range tt.w {
			keep := float64(thresh[i]) / (1 << 32)
			if alias[i] == int32(i) {
				keep = 1
			}
			got[i] += keep / n
			got[alias[i]] += (1 - keep) / n
		}
		var sum float64
		for _, x := range tt.w {
			sum += x
		}
		for i, x := range tt.w {
			if want := x / sum; math.Abs(got[i]-want) > 1e-9 || (x == 0 && got[i] != 0) {
				t.Errorf("%s: outcome %d has probability %.12f, want %.12f", tt.name, i, got[i], want)
			}
		}
	}
}

// TestFlowsNonRSSShare: about NonRSSPct of the draws are packets RSS cannot hash, from a
// stream of their own: the flows drawn for the other packets are the ones drawn without
// the share, in order; 0% and 100% are exact.
func TestFlowsNonRSSShare(t *testing.T) {
	const n = 100000
	plain := mustFlows(t, FlowConfig{Count: 64, Seed: 5})
	for _, pct := range []float64{0, 25, 100} {
		f := mustFlows(t, FlowConfig{Count: 64, Seed: 5, NonRSSPct: pct})
		ref := mustFlows(t, FlowConfig{Count: 64, Seed: 5})
		non := 0
		for i := 0; i < n; i++ {
			if f.NonRSS() {
				non++
				continue
			}
			if got, want := f.Next(), ref.Next(); got != want {
				t.Fatalf("non_rss_pct %v: flow draw %d is %d, %d without the share", pct, i, got, want)
			}
		}
		switch want := pct / 100 * n; {
		case pct == 0 || pct == 100:
			if float64(non) != want {
				t.Errorf("non_rss_pct %v: %d of %d non-RSS, want exactly %v", pct, non, n, want)
			}
		case math.Abs(float64(non)-want) > 5*math.Sqrt(want*(1-pct/100)): // 5 sigma
			t.Errorf("non_rss_pct %v: %d of %d non-RSS, want about %v", pct, non, n, want)
		}
	}
	if plain.NonRSS() {
		t.Error("a 0% share drew a non-RSS packet")
	}
}

func TestFlowsDeterminism(t *testing.T) {
	draw := func(c FlowConfig) ([]nicmodel.FlowTuple, []int) {
		f := mustFlows(t, c)
		tuples := make([]nicmodel.FlowTuple, f.Len())
		for i := range tuples {
			tuples[i] = f.Tuple(i)
		}
		seq := make([]int, 1000)
		for i := range seq {
			seq[i] = f.Next()
		}
		return tuples, seq
	}
	for _, dist := range []FlowConfig{
		{Count: 64, Dist: DistUniform},          // uniform draws
		{Count: 64, Dist: DistZipf, ZipfS: 1.1}, // zipf draws
	} {
		dist.Seed = 11
		t1, s1 := draw(dist)
		t2, s2 := draw(dist)
		dist.Seed = 12
		t3, s3 := draw(dist)
		if !equalInts(t1, t2) || !equalInts(s1, s2) {
			t.Errorf("%s: the same seed gave different flows or draws", dist.Dist)
		}
		if equalInts(t1, t3) || equalInts(s1, s3) {
			t.Errorf("%s: seeds 11 and 12 gave the same flows or draws", dist.Dist)
		}
	}
}

func TestSizeConfigErrors(t *testing.T) {
	tests := []struct {
		c    SizeConfig
		want string
	}{
		{SizeConfig{}, "size must be 60..9216 bytes, got 0"},               // nothing chosen
		{SizeConfig{Fixed: 59}, "size must be 60..9216 bytes, got 59"},     // runt
		{SizeConfig{Fixed: 9217}, "size must be 60..9216 bytes, got 9217"}, // beyond jumbo
		{SizeConfig{Fixed: 64, IMIX: true}, "size must be 0 with imix"},    // both
	}
	for _, tt := range tests {
		err := tt.c.Validate()
		if !errors.Is(err, ErrConfig) || !strings.HasPrefix(err.Error(), "traffic: sizes: ") ||
			!strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v.Validate() = %v; want an ErrConfig containing %q", tt.c, err, tt.want)
		}
		if _, err := NewSizes(tt.c); !errors.Is(err, ErrConfig) {
			t.Errorf("NewSizes(%+v) = %v, want ErrConfig", tt.c, err)
		}
	}
}

func TestSizesFixed(t *testing.T) {
	for _, n := range []int{MinPacketSize, 64, 1518, MaxPacketSize} {
		s, err := NewSizes(SizeConfig{Fixed: n})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if got := s.Next(); got != n {
				t.Fatalf("fixed %d: Next() = %d", n, got)
			}
		}
		if s.Mean() != float64(n) {
			t.Errorf("fixed %d: Mean() = %v", n, s.Mean())
		}
	}
}

func TestSizesIMIX(t *testing.T) {
	const draws = 120_000
	s, err := NewSizes(SizeConfig{IMIX: true, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	const want = (7*64 + 4*594 + 1518) / 12.0
	if math.Abs(s.Mean()-want) > 1e-9 {
		t.Errorf("Mean() = %v, want %v", s.Mean(), want)
	}
	counts := map[int]int{}
	var sum float64
	for range draws {
		n := s.Next()
		counts[n]++
		sum += float64(n)
	}
	if len(counts) != 3 {
		t.Errorf("sizes drawn: %v, want only 64, 594 and 1518", counts)
	}
	for size, parts := range map[int]int{64: 7, 594: 4, 1518: 1} {
		wantN := draws * parts / 12
		if c := counts[size]; math.Abs(float64(c-wantN)) > 0.05*float64(wantN) {
			t.Errorf("%d bytes drawn %d times, want %d ± 5%% (%d of 12)", size, c, wantN, parts)
		}
	}
	if m := sum / draws; math.Abs(m-want)/want > 0.01 {
		t.Errorf("sample mean %.1f bytes, want %.1f ± 1%%", m, want)
	}

	seq := func(seed uint64) []int {
		s, _ := NewSizes(SizeConfig{IMIX: true, Seed: seed})
		out := make([]int, 500)
		for i := range out {
			out[i] = s.Next()
		}
		return out
	}
	if !equalInts(seq(1), seq(1)) || equalInts(seq(1), seq(2)) {
		t.Error("IMIX sizes: want the same sequence for a seed and a different one for another seed")
	}
}

func TestTrafficDoesNotAllocate(t *testing.T) {
	const ms = time.Millisecond
	var sink int64
	gens := map[string]func(){}
	for _, c := range []ScheduleConfig{
		{Kind: KindConstant, RatePPS: 1e6},
		{Kind: KindPoisson, RatePPS: 1e6},
		{Kind: KindBursts, RatePPS: 1e6, On: ms, Off: ms},
		{Kind: KindRamp, RatePPS: 1e5, RampToPPS: 1e6, Ramp: ms},
	} {
		s := mustSchedule(t, c)
		gens["Schedule.Next "+c.Kind] = func() { sink += s.Next() }
	}
	for _, c := range []FlowConfig{
		{Count: 100, Dist: DistUniform},
		{Count: 100, Dist: DistZipf, ZipfS: 1.2},
	} {
		f := mustFlows(t, c)
		gens["Flows.Next "+c.Dist] = func() { sink += int64(f.Next()) }
	}
	for name, c := range map[string]SizeConfig{"fixed": {Fixed: 64}, "imix": {IMIX: true}} {
		s, _ := NewSizes(c)
		gens["Sizes.Next "+name] = func() { sink += int64(s.Next()) }
	}
	for name, fn := range gens {
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
			t.Errorf("%s: %v allocations per packet, want 0", name, n)
		}
	}
	_ = sink
}

// BenchmarkTrafficPacket is the generator's per-packet cost: a time, a flow with its
// hash, and a size.
func BenchmarkTrafficPacket(b *testing.B) {
	for _, kind := range []string{KindConstant, KindPoisson} {
		b.Run(kind, func(b *testing.B) {
			s := mustSchedule(b, ScheduleConfig{Kind: kind, RatePPS: 14.88e6})
			f := mustFlows(b, FlowConfig{Count: 1024, Dist: DistZipf, ZipfS: 1.1})
			z, _ := NewSizes(SizeConfig{IMIX: true})
			var sink int64
			b.ReportAllocs()
			for b.Loop() {
				i := f.Next()
				sink += s.Next() + int64(f.Hash(i)) + int64(z.Next())
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
			_ = sink
		})
	}
}

// Package traffic is the open-loop load generator (DESIGN.md §4) and its inputs: when
// each packet is meant to
// arrive (Schedule), which flow it belongs to (Flows) and how big it is (Sizes). Open loop
// means the schedule never waits for the system under test: every packet has an intended
// arrival time fixed in advance, and latency is measured from that time, not from when
// the generator got round to writing the packet. A generator that falls behind (because
// the NIC or the DPCs stalled it) therefore shows the stall as latency instead of hiding
// it by sending less: the correction for coordinated omission.
//
// Every generator is deterministic for its seed (math/rand/v2's PCG, seeded explicitly;
// no global random state), allocates only at construction, and is meant for one goroutine,
// the load generator's: none is safe for concurrent use.
package traffic

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ndisbench/ndisbench/nicmodel"
)

// ErrConfig is the errors.Is target of every traffic configuration error.
var ErrConfig = errors.New("invalid traffic configuration")

// ConfigError is a traffic configuration error, naming the scenario key at fault.
type ConfigError struct {
	Part string // "schedule", "flows" or "sizes"
	Key  string // the scenario key: "rate_pps", "zipf_s", ...
	Msg  string // what is wrong with it
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("traffic: %s: %s %s: %v", e.Part, e.Key, e.Msg, ErrConfig)
}

// Is makes every ConfigError match ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// Stream selectors mixed into every PCG's second seed word, so that one seed shared by
// the schedule, the flows and the sizes still gives three unrelated streams.
const (
	streamSchedule = 0x5ced_0001_9e37_79b9
	streamFlows    = 0xf105_0002_9e37_79b9
	streamSizes    = 0x512e_0003_9e37_79b9
	streamNonRSS   = 0x4055_0004_9e37_79b9
)

// Schedule kinds, as ScheduleConfig.Kind spells them.
const (
	KindConstant = "constant" // evenly spaced at RatePPS
	KindPoisson  = "poisson"  // exponential gaps, mean rate RatePPS
	KindBursts   = "bursts"   // RatePPS, evenly spaced, for On; silent for Off; repeat
	KindRamp     = "ramp"     // rate rising (or falling) linearly from RatePPS to RampToPPS over Ramp, then held
)

type schedKind uint8

const (
	schedConstant schedKind = iota
	schedPoisson
	schedBursts
	schedRamp
)

// ScheduleConfig describes when packets are meant to arrive. Fields that the kind does
// not use must be zero (a stray one is more likely a mistake than an intent).
type ScheduleConfig struct {
	Kind      string        // KindConstant, KindPoisson, KindBursts or KindRamp (key "schedule")
	RatePPS   float64       // packets per second; for bursts the rate while on, for ramp the start ("rate_pps")
	RampToPPS float64       // ramp only: the rate at the end of the ramp, held after it ("ramp_to_pps")
	Ramp      time.Duration // ramp only: the ramp's length ("ramp")
	On        time.Duration // bursts only: length of each burst ("burst_on")
	Off       time.Duration // bursts only: silence between bursts, may be 0 ("burst_off")
	Seed      uint64        // poisson only: the random stream (the scenario's "seed")
}

func schedErr(key, format string, args ...any) error {
	return &ConfigError{Part: "schedule", Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Validate reports the first thing wrong with c, naming the field as a YAML config
// would, e.g. "traffic: schedule: rate_pps must be > 0, got -3". The error wraps
// ErrConfig.
func (c ScheduleConfig) Validate() error {
	_, err := c.kind()
	return err
}

func (c ScheduleConfig) kind() (schedKind, error) {
	var k schedKind
	switch c.Kind {
	case KindConstant:
		k = schedConstant
	case KindPoisson:
		k = schedPoisson
	case KindBursts:
		k = schedBursts
	case KindRamp:
		k = schedRamp
	default:
		return 0, schedErr("schedule", "must be %s, %s, %s or %s, got %q", KindConstant, KindPoisson, KindBursts, KindRamp, c.Kind)
	}
	if !positiveFinite(c.RatePPS) {
		return 0, schedErr("rate_pps", "must be > 0, got %v", c.RatePPS)
	}
	if k == schedRamp {
		if !positiveFinite(c.RampToPPS) {
			return 0, schedErr("ramp_to_pps", "must be > 0, got %v", c.RampToPPS)
		}
		if c.Ramp <= 0 {
			return 0, schedErr("ramp", "must be > 0, got %v", c.Ramp)
		}
	} else {
		if c.RampToPPS != 0 {
			return 0, schedErr("ramp_to_pps", "applies only to kind %s, got %v with kind %s", KindRamp, c.RampToPPS, c.Kind)
		}
		if c.Ramp != 0 {
			return 0, schedErr("ramp", "applies only to kind %s, got %v with kind %s", KindRamp, c.Ramp, c.Kind)
		}
	}
	if k == schedBursts {
		if c.On <= 0 {
			return 0, schedErr("burst_on", "must be > 0, got %v", c.On)
		}
		if c.Off < 0 {
			return 0, schedErr("burst_off", "must be >= 0, got %v", c.Off)
		}
		if c.On > math.MaxInt64-c.Off {
			return 0, schedErr("burst_off", "must leave on + off within int64 ns, got %v + %v", c.On, c.Off)
		}
	} else {
		if c.On != 0 {
			return 0, schedErr("burst_on", "applies only to kind %s, got %v with kind %s", KindBursts, c.On, c.Kind)
		}
		if c.Off != 0 {
			return 0, schedErr("burst_off", "applies only to kind %s, got %v with kind %s", KindBursts, c.Off, c.Kind)
		}
	}
	return k, nil
}

func positiveFinite(x float64) bool { return x > 0 && !math.IsInf(x, 1) }

// Schedule produces intended arrival times, in ns from the start of the run. The first
// packet is at 0; the times never decrease; a time past math.MaxInt64 ns (292 years, as
// a very low rate gives) saturates at math.MaxInt64. It is not safe for concurrent use.
type Schedule struct {
	cfg  ScheduleConfig
	kind schedKind
	n    uint64     // packets produced so far
	last int64      // ramp: the last time returned, to keep rounding from going backwards
	at   float64    // poisson: the last arrival, ns
	gap  float64    // mean gap at RatePPS, ns
	rng  *rand.Rand // poisson only

	// constant, at a whole number of packets per second (step.rate > 0): the next time
	// as whole ns (at) plus a remainder in 1/rate ns, stepped by whole and part of the
	// gap: floor(n·1e9/rate) exactly, with an add and a compare instead of a divide.
	step struct{ at, rem, whole, part, rate int64 }

	// ramp: in ns units, rate r(t) = r0 + slope*t packets/ns for t < T, then r1.
	r0, r1, slope, rampN float64 // rampN: packets due during the ramp, (r0+r1)*T/2
}

// NewSchedule validates c and returns its schedule.
func NewSchedule(c ScheduleConfig) (*Schedule, error) {
	k, err := c.kind()
	if err != nil {
		return nil, err
	}
	s := &Schedule{cfg: c, kind: k, gap: 1e9 / c.RatePPS}
	switch k {
	case schedConstant:
		if r := c.RatePPS; r >= 1 && r <= 1<<53 && r == math.Trunc(r) {
			s.step.rate = int64(r)
			s.step.whole, s.step.part = 1e9/s.step.rate, 1e9%s.step.rate
		}
	case schedPoisson:
		s.rng = rand.New(rand.NewPCG(c.Seed, streamSchedule))
	case schedRamp:
		T := float64(c.Ramp)
		s.r0, s.r1 = c.RatePPS/1e9, c.RampToPPS/1e9
		s.slope = (s.r1 - s.r0) / T
		s.rampN = (s.r0 + s.r1) * T / 2
	}
	return s, nil
}

// Config returns the configuration the schedule was built from.
func (s *Schedule) Config() ScheduleConfig { return s.cfg }

// Next returns the intended arrival time of the next packet, ns from the start of the
// run. It does not allocate.
func (s *Schedule) Next() int64 {
	n := s.n
	s.n++
	switch s.kind {
	case schedPoisson:
		if n > 0 {
			s.at += s.rng.ExpFloat64() * s.gap
		}
		return nsFromFloat(s.at)
	case schedBursts:
		// Packet n is due at n gaps of "on" time; every full burst before it adds an off
		// period. On-time falls in [0, on) of its burst, so nothing lands in an off window.
		on, onLen := nsFromFloat(float64(n)*1e9/s.cfg.RatePPS), int64(s.cfg.On)
		bursts, period := on/onLen, onLen+int64(s.cfg.Off)
		if bursts > (math.MaxInt64-onLen)/period {
			return math.MaxInt64
		}
		return bursts*period + on%onLen
	case schedRamp:
		s.last = max(s.last, nsFromFloat(s.rampTime(float64(n))))
		return s.last
	default: // constant: floor(n·1e9/rate), never summed in floating point, so it never drifts
		if st := &s.step; st.rate > 0 {
			at := st.at
			if at > math.MaxInt64-st.whole-1 {
				return math.MaxInt64 // centuries on: the end of time
			}
			st.at += st.whole
			if st.rem += st.part; st.rem >= st.rate {
				st.rem -= st.rate
				st.at++
			}
			return at
		}
		return nsFromFloat(float64(n) * 1e9 / s.cfg.RatePPS)
	}
}

// nsFromFloat converts a time in ns to int64, saturating at math.MaxInt64: a packet
// due more than 292 years from now is never due, and the times still never decrease.
func nsFromFloat(x float64) int64 {
	if x >= math.MaxInt64 { // float64(math.MaxInt64) is 2^63
		return math.MaxInt64
	}
	return int64(x)
}

// rampTime inverts the ramp's cumulative count N(t) = r0*t + slope*t²/2 (then
// rampN + r1*(t-T)): the time by which n packets are due.
func (s *Schedule) rampTime(n float64) float64 {
	if n >= s.rampN {
		return float64(s.cfg.Ramp) + (n-s.rampN)/s.r1
	}
	if n == 0 {
		return 0
	}
	// slope/2*t² + r0*t - n = 0, in the form that does not cancel when slope is small.
	return 2 * n / (s.r0 + math.Sqrt(max(0, s.r0*s.r0+2*s.slope*n))) // max: rounding near the end of a ramp to ~0
}

// OfferedRate returns the expected packets per second over the window [0, durationNs):
// the analytic rate, not a count of what Next produced. For durationNs <= 0 it returns
// the rate at time 0.
func (s *Schedule) OfferedRate(durationNs int64) float64 {
	if durationNs <= 0 {
		return s.cfg.RatePPS
	}
	d := float64(durationNs)
	switch s.kind {
	case schedBursts:
		onLen := int64(s.cfg.On)
		period := onLen + int64(s.cfg.Off)
		onNs := durationNs/period*onLen + min(durationNs%period, onLen)
		return s.cfg.RatePPS * float64(onNs) / d
	case schedRamp:
		T := float64(s.cfg.Ramp)
		var count float64
		if d <= T {
			count = s.r0*d + s.slope*d*d/2
		} else {
			count = s.rampN + s.r1*(d-T)
		}
		return count / d * 1e9
	default:
		return s.cfg.RatePPS
	}
}

// Expected returns how many packets the schedule offers, on average, in [0, ns): the
// analytic count behind OfferedRate. 0 for ns <= 0.
func (s *Schedule) Expected(ns int64) float64 {
	if ns <= 0 {
		return 0
	}
	return s.OfferedRate(ns) * float64(ns) / 1e9
}

// Flow distributions, as FlowConfig.Dist spells them.
const (
	DistUniform = "uniform" // every flow equally likely
	DistZipf    = "zipf"    // flow k with probability proportional to (k+1)^-ZipfS: flow 0 the heaviest
)

// MaxFlows is the largest flow count NewFlows accepts.
const MaxFlows = 1 << 20

// FlowConfig describes the flows packets belong to.
type FlowConfig struct {
	Count int     // number of distinct flows, 1..MaxFlows (key "flows")
	Dist  string  // DistUniform (also for "") or DistZipf ("flow_dist")
	ZipfS float64 // zipf only: the exponent, > 1 ("zipf_s")
	// NonRSSPct is the percentage of packets, 0..100, that RSS cannot hash: not IPv4 TCP
	// or UDP (ARP, LLDP, ...), so they belong to no flow and carry no 4-tuple
	// ("non_rss_pct"). 0, the default, draws nothing for it: the flows' draws are what
	// they were without it.
	NonRSSPct float64
	Seed      uint64 // the flows' tuples and the per-packet draws (the scenario's "seed")
}

func flowErr(key, format string, args ...any) error {
	return &ConfigError{Part: "flows", Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Validate reports the first thing wrong with c, naming the field. The error wraps
// ErrConfig.
func (c FlowConfig) Validate() error {
	if c.Count < 1 || c.Count > MaxFlows {
		return flowErr("flows", "must be 1..%d, got %d", MaxFlows, c.Count)
	}
	switch c.Dist {
	case "", DistUniform:
		if c.ZipfS != 0 {
			return flowErr("zipf_s", "applies only to flow_dist %s, got %v with flow_dist %q", DistZipf, c.ZipfS, c.Dist)
		}
	case DistZipf:
		if !(c.ZipfS > 1) || math.IsInf(c.ZipfS, 1) {
			return flowErr("zipf_s", "must be > 1, got %v", c.ZipfS)
		}
	default:
		return flowErr("flow_dist", "must be %s or %s, got %q", DistUniform, DistZipf, c.Dist)
	}
	if !(c.NonRSSPct >= 0 && c.NonRSSPct <= 100) {
		return flowErr("non_rss_pct", "must be 0..100, got %v", c.NonRSSPct)
	}
	return nil
}

// Flows is a fixed set of distinct IPv4 flows with their hash inputs and RSS hashes
// precomputed, and a draw of which flow each packet belongs to. Flow tuples are random (sources in
// 10.0.0.0/8, destinations in 192.168.0.0/16, ports 1024..65535) and fixed by the seed.
// It is not safe for concurrent use.
type Flows struct {
	cfg    FlowConfig
	tuples []nicmodel.FlowTuple
	inputs [][nicmodel.FlowTupleLen]byte // tuples[i].Bytes(): what a packet of flow i carries
	hashes []uint32
	rng    *rand.Rand
	// zipf: Walker's alias table, so a draw costs two random numbers and two loads
	// whatever the flow count (math/rand/v2's Zipf costs ~60 ns a draw, most of a
	// 14.88 Mpps packet budget). nil for uniform.
	thresh []uint32 // flow i keeps the draw when a 32-bit coin is below thresh[i]
	alias  []int32  // else the draw goes to alias[i]
	// non-RSS packets: a stream of its own, so that flow draws do not depend on it; nil
	// when NonRSSPct is 0. A packet is non-RSS when a 64-bit draw is below nonRSS, or
	// always with allNonRSS (100%).
	nonRSSRng *rand.Rand
	nonRSS    uint64
	allNonRSS bool
}

// NewFlows validates c, generates c.Count distinct flows and hashes each with t (nil
// means a Toeplitz with DefaultRSSKey; a 4-tuple needs a key of at least 16 bytes).
func NewFlows(c FlowConfig, t *nicmodel.Toeplitz) (*Flows, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if t == nil {
		var err error
		if t, err = nicmodel.NewToeplitz(nicmodel.DefaultRSSKey()); err != nil {
			return nil, err
		}
	}
	if t.MaxInput() < nicmodel.FlowTupleLen {
		return nil, flowErr("rss_key", "of %d bytes cannot hash a 4-tuple: want at least %d", len(t.Key()), nicmodel.FlowTupleLen+4)
	}
	f := &Flows{
		cfg:    c,
		tuples: make([]nicmodel.FlowTuple, 0, c.Count),
		hashes: make([]uint32, 0, c.Count),
		rng:    rand.New(rand.NewPCG(c.Seed, streamFlows)),
	}
	seen := make(map[nicmodel.FlowTuple]struct{}, c.Count)
	for len(f.tuples) < c.Count {
		r := f.rng.Uint64()
		ft := nicmodel.FlowTuple{
			SrcIP:   [4]byte{10, byte(r >> 16), byte(r >> 8), byte(r)},
			DstIP:   [4]byte{192, 168, byte(r >> 32), byte(r >> 24)},
			SrcPort: uint16(1024 + f.rng.IntN(65536-1024)),
			DstPort: uint16(1024 + f.rng.IntN(65536-1024)),
		}
		if _, dup := seen[ft]; dup {
			continue
		}
		seen[ft] = struct{}{}
		f.tuples = append(f.tuples, ft)
		f.inputs = append(f.inputs, ft.Bytes())
		f.hashes = append(f.hashes, t.HashFlow(ft))
	}
	if c.NonRSSPct > 0 {
		f.nonRSSRng = rand.New(rand.NewPCG(c.Seed, streamNonRSS))
		f.allNonRSS = c.NonRSSPct >= 100
		f.nonRSS = uint64(math.Ldexp(c.NonRSSPct/100, 64)) // < 2^64 below 100%
	}
	if c.Dist == DistZipf {
		w := make([]float64, c.Count)
		for k := range w {
			w[k] = math.Pow(float64(k+1), -c.ZipfS)
		}
		f.thresh, f.alias = newAlias(w)
	}
	return f, nil
}

// NonRSS draws whether the next packet is one RSS cannot hash (FlowConfig.NonRSSPct):
// such a packet belongs to no flow, so draw Next only for one that is not. Always false,
// drawing nothing, when NonRSSPct is 0. It does not allocate.
func (f *Flows) NonRSS() bool {
	if f.nonRSSRng == nil {
		return false
	}
	return f.allNonRSS || f.nonRSSRng.Uint64() < f.nonRSS
}

// Next returns the index of the flow the next packet belongs to, drawn from the
// distribution. It does not allocate.
func (f *Flows) Next() int {
	i := f.rng.IntN(len(f.tuples))
	if f.thresh != nil && f.rng.Uint32() >= f.thresh[i] {
		i = int(f.alias[i])
	}
	return i
}

// newAlias builds Walker's alias table for weights w (Vose's construction): column i
// keeps thresh[i]/2³² of its 1/n share for outcome i and gives the rest to alias[i].
// Columns that end up full hold themselves as alias, so rounding cannot leak
// probability elsewhere.
func newAlias(w []float64) (thresh []uint32, alias []int32) {
	n := len(w)
	var sum float64
	for _, x := range w {
		sum += x
	}
	p := make([]float64, n) // scaled so that the mean column is 1
	small, large := make([]int32, 0, n), make([]int32, 0, n)
	for i, x := range w {
		p[i] = x * float64(n) / sum
		if p[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	thresh, alias = make([]uint32, n), make([]int32, n)
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		thresh[s], alias[s] = uint32(max(p[s], 0)*(1<<32)), l // 0 <= p[s] < 1 (max: rounding): fits
		p[l] -= 1 - p[s]
		if p[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, rest := range [][]int32{small, large} { // full columns, up to rounding
		for _, i := range rest {
			thresh[i], alias[i] = math.MaxUint32, i
		}
	}
	return thresh, alias
}

// Tuple returns flow i's 4-tuple.
func (f *Flows) Tuple(i int) nicmodel.FlowTuple { return f.tuples[i] }

// Input returns flow i's 4-tuple in hash input form (FlowTuple.Bytes): what its packets'
// headers hold for RSS to hash (core.NBL.Tuple).
func (f *Flows) Input(i int) [nicmodel.FlowTupleLen]byte { return f.inputs[i] }

// Hash returns flow i's RSS hash (the 4-tuple hash, NDIS_HASH_TCP_IPV4): what a NIC
// with RSS computes for its packets, precomputed, as the NIC's hashing costs the host
// nothing.
func (f *Flows) Hash(i int) uint32 { return f.hashes[i] }

// Len returns the number of flows.
func (f *Flows) Len() int { return len(f.tuples) }

// Packet sizes NewSizes accepts for a fixed size, in bytes: from a minimum Ethernet frame
// without FCS to a common jumbo frame.
const (
	MinPacketSize = 60
	MaxPacketSize = 9216
)

// The "simple IMIX" of network test equipment and the Internet Mix (IMIX) literature
// (e.g. Wikipedia, "Internet Mix"): 7 frames of 64 bytes, 4 of 594 and 1 of 1518
// (Ethernet frame sizes, FCS included), a mean of 4342/12 ≈ 361.8 bytes.
var imix = [...]struct{ size, weight int }{{64, 7}, {594, 4}, {1518, 1}}

// imixDeck lists every size as often as its weight: a uniform draw from it is an IMIX
// draw.
var imixDeck = func() (deck [12]uint16) {
	i := 0
	for _, m := range imix {
		for range m.weight {
			deck[i] = uint16(m.size)
			i++
		}
	}
	return deck
}()

// SizeConfig describes packet sizes: a fixed size, or the simple IMIX.
type SizeConfig struct {
	Fixed int    // bytes, MinPacketSize..MaxPacketSize; 0 with IMIX (key "size")
	IMIX  bool   // draw sizes from the simple IMIX 7:4:1 of 64/594/1518 bytes ("imix")
	Seed  uint64 // IMIX only: the random stream (the scenario's "seed")
}

func sizeErr(key, format string, args ...any) error {
	return &ConfigError{Part: "sizes", Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Validate reports the first thing wrong with c, naming the field. The error wraps
// ErrConfig.
func (c SizeConfig) Validate() error {
	if c.IMIX {
		if c.Fixed != 0 {
			return sizeErr("size", "must be 0 with imix, got %d", c.Fixed)
		}
		return nil
	}
	if c.Fixed < MinPacketSize || c.Fixed > MaxPacketSize {
		return sizeErr("size", "must be %d..%d bytes, got %d", MinPacketSize, MaxPacketSize, c.Fixed)
	}
	return nil
}

// Sizes produces packet sizes. It is not safe for concurrent use.
type Sizes struct {
	cfg SizeConfig
	rng *rand.Rand // IMIX only
}

// NewSizes validates c and returns its size generator.
func NewSizes(c SizeConfig) (*Sizes, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := &Sizes{cfg: c}
	if c.IMIX {
		s.rng = rand.New(rand.NewPCG(c.Seed, streamSizes))
	}
	return s, nil
}

// Next returns the size of the next packet, in bytes. It does not allocate.
func (s *Sizes) Next() int {
	if s.rng == nil {
		return s.cfg.Fixed
	}
	return int(imixDeck[s.rng.IntN(len(imixDeck))])
}

// Mean returns the expected packet size, in bytes.
func (s *Sizes) Mean() float64 {
	if s.rng == nil {
		return float64(s.cfg.Fixed)
	}
	var sum, total int
	for _, m := range imix {
		sum += m.size * m.weight
		total += m.weight
	}
	return float64(sum) / float64(total)
}

package scenario

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/trace"
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/costs"
	"github.com/ndisbench/ndisbench/nicmodel/traffic"
)

// Field is one setting of a Scenario: its key in files (and, with '-' for '_', its flag
// name), its type, its default and what it means. Fields returns the table.
type Field struct {
	Key     string // file key, e.g. "moderation_interval"
	Type    string // "integer", "duration", "one of msix, msi, line", ...
	Default string // as a file writes it; "" for an empty default
	Values  string // the values Validate accepts, in words ("" when the type says it all)
	Doc     string // one line
	// Recording says the key changes what a run records (its timeline trace), not what
	// it runs: a replay, which reruns a recorded configuration exactly, may still set it.
	Recording bool

	ops fieldOps
}

// fieldOps is what the table does with one field of a Scenario.
type fieldOps interface {
	setDefault(s *Scenario)                        // the field's table default
	fill(s *Scenario)                              // WithDefaults: the default when the value is a meaningless zero
	check(s *Scenario) error                       // Validate: the value is allowed
	decode(s *Scenario, raw json.RawMessage) error // from a file
	parse(s *Scenario, text string) error          // from a flag
	encode(s *Scenario) any                        // for a file (result.json's config)
	text(s *Scenario) string                       // for people ("mode=line")
	equal(a, b *Scenario) bool
}

// fieldOf is a field of Go type T.
type fieldOf[T any] struct {
	key  string
	k    kind[T]
	at   func(*Scenario) *T
	def  T
	zero bool           // the zero value means nothing: WithDefaults puts def there
	ok   func(T) string // "" when allowed, else what is wrong; nil: everything is
	// then, when set, runs after every write of the field: it keeps derived state (the
	// traffic seeds) in step.
	then func(*Scenario)
}

func (f fieldOf[T]) set(s *Scenario, v T) {
	*f.at(s) = v
	if f.then != nil {
		f.then(s)
	}
}

func (f fieldOf[T]) setDefault(s *Scenario) { f.set(s, f.def) }

func (f fieldOf[T]) fill(s *Scenario) {
	if f.zero && f.k.isZero(*f.at(s)) {
		f.set(s, f.def)
	}
}

func (f fieldOf[T]) decode(s *Scenario, raw json.RawMessage) error {
	v, err := f.k.fromJSON(raw)
	if err != nil {
		return err
	}
	f.set(s, v)
	return nil
}

func (f fieldOf[T]) parse(s *Scenario, text string) error {
	v, err := f.k.parse(text)
	if err != nil {
		return err
	}
	f.set(s, v)
	return nil
}

func (f fieldOf[T]) encode(s *Scenario) any    { return f.k.toJSON(*f.at(s)) }
func (f fieldOf[T]) text(s *Scenario) string   { return f.k.format(*f.at(s)) }
func (f fieldOf[T]) equal(a, b *Scenario) bool { return f.k.equal(*f.at(a), *f.at(b)) }

// check runs ok on the value, naming the key.
func (f fieldOf[T]) check(s *Scenario) error {
	if f.ok == nil {
		return nil
	}
	if p := f.ok(*f.at(s)); p != "" {
		return configErr(f.key, "%s, got %s", p, f.text(s))
	}
	return nil
}

// def builds one table row. values describes ok in words for help; zero says whether
// WithDefaults replaces the zero value with def.
func def[T any](key string, k kind[T], at func(*Scenario) *T, dflt T, zero bool, values string, ok func(T) string, doc string) Field {
	return defThen(key, k, at, dflt, zero, values, ok, doc, nil)
}

// defThen is def with a hook run after every write of the field (see fieldOf.then).
func defThen[T any](key string, k kind[T], at func(*Scenario) *T, dflt T, zero bool, values string, ok func(T) string, doc string, then func(*Scenario)) Field {
	f := fieldOf[T]{key: key, k: k, at: at, def: dflt, zero: zero, ok: ok, then: then}
	return Field{Key: key, Type: k.name, Default: k.format(dflt), Values: values, Doc: doc, ops: f}
}

// Checks, with the words help shows for them.

func between(lo, hi int) (string, func(int) string) {
	w := fmt.Sprintf("%d..%d", lo, hi)
	return w, func(v int) string {
		if v < lo || v > hi {
			return "must be " + w
		}
		return ""
	}
}

func powerOfTwo(lo, hi int) (string, func(int) string) {
	w := fmt.Sprintf("a power of two %d..%d", lo, hi)
	return w, func(v int) string {
		if v < lo || v > hi || v&(v-1) != 0 {
			return "must be " + w
		}
		return ""
	}
}

func atLeast(lo int) (string, func(int) string) {
	w := fmt.Sprintf(">= %d", lo)
	return w, func(v int) string {
		if v < lo {
			return "must be " + w
		}
		return ""
	}
}

func nonNegative() (string, func(time.Duration) string) {
	return ">= 0", func(d time.Duration) string {
		if d < 0 {
			return "must not be negative"
		}
		return ""
	}
}

func positive() (string, func(time.Duration) string) {
	return "> 0", func(d time.Duration) string {
		if d <= 0 {
			return "must be positive"
		}
		return ""
	}
}

func durationBetween(lo, hi time.Duration) (string, func(time.Duration) string) {
	w := fmt.Sprintf("%v..%v", lo, hi)
	return w, func(d time.Duration) string {
		if d < lo || d > hi {
			return "must be " + w
		}
		return ""
	}
}

func floatBetween(lo, hi float64, loOpen bool) (string, func(float64) string) {
	op := ">="
	if loOpen {
		op = ">"
	}
	w := fmt.Sprintf("%s %g and <= %g", op, lo, hi)
	return w, func(v float64) string {
		if v < lo || (loOpen && v == lo) || v > hi {
			return "must be " + w
		}
		return ""
	}
}

// known accepts the values of an enum whose String round-trips through its parser.
func known[T any](parse func(string) (T, error), format func(T) string) func(T) string {
	return func(v T) string {
		if _, err := parse(format(v)); err != nil {
			return "unknown value"
		}
		return ""
	}
}

// enumNames lists an enum's values: String of 0, 1, ... while it parses back.
func enumNames[T ~int](parse func(string) (T, error)) []string {
	var names []string
	for i := 0; ; i++ {
		n := fmt.Sprint(T(i))
		if _, err := parse(n); err != nil {
			return names
		}
		names = append(names, n)
	}
}

func enumField[T ~int](key string, parse func(string) (T, error), at func(*Scenario) *T, dflt T, doc string) Field {
	format := func(v T) string { return fmt.Sprint(v) }
	k := enumKind(enumNames(parse), parse, format)
	return def(key, k, at, dflt, false, "", known(parse, format), doc)
}

// FromProfile is a cost key's default: the value of the profile the key "costs" names,
// which Resolved puts in its place. Any other value, 0 included, is the key's own.
const FromProfile time.Duration = -1

// costDef is the row of a cost key: a non-negative duration whose default is
// FromProfile.
func costDef(key string, at func(*Scenario) *time.Duration, doc string) Field {
	ok := func(d time.Duration) string {
		if d < 0 && d != FromProfile {
			return "must not be negative"
		}
		return ""
	}
	f := def(key, durationKind, at, FromProfile, false, ">= 0", ok, doc)
	f.Default = "from costs"
	return f
}

func profileOK(name string) string {
	if _, err := costs.Lookup(name); err != nil {
		return "must be one of " + strings.Join(costs.Names(), ", ") + " (see \"bench costs\")"
	}
	return ""
}

// costFields returns s's cost fields by key, in costs.Keys order.
func costFields(s *Scenario) []*time.Duration {
	return []*time.Duration{&s.MMIORead, &s.IRQEntry, &s.IRQEOI, &s.IPISend, &s.IPIWake, &s.PerPacket, &s.RSSHash, &s.PerIndication}
}

// Defaults and limits the table defines, for the drivers that read these keys.
const (
	DefaultDriver        = "reference" // the driver a scenario runs unless it names another
	DefaultIndicateBatch = 64          // NBLs per indication (indicate_batch)
	MaxIndicateBatch     = 1 << 16
	// MaxRatePPS is the highest rate_pps: 100 Mpps, more than one generator thread can
	// write (each packet costs a clock read, a hash and a descriptor write; DESIGN.md
	// aims the generator alone at 20 Mpps). The open-loop generator never skips a
	// packet, so a run offered more than it can write lasts longer than its duration
	// by the shortfall: at 1e9 a 3 s run would take minutes.
	MaxRatePPS  = 1e8
	defaultSize = 64 // bytes per packet
	// DefaultTraceWindow and DefaultTraceEvents are the timeline trace's window and the
	// events a vCPU's buffer holds (trace_window, trace_events).
	DefaultTraceWindow = 50 * time.Millisecond
	DefaultTraceEvents = 1 << 20
	MaxTraceEvents     = 1 << 24
)

// table is the scenario schema: every field of Scenario, in the order files, help and
// result.json's config list them.
var table = func() []Field {
	vcpusW, vcpusOK := between(1, core.MaxVCPUs)
	queuesW, queuesOK := between(1, nicmodel.MaxQueues)
	ringW, ringOK := powerOfTwo(2, nicmodel.MaxRingSize)
	bufW, bufOK := between(1, nicmodel.MaxBuffers)
	nonNegW, nonNeg := nonNegative()
	posW, pos := positive()
	zeroUpW, zeroUp := atLeast(0)
	batchW, batchOK := between(1, MaxIndicateBatch)
	indW, indOK := powerOfTwo(1, nicmodel.MaxIndirectionEntries)
	rateOK := func(v float64) string { // traffic checks > 0
		if v > MaxRatePPS {
			return "must be <= 1e8 (100 Mpps, more than a generator thread can write: a rate it cannot keep stretches the run)"
		}
		return ""
	}
	noiseW, noiseOK := floatBetween(0, 1e8, false)
	traceW, traceOK := durationBetween(100*time.Microsecond, 10*time.Second)
	eventsW, eventsOK := between(1024, MaxTraceEvents)
	keyW := fmt.Sprintf("%d..%d bytes", nicmodel.MinRSSKeyLen, nicmodel.MaxRSSKeyLen)
	keyOK := func(b []byte) string {
		if len(b) < nicmodel.MinRSSKeyLen || len(b) > nicmodel.MaxRSSKeyLen {
			return "must be " + keyW
		}
		return ""
	}
	nameOK := func(s string) string {
		if s == "" || strings.ContainsAny(s, " \t\n/\\") {
			return "must be a driver's name (see \"bench list\")"
		}
		return ""
	}
	auto := func(f Field, doc string) Field { f.Default = "0 (" + doc + ")"; return f }
	recording := func(f Field) Field { f.Recording = true; return f }
	return []Field{
		def("driver", stringKind, func(s *Scenario) *string { return &s.Driver }, DefaultDriver, true, "", nameOK,
			"the miniport driver, by name (\"bench list\" lists them)"),
		enumField("mode", nicmodel.ParseMode, func(s *Scenario) *nicmodel.Mode { return &s.Mode }, nicmodel.ModeMSIX,
			"interrupt delivery: MSI-X (a message per queue), MSI (one message) or a line"),
		auto(def("vcpus", intKind, func(s *Scenario) *int { return &s.VCPUs }, 0, false, vcpusW, vcpusOK,
			"vCPUs the interrupts and DPCs run on"), "auto: the CPUs available less one for the generator, 1..4"),
		auto(def("queues", intKind, func(s *Scenario) *int { return &s.Queues }, 0, false, queuesW, queuesOK,
			"RX queues"), "auto: one per vCPU, one with rss driver"),
		def("cpus", cpuListKind, func(s *Scenario) *affinity.CPUList { return &s.CPUs }, nil, false, "", nil,
			"real CPUs for the vCPUs, then one for the generator; empty: every allowed CPU"),
		def("no_pin", boolKind, func(s *Scenario) *bool { return &s.NoPin }, false, false, "", nil,
			"do not pin vCPUs and the generator to CPUs"),
		enumField("idle", core.ParseIdleStrategy, func(s *Scenario) *core.IdleStrategy { return &s.Idle }, core.IdleSpinPark,
			"what an idle vCPU does: spin, spin then yield, or spin then park on a futex"),
		def("spin", durationKind, func(s *Scenario) *time.Duration { return &s.Spin }, core.DefaultSpin, true, posW, pos,
			"how long an idle vCPU spins before it yields or parks"),
		def("ring_size", intKind, func(s *Scenario) *int { return &s.RingSize }, nicmodel.DefaultRingSize, true, ringW, ringOK,
			"descriptors per RX queue"),
		auto(def("buffers", intKind, func(s *Scenario) *int { return &s.Buffers }, 0, false, bufW, bufOK,
			"receive buffers posted per queue; fewer than ring_size makes drops for want of buffers"), "auto: ring_size"),
		def("throttle", intKind, func(s *Scenario) *int { return &s.Throttle }, 0, false, zeroUpW+" (0: indicate all)", zeroUp,
			"most NBLs one DPC call may indicate (receive throttling, R8)"),
		def("budget", durationKind, func(s *Scenario) *time.Duration { return &s.Budget }, core.DefaultBudget, true, posW, pos,
			"DPC watchdog budget per batch and per DPC call (R9)"),
		def("moderation_interval", durationKind, func(s *Scenario) *time.Duration { return &s.ModerationInterval }, 0, false, nonNegW, nonNeg,
			"least time between two interrupts of one vector (ITR, rx-usecs); 0: off"),
		def("moderation_packets", intKind, func(s *Scenario) *int { return &s.ModerationPackets }, 0, false, zeroUpW, zeroUp,
			"packets that raise a moderated vector at once (rx-frames); 0: off"),
		enumField("rss", ParseRSSMode, func(s *Scenario) *RSSMode { return &s.RSS }, RSSNIC,
			"receive side scaling in the NIC (a queue per CPU) or in the driver's DPC (R10)"),
		def("rss_key", hexKind, func(s *Scenario) *[]byte { return &s.RSSKey }, nicmodel.DefaultRSSKey(), true, keyW, keyOK,
			"the Toeplitz hash key, in hex"),
		def("indirection_entries", intKind, func(s *Scenario) *int { return &s.IndirectionEntries }, nicmodel.DefaultIndirectionEntries, true, indW, indOK,
			"entries of the RSS indirection table"),
		enumField("fan_out", ParseFanOut, func(s *Scenario) *FanOut { return &s.FanOut }, FanOutQueueDPC,
			"how a line or MSI ISR reaches other CPUs: QueueDPC from the default DPC (NDIS 6.20+), or its target set"),
		def("indicate_batch", intKind, func(s *Scenario) *int { return &s.IndicateBatch }, DefaultIndicateBatch, true, batchW, batchOK,
			"most NBLs per indication call"),
		def("msi_sync", boolKind, func(s *Scenario) *bool { return &s.MSISync }, false, false, "", nil,
			"MSISyncWithAllMessages: serialize every message ISR (R5)"),
		def("schedule", nameKind(traffic.KindConstant, traffic.KindPoisson, traffic.KindBursts, traffic.KindRamp),
			func(s *Scenario) *string { return &s.Schedule.Kind }, traffic.KindConstant, true, "", nil,
			"arrival times: evenly spaced, Poisson, on/off bursts, or a ramp"),
		def("rate_pps", floatKind, func(s *Scenario) *float64 { return &s.Schedule.RatePPS }, 1e6, true, "> 0 and <= 1e8", rateOK,
			"offered packets per second (while on, for bursts; at the start, for a ramp)"),
		def("ramp_to_pps", floatKind, func(s *Scenario) *float64 { return &s.Schedule.RampToPPS }, 0, false, "", nil,
			"ramp only: the rate at the ramp's end, held after it"),
		def("ramp", durationKind, func(s *Scenario) *time.Duration { return &s.Schedule.Ramp }, 0, false, "", nil,
			"ramp only: the ramp's length"),
		def("burst_on", durationKind, func(s *Scenario) *time.Duration { return &s.Schedule.On }, 0, false, "", nil,
			"bursts only: the length of each burst"),
		def("burst_off", durationKind, func(s *Scenario) *time.Duration { return &s.Schedule.Off }, 0, false, "", nil,
			"bursts only: the silence between bursts"),
		def("flows", intKind, func(s *Scenario) *int { return &s.Flows.Count }, 1024, true, fmt.Sprintf("1..%d", traffic.MaxFlows), nil,
			"distinct flows (5-tuples) packets belong to"),
		def("flow_dist", nameKind(traffic.DistUniform, traffic.DistZipf), func(s *Scenario) *string { return &s.Flows.Dist }, traffic.DistUniform, true, "", nil,
			"how packets pick their flow: uniformly or Zipf (flow 0 the heaviest)"),
		def("zipf_s", floatKind, func(s *Scenario) *float64 { return &s.Flows.ZipfS }, 0, false, "> 1 with flow_dist zipf", nil,
			"zipf only: the exponent"),
		def("non_rss_pct", floatKind, func(s *Scenario) *float64 { return &s.Flows.NonRSSPct }, 0, false, ">= 0 and <= 100", nil,
			"percent of packets RSS cannot hash (not IP): NIC RSS puts them on queue 0, the DPC on the ISR's CPU indicates them"),
		def("size", intKind, func(s *Scenario) *int { return &s.Sizes.Fixed }, defaultSize, true,
			fmt.Sprintf("%d..%d (0 with imix)", traffic.MinPacketSize, traffic.MaxPacketSize), nil,
			"packet size in bytes"),
		def("imix", boolKind, func(s *Scenario) *bool { return &s.Sizes.IMIX }, false, false, "", nil,
			"draw sizes from the simple IMIX (64, 594, 1518 bytes, 7:4:1) instead of size"),
		def("costs", nameKind(costs.Names()...), func(s *Scenario) *string { return &s.Costs }, costs.Zero, true, "", profileOK,
			"the cost profile (\"bench costs\" lists them): the defaults of the cost keys below, each of which overrides it"),
		costDef(costs.MMIORead, func(s *Scenario) *time.Duration { return &s.MMIORead },
			"injected cost of the line ISR's cause-register read (a non-posted PCIe read)"),
		costDef(costs.IRQEntry, func(s *Scenario) *time.Duration { return &s.IRQEntry },
			"injected interrupt entry: spent on the vCPU before each interrupt's ISR starts (in irq_delivery)"),
		costDef(costs.IRQEOI, func(s *Scenario) *time.Duration { return &s.IRQEOI },
			"injected end of interrupt and return: spent on the vCPU after each interrupt's ISRs"),
		costDef(costs.IPISend, func(s *Scenario) *time.Duration { return &s.IPISend },
			"injected IPI, sender's share: spent on a vCPU each time it queues a DPC on another vCPU"),
		costDef(costs.IPIWake, func(s *Scenario) *time.Duration { return &s.IPIWake },
			"injected IPI, target's share: spent on the target vCPU before such a DPC starts (in isr_to_dpc_cross_cpu)"),
		costDef(costs.PerPacket, func(s *Scenario) *time.Duration { return &s.PerPacket },
			"injected DPC work per received descriptor"),
		costDef(costs.RSSHash, func(s *Scenario) *time.Duration { return &s.RSSHash },
			"injected driver-side Toeplitz hash per packet, in the DPC that sorts (rss driver only)"),
		costDef(costs.PerIndication, func(s *Scenario) *time.Duration { return &s.PerIndication },
			"injected stack work per indication call"),
		def("no_packet_hists", boolKind, func(s *Scenario) *bool { return &s.NoPacketHists }, false, false, "", nil,
			"record no histogram per packet (packet_latency, packet_service, generator_lag stay empty): what recording them costs"),
		def("noise_rate", floatKind, func(s *Scenario) *float64 { return &s.NoiseRate }, 0, false, noiseW+" interrupts/s; mode line", noiseOK,
			"a second device on the shared line raises this many interrupts per second"),
		def("duration", durationKind, func(s *Scenario) *time.Duration { return &s.Duration }, 3*time.Second, true, posW, pos,
			"measured traffic per run"),
		def("warmup", durationKind, func(s *Scenario) *time.Duration { return &s.Warmup }, 500*time.Millisecond, false, nonNegW, nonNeg,
			"traffic before the measured window: counted, not in the histograms"),
		def("drain_timeout", durationKind, func(s *Scenario) *time.Duration { return &s.DrainTimeout }, 10*time.Second, true, posW, pos,
			"how long the run waits for every packet to drain after the traffic stops"),
		defThen("seed", uintKind, func(s *Scenario) *uint64 { return &s.Seed }, 1, false, "", nil,
			"one seed for the schedule, the flows and the sizes", seedTraffic),
		recording(def("trace_window", durationKind, func(s *Scenario) *time.Duration { return &s.TraceWindow }, DefaultTraceWindow, true, traceW, traceOK,
			"with bench run -trace: how long a window of the run the timeline trace records")),
		recording(enumField("trace_at", trace.ParseAt, func(s *Scenario) *trace.At { return &s.TraceAt }, trace.AtStart,
			"with bench run -trace: where the window is: the start of the measured run, or around its longest interrupt DPC batch (batch_duration)")),
		recording(def("trace_events", intKind, func(s *Scenario) *int { return &s.TraceEvents }, DefaultTraceEvents, true, eventsW, eventsOK,
			"with bench run -trace: events each vCPU's trace buffer holds in the window; more are counted, not kept")),
	}
}()

// seedTraffic gives the schedule, the flows and the sizes the scenario's one seed.
func seedTraffic(s *Scenario) {
	s.Schedule.Seed, s.Flows.Seed, s.Sizes.Seed = s.Seed, s.Seed, s.Seed
}

// Fields returns the scenario schema: one row per field, in table order. The slice is
// the caller's.
func Fields() []Field { return append([]Field(nil), table...) }

// lookup returns the field with key (a flag's '-' read as '_').
func lookup(key string) (Field, bool) {
	key = strings.ReplaceAll(key, "-", "_")
	for _, f := range table {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// Keys returns every key, in table order.
func Keys() []string {
	keys := make([]string, len(table))
	for i, f := range table {
		keys[i] = f.Key
	}
	return keys
}

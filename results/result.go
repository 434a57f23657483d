package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results/metric"
)

// SchemaName is the value of result.json's "schema" field.
const SchemaName = "ndisbench/result"

// SchemaVersion is the version of the result.json schema this package writes, as
// "major.minor". Readers accept major version 1 with any minor version: a minor version
// only adds optional fields, a new major version changes or removes fields.
const SchemaVersion = "1.3"

// ToolName is the value of result.json's "tool" field in files ndisbench writes.
const ToolName = "ndisbench"

// schemaMajor and schemaMinor are SchemaVersion's parts.
const (
	schemaMajor = 1
	schemaMinor = 3
)

// MaxResultSize is the largest result.json, in bytes, that Read accepts.
const MaxResultSize = 256 << 20

// Sentinel errors, for errors.Is.
var (
	// ErrSchema reports a document that is not an ndisbench result (another or no schema).
	ErrSchema = errors.New("not an ndisbench result")
	// ErrVersion reports a schema version this package cannot read.
	ErrVersion = errors.New("unsupported schema version")
	// ErrInvalid reports a result that decodes but breaks the schema's rules.
	ErrInvalid = errors.New("invalid result")
	// ErrName reports a run, histogram, counter or tag name that cannot be used in file
	// names, interval-log tags or benchmark names.
	ErrName = errors.New("unusable name")
	// ErrTooLarge reports input beyond a reader's limit.
	ErrTooLarge = errors.New("input too large")
)

// Result is the content of result.json: one scenario's runs and the environment they ran
// in. SCHEMA.md documents every field.
type Result struct {
	Schema      string      `json:"schema"`      // SchemaName
	Version     string      `json:"version"`     // SchemaVersion when written by this package
	Tool        string      `json:"tool"`        // ToolName
	Scenario    string      `json:"scenario"`    // the scenario's name
	Started     time.Time   `json:"started"`     // wall-clock time the first run started
	Finished    time.Time   `json:"finished"`    // wall-clock time the last run finished
	Interrupted bool        `json:"interrupted"` // the scenario was stopped early (e.g. Ctrl-C)
	Env         Environment `json:"environment"`
	Runs        []Run       `json:"runs"`
}

// Environment describes the machine and process a result was measured on.
type Environment struct {
	GoVersion   string  `json:"go_version"`    // runtime.Version()
	GOOS        string  `json:"goos"`          // runtime.GOOS
	GOARCH      string  `json:"goarch"`        // runtime.GOARCH
	GOMAXPROCS  int     `json:"gomaxprocs"`    // runtime.GOMAXPROCS(0) during the runs
	NumCPU      int     `json:"num_cpu"`       // runtime.NumCPU(): CPUs usable by the process
	CPUModel    string  `json:"cpu_model"`     // e.g. /proc/cpuinfo "model name"; "" if unknown
	Kernel      string  `json:"kernel"`        // OS kernel release (uname -r); "" if unknown
	CPUs        string  `json:"cpus"`          // CPU list used, e.g. "0-3,6"; "" if unknown
	Pinned      bool    `json:"pinned"`        // vCPU threads were pinned to their CPUs
	ClockSource string  `json:"clock_source"`  // the kernel clock source behind the monotonic clock
	ClockCostNs float64 `json:"clock_cost_ns"` // measured cost of one timestamp read, ns
	Hostname    string  `json:"hostname"`      // os.Hostname(); "" if unknown
	// ToolVersion and Commit identify the ndisbench that wrote the result (bench
	// version): the module version or "devel", and the VCS revision it was built from,
	// "+dirty" when the tree had changes. Optional (since 1.2); "" when unknown.
	ToolVersion string `json:"tool_version,omitempty"`
	Commit      string `json:"commit,omitempty"`
}

// Run is one run of a scenario (one configuration, one repetition).
type Run struct {
	Name       string `json:"name"`       // e.g. "msix", "line", "throttle=32"
	Repetition int    `json:"repetition"` // 0-based repetition of Name
	// Attempt is the 0-based attempt at this repetition: bench run -retries runs an
	// invalid run again and keeps every attempt. Optional (since 1.2); 0 when absent.
	Attempt     int                  `json:"attempt,omitempty"`
	Config      json.RawMessage      `json:"config"`             // the resolved scenario: an object of scenario-file keys
	Platform    *Platform            `json:"platform,omitempty"` // how it ran; nil when not recorded (1.0)
	Started     time.Time            `json:"started"`            // wall-clock time measurement started (after warm-up)
	DurationNs  int64                `json:"duration_ns"`        // measured time, warm-up excluded, ns
	Interrupted bool                 `json:"interrupted"`        // the run was stopped before its planned end
	Counters    map[string]uint64    `json:"counters"`           // keyed by package metric's counter names, and others
	Rates       Rates                `json:"rates"`
	Histograms  map[string]Histogram `json:"histograms"` // keyed by package metric's histogram names, and others
	// Validity says whether the run was a measurement, and what disturbed it. Optional
	// (since 1.2); nil when not recorded, which readers take as valid.
	Validity *Validity `json:"validity,omitempty"`
	// CPU is where the vCPUs' time went and what a delivered packet cost. Optional
	// (since 1.3); nil when not recorded.
	CPU *CPU `json:"cpu,omitempty"`
	// NDR is the zero-loss throughput search of this run (bench ndr). Optional (since
	// 1.3); nil for a fixed-rate run (bench run).
	NDR *NDR `json:"ndr,omitempty"`
}

// CPU is a run's CPU accounting over its measured window (warm-up end to the driver's
// halt, after the drain), from the clock readings each vCPU takes around its work.
type CPU struct {
	WindowNs  int64      `json:"window_ns"` // the span accounted, ns
	Delivered uint64     `json:"delivered"` // packets indicated in it
	VCPUs     []VCPUTime `json:"vcpus"`     // by vCPU
	// NsPerPacket is the vCPUs' busy time (ISR + DPC, all vCPUs) per delivered packet,
	// ns; ISRNsPerPacket and DPCNsPerPacket are its two parts. 0 when none was delivered.
	NsPerPacket    float64 `json:"ns_per_packet"`
	ISRNsPerPacket float64 `json:"isr_ns_per_packet"`
	DPCNsPerPacket float64 `json:"dpc_ns_per_packet"`
}

// VCPUTime is one vCPU's time over a CPU window.
type VCPUTime struct {
	ISRNs       int64   `json:"isr_ns"`      // serving interrupts: entry to EOI, the ISRs and what they queued
	DPCNs       int64   `json:"dpc_ns"`      // in DPC calls, a cross-CPU DPC's IPI entry included
	InjectedNs  int64   `json:"injected_ns"` // of those two, injected costs spent (the cost model)
	IdleNs      int64   `json:"idle_ns"`     // the rest of the window: looking for work, spinning, parked
	Utilisation float64 `json:"utilisation"` // (isr_ns + dpc_ns) / window_ns, 0 to 1 (a little more when work straddles the window's ends)
}

// Valid reports whether the run is a measurement: its verdict says so, or it has none
// (files older than 1.2).
func (run *Run) Valid() bool { return run.Validity == nil || run.Validity.Valid }

// Validity is a run's verdict (DESIGN.md §5): whether its figures are a measurement of
// the model or of a host that stalled it, with the reasons and what was observed.
type Validity struct {
	Valid bool `json:"valid"`
	// Reasons say, in words, why the run is not valid; empty when it is.
	Reasons []string `json:"reasons,omitempty"`
	// Warnings name disturbances below the thresholds that invalidate a run.
	Warnings []string `json:"warnings,omitempty"`
	// Superseded is true for an invalid attempt that a later attempt of the same
	// repetition replaced (bench run -retries): it is kept, never used.
	Superseded   bool         `json:"superseded,omitempty"`
	Interference Interference `json:"interference"`
}

// Interference is what the host did to a run over its measured window.
type Interference struct {
	// GeneratorLagMaxNs is the most a packet's write lagged its intended time, ns.
	GeneratorLagMaxNs int64 `json:"generator_lag_max_ns"`
	// VCPUGapMaxNs is, per vCPU, the longest time between two turns of its loop, ns: how
	// long the host kept it from looking at its interrupts and DPCs.
	VCPUGapMaxNs []int64 `json:"vcpu_gap_max_ns"`
	// StealNs is CPU time the hypervisor took from the run's CPUs (/proc/stat steal);
	// -1 when unknown.
	StealNs int64 `json:"steal_ns"`
	// OtherCPUNs is CPU time that other processes used on the machine during the
	// window (/proc/stat busy time less this process's own); -1 when unknown.
	OtherCPUNs int64 `json:"other_cpu_ns"`
	// OtherCPUPct is OtherCPUNs (plus steal) as a percentage of the run's CPUs' time
	// over the window; -1 when unknown.
	OtherCPUPct float64 `json:"other_cpu_pct"`
	// Clamped counts, per histogram, the values above its ceiling that were recorded
	// as the ceiling: such a histogram's top percentiles are "at least" figures.
	Clamped map[string]uint64 `json:"clamped,omitempty"`
	// CacheLineRTTNs is the cross-CPU cache-line round trip measured before and after
	// the run, ns (0 when not measured): a host that moved the vCPUs shows here.
	CacheLineRTTNs [2]float64 `json:"cache_line_rtt_ns"`
}

// Platform is how a run's platform ran: which CPUs its vCPUs had and whether they were
// pinned there. It describes the execution, not the scenario (Run.Config): the same
// scenario replayed elsewhere may run on other CPUs.
type Platform struct {
	VCPUs      int    `json:"vcpus"`               // number of vCPUs
	CPUs       string `json:"cpus"`                // real CPUs the vCPUs were assigned, as a CPU list ("0-3,6")
	Pinned     bool   `json:"pinned"`              // every vCPU was pinned to its CPU
	PinError   string `json:"pin_error,omitempty"` // why pinning failed, when it did
	GOMAXPROCS int    `json:"gomaxprocs"`          // GOMAXPROCS when the vCPUs started
	Idle       string `json:"idle"`                // the vCPUs' idle strategy, e.g. "spin-park"
	// IdleFallback says how Idle ran differently on this OS than on Linux, where it is
	// measured (no futex to park on, no sched_yield). Optional (since 1.2); "" when none.
	IdleFallback string `json:"idle_fallback,omitempty"`
	// Oversubscribed is true when the vCPUs shared real CPUs, or a spinning vCPU had no P of
	// its own: the figures are then correct but not those of dedicated CPUs.
	Oversubscribed bool `json:"oversubscribed"`
	GeneratorCPU   int  `json:"generator_cpu"` // CPU the generator was pinned to; -1 when it was not pinned
}

// Rates are a run's packet rates and how far its open-loop generator fell behind, over
// the measured window. Package metric describes each (metric.OfKind(metric.Rate)).
type Rates struct {
	OfferedPPS   float64 `json:"offered_pps"`        // packets per second the schedule asked for
	GeneratedPPS float64 `json:"generated_pps"`      // packets per second written to the RX rings or dropped there
	AchievedPPS  float64 `json:"achieved_pps"`       // packets per second delivered (not dropped)
	DropPct      float64 `json:"drop_pct,omitempty"` // percentage of the measured packets dropped, 0 to 100
	BehindMaxNs  int64   `json:"behind_max_ns"`      // largest lag of a packet's write behind its intended time, ns
}

// Histogram is one histogram of a run: summary figures for tables plus the full
// HdrHistogram, so that nothing is lost for later comparisons and plots. Values are in
// Unit; percentiles are HdrHistogram's (the highest value equivalent to the one at the rank).
type Histogram struct {
	Unit    string  `json:"unit"`    // metric.Nanoseconds, metric.NBLs, ...
	Count   int64   `json:"count"`   // values recorded
	Min     int64   `json:"min"`     // 0 when Count is 0, as every figure below
	P50     int64   `json:"p50"`     // 50th percentile
	P90     int64   `json:"p90"`     // 90th percentile
	P99     int64   `json:"p99"`     // 99th percentile
	P999    int64   `json:"p99_9"`   // 99.9th percentile
	P9999   int64   `json:"p99_99"`  // 99.99th percentile
	Max     int64   `json:"max"`     // highest recorded value (to the histogram's precision)
	Mean    float64 `json:"mean"`    // arithmetic mean
	Encoded string  `json:"encoded"` // base64 of the HdrHistogram V2 compressed encoding
}

// New returns an empty result for scenario, stamped with this package's schema, version
// and tool name.
func New(scenario string, env Environment) *Result {
	return &Result{Schema: SchemaName, Version: SchemaVersion, Tool: ToolName, Scenario: scenario, Env: env}
}

// Summarize returns h's summary figures and full encoding, in unit. It does not modify h.
func Summarize(h *hdrhistogram.Histogram, unit string) (Histogram, error) {
	if h == nil {
		return Histogram{}, errors.New("results: summarize: nil histogram")
	}
	if unit == "" {
		return Histogram{}, errors.New("results: summarize: empty unit")
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return Histogram{}, fmt.Errorf("results: summarize: encode: %w", err)
	}
	s := Histogram{Unit: unit, Encoded: string(enc)}
	if s.Count = h.TotalCount(); s.Count == 0 {
		return s, nil
	}
	p := h.ValueAtPercentilesSlice([]float64{50, 90, 99, 99.9, 99.99})
	s.Min, s.P50, s.P90, s.P99, s.P999, s.P9999, s.Max = h.Min(), p[0], p[1], p[2], p[3], p[4], h.Max()
	s.Mean = h.Mean()
	return s, nil
}

// Decode returns the full histogram that h encodes. It fails when Encoded does not
// decode or holds a different number of values than Count.
func (h Histogram) Decode() (*hdrhistogram.Histogram, error) {
	if h.Encoded == "" {
		return nil, fmt.Errorf("results: decode histogram: no encoding: %w", ErrInvalid)
	}
	d, err := hdrhistogram.Decode([]byte(h.Encoded))
	if err != nil {
		return nil, fmt.Errorf("results: decode histogram: %w", err)
	}
	if d.TotalCount() != h.Count {
		return nil, fmt.Errorf("results: decode histogram: encoding holds %d values, count says %d: %w",
			d.TotalCount(), h.Count, ErrInvalid)
	}
	return d, nil
}

var _ io.WriterTo = (*Result)(nil)

// WriteTo writes r as indented JSON followed by a newline. It validates r first and writes
// nothing when r is invalid, so that everything it writes, Read accepts.
func (r *Result) WriteTo(w io.Writer) (int64, error) {
	if err := r.validate(); err != nil {
		return 0, fmt.Errorf("results: write result: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return 0, fmt.Errorf("results: write result: %w", err)
	}
	n, err := w.Write(buf.Bytes())
	if err != nil {
		return int64(n), fmt.Errorf("results: write result: %w", err)
	}
	return int64(n), nil
}

// Validate reports whether r follows the schema's rules (SCHEMA.md): its schema name and
// major version, non-empty names usable in file names, unique (name, repetition) pairs,
// non-negative durations and rates, a drop_pct of at most 100, platform figures in range,
// and histograms whose percentiles do not decrease and whose encoding decodes to Count values. Errors wrap ErrSchema, ErrVersion, ErrInvalid or
// ErrName.
func (r *Result) Validate() error {
	if err := r.validate(); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

func (r *Result) validate() error {
	if r == nil {
		return fmt.Errorf("nil result: %w", ErrInvalid)
	}
	if r.Schema != SchemaName {
		return fmt.Errorf("schema %q, want %q: %w", r.Schema, SchemaName, ErrSchema)
	}
	if _, err := checkVersion(r.Version); err != nil {
		return err
	}
	if r.Tool == "" {
		return fmt.Errorf("no tool name: %w", ErrInvalid)
	}
	if r.Scenario == "" {
		return fmt.Errorf("no scenario name: %w", ErrInvalid)
	}
	if r.Started.IsZero() || r.Finished.IsZero() {
		return fmt.Errorf("start or finish time missing: %w", ErrInvalid)
	}
	if r.Finished.Before(r.Started) {
		return fmt.Errorf("finished %s before it started %s: %w",
			r.Finished.Format(time.RFC3339Nano), r.Started.Format(time.RFC3339Nano), ErrInvalid)
	}
	if err := r.Env.validate(); err != nil {
		return fmt.Errorf("environment: %w", err)
	}
	seen := make(map[runKey]bool, len(r.Runs))
	for i := range r.Runs {
		run := &r.Runs[i]
		if err := run.validate(); err != nil {
			return fmt.Errorf("run %d (%q repetition %d): %w", i, run.Name, run.Repetition, err)
		}
		k := runKey{run.Name, run.Repetition, run.Attempt}
		if seen[k] {
			return fmt.Errorf("run %d: %q repetition %d attempt %d appears twice: %w", i, run.Name, run.Repetition, run.Attempt, ErrInvalid)
		}
		seen[k] = true
	}
	return nil
}

type runKey struct {
	name         string
	rep, attempt int
}

func (e *Environment) validate() error {
	if e.GOMAXPROCS < 0 || e.NumCPU < 0 {
		return fmt.Errorf("negative gomaxprocs %d or num_cpu %d: %w", e.GOMAXPROCS, e.NumCPU, ErrInvalid)
	}
	if !finiteNonNeg(e.ClockCostNs) {
		return fmt.Errorf("clock_cost_ns %v: %w", e.ClockCostNs, ErrInvalid)
	}
	return nil
}

func (run *Run) validate() error {
	if err := CheckName("run", run.Name); err != nil {
		return err
	}
	if run.Repetition < 0 || run.Attempt < 0 {
		return fmt.Errorf("negative repetition or attempt: %w", ErrInvalid)
	}
	if v := run.Validity; v != nil {
		if v.Valid != (len(v.Reasons) == 0) {
			return fmt.Errorf("validity: valid %v with %d reasons: %w", v.Valid, len(v.Reasons), ErrInvalid)
		}
		if v.Superseded && v.Valid {
			return fmt.Errorf("validity: a valid run marked superseded: %w", ErrInvalid)
		}
		for name := range v.Interference.Clamped {
			if err := CheckName("histogram", name); err != nil {
				return fmt.Errorf("validity: clamped: %w", err)
			}
		}
	}
	if run.Config != nil && !json.Valid(run.Config) {
		return fmt.Errorf("config is not valid JSON: %w", ErrInvalid)
	}
	if run.Started.IsZero() {
		return fmt.Errorf("no start time: %w", ErrInvalid)
	}
	if run.DurationNs < 0 {
		return fmt.Errorf("negative duration_ns %d: %w", run.DurationNs, ErrInvalid)
	}
	for name := range run.Counters {
		if err := CheckName("counter", name); err != nil {
			return err
		}
	}
	if p := run.Platform; p != nil && (p.VCPUs < 0 || p.GOMAXPROCS < 0 || p.GeneratorCPU < -1) {
		return fmt.Errorf("platform: vcpus %d, gomaxprocs %d or generator_cpu %d out of range: %w",
			p.VCPUs, p.GOMAXPROCS, p.GeneratorCPU, ErrInvalid)
	}
	rt := run.Rates
	if !finiteNonNeg(rt.OfferedPPS) || !finiteNonNeg(rt.GeneratedPPS) || !finiteNonNeg(rt.AchievedPPS) || rt.BehindMaxNs < 0 {
		return fmt.Errorf("rates %+v: negative or not finite: %w", rt, ErrInvalid)
	}
	if !(rt.DropPct >= 0 && rt.DropPct <= 100) { // false for NaN too
		return fmt.Errorf("rates: drop_pct %v outside [0, 100]: %w", rt.DropPct, ErrInvalid)
	}
	for _, name := range sortedKeys(run.Histograms) {
		if err := CheckName("histogram", name); err != nil {
			return err
		}
		if err := run.Histograms[name].validate(); err != nil {
			return fmt.Errorf("histogram %q: %w", name, err)
		}
	}
	return nil
}

func (h Histogram) validate() error {
	if h.Unit == "" {
		return fmt.Errorf("no unit: %w", ErrInvalid)
	}
	if h.Count < 0 {
		return fmt.Errorf("negative count %d: %w", h.Count, ErrInvalid)
	}
	if !finiteNonNeg(h.Mean) {
		return fmt.Errorf("mean %v: %w", h.Mean, ErrInvalid)
	}
	v := [...]int64{h.Min, h.P50, h.P90, h.P99, h.P999, h.P9999, h.Max}
	if h.Count == 0 {
		if v != [len(v)]int64{} || h.Mean != 0 {
			return fmt.Errorf("empty histogram with non-zero figures: %w", ErrInvalid)
		}
	} else {
		names := [...]string{"min", "p50", "p90", "p99", "p99_9", "p99_99", "max"}
		if v[0] < 0 {
			return fmt.Errorf("negative min %d: %w", v[0], ErrInvalid)
		}
		for i := 1; i < len(v); i++ {
			if v[i] < v[i-1] {
				return fmt.Errorf("%s %d below %s %d: %w", names[i], v[i], names[i-1], v[i-1], ErrInvalid)
			}
		}
	}
	if h.Encoded == "" {
		return fmt.Errorf("no encoding: %w", ErrInvalid)
	}
	d, err := hdrhistogram.Decode([]byte(h.Encoded))
	if err != nil {
		return fmt.Errorf("encoding does not decode: %v: %w", err, ErrInvalid)
	}
	if d.TotalCount() != h.Count {
		return fmt.Errorf("encoding holds %d values, count says %d: %w", d.TotalCount(), h.Count, ErrInvalid)
	}
	return nil
}

func finiteNonNeg(f float64) bool { return f >= 0 && !math.IsInf(f, 1) } // false for NaN too

// maxNameLen bounds names so that file names built from them stay portable.
const maxNameLen = 100

// CheckName reports whether name can be used as (part of) a file name, an interval-log
// tag and a benchmark-name part: 1 to 100 bytes of ASCII letters, digits and "._=+-",
// not starting with '.'. what names the kind of name in the error ("run", "histogram");
// the error wraps ErrName. Every run, histogram and counter name a result holds follows
// this rule, and so do the run names of scenario files, which become result names.
func CheckName(what, name string) error {
	if name == "" || len(name) > maxNameLen || name[0] == '.' {
		return fmt.Errorf("%s name %q: empty, too long or starting with '.': %w", what, name, ErrName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.' || c == '_' || c == '=' || c == '+' || c == '-':
		default:
			return fmt.Errorf("%s name %q: byte %q not allowed (letters, digits and \"._=+-\" are): %w", what, name, c, ErrName)
		}
	}
	return nil
}

// checkVersion parses a "major.minor" version and refuses majors other than ours.
func checkVersion(v string) (minor int, err error) {
	majorS, minorS, ok := strings.Cut(v, ".")
	major, err1 := parseVersionPart(majorS)
	minor, err2 := parseVersionPart(minorS)
	if !ok || err1 != nil || err2 != nil {
		return 0, fmt.Errorf("version %q is not \"major.minor\": %w", v, ErrVersion)
	}
	if major != schemaMajor {
		return 0, fmt.Errorf("version %q: major version %d is not supported (this reader reads %d.x): %w",
			v, major, schemaMajor, ErrVersion)
	}
	return minor, nil
}

func parseVersionPart(s string) (int, error) {
	if s == "" || len(s) > 6 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("not a version number")
	}
	return strconv.Atoi(s)
}

// Value returns the rate called name (one of metric.OfKind(metric.Rate)) as a float64;
// false for another name. It is the one map from the registry's rate names to Rates'
// fields.
func (r Rates) Value(name string) (float64, bool) {
	switch name {
	case metric.OfferedPPS:
		return r.OfferedPPS, true
	case metric.GeneratedPPS:
		return r.GeneratedPPS, true
	case metric.AchievedPPS:
		return r.AchievedPPS, true
	case metric.DropPct:
		return r.DropPct, true
	case metric.BehindMaxNs:
		return float64(r.BehindMaxNs), true
	}
	return 0, false
}

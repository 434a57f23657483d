// Package scenario says what one ndisbench run is: the driver, the NIC, the platform,
// the miniport's choices, the traffic and the timeline, as a Scenario. One table of
// fields (Fields) gives every setting its file key, type, default, allowed values and
// meaning; it drives everything else: decoding scenario files (JSON or YAML), the
// config written into result.json (itself a scenario, so a run can be replayed
// exactly), Default, WithDefaults, Validate, and the key list of "bench help run".
//
// The package does not run anything (package nicmodel/harness does), and it does not
// know which drivers exist: "driver" is a name the harness looks up.
package scenario

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/trace"
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/costs"
	"github.com/ndisbench/ndisbench/nicmodel/traffic"
)

// Scenario is one end-to-end run. Each field is one key of the table (Fields); its
// comment names the key. Start from Default (what files and the CLI start from), or
// from a literal: WithDefaults then fills the fields whose zero value means nothing
// (sizes, durations that must be positive) and resolves the automatic ones (vcpus,
// queues, buffers); a zero warmup, seed or throttle stays zero.
type Scenario struct {
	Driver string            // the miniport, by registered name ("driver")
	Mode   nicmodel.Mode     // interrupt delivery ("mode")
	VCPUs  int               // vCPUs; 0: automatic ("vcpus")
	Queues int               // RX queues; 0: automatic ("queues")
	CPUs   affinity.CPUList  // real CPUs for the vCPUs, then the generator; empty: the allowed set ("cpus")
	NoPin  bool              // do not pin ("no_pin")
	Idle   core.IdleStrategy // what an idle vCPU does ("idle")
	Spin   time.Duration     // vCPU spin before yield/park ("spin")

	RingSize           int           // descriptors per queue ("ring_size")
	Buffers            int           // receive buffers per queue; 0: ring_size ("buffers")
	Throttle           int           // most NBLs per DPC call (R8); 0: indicate all ("throttle")
	Budget             time.Duration // DPC watchdog budget (R9) ("budget")
	ModerationInterval time.Duration // least time between interrupts of a vector; 0: off ("moderation_interval")
	ModerationPackets  int           // packets that raise a moderated vector at once; 0: off ("moderation_packets")

	RSS                RSSMode // who spreads flows over CPUs (R10) ("rss")
	RSSKey             []byte  // Toeplitz key ("rss_key")
	IndirectionEntries int     // indirection table size ("indirection_entries")
	FanOut             FanOut  // how an ISR reaches other CPUs ("fan_out")
	IndicateBatch      int     // NBLs per indication ("indicate_batch")
	MSISync            bool    // MSISyncWithAllMessages (R5) ("msi_sync")

	Schedule traffic.ScheduleConfig // arrival times ("schedule", "rate_pps", "ramp_to_pps", "ramp", "burst_on", "burst_off"); Seed is Scenario.Seed
	Flows    traffic.FlowConfig     // flows ("flows", "flow_dist", "zipf_s", "non_rss_pct"); Seed is Scenario.Seed
	Sizes    traffic.SizeConfig     // sizes ("size", "imix"); Seed is Scenario.Seed

	// The injected costs (package costs, DESIGN.md §8): Costs names the profile whose
	// values the keys below start from (FromProfile until Resolved); each key overrides it.
	Costs         string        // cost profile ("costs")
	MMIORead      time.Duration // line ISR's cause-register read ("mmio_read")
	IRQEntry      time.Duration // interrupt entry before an ISR ("irq_entry")
	IRQEOI        time.Duration // end of interrupt after the ISRs ("irq_eoi")
	IPISend       time.Duration // a DPC queued on another vCPU: the sender's IPI ("ipi_send")
	IPIWake       time.Duration // and the target's, before that DPC starts ("ipi_wake")
	PerPacket     time.Duration // DPC work per descriptor ("per_packet")
	RSSHash       time.Duration // driver-side RSS hash per packet ("rss_hash")
	PerIndication time.Duration // stack work per indication ("per_indication")
	// NoPacketHists turns off the histograms recorded for every packet (packet_latency,
	// packet_service, generator_lag), so that a run measures their cost ("no_packet_hists").
	NoPacketHists bool
	NoiseRate     float64 // line only: interrupts per second of a second device on the line ("noise_rate")

	Duration     time.Duration // measured traffic ("duration")
	Warmup       time.Duration // traffic before it, not in the histograms ("warmup")
	DrainTimeout time.Duration // how long draining may take after the traffic ("drain_timeout")
	Seed         uint64        // one seed for schedule, flows and sizes ("seed")

	// The timeline trace (bench run -trace): how long its window is, where, and how many
	// events a vCPU's buffer holds. They change what a trace records, not the run.
	TraceWindow time.Duration // ("trace_window")
	TraceAt     trace.At      // ("trace_at")
	TraceEvents int           // ("trace_events")
}

// ErrConfig is the errors.Is target of every scenario error: a bad value, a bad file.
var ErrConfig = errors.New("invalid scenario")

// KeyError is a value Validate refuses, naming its key.
type KeyError struct {
	Key string // the field's key, e.g. "rate_pps"
	Msg string // what is wrong, with the value
}

func (e *KeyError) Error() string { return "scenario: " + e.Key + ": " + e.Msg }

// Is makes every KeyError match ErrConfig.
func (e *KeyError) Is(target error) bool { return target == ErrConfig }

func configErr(key, format string, args ...any) error {
	return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// ErrKeys returns the keys that err (Validate's) names, in order, once each.
func ErrKeys(err error) []string {
	var keys []string
	var walk func(error)
	walk = func(err error) {
		var ke *KeyError
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		} else if errors.As(err, &ke) && !slices.Contains(keys, ke.Key) {
			keys = append(keys, ke.Key)
		}
	}
	if err != nil {
		walk(err)
	}
	return keys
}

// Default returns the scenario every file, flag and replay starts from: every field at
// its table default (Fields). The automatic fields (vcpus, queues, buffers) are 0 until
// WithDefaults resolves them.
func Default() Scenario {
	var s Scenario
	for _, f := range table {
		f.ops.setDefault(&s)
	}
	return s
}

// WithDefaults returns s with the fields whose zero value means nothing replaced by
// their defaults, then Resolved: for a Scenario literal, where an unset field is zero.
// Files and flags start from Default instead, so that an explicit zero (a rate of 0)
// stays what it is and Validate refuses it.
func (s Scenario) WithDefaults() Scenario {
	for _, f := range table {
		f.ops.fill(&s)
	}
	return s.Resolved()
}

// Resolved returns s with the automatic fields worked out and the traffic seeds filled
// in. Automatic: vcpus 0 is one less than the CPUs available (cpus, else the allowed
// set), at least 1 and at most 4; queues 0 is one per vCPU (one with rss driver);
// buffers 0 is ring_size; size is 0 with imix; a cost key left at FromProfile takes the
// value of the profile costs names.
func (s Scenario) Resolved() Scenario {
	if s.VCPUs == 0 {
		n := len(s.CPUs)
		if n == 0 {
			if allowed, err := affinity.Allowed(); err == nil {
				n = len(allowed)
			}
		}
		s.VCPUs = max(1, min(4, n-1))
	}
	if s.Queues == 0 {
		s.Queues = s.VCPUs
		if s.RSS == RSSDriver {
			s.Queues = 1
		}
	}
	if s.Buffers == 0 {
		s.Buffers = s.RingSize
	}
	if s.Sizes.IMIX {
		s.Sizes.Fixed = 0
	}
	if p, err := costs.Lookup(s.Costs); err == nil { // else Validate names the key
		for i, at := range costFields(&s) {
			if *at == FromProfile {
				*at = p.Cost(costs.Keys()[i])
			}
		}
	}
	seedTraffic(&s)
	return s
}

// Validate checks a scenario (defaults filled in) and returns every bad field, each
// error naming its key; errors.Is(err, ErrConfig) holds.
func (s Scenario) Validate() error {
	var errs []error
	for _, f := range table {
		if err := f.ops.check(&s); err != nil {
			errs = append(errs, err)
		}
	}
	bad := func(key, format string, args ...any) { errs = append(errs, configErr(key, format, args...)) }
	if s.RSS == RSSDriver && s.Queues != 1 {
		bad("queues", "driver-side RSS sorts one queue's packets; want 1, got %d", s.Queues)
	}
	if s.IndirectionEntries > 0 && s.spread() > s.IndirectionEntries {
		bad("indirection_entries", "%d entries cannot spread over %d queues/CPUs", s.IndirectionEntries, s.spread())
	}
	if s.NoiseRate > 0 && s.Mode != nicmodel.ModeLine {
		bad("noise_rate", "a noisy device shares a line: needs mode line, got %v", s.Mode)
	}
	for _, err := range []error{s.Schedule.Validate(), s.Flows.Validate(), s.Sizes.Validate()} {
		var te *traffic.ConfigError
		if errors.As(err, &te) {
			errs = append(errs, configErr(te.Key, "%s", te.Msg))
		}
	}
	return errors.Join(errs...)
}

// spread is how many entries the indirection table must at least have: one per queue
// (NIC RSS) or per vCPU (driver RSS).
func (s Scenario) spread() int {
	if s.RSS == RSSDriver {
		return s.VCPUs
	}
	return s.Queues
}

// FanOut is how a line or MSI ISR puts DPCs on the CPUs of queues it does not own.
type FanOut int

const (
	// FanOutQueueDPC queues only the default DPC; it queues the others with QueueDPC
	// (NdisMQueueDpcEx), as NDIS 6.20 and later drivers are told to (MINIPORT_ISR's
	// TargetProcessors). The default, and the zero value.
	FanOutQueueDPC FanOut = iota
	// FanOutTargets returns every CPU with work, the ISR's own included, in the ISR's
	// target set (TargetProcessors), the NDIS 6.0 way.
	FanOutTargets
)

var fanOutNames = []string{FanOutTargets: "targets", FanOutQueueDPC: "queue-dpc"}

func (f FanOut) String() string {
	if f >= 0 && int(f) < len(fanOutNames) {
		return fanOutNames[f]
	}
	return fmt.Sprintf("FanOut(%d)", int(f))
}

// ParseFanOut parses "targets" or "queue-dpc".
func ParseFanOut(s string) (FanOut, error) {
	for f, n := range fanOutNames {
		if n == s {
			return FanOut(f), nil
		}
	}
	return 0, fmt.Errorf("scenario: fan_out: %q is not targets or queue-dpc", s)
}

// RSSMode says who spreads flows over CPUs (R10).
type RSSMode int

const (
	// RSSNIC: the NIC hashes each packet and its indirection table picks the queue; each
	// queue belongs to one CPU.
	RSSNIC RSSMode = iota
	// RSSDriver: the NIC has one queue; its DPC hashes, looks the CPU up in the
	// indirection table, and hands packets to DPCs it queues on those CPUs.
	RSSDriver
)

var rssNames = []string{RSSNIC: "nic", RSSDriver: "driver"}

func (m RSSMode) String() string {
	if m >= 0 && int(m) < len(rssNames) {
		return rssNames[m]
	}
	return fmt.Sprintf("RSSMode(%d)", int(m))
}

// ParseRSSMode parses "nic" or "driver".
func ParseRSSMode(s string) (RSSMode, error) {
	for m, n := range rssNames {
		if n == s {
			return RSSMode(m), nil
		}
	}
	return 0, fmt.Errorf("scenario: rss: %q is not nic or driver", s)
}

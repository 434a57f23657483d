// Package metric is ndisbench's vocabulary: every histogram, counter and rate a run
// writes, with its name, unit, which direction is better, which window it covers and what
// it means. It is the one place those facts live; core and nicmodel record under these
// names, results writes them (bench.txt's units and better= come from here), the CLI
// prints them, and results/SCHEMA.md's tables are checked against this table.
//
// The package is a leaf: it imports nothing of ndisbench's, so every layer can use it.
// It holds no mutable state: the table is reached through functions that return copies.
package metric

import "strings"

// Kind says how a metric is recorded.
type Kind uint8

// The kinds of metric.
const (
	Histogram Kind = iota + 1 // an HDR histogram of one value per event
	Counter                   // a count of events
	Rate                      // a figure derived from counters and the window (result.json's rates)
)

func (k Kind) String() string {
	switch k {
	case Histogram:
		return "histogram"
	case Counter:
		return "counter"
	case Rate:
		return "rate"
	}
	return "Kind(?)"
}

// Better says which direction of change is an improvement.
type Better int8

// Directions.
const (
	Neither Better = iota // a volume or a setting: no direction is better (e.g. dpcs, dpc_batch_size)
	Lower                 // smaller is better (latencies, drops, violations)
	Higher                // larger is better (achieved rate)
)

// String returns "lower", "higher" or "" (neither), as bench.txt's better= spells them.
func (b Better) String() string {
	switch b {
	case Lower:
		return "lower"
	case Higher:
		return "higher"
	}
	return ""
}

// Window says which part of a run a metric covers.
type Window uint8

// Windows.
const (
	// Measured is the measured window: the packets intended at or after the warm-up's
	// end. Histograms are cut at the warm-up's end (by intended time for the per-packet
	// ones) and run to the end of the drain; rates divide by the window from the
	// warm-up's end to the last write (at least the planned duration).
	Measured Window = iota + 1
	// Run is the whole run, warm-up and drain included: conservation needs every packet.
	Run
)

func (w Window) String() string {
	switch w {
	case Measured:
		return "measured"
	case Run:
		return "run"
	}
	return "Window(?)"
}

// Units.
const (
	Nanoseconds = "ns"      // durations
	NBLs        = "nbls"    // NET_BUFFER_LIST counts
	Packets     = "packets" // packet counts
	Events      = "events"  // counts of other events (interrupts, DPC calls, ...)
	Objects     = "objects" // heap objects
	PPS         = "pkts/s"  // packets per second
	Percent     = "%"       // a percentage
)

// Metric describes one histogram, counter or rate.
type Metric struct {
	Name    string // the key in result.json, the tag in .hlog, part of file and bench names
	Kind    Kind
	Unit    string // Nanoseconds, NBLs, Packets, ...
	Better  Better
	Window  Window
	Meaning string // one line
	// From and To name a histogram's two instants (DESIGN.md §3); empty for a histogram
	// of counts (dpc_batch_size) and for counters and rates.
	From, To string
}

// BenchUnit is the unit bench.txt writes m under for a counter or a rate: its name with
// '_' turned into '-' (achieved_pps → achieved-pps). Histograms write per percentile
// (see results.BenchMetrics).
func (m Metric) BenchUnit() string { return strings.ReplaceAll(m.Name, "_", "-") }

// Histogram names (DESIGN.md §3).
const (
	IRQDelivery     = "irq_delivery"
	ISRDuration     = "isr_duration"
	ISRToDPC        = "isr_to_dpc"
	ISRToDPCSameCPU = "isr_to_dpc_same_cpu"
	ISRToDPCCross   = "isr_to_dpc_cross_cpu"
	DPCDuration     = "dpc_duration"
	DPCBatchSize    = "dpc_batch_size"
	BatchDuration   = "batch_duration"
	PacketLatency   = "packet_latency"
	PacketService   = "packet_service"
	GeneratorLag    = "generator_lag"
)

// Counter names kept by the framework (core), one per vCPU, summed.
const (
	Interrupts        = "interrupts"
	ISRCalls          = "isr_calls"
	ISRsOverBudget    = "isrs_over_budget"
	NotMine           = "not_mine"
	Unclaimed         = "unclaimed"
	SelfSpurious      = "self_spurious"
	Spurious          = "spurious"
	DPCs              = "dpcs"
	Requeues          = "requeues"
	DPCsOverBudget    = "dpcs_over_budget"
	Batches           = "batches"
	BatchesOverBudget = "batches_over_budget"
	Indicated         = "indicated"
	Violations        = "violations"
	Parks             = "parks"
	CPUISRNs          = "cpu_isr_ns"
	CPUDPCNs          = "cpu_dpc_ns"
	CPUInjectedNs     = "cpu_injected_ns"
)

// Counter names kept by the NIC, the generator, the stack and the run.
const (
	Generated         = "generated"
	Written           = "written"
	Dropped           = "dropped"
	MeasuredGenerated = "measured_generated"
	MeasuredDropped   = "measured_dropped"
	MeasuredIRQs      = "measured_interrupts"
	NICInterrupts     = "nic_interrupts"
	Rearms            = "rearms"
	NoiseInterrupts   = "noise_interrupts"
	NoiseClaimed      = "noise_claimed"
	StackIndications  = "stack_indications"
	Mallocs           = "mallocs"
)

// Rate names: the fields of result.json's rates.
const (
	OfferedPPS   = "offered_pps"
	GeneratedPPS = "generated_pps"
	AchievedPPS  = "achieved_pps"
	DropPct      = "drop_pct"
	BehindMaxNs  = "behind_max_ns"
)

// table is the registry, in the order tables list it: histograms in data-flow order,
// then counters, then rates.
var table = [...]Metric{
	{Name: IRQDelivery, Kind: Histogram, Unit: Nanoseconds, Better: Lower, Window: Measured,
		Meaning: "interrupt delivery: a raised vector waits for its vCPU", From: "NIC raises the vector", To: "the ISR starts on its vCPU"},
	{Name: ISRDuration, Kind: Histogram, Unit: Nanoseconds, Better: Lower, Window: Measured,
		Meaning: "time in one ISR call", From: "ISR starts", To: "ISR returns"},
	{Name: ISRToDPC, Kind: Histogram, Unit: Nanoseconds, Better: Lower, Window: Measured,
		Meaning: "the ISR→DPC handoff, same- and cross-CPU merged", From: "an ISR (or queue-DPC) inserts the DPC", To: "that DPC starts"},
	{Name: ISRToDPCSameCPU, Kind: Histogram, Unit: Nanoseconds, Better: Lower, Window: Measured,
		Meaning: "the handoff of DPCs inserted on the CPU they run on", From: "the DPC is inserted on its own CPU", To: "that DPC starts"},
	{Name: ISRToDPCCross, Kind: Histogram, Unit: Nanoseconds, Better: Lower, Window: Measured,
		Meaning: "the handoff of DPCs inserted from another CPU (or from outside any vCPU)", From: "the DPC is inserted from another CPU", To: "that DPC starts"},
	{Name: DPCDuration, Kind: Histogram, Unit: Nanoseconds, Better: Lower, Window: Measured,
		Meaning: "time in one DPC call", From: "DPC starts", To: "DPC returns"},
	{Name: DPCBatchSize, Kind: Histogram, Unit: NBLs, Better: Neither, Window: Measured,
		Meaning: "NBLs indicated by one DPC call (capped by the receive throttle, R8)"},
	{Name: BatchDuration, Kind: Histogram, Unit: Nanoseconds, Better: Lower, Window: Measured,
		Meaning: "an interrupt DPC batch, masked to unmasked (R9)", From: "the ISR starts", To: "interrupts are re-enabled"},
	{Name: PacketLatency, Kind: Histogram, Unit: Nanoseconds, Better: Lower, Window: Measured,
		Meaning: "a packet's latency, corrected for coordinated omission; dropped packets have none", From: "the packet's intended arrival (the schedule)", To: "it is indicated up the stack"},
	{Name: PacketService, Kind: Histogram, Unit: Nanoseconds, Better: Lower, Window: Measured,
		Meaning: "a packet's service time", From: "the packet is written to its RX ring", To: "it is indicated up the stack"},
	{Name: GeneratorLag, Kind: Histogram, Unit: Nanoseconds, Better: Lower, Window: Measured,
		Meaning: "how far behind its schedule the generator wrote (or dropped) each packet", From: "the packet's intended arrival", To: "the generator writes it"},

	{Name: Generated, Kind: Counter, Unit: Packets, Better: Neither, Window: Run,
		Meaning: "packets the generator produced: written to an RX ring or dropped by the NIC"},
	{Name: Written, Kind: Counter, Unit: Packets, Better: Neither, Window: Run,
		Meaning: "descriptors the NIC wrote back to its RX rings"},
	{Name: Dropped, Kind: Counter, Unit: Packets, Better: Lower, Window: Run,
		Meaning: "packets the NIC dropped: no posted receive buffer, or no free descriptor at write-back"},
	{Name: MeasuredGenerated, Kind: Counter, Unit: Packets, Better: Neither, Window: Measured,
		Meaning: "packets the schedule offered in the measured window (intended at or after the warm-up's end), all generated"},
	{Name: MeasuredDropped, Kind: Counter, Unit: Packets, Better: Lower, Window: Measured,
		Meaning: "of those, packets the NIC dropped"},
	{Name: Indicated, Kind: Counter, Unit: NBLs, Better: Neither, Window: Run,
		Meaning: "NBLs indicated up the stack"},
	{Name: StackIndications, Kind: Counter, Unit: Events, Better: Neither, Window: Run,
		Meaning: "indication calls (NdisMIndicateReceiveNetBufferLists) the stack received"},
	{Name: NICInterrupts, Kind: Counter, Unit: Events, Better: Neither, Window: Run,
		Meaning: "interrupts the NIC raised, all vectors (a raise while one is pending coalesces)"},
	{Name: Rearms, Kind: Counter, Unit: Events, Better: Neither, Window: Run,
		Meaning: "of those, raised by an unmask because work was waiting behind the mask"},
	{Name: Interrupts, Kind: Counter, Unit: Events, Better: Neither, Window: Run,
		Meaning: "interrupt vectors delivered to a vCPU"},
	{Name: MeasuredIRQs, Kind: Counter, Unit: Events, Better: Neither, Window: Measured,
		Meaning: "of those, delivered from the warm-up's end to the driver's halt"},
	{Name: ISRCalls, Kind: Counter, Unit: Events, Better: Neither, Window: Run,
		Meaning: "ISR calls (a shared line calls one per sharer until one claims)"},
	{Name: ISRsOverBudget, Kind: Counter, Unit: Events, Better: Lower, Window: Run,
		Meaning: "ISR calls longer than 25 µs, the most an ISR should run (Bug Check 0x133, DPC watchdog guidance)"},
	{Name: NotMine, Kind: Counter, Unit: Events, Better: Neither, Window: Run,
		Meaning: "line ISR calls that returned \"not mine\" (R3)"},
	{Name: Unclaimed, Kind: Counter, Unit: Events, Better: Lower, Window: Run,
		Meaning: "line interrupts no sharer claimed while a device kept asserting the line: nobody recognised it"},
	{Name: SelfSpurious, Kind: Counter, Unit: Events, Better: Lower, Window: Run,
		Meaning: "line interrupts no sharer claimed because the device that asserted it had nothing: re-asserted for work an earlier ISR already took (self-inflicted); not in unclaimed"},
	{Name: Spurious, Kind: Counter, Unit: Events, Better: Lower, Window: Run,
		Meaning: "vectors delivered with no registered interrupt (e.g. after deregistration)"},
	{Name: DPCs, Kind: Counter, Unit: Events, Better: Neither, Window: Run,
		Meaning: "DPC calls"},
	{Name: Requeues, Kind: Counter, Unit: Events, Better: Neither, Window: Run,
		Meaning: "DPC calls repeated because the DPC set \"more pending\" (R8)"},
	{Name: DPCsOverBudget, Kind: Counter, Unit: Events, Better: Lower, Window: Run,
		Meaning: "DPC calls longer than the watchdog budget (R9)"},
	{Name: Batches, Kind: Counter, Unit: Events, Better: Neither, Window: Run,
		Meaning: "interrupt DPC batches closed (R9)"},
	{Name: BatchesOverBudget, Kind: Counter, Unit: Events, Better: Lower, Window: Run,
		Meaning: "interrupt DPC batches longer than the watchdog budget (R9)"},
	{Name: Violations, Kind: Counter, Unit: Events, Better: Lower, Window: Run,
		Meaning: "contract violations the framework saw (R3, R6, R8, R9); any fails the run"},
	{Name: Parks, Kind: Counter, Unit: Events, Better: Neither, Window: Run,
		Meaning: "times a vCPU parked on its futex (idle spin-park)"},
	{Name: CPUISRNs, Kind: Counter, Unit: Nanoseconds, Better: Lower, Window: Run,
		Meaning: "vCPU time serving interrupts, all vCPUs: interrupt entry to EOI, the ISRs and what they queued included"},
	{Name: CPUDPCNs, Kind: Counter, Unit: Nanoseconds, Better: Lower, Window: Run,
		Meaning: "vCPU time in DPC calls, all vCPUs (a cross-CPU DPC's IPI entry included)"},
	{Name: CPUInjectedNs, Kind: Counter, Unit: Nanoseconds, Better: Neither, Window: Run,
		Meaning: "of cpu_isr_ns and cpu_dpc_ns, injected costs spent (the cost model: irq_entry, irq_eoi, ipi_*, per_packet, rss_hash, mmio_read)"},
	{Name: NoiseInterrupts, Kind: Counter, Unit: Events, Better: Neither, Window: Run,
		Meaning: "interrupts the noisy second device on a shared line raised (noise_rate)"},
	{Name: NoiseClaimed, Kind: Counter, Unit: Events, Better: Neither, Window: Run,
		Meaning: "of those, claimed by the noisy device's ISR"},
	{Name: Mallocs, Kind: Counter, Unit: Objects, Better: Lower, Window: Measured,
		Meaning: "heap objects the whole process allocated in the measured window"},

	{Name: OfferedPPS, Kind: Rate, Unit: PPS, Better: Neither, Window: Measured,
		Meaning: "measured_generated / the planned window: the rate the schedule asked for"},
	{Name: GeneratedPPS, Kind: Rate, Unit: PPS, Better: Neither, Window: Measured,
		Meaning: "measured_generated / the window as run (longer when the generator fell behind)"},
	{Name: AchievedPPS, Kind: Rate, Unit: PPS, Better: Higher, Window: Measured,
		Meaning: "measured packets delivered (not dropped) / the window as run"},
	{Name: DropPct, Kind: Rate, Unit: Percent, Better: Lower, Window: Measured,
		Meaning: "measured_dropped as a percentage of measured_generated"},
	{Name: BehindMaxNs, Kind: Rate, Unit: Nanoseconds, Better: Lower, Window: Measured,
		Meaning: "the most the generator's write of a packet lagged its intended time"},
}

// All returns every metric: histograms, then counters, then rates. The slice is the
// caller's.
func All() []Metric { return append([]Metric(nil), table[:]...) }

// OfKind returns the metrics of one kind, in table order.
func OfKind(k Kind) []Metric {
	var out []Metric
	for _, m := range table {
		if m.Kind == k {
			out = append(out, m)
		}
	}
	return out
}

// Lookup returns the metric called name.
func Lookup(name string) (Metric, bool) {
	for _, m := range table {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Unit returns the unit of the metric called name, or "" when there is none.
func Unit(name string) string {
	m, _ := Lookup(name)
	return m.Unit
}

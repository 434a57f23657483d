package core

import (
	"sync/atomic"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Hist identifies one of the framework's histograms (DESIGN.md §3).
type Hist int

// The framework's histograms. Each names its two instants in HistNames' documentation.
const (
	HistIRQDelivery   Hist = iota // device raised the vector → ISR starts (ns)
	HistISRDuration               // ISR starts → ISR returns (ns)
	HistISRToDPCSame              // DPC inserted by an ISR/queue-DPC on the same vCPU → DPC starts (ns)
	HistISRToDPCCross             // DPC inserted from another vCPU (or from outside) → DPC starts (ns)
	HistDPCDuration               // DPC starts → DPC returns (ns)
	HistDPCBatchSize              // NBLs indicated by one DPC call (count)
	HistBatchDuration             // ISR starts → interrupts re-enabled (ns, R9)
	numHists
)

// HistNames are the result-file names of the histograms, indexed by Hist. isr_to_dpc is
// the merge of the same- and cross-CPU halves and is built by Metrics.
var HistNames = [numHists]string{
	HistIRQDelivery:   "irq_delivery",
	HistISRDuration:   "isr_duration",
	HistISRToDPCSame:  "isr_to_dpc_same_cpu",
	HistISRToDPCCross: "isr_to_dpc_cross_cpu",
	HistDPCDuration:   "dpc_duration",
	HistDPCBatchSize:  "dpc_batch_size",
	HistBatchDuration: "batch_duration",
}

// Counter identifies one of the framework's counters.
type Counter int

// The framework's counters.
const (
	CtrInterrupts        Counter = iota // vectors delivered to a vCPU (ISR dispatches)
	CtrISRCalls                         // ISR invocations (a shared line calls several per interrupt)
	CtrNotMine                          // line ISRs that returned "not mine" (R3)
	CtrUnclaimed                        // line interrupts no sharer claimed
	CtrSpurious                         // vectors delivered with no registered interrupt
	CtrDPCs                             // DPC calls
	CtrRequeues                         // DPC calls repeated because of "more pending" (R8)
	CtrDPCsOverBudget                   // DPC calls longer than the watchdog budget (R9)
	CtrBatches                          // interrupt DPC batches closed (R9)
	CtrBatchesOverBudget                // batches longer than the budget (R9)
	CtrIndicated                        // NBLs indicated up the stack
	CtrViolations                       // contract violations (see Platform.Violations)
	CtrParks                            // times a vCPU parked on its futex
	numCounters
)

// CounterNames are the result-file names of the counters, indexed by Counter.
var CounterNames = [numCounters]string{
	CtrInterrupts:        "interrupts",
	CtrISRCalls:          "isr_calls",
	CtrNotMine:           "not_mine",
	CtrUnclaimed:         "unclaimed",
	CtrSpurious:          "spurious",
	CtrDPCs:              "dpcs",
	CtrRequeues:          "requeues",
	CtrDPCsOverBudget:    "dpcs_over_budget",
	CtrBatches:           "batches",
	CtrBatchesOverBudget: "batches_over_budget",
	CtrIndicated:         "indicated",
	CtrViolations:        "violations",
	CtrParks:             "parks",
}

// recorder is one vCPU's private histograms and counters.
//
// Ownership: only the owning vCPU's thread records. Counters are atomics written with
// Store(Load()+1) by that one writer (no locked instruction on the hot path) so that a
// progress reader may Load them live; histograms are handed to the collector interval by
// interval (IntervalRecorder, Platform.RotateHistograms).
type recorder struct {
	IntervalRecorder
	counters [numCounters]atomic.Uint64
}

// newRecorder returns a recorder with the framework's histograms and extra more latency
// histograms (PlatformConfig.Hists).
func newRecorder(extra int) *recorder {
	r := &recorder{}
	r.init(newHistSet(extra))
	return r
}

// newHistSet returns empty histograms for every Hist, then extra latency histograms.
func newHistSet(extra int) []*hdrhistogram.Histogram {
	hs := make([]*hdrhistogram.Histogram, int(numHists)+extra)
	for i := range hs {
		if Hist(i) == HistDPCBatchSize {
			hs[i] = hdrhistogram.New(1, 1<<20, HistDigits)
			continue
		}
		hs[i] = NewLatencyHistogram()
	}
	return hs
}

// record adds one sample, clamped into the histogram's range. Owner only.
func (r *recorder) record(h Hist, v int64) { Record(r.active[h], v) }

// inc adds one to a counter. Owner only.
func (r *recorder) inc(c Counter) { r.counters[c].Store(r.counters[c].Load() + 1) }

// add adds n to a counter. Owner only.
func (r *recorder) add(c Counter, n uint64) { r.counters[c].Store(r.counters[c].Load() + n) }

// Metrics are a platform's histograms and counters merged over its vCPUs.
type Metrics struct {
	Hists    map[string]*hdrhistogram.Histogram
	Counters map[string]uint64
}

// Hist returns the merged histogram called name, or nil.
func (m *Metrics) Hist(name string) *hdrhistogram.Histogram { return m.Hists[name] }

// MergedISRToDPC is the name of the merge of the same- and cross-CPU ISR→DPC histograms,
// which Metrics and RotateHistograms add.
const MergedISRToDPC = "isr_to_dpc"

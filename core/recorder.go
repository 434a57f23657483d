package core

import (
	"math"
	"strconv"
	"sync/atomic"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/core/hist"
	"github.com/ndisbench/ndisbench/results/metric"
)

// Hist identifies one of the framework's histograms (DESIGN.md §3); package metric
// says what each measures.
type Hist int

// The framework's histograms.
const (
	HistIRQDelivery   Hist = iota // metric.IRQDelivery
	HistISRDuration               // metric.ISRDuration
	HistISRToDPCSame              // metric.ISRToDPCSameCPU
	HistISRToDPCCross             // metric.ISRToDPCCross
	HistDPCDuration               // metric.DPCDuration
	HistDPCBatchSize              // metric.DPCBatchSize
	HistBatchDuration             // metric.BatchDuration
	numHists
)

var histNames = [numHists]string{
	HistIRQDelivery:   metric.IRQDelivery,
	HistISRDuration:   metric.ISRDuration,
	HistISRToDPCSame:  metric.ISRToDPCSameCPU,
	HistISRToDPCCross: metric.ISRToDPCCross,
	HistDPCDuration:   metric.DPCDuration,
	HistDPCBatchSize:  metric.DPCBatchSize,
	HistBatchDuration: metric.BatchDuration,
}

// Name returns the histogram's result-file name. Metrics and CollectIntervals add one
// more, metric.ISRToDPC: the merge of the same- and cross-CPU halves.
func (h Hist) Name() string {
	if h >= 0 && h < numHists {
		return histNames[h]
	}
	return "Hist(" + strconv.Itoa(int(h)) + ")"
}

// Counter identifies one of the framework's counters; package metric says what each
// counts.
type Counter int

// The framework's counters.
const (
	CtrInterrupts        Counter = iota // metric.Interrupts
	CtrISRCalls                         // metric.ISRCalls
	CtrISRsOverBudget                   // metric.ISRsOverBudget
	CtrNotMine                          // metric.NotMine
	CtrUnclaimed                        // metric.Unclaimed
	CtrSelfSpurious                     // metric.SelfSpurious
	CtrSpurious                         // metric.Spurious
	CtrDPCs                             // metric.DPCs
	CtrRequeues                         // metric.Requeues
	CtrDPCsOverBudget                   // metric.DPCsOverBudget
	CtrBatches                          // metric.Batches
	CtrBatchesOverBudget                // metric.BatchesOverBudget
	CtrIndicated                        // metric.Indicated
	CtrViolations                       // metric.Violations
	CtrParks                            // metric.Parks
	CtrCPUISRNs                         // metric.CPUISRNs
	CtrCPUDPCNs                         // metric.CPUDPCNs
	CtrCPUInjectedNs                    // metric.CPUInjectedNs
	numCounters
)

var counterNames = [numCounters]string{
	CtrInterrupts:        metric.Interrupts,
	CtrISRCalls:          metric.ISRCalls,
	CtrISRsOverBudget:    metric.ISRsOverBudget,
	CtrNotMine:           metric.NotMine,
	CtrUnclaimed:         metric.Unclaimed,
	CtrSelfSpurious:      metric.SelfSpurious,
	CtrSpurious:          metric.Spurious,
	CtrDPCs:              metric.DPCs,
	CtrRequeues:          metric.Requeues,
	CtrDPCsOverBudget:    metric.DPCsOverBudget,
	CtrBatches:           metric.Batches,
	CtrBatchesOverBudget: metric.BatchesOverBudget,
	CtrIndicated:         metric.Indicated,
	CtrViolations:        metric.Violations,
	CtrParks:             metric.Parks,
	CtrCPUISRNs:          metric.CPUISRNs,
	CtrCPUDPCNs:          metric.CPUDPCNs,
	CtrCPUInjectedNs:     metric.CPUInjectedNs,
}

// Name returns the counter's result-file name.
func (c Counter) Name() string {
	if c >= 0 && c < numCounters {
		return counterNames[c]
	}
	return "Counter(" + strconv.Itoa(int(c)) + ")"
}

// recorder is one vCPU's private histograms and counters (or those of the framework's
// work outside any vCPU, under Platform.external).
//
// Ownership: only the owning vCPU's thread records (or the holder of Platform.external).
// Counters are atomics written with Store(Load()+1) by that one writer (no locked
// instruction on the hot path) so that a progress reader may Load them live. Histograms
// are a hist.Writer, cut into intervals by time: turn is the set of the piece of work in
// hand, the one its start time fell in (the loop top's Tick), so that an ISR or a DPC
// lands wholly in one interval however long it runs: even when a time it records at
// (Platform.Interval, RecordAt) cuts within it, the set stays the vCPU's to record into
// until its next Step (hist.Writer's Invariants).
type recorder struct {
	turn     *hist.Set
	w        *hist.Writer
	counters [numCounters]atomic.Uint64
}

// newRecorder returns a recorder with the framework's histograms and extra more latency
// histograms (PlatformConfig.Hists); prefault touches their memory now.
func newRecorder(extra int, prefault bool) *recorder {
	r := &recorder{w: hist.NewWriter(histLayouts(extra), prefault)}
	r.turn = r.w.Tick(math.MinInt64)
	return r
}

// histLayouts returns the layout of every Hist, then of extra latency histograms.
func histLayouts(extra int) []hist.Layout {
	ls := make([]hist.Layout, int(numHists)+extra)
	for i := range ls {
		ls[i] = hist.LatencyLayout
		if Hist(i) == HistDPCBatchSize {
			ls[i] = hist.Layout{Lowest: 1, Highest: 1 << 20, Digits: hist.Digits}
		}
	}
	return ls
}

// record adds one sample of the piece of work in hand, clamped into the histogram's
// range. Owner only.
func (r *recorder) record(h Hist, v int64) { r.turn.Record(int(h), v) }

// inc adds one to a counter. Owner only.
func (r *recorder) inc(c Counter) { r.counters[c].Store(r.counters[c].Load() + 1) }

// add adds n to a counter. Owner only.
func (r *recorder) add(c Counter, n uint64) { r.counters[c].Store(r.counters[c].Load() + n) }

// Metrics are a platform's histograms and counters merged over its vCPUs.
type Metrics struct {
	Hists    map[string]*hdrhistogram.Histogram
	Counters map[string]uint64
	// Clamped holds, for each histogram that had any, how many of its values were beyond
	// its ceiling (recorded as the ceiling).
	Clamped map[string]uint64
}

// Hist returns the merged histogram called name, or nil.
func (m *Metrics) Hist(name string) *hdrhistogram.Histogram { return m.Hists[name] }

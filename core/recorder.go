package core

import (
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

// Name returns the histogram's result-file name. Metrics and RotateHistograms add one
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
}

// Name returns the counter's result-file name.
func (c Counter) Name() string {
	if c >= 0 && c < numCounters {
		return counterNames[c]
	}
	return "Counter(" + strconv.Itoa(int(c)) + ")"
}

// recorder is one vCPU's private histograms and counters.
//
// Ownership: only the owning vCPU's thread records. Counters are atomics written with
// Store(Load()+1) by that one writer (no locked instruction on the hot path) so that a
// progress reader may Load them live; histograms are handed to the collector interval by
// interval (hist.IntervalRecorder, Platform.RotateHistograms).
type recorder struct {
	hist.IntervalRecorder
	counters [numCounters]atomic.Uint64
}

// newRecorder returns a recorder with the framework's histograms and extra more latency
// histograms (PlatformConfig.Hists).
func newRecorder(extra int) *recorder {
	r := &recorder{}
	r.Init(newHistSet(extra))
	return r
}

// newHistSet returns empty histograms for every Hist, then extra latency histograms.
func newHistSet(extra int) []*hdrhistogram.Histogram {
	hs := make([]*hdrhistogram.Histogram, int(numHists)+extra)
	for i := range hs {
		if Hist(i) == HistDPCBatchSize {
			hs[i] = hdrhistogram.New(1, 1<<20, hist.Digits)
			continue
		}
		hs[i] = hist.NewLatency()
	}
	return hs
}

// record adds one sample, clamped into the histogram's range. Owner only.
func (r *recorder) record(h Hist, v int64) { r.Record(int(h), v) }

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

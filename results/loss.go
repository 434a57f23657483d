package results

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results/metric"
)

// Loss-aware latency.
//
// A dropped packet has no latency, so packet_latency holds the delivered packets only:
// a run that dropped 73% of its packets can show a p50 of a few hundred nanoseconds, the
// p50 of the lucky 27%. LossAware counts every dropped packet as worse than any delivered
// one, the way a user of the link sees it (a drop is a retransmission at best). Of the
// N = delivered + dropped measured packets, percentile p is then "lost" when more than
// (100−p)% of them were dropped; otherwise it is the delivered packet at p's rank among
// the N (HdrHistogram's rank: p/100·N rounded, at least 1). With no drops every
// percentile is HdrHistogram's own (Histogram.P50, ...).

// LossAware is a latency distribution whose dropped packets count as worse than any
// delivered one. The zero value is empty.
type LossAware struct {
	h         *hdrhistogram.Histogram // the delivered packets' latencies; nil when none
	Delivered int64                   // packets with a latency: the histogram's count
	Dropped   int64                   // packets dropped, in the same window
}

// NewLossAware returns h's distribution with dropped more packets beyond its top. h
// holds the delivered packets' latencies (nil for none); it is read, not kept beyond
// the LossAware's use, and must not change while the LossAware is used.
func NewLossAware(h *hdrhistogram.Histogram, dropped int64) LossAware {
	l := LossAware{h: h, Dropped: max(dropped, 0)}
	if h != nil {
		l.Delivered = h.TotalCount()
	}
	return l
}

// PacketLatencyLossAware returns run's packet latency, loss-aware: its packet_latency
// histogram (metric.PacketLatency) with the packets its measured window dropped
// (metric.MeasuredDropped). Both cover the measured window: the packets intended at or
// after the warm-up's end. A run whose config turned the per-packet histograms off
// (no_packet_hists) gives an empty LossAware. A run without a packet_latency histogram
// is an error.
func (run *Run) PacketLatencyLossAware() (LossAware, error) {
	hs, ok := run.Histograms[metric.PacketLatency]
	if !ok {
		return LossAware{}, fmt.Errorf("results: run %s: no %s histogram", run.Name, metric.PacketLatency)
	}
	h, err := hs.Decode()
	if err != nil {
		return LossAware{}, fmt.Errorf("results: run %s: %s: %w", run.Name, metric.PacketLatency, err)
	}
	if run.packetHistsOff() {
		return LossAware{}, nil // no latency was recorded: unknown, not "lost"
	}
	return NewLossAware(h, int64(min(run.Counters[metric.MeasuredDropped], math.MaxInt64))), nil
}

// packetHistsOff reports whether run's config turned the per-packet histograms off
// (the scenario key no_packet_hists): its packet_latency is empty however many packets
// it delivered.
func (run *Run) packetHistsOff() bool {
	var c struct {
		Off bool `json:"no_packet_hists"`
	}
	return len(run.Config) > 0 && json.Unmarshal(run.Config, &c) == nil && c.Off
}

// Empty reports whether there are no packets at all, delivered or dropped.
func (l LossAware) Empty() bool { return l.Delivered == 0 && l.Dropped == 0 }

// Percentile returns the latency at percentile p (0 < p ≤ 100) with the dropped packets
// counted above every delivered one: lost is true when more than (100−p)% of the packets
// were dropped, and v is then 0. An empty distribution gives 0, false (see Empty).
// Percentiles are exact to 1e-4 (p99.99); p outside (0, 100] panics.
func (l LossAware) Percentile(p float64) (v int64, lost bool) {
	if !(p > 0 && p <= 100) {
		panic(fmt.Sprintf("results: loss-aware percentile %v outside (0, 100]", p))
	}
	n := l.Delivered + l.Dropped
	if n == 0 {
		return 0, false
	}
	if l.Delivered == 0 || l.lost(p, n) { // the first: p below lost's 1e-4 precision
		return 0, true
	}
	rank := int64(p/100*float64(n) + 0.5) // HdrHistogram's rank (percentileRank)
	rank = min(max(rank, 1), l.Delivered)
	var seen int64
	for _, b := range l.h.Distribution() {
		if seen += b.Count; seen >= rank {
			return b.To, false
		}
	}
	return l.h.Max(), false // not reached: the bars add up to Delivered
}

// lost reports whether delivered/n < p/100, exactly: p is taken to 1e-4 and both sides
// are compared as 128-bit products.
func (l LossAware) lost(p float64, n int64) bool {
	const scale = 1e6 // p/100 in millionths
	pm := uint64(math.Round(p * scale / 100))
	dh, dl := bits.Mul64(uint64(l.Delivered), scale)
	ph, pl := bits.Mul64(pm, uint64(n))
	return dh < ph || (dh == ph && dl < pl)
}

// DropPct returns the percentage of the packets that were dropped; 0 when empty.
func (l LossAware) DropPct() float64 {
	if l.Empty() {
		return 0
	}
	return 100 * float64(l.Dropped) / float64(l.Delivered+l.Dropped)
}

// histogramStats are the figures of a histogram a table or a headline may name, in
// order, with the percentile each stands for (0: the minimum).
var histogramStats = []struct {
	name string
	p    float64
	get  func(Histogram) int64
}{
	{"min", 0, func(h Histogram) int64 { return h.Min }},
	{"p50", 50, func(h Histogram) int64 { return h.P50 }},
	{"p90", 90, func(h Histogram) int64 { return h.P90 }},
	{"p99", 99, func(h Histogram) int64 { return h.P99 }},
	{"p99.9", 99.9, func(h Histogram) int64 { return h.P999 }},
	{"p99.99", 99.99, func(h Histogram) int64 { return h.P9999 }},
	{"max", 100, func(h Histogram) int64 { return h.Max }},
}

// HistogramStats returns the names of a histogram's figures, as a scenario's headline
// names them (and bench.txt prefixes them): "min", "p50", "p90", "p99", "p99.9",
// "p99.99", "max".
func HistogramStats() []string {
	names := make([]string, len(histogramStats))
	for i, s := range histogramStats {
		names[i] = s.name
	}
	return names
}

// Stat returns h's figure called name (one of HistogramStats); false for another name.
func (h Histogram) Stat(name string) (int64, bool) {
	for _, s := range histogramStats {
		if s.name == name {
			return s.get(h), true
		}
	}
	return 0, false
}

// Stat returns the loss-aware figure called name (one of HistogramStats): "min" is the
// lowest delivered latency, lost only when every packet was dropped; the others are
// Percentile's (max is p100: lost when any packet was dropped). ok is false for another
// name.
func (l LossAware) Stat(name string) (v int64, lost, ok bool) {
	for _, s := range histogramStats {
		switch {
		case s.name != name:
			continue
		case s.p == 0 && l.Delivered == 0:
			return 0, l.Dropped > 0, true
		case s.p == 0:
			return l.h.Min(), false, true
		}
		v, lost := l.Percentile(s.p)
		return v, lost, true
	}
	return 0, false, false
}

// Percentiles returns Percentile of each of ps in one walk over the histogram, for a
// spectrum of many points: vs[i], lost[i] = Percentile(ps[i]), except that p may be 0
// (the lowest delivered value, lost only when every packet was dropped). ps must be in
// increasing order within [0, 100]; otherwise it panics.
func (l LossAware) Percentiles(ps []float64) (vs []int64, lost []bool) {
	vs, lost = make([]int64, len(ps)), make([]bool, len(ps))
	n := l.Delivered + l.Dropped
	var bars []hdrhistogram.Bar
	if l.h != nil && l.Delivered > 0 {
		bars = l.h.Distribution()
	}
	b, seen := 0, int64(0) // bars[:b] are counted in seen
	for i, p := range ps {
		if !(p >= 0 && p <= 100) || i > 0 && p < ps[i-1] {
			panic(fmt.Sprintf("results: loss-aware percentiles: %v is out of order or outside [0, 100]", p))
		}
		switch {
		case n == 0:
			continue
		case l.Delivered == 0 || p > 0 && l.lost(p, n):
			lost[i] = true
			continue
		}
		rank := int64(p/100*float64(n) + 0.5)
		rank = min(max(rank, 1), l.Delivered)
		for seen < rank && b < len(bars) { // at least once: rank ≥ 1
			seen += bars[b].Count
			b++
		}
		vs[i] = bars[b-1].To // the bar where the count reached rank
	}
	return vs, lost
}

// Package stack is the protocol stack above the miniport in an ndisbench run: it
// consumes every indicated NBL, checks that each queue's packets arrive exactly once and
// in order, and times each one (packet_latency, packet_service).
package stack

import (
	"fmt"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/hist"
	"github.com/ndisbench/ndisbench/results/metric"
)

// CheckingStack is the protocol stack above the miniport: it consumes every indicated
// NBL, checks that none is indicated twice or out of order, and times each one. It keeps
// its state per vCPU, so indications on different vCPUs never share a line.
//
// Order is checked per (queue, vCPU) stream: a queue is drained by one vCPU, except with
// driver-side RSS, where the DPC of the queue's CPU hands each flow to one CPU, and the
// order within each CPU's share is what is kept. Every sequence number of a queue
// (0..Written-1) must arrive exactly once: Check compares the count, the sum and a
// multiset fingerprint (the sum of a mixing function of each number) with what they
// must be. Within one stream, strict order with the right count and sum already proves
// it; across streams the fingerprint catches a duplicate that balances a loss.
//
// Its histograms (packet_latency, packet_service) are the platform's extra per-vCPU
// histograms (core.PlatformConfig.Hists), so they are cut into intervals with the
// framework's; each packet counts in the interval of its indication.
type CheckingStack struct {
	cpus     []*stackCPU
	queues   int
	measured int64         // Intended at or after this is measured (warm-up cut), on the clock
	work     time.Duration // per-indication work (spent with the clock)
	p        *core.Platform
	clock    core.Clock
	latency  core.Hist
	service  core.Hist
	noHists  bool // NoHistograms: count the measured packets, record nothing
}

type stackCPU struct {
	_        [128]byte // other vCPUs' state stays off these lines
	q        []queueTally
	nbls     uint64 // NBLs indicated on this vCPU
	calls    uint64 // Indicate calls
	inWindow uint64 // NBLs measured (Intended at or after the warm-up cut)
	bad      []string
	badCount uint64
	_        [128]byte
}

type queueTally struct {
	next  uint64 // the least sequence number the next NBL of this stream may carry
	count uint64
	sum   uint64 // of sequence numbers, mod 2^64
	print uint64 // of mix(sequence number), mod 2^64: the multiset fingerprint
}

// mix is a bijection of uint64 that is far from linear, so that two multisets of sequence
// numbers with the same size and sum almost never have the same sum of mixes.
func mix(x uint64) uint64 {
	x *= 0x9e3779b97f4a7c15
	return x ^ x>>29
}

// maxStackErrors is how many order errors per vCPU a stack describes (it counts them all).
const maxStackErrors = 8

// Hists returns the histograms a CheckingStack records into; a platform it runs on must
// have them (core.PlatformConfig.Hists).
func Hists() []string { return []string{metric.PacketLatency, metric.PacketService} }

// NewCheckingStack returns a stack on p's vCPUs for queues RX queues, spending work per
// Indicate call (default 0) with the platform's clock. Packets whose intended time is
// before measureFrom (on the clock) are checked and counted but not recorded in the
// histograms (the warm-up). p must have Hists among its extra histograms.
func NewCheckingStack(p *core.Platform, queues int, work time.Duration, measureFrom int64) (*CheckingStack, error) {
	s := &CheckingStack{queues: queues, measured: measureFrom, work: work, p: p, clock: p.Clock()}
	var ok1, ok2 bool
	s.latency, ok1 = p.HistID(metric.PacketLatency)
	s.service, ok2 = p.HistID(metric.PacketService)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("stack: the platform lacks the histograms %v (core.PlatformConfig.Hists)", Hists())
	}
	for i := 0; i < p.VCPUs(); i++ {
		s.cpus = append(s.cpus, &stackCPU{
			q:   make([]queueTally, queues),
			bad: make([]string, 0, maxStackErrors),
		})
	}
	return s, nil
}

// SetMeasureFrom moves the warm-up cut. Call it before traffic starts.
func (s *CheckingStack) SetMeasureFrom(t int64) { s.measured = t }

// NoHistograms makes the stack check and count every packet as before but record
// nothing into packet_latency and packet_service: a run that measures what recording
// them costs. Call it before traffic starts.
func (s *CheckingStack) NoHistograms() { s.noHists = true }

// Indicate consumes nbls on vCPU cpu (core.Stack). It does not allocate.
func (s *CheckingStack) Indicate(cpu int, nbls []core.NBL) {
	st := s.cpus[cpu]
	now := s.clock.Now()
	var latency, service *hist.Dense
	if !s.noHists {
		set := s.p.Interval(cpu, now) // every packet of the call is indicated at now
		latency, service = set.Hist(int(s.latency)), set.Hist(int(s.service))
	}
	// Every packet of the call is indicated at now: their latencies go in with one
	// RecordSince per up to len(starts) of them. Packets the generator sent on one
	// reading of its clock carry one write time: their service times are one value,
	// recorded once for the run of them (Dense.RecordN).
	var starts [64]int64
	k := 0
	written, run := int64(0), int64(0)
	for i := range nbls {
		n := &nbls[i]
		t := &st.q[n.Queue]
		if n.Seq < t.next {
			st.orderError(cpu, n, t.next)
		}
		t.next = n.Seq + 1
		t.count++
		t.sum += n.Seq
		t.print += mix(n.Seq)
		if n.Intended >= s.measured {
			st.inWindow++
			if latency == nil {
				continue
			}
			starts[k] = n.Intended
			if k++; k == len(starts) {
				latency.RecordSince(now, starts[:])
				k = 0
			}
			if n.Written != written || run == 0 {
				if run > 0 {
					service.RecordN(now-written, run)
				}
				written, run = n.Written, 0
			}
			run++
		}
	}
	if run > 0 {
		service.RecordN(now-written, run)
	}
	if k > 0 {
		latency.RecordSince(now, starts[:k])
	}
	st.nbls += uint64(len(nbls))
	st.calls++
	s.clock.Spin(s.work)
}

func (st *stackCPU) orderError(cpu int, n *core.NBL, want uint64) {
	st.badCount++
	if len(st.bad) < maxStackErrors {
		st.bad = append(st.bad, fmt.Sprintf("queue %d on vCPU %d: NBL seq %d indicated after seq %d (duplicate or out of order)",
			n.Queue, cpu, n.Seq, want-1))
	}
}

// StackTotals is what a stack saw, summed over its vCPUs. Its histograms are the
// platform's (core.Platform.Metrics).
type StackTotals struct {
	NBLs     uint64 // NBLs indicated
	Calls    uint64 // Indicate calls
	Measured uint64 // NBLs after the warm-up cut
}

// Totals sums the per-vCPU state. Call it when no vCPU indicates any more.
func (s *CheckingStack) Totals() StackTotals {
	var t StackTotals
	for _, st := range s.cpus {
		t.NBLs += st.nbls
		t.Calls += st.calls
		t.Measured += st.inWindow
	}
	return t
}

// PerCPU returns the NBLs indicated on each vCPU. Call it when no vCPU indicates any more.
func (s *CheckingStack) PerCPU() []uint64 {
	out := make([]uint64, len(s.cpus))
	for i, st := range s.cpus {
		out[i] = st.nbls
	}
	return out
}

// Failure is one invariant the stack saw broken.
type Failure struct {
	Invariant string // "order" (a duplicate or a reordering in one stream) or "conservation"
	Detail    string
}

// Check compares what was indicated with what each queue wrote (written[q] descriptors,
// sequence numbers 0..written[q]-1): each exactly once, in order per stream. It returns
// one failure per broken invariant; none when all held. Call it when no vCPU indicates
// any more. It costs a pass over every sequence number written.
func (s *CheckingStack) Check(written []uint64) []Failure {
	var fs []Failure
	for _, st := range s.cpus {
		for _, b := range st.bad {
			fs = append(fs, Failure{"order", b})
		}
		if st.badCount > uint64(len(st.bad)) {
			fs = append(fs, Failure{"order", fmt.Sprintf("... and %d more order errors", st.badCount-uint64(len(st.bad)))})
		}
	}
	for q := 0; q < s.queues; q++ {
		var got queueTally
		for _, st := range s.cpus {
			got.count += st.q[q].count
			got.sum += st.q[q].sum
			got.print += st.q[q].print
		}
		w := uint64(0)
		if q < len(written) {
			w = written[q]
		}
		var sum uint64 // w(w-1)/2 mod 2^64, halving the even factor first
		if w%2 == 0 {
			sum = (w / 2) * (w - 1)
		} else {
			sum = w * ((w - 1) / 2)
		}
		switch {
		case got.count != w:
			fs = append(fs, Failure{"conservation", fmt.Sprintf("queue %d wrote %d descriptors, the stack got %d", q, w, got.count)})
		case got.sum != sum || got.print != fingerprint(w):
			fs = append(fs, Failure{"conservation", fmt.Sprintf("queue %d: %d NBLs indicated but not sequence numbers 0..%d each once (a duplicate hides a loss)", q, got.count, w-1)})
		}
	}
	return fs
}

// fingerprint returns the sum of mix(i) for i in 0..w-1, mod 2^64.
func fingerprint(w uint64) uint64 {
	var f uint64
	for i := uint64(0); i < w; i++ {
		f += mix(i)
	}
	return f
}

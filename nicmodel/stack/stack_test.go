package stack_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/hist"
	"github.com/ndisbench/ndisbench/nicmodel/stack"
	"github.com/ndisbench/ndisbench/results/metric"
)

// These tests feed synthetic NBLs straight to a CheckingStack on a platform that is not
// running: Indicate is then called from the test goroutine alone, as a vCPU would.

// fixedClock is a time source that never moves, so that every latency the stack records is
// known exactly.
type fixedClock int64

func (c fixedClock) Now() int64         { return int64(c) }
func (fixedClock) Spin(d time.Duration) {}

const now = fixedClock(10 * time.Millisecond)

// newStack returns a stack of queues RX queues on a new 2-vCPU platform, not started.
func newStack(t testing.TB, queues int, measureFrom int64) (*core.Platform, *stack.CheckingStack) {
	t.Helper()
	p, err := core.NewPlatform(core.PlatformConfig{VCPUs: 2, NoPin: true, Hists: stack.Hists(), Clock: core.ClockOf(now)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := stack.NewCheckingStack(p, queues, 0, measureFrom)
	if err != nil {
		t.Fatal(err)
	}
	return p, s
}

// ind is one Indicate call: NBLs of one queue, in the order given, on one vCPU.
type ind struct {
	cpu, queue int
	seqs       []uint64
}

func (in ind) nbls() []core.NBL {
	out := make([]core.NBL, len(in.seqs))
	for i, s := range in.seqs {
		out[i] = core.NBL{Queue: uint16(in.queue), Seq: s, Intended: int64(now), Written: int64(now)}
	}
	return out
}

func seqs(s ...uint64) []uint64 { return s }

// broken returns the distinct invariants fs names, sorted.
func broken(fs []stack.Failure) []string {
	var out []string
	for _, f := range fs {
		if !slices.Contains(out, f.Invariant) {
			out = append(out, f.Invariant)
		}
	}
	slices.Sort(out)
	return out
}

// TestCheckingStackCheck feeds sequences of NBLs and asks Check which invariants broke:
// every sequence number of a queue exactly once (count, sum and fingerprint over every
// stream), in order within each (queue, vCPU) stream.
func TestCheckingStackCheck(t *testing.T) {
	for _, tt := range []struct {
		name    string
		queues  int
		ind     []ind
		written []uint64
		want    []string // sorted; nil: every invariant holds
		detail  string   // when set, some failure's Detail contains it
	}{
		// Every packet once, in order, in one indication.
		{"in order", 1, []ind{{0, 0, seqs(0, 1, 2, 3)}}, []uint64{4}, nil, ""},
		// The same, spread over several indications: order runs across calls.
		{"in order over calls", 1, []ind{{0, 0, seqs(0, 1)}, {0, 0, seqs(2)}, {0, 0, seqs(3, 4)}}, []uint64{5}, nil, ""},
		// Seq 1 indicated twice: out of order, and one too many.
		{"duplicate", 1, []ind{{0, 0, seqs(0, 1, 1, 2)}}, []uint64{3}, []string{"conservation", "order"}, "seq 1 indicated after seq 1"},
		// Seq 2 never indicated: the order check cannot see a gap, the count can.
		{"gap", 1, []ind{{0, 0, seqs(0, 1, 3)}}, []uint64{4}, []string{"conservation"}, "wrote 4 descriptors, the stack got 3"},
		// The last packet never indicated (still in flight, or lost at the end).
		{"lost at the end", 1, []ind{{0, 0, seqs(0, 1, 2)}}, []uint64{4}, []string{"conservation"}, ""},
		// 0,2,1,3: count and sum are right, the order is not.
		{"reorder", 1, []ind{{0, 0, seqs(0, 2, 1, 3)}}, []uint64{4}, []string{"order"}, "seq 1 indicated after seq 2"},
		// The same reordering split over two indications.
		{"reorder across calls", 1, []ind{{0, 0, seqs(0, 2)}, {0, 0, seqs(1, 3)}}, []uint64{4}, []string{"order"}, ""},
		// Seq 1 twice and seq 2 lost: the count balances, the sum and the order do not.
		{"duplicate balances a loss", 1, []ind{{0, 0, seqs(0, 1, 1, 3)}}, []uint64{4}, []string{"conservation", "order"}, "a duplicate hides a loss"},
		// Seq 2 three times for 1 and 3 lost: count and sum balance; the fingerprint
		// and the order do not.
		{"duplicates balance count and sum", 1, []ind{{0, 0, seqs(0, 2, 2, 2)}}, []uint64{4}, []string{"conservation", "order"}, "a duplicate hides a loss"},
		// Both vCPUs get 0,3 of queue 0, which wrote 4: each stream is in order, count
		// (4) and sum (6) are right; only the fingerprint sees 1 and 2 missing.
		{"duplicate balances a loss across vCPUs", 1, []ind{{0, 0, seqs(0, 3)}, {1, 0, seqs(0, 3)}}, []uint64{4},
			[]string{"conservation"}, "queue 0: 4 NBLs indicated but not sequence numbers 0..3 each once"},
		// A legitimate split of one queue over two vCPUs (driver-side RSS): 0,3 and 1,2.
		{"split over vCPUs", 1, []ind{{0, 0, seqs(0, 3)}, {1, 0, seqs(1, 2)}}, []uint64{4}, nil, ""},
		// Order is per (queue, vCPU) stream: vCPU 1 may indicate 0,1 after vCPU 0's 2,3.
		{"streams are independent", 1, []ind{{0, 0, seqs(2, 3)}, {1, 0, seqs(0, 1)}}, []uint64{4}, nil, ""},
		// Two queues interleaved on one vCPU, and a third on the other: all in order.
		{"queues interleaved", 3, []ind{{0, 0, seqs(0, 1)}, {0, 1, seqs(0)}, {1, 2, seqs(0, 1, 2)}, {0, 0, seqs(2)}, {0, 1, seqs(1)}},
			[]uint64{3, 2, 3}, nil, ""},
		// Queue 1 loses its last packet; queue 0 is whole: the failure names queue 1.
		{"loss in one queue of two", 2, []ind{{0, 0, seqs(0, 1, 2)}, {1, 1, seqs(0, 1)}}, []uint64{3, 3},
			[]string{"conservation"}, "queue 1 wrote 3 descriptors, the stack got 2"},
		// A reordering on vCPU 1 is found though vCPU 0's stream of the queue is fine.
		{"reorder on the second vCPU", 1, []ind{{0, 0, seqs(0, 1)}, {1, 0, seqs(3, 2)}}, []uint64{4}, []string{"order"}, "on vCPU 1"},
		// Sequence numbers start at 0: 1,2,3 of 3 written has the right count only.
		{"off by one", 1, []ind{{0, 0, seqs(1, 2, 3)}}, []uint64{3}, []string{"conservation"}, ""},
		// Nothing written, nothing indicated.
		{"empty", 2, nil, []uint64{0, 0}, nil, ""},
		// Indications for a queue the caller says wrote nothing (written too short).
		{"written missing", 2, []ind{{0, 1, seqs(0)}}, []uint64{0}, []string{"conservation"}, "queue 1 wrote 0 descriptors, the stack got 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, s := newStack(t, tt.queues, 0)
			for _, in := range tt.ind {
				s.Indicate(in.cpu, in.nbls())
			}
			fs := s.Check(tt.written)
			if got := broken(fs); !slices.Equal(got, tt.want) {
				t.Errorf("Check broke %v, want %v: %v", got, tt.want, fs)
			}
			found := tt.detail == ""
			for _, f := range fs {
				if f.Detail == "" {
					t.Errorf("failure %q has no detail", f.Invariant)
				}
				found = found || strings.Contains(f.Detail, tt.detail)
			}
			if !found {
				t.Errorf("no failure says %q: %v", tt.detail, fs)
			}
		})
	}
}

// TestCheckingStackCapsOrderErrors: a vCPU describes its first 8 order errors and counts
// the rest in one more failure.
func TestCheckingStackCapsOrderErrors(t *testing.T) {
	_, s := newStack(t, 1, 0)
	s.Indicate(0, ind{0, 0, make([]uint64, 20)}.nbls()) // seq 0 twenty times
	var order []stack.Failure
	for _, f := range s.Check([]uint64{1}) {
		if f.Invariant == "order" {
			order = append(order, f)
		}
	}
	if len(order) != 9 || !strings.Contains(order[8].Detail, "and 11 more order errors") {
		t.Errorf("order failures = %v, want 8 described and \"... and 11 more\"", order)
	}
}

// TestCheckingStackTotals: PerCPU and Totals count every NBL and call, whatever the
// checks say, and add up.
func TestCheckingStackTotals(t *testing.T) {
	_, s := newStack(t, 2, 0)
	for _, in := range []ind{{0, 0, seqs(0, 1, 2)}, {1, 1, seqs(0)}, {0, 1, seqs(1, 2)}, {1, 0, seqs(3, 3)}} {
		s.Indicate(in.cpu, in.nbls())
	}
	s.Indicate(1, nil) // a call with no NBLs is a call
	per := s.PerCPU()
	tot := s.Totals()
	if !slices.Equal(per, []uint64{5, 3}) {
		t.Errorf("PerCPU = %v, want [5 3]", per)
	}
	if tot.NBLs != per[0]+per[1] || tot.NBLs != 8 || tot.Calls != 5 || tot.Measured != 8 {
		t.Errorf("Totals = %+v, want 8 NBLs (the PerCPU sum), 5 calls, 8 measured", tot)
	}
}

// TestCheckingStackMeasuresFromTheCut: NBLs intended before the measure-from time are
// checked and counted but not recorded; those at or after it are recorded, their
// latency from the intended time and their service time from the write.
func TestCheckingStackMeasuresFromTheCut(t *testing.T) {
	cut := int64(now) - int64(4*time.Millisecond)
	p, s := newStack(t, 1, cut)
	nbl := func(seq uint64, intended time.Duration) core.NBL {
		at := int64(now) - int64(intended)
		return core.NBL{Seq: seq, Intended: at, Written: at + int64(100*time.Microsecond)}
	}
	s.Indicate(0, []core.NBL{nbl(0, 9*time.Millisecond), nbl(1, 5*time.Millisecond)}) // warm-up
	s.Indicate(1, []core.NBL{nbl(2, 4*time.Millisecond), nbl(3, 1*time.Millisecond)}) // measured
	if fs := s.Check([]uint64{4}); len(fs) != 0 {
		t.Errorf("Check: %v", fs)
	}
	if tot := s.Totals(); tot.NBLs != 4 || tot.Measured != 2 {
		t.Errorf("Totals = %+v, want 4 NBLs, 2 measured", tot)
	}
	// The histograms are read through the platform, which never ran: what was recorded
	// from this goroutine is collected directly.
	p.Stop()
	m := p.Metrics()
	near := func(got int64, want time.Duration) bool {
		d := got - int64(want)
		return d > -int64(want)/100 && d < int64(want)/100
	}
	for _, h := range []struct {
		name     string
		min, max time.Duration
	}{
		{metric.PacketLatency, 1 * time.Millisecond, 4 * time.Millisecond},
		{metric.PacketService, 900 * time.Microsecond, 3900 * time.Microsecond},
	} {
		got := m.Hist(h.name)
		if got == nil {
			t.Fatalf("no histogram %s", h.name)
		}
		if got.TotalCount() != 2 || !near(got.Min(), h.min) || !near(got.Max(), h.max) {
			t.Errorf("%s: %d values in [%v, %v], want 2 in [%v, %v]", h.name, got.TotalCount(),
				time.Duration(got.Min()), time.Duration(got.Max()), h.min, h.max)
		}
	}
}

// TestCheckingStackRecordsEveryServiceTime: packets written back together share a write
// time, and the stack records their service time once for the run of them; the
// histogram must still hold one value per measured packet, each its own, whatever the
// runs look like (runs broken by other times, by warm-up packets, a run at the end).
func TestCheckingStackRecordsEveryServiceTime(t *testing.T) {
	cut := int64(now) - int64(time.Millisecond)
	p, s := newStack(t, 1, cut)
	us := func(d int) int64 { return int64(now) - int64(d)*int64(time.Microsecond) }
	written := []int64{us(500), us(500), us(500), us(300), us(300), us(500), 0, us(500), us(200)}
	want := hist.NewLatency()
	var nbls []core.NBL
	for i, w := range written {
		n := core.NBL{Seq: uint64(i), Intended: cut, Written: w}
		if w == 0 { // a warm-up packet between two of the same run
			n.Intended, n.Written = cut-1, us(500)
		} else {
			want.RecordValue(int64(now) - w)
		}
		nbls = append(nbls, n)
	}
	s.Indicate(0, nbls)
	p.Stop()
	got := p.Metrics().Hist(metric.PacketService)
	if got.TotalCount() != want.TotalCount() || !got.Equals(want) {
		t.Errorf("service times: %d values, unlike the %d recorded one by one", got.TotalCount(), want.TotalCount())
	}
}

// TestNewCheckingStackNeedsItsHistograms: a platform without the stack's histograms is
// refused.
func TestNewCheckingStackNeedsItsHistograms(t *testing.T) {
	p, err := core.NewPlatform(core.PlatformConfig{VCPUs: 1, NoPin: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stack.NewCheckingStack(p, 1, 0, 0); err == nil || !strings.Contains(err.Error(), metric.PacketLatency) {
		t.Errorf("NewCheckingStack on a platform without %v: err = %v", stack.Hists(), err)
	}
}

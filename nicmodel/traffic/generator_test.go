package traffic

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/hist"
	"github.com/ndisbench/ndisbench/nicmodel"
)

// generate runs a generator for 2000 packets of 16 flows into a fresh NIC of queues
// queues, with the NIC hashing (ind) or not (nil), and returns what each queue holds.
func generate(t *testing.T, queues int, ind *nicmodel.Indirection) (*Flows, [][]core.NBL) {
	t.Helper()
	nic, err := nicmodel.New(nicmodel.Config{Queues: queues, Mode: nicmodel.ModeMSIX, RingSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	for v := 0; v < nic.Vectors(); v++ {
		nic.Connect(v, nopIRQ{})
	}
	flows, err := NewFlows(FlowConfig{Count: 16, Seed: 9}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sched, _ := NewSchedule(ScheduleConfig{Kind: KindConstant, RatePPS: 1e9}) // every packet due at once
	sizes, _ := NewSizes(SizeConfig{Fixed: 64})
	var clock core.Clock
	now := clock.Now()
	g := NewGenerator(GeneratorConfig{NIC: nic, Schedule: sched, Flows: flows, Sizes: sizes, Indirection: ind, Clock: clock, CPU: -1},
		Timeline{Start: now, WarmEnd: now, End: now + int64(2000*time.Nanosecond)})
	g.Run()
	out := make([][]core.NBL, queues)
	buf := make([]core.NBL, 64)
	for q := range out {
		for n := nic.Take(q, buf); n > 0; n = nic.Take(q, buf) {
			out[q] = append(out[q], buf[:n]...)
		}
	}
	if got := g.Stats().Generated; got != 2000 {
		t.Fatalf("generated %d packets, want 2000", got)
	}
	return flows, out
}

type nopIRQ struct{}

func (nopIRQ) Raise()         {}
func (nopIRQ) Lower()         {}
func (nopIRQ) SetMasked(bool) {}

// TestGeneratorPacketsCarryTheirTuple: every packet carries its flow's 4-tuple, as its
// headers would, for a driver to hash. With RSS in the NIC it also carries the NIC's
// hash (NET_BUFFER_LIST hash information) and sits in the queue the hash picks; without,
// it carries no hash: the NIC computed none, and a driver that spreads packets must.
func TestGeneratorPacketsCarryTheirTuple(t *testing.T) {
	ind, err := nicmodel.NewIndirection(0, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, nicRSS := range []bool{true, false} {
		queues, table := 1, (*nicmodel.Indirection)(nil)
		if nicRSS {
			queues, table = 4, ind
		}
		flows, got := generate(t, queues, table)
		flowOf := map[[nicmodel.FlowTupleLen]byte]int{}
		for f := 0; f < flows.Len(); f++ {
			flowOf[flows.Input(f)] = f
		}
		total := 0
		for q, nbls := range got {
			for _, nbl := range nbls {
				total++
				f, ok := flowOf[nbl.Tuple]
				if !ok || !nbl.IPv4 {
					t.Fatalf("nic rss %v: a packet with tuple %v (IPv4 %v) of no flow", nicRSS, nbl.Tuple, nbl.IPv4)
				}
				switch {
				case nicRSS && (!nbl.Hashed || nbl.Hash != flows.Hash(f) || q != ind.Lookup(nbl.Hash)):
					t.Fatalf("NIC RSS: flow %d's packet on queue %d hashed %v %#x; want the NIC's hash %#x and queue %d",
						f, q, nbl.Hashed, nbl.Hash, flows.Hash(f), ind.Lookup(flows.Hash(f)))
				case !nicRSS && (nbl.Hashed || nbl.Hash != 0):
					t.Fatalf("no NIC RSS: flow %d's packet carries hash %#x (hashed %v); the NIC computed none", f, nbl.Hash, nbl.Hashed)
				}
			}
		}
		if total == 0 {
			t.Fatalf("nic rss %v: no packet written", nicRSS)
		}
	}
}

// TestGeneratorNeverWritesEarly: however the generator batches its clock readings, a
// packet is never written before its intended time, and the lag it reports is the most
// any write lagged; behind schedule (every packet due at once) and keeping up alike.
func TestGeneratorNeverWritesEarly(t *testing.T) {
	for _, rate := range []float64{1e9, 2e6} {
		nic, err := nicmodel.New(nicmodel.Config{Queues: 1, Mode: nicmodel.ModeMSIX, RingSize: 8192})
		if err != nil {
			t.Fatal(err)
		}
		nic.Connect(0, nopIRQ{})
		flows, _ := NewFlows(FlowConfig{Count: 16, Seed: 9}, nil)
		sched, _ := NewSchedule(ScheduleConfig{Kind: KindConstant, RatePPS: rate})
		sizes, _ := NewSizes(SizeConfig{Fixed: 64})
		var clock core.Clock
		now := clock.Now()
		end := now + int64(6000/rate*1e9) // 6000 packets: fits the ring
		sent := map[int64]int{}           // Sent's bursts: packets by the clock reading they went out on
		g := NewGenerator(GeneratorConfig{NIC: nic, Schedule: sched, Flows: flows, Sizes: sizes, Clock: clock, CPU: -1, SendAll: true,
			Sent: func(at int64, n int) { sent[at] += n }},
			Timeline{Start: now, WarmEnd: now, End: end})
		g.Run()
		buf := make([]core.NBL, 256)
		var n int
		var lagMax int64
		for k := nic.Take(0, buf); k > 0; k = nic.Take(0, buf) {
			for _, d := range buf[:k] {
				if d.Written < d.Intended {
					t.Fatalf("rate %v: packet %d written %d ns before its time", rate, d.Seq, d.Intended-d.Written)
				}
				lagMax = max(lagMax, d.Written-d.Intended)
				n++
				if sent[d.Written]--; sent[d.Written] < 0 {
					t.Fatalf("rate %v: packet %d written at %d, more than Sent said went out then", rate, d.Seq, d.Written)
				}
			}
		}
		for at, left := range sent {
			if left != 0 {
				t.Fatalf("rate %v: Sent said %d more packets went out at %d than were written then", rate, left, at)
			}
		}
		st := g.Stats()
		if uint64(n) != st.Generated || st.Generated < 5999 {
			t.Fatalf("rate %v: %d packets in the ring, %d generated; want all of about 6000", rate, n, st.Generated)
		}
		if st.LagMax != lagMax {
			t.Errorf("rate %v: Stats.LagMax %d, the writes lagged at most %d", rate, st.LagMax, lagMax)
		}
	}
}

// BenchmarkGenerator is the generator's ceiling: every packet is due at once (an
// offered rate far beyond it), 64-byte packets over 1024 flows into one NIC queue, whose
// descriptors a consumer on another CPU takes and whose buffers it returns as fast as it
// can (a DPC that does nothing else), the two pinned to two CPUs where the OS allows.
// It reports the packets per second written and the share the NIC dropped.
func BenchmarkGenerator(b *testing.B) {
	allowed, _ := affinity.Allowed()
	topo, _ := affinity.ReadTopology(allowed)
	genCPU, consCPU, two := affinity.PickPair(allowed, topo)
	if !two {
		genCPU, consCPU = -1, -1
	}
	for _, lag := range []bool{false, true} {
		b.Run(fmt.Sprintf("lag-histogram=%v", lag), func(b *testing.B) {
			nic, err := nicmodel.New(nicmodel.Config{Queues: 1, Mode: nicmodel.ModeMSIX})
			if err != nil {
				b.Fatal(err)
			}
			nic.Connect(0, nopIRQ{})
			flows, _ := NewFlows(FlowConfig{Count: 1024, Seed: 1}, nil)
			sched, _ := NewSchedule(ScheduleConfig{Kind: KindConstant, RatePPS: 1e11})
			sizes, _ := NewSizes(SizeConfig{Fixed: 64})
			var w *hist.Writer
			if lag {
				w = hist.NewWriter([]hist.Layout{hist.LatencyLayout}, true)
			}
			var clock core.Clock
			now := clock.Now()
			g := NewGenerator(GeneratorConfig{NIC: nic, Schedule: sched, Flows: flows, Sizes: sizes, Clock: clock, CPU: genCPU, SendAll: true, Lag: w},
				Timeline{Start: now, WarmEnd: now, End: now + int64(float64(b.N)/1e11*1e9) + 1})
			var stop atomic.Bool
			done := make(chan struct{})
			go func() { // the consumer
				defer close(done)
				runtime.LockOSThread()
				if consCPU >= 0 {
					if undo, err := affinity.Pin(consCPU); err == nil {
						defer undo()
					}
				}
				buf := make([]core.NBL, 64)
				for !stop.Load() {
					if k := nic.Take(0, buf); k > 0 {
						nic.ReturnBatch(buf[:k])
					}
				}
			}()
			b.ReportAllocs()
			b.ResetTimer()
			g.Run()
			b.StopTimer()
			stop.Store(true)
			<-done
			st := g.Stats()
			b.ReportMetric(float64(st.Generated)/b.Elapsed().Seconds()/1e6, "Mpps")
			b.ReportMetric(100*float64(nic.Stats().Dropped)/float64(max(st.Generated, 1)), "drop-pct")
		})
	}
}

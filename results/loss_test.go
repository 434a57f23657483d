package results

import (
	"fmt"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results/metric"
)

// oneToHundred holds the values 1 to 100 ns, once each: its p-th percentile is p.
func oneToHundred(t testing.TB) *hdrhistogram.Histogram {
	t.Helper()
	h := hdrhistogram.New(1, 10e9, 3)
	for v := int64(1); v <= 100; v++ {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func TestLossAwarePercentile(t *testing.T) {
	type pc struct {
		p    float64
		want string // the value, or "lost"
	}
	tests := []struct {
		name    string
		dropped int64
		ps      []pc
	}{
		// No drops: HdrHistogram's own percentiles.
		{"none dropped", 0, []pc{{50, "50"}, {99, "99"}, {99.9, "100"}, {100, "100"}}},
		// 1 of 101 dropped (0.99%): p99 is just kept (0.99% ≤ 1%), at rank
		// round(99.99) = 100; p99.9 and max are lost (0.99% > 0.1%).
		{"1 of 101", 1, []pc{{50, "51"}, {99, "100"}, {99.9, "lost"}, {100, "lost"}}},
		// 100 of 200 dropped: exactly 50%, so p50 is the top delivered value
		// (rank 100 of 200); anything above is lost.
		{"half", 100, []pc{{50, "100"}, {50.0001, "lost"}, {90, "lost"}, {25, "50"}}},
		// 300 of 400 dropped, as the run with 73% drops: p50 is lost, p20 is not
		// (rank 80).
		{"three quarters", 300, []pc{{20, "80"}, {25, "100"}, {50, "lost"}, {99, "lost"}}},
	}
	for _, tt := range tests {
		l := NewLossAware(oneToHundred(t), tt.dropped)
		for _, c := range tt.ps {
			v, lost := l.Percentile(c.p)
			got := fmt.Sprint(v)
			if lost {
				got = "lost"
			}
			if got != c.want {
				t.Errorf("%s: p%v = %s, want %s", tt.name, c.p, got, c.want)
			}
		}
	}
	// 1 dropped of 1000 (0.1%): exactly (100−99.9)%, so p99.9 is kept; p99.99 is lost.
	h := hdrhistogram.New(1, 10e9, 3)
	for v := int64(1); v <= 999; v++ {
		h.RecordValue(v)
	}
	l := NewLossAware(h, 1)
	if v, lost := l.Percentile(99.9); lost || v != 999 {
		t.Errorf("1 of 1000 dropped: p99.9 = %d lost %v, want 999 (exactly 0.1%% dropped is not more than 0.1%%)", v, lost)
	}
	if _, lost := l.Percentile(99.99); !lost {
		t.Errorf("1 of 1000 dropped: p99.99 not lost")
	}
	if got := l.DropPct(); got != 0.1 {
		t.Errorf("DropPct = %v, want 0.1", got)
	}
}

func TestLossAwareEmptyAndAllDropped(t *testing.T) {
	empty := NewLossAware(hdrhistogram.New(1, 10e9, 3), 0)
	if v, lost := empty.Percentile(99); !empty.Empty() || v != 0 || lost {
		t.Errorf("empty: Empty %v, p99 %d lost %v", empty.Empty(), v, lost)
	}
	if z := (LossAware{}); !z.Empty() || z.DropPct() != 0 {
		t.Errorf("zero value: Empty %v DropPct %v", z.Empty(), z.DropPct())
	}
	all := NewLossAware(nil, 5)
	if _, lost := all.Percentile(0.0001); all.Empty() || !lost || all.DropPct() != 100 {
		t.Errorf("all dropped: Empty %v, lowest percentile lost %v, DropPct %v", all.Empty(), lost, all.DropPct())
	}
}

// TestLossAwareWithoutDropsIsHdrHistogram: with nothing dropped, every percentile is
// HdrHistogram's own, the figures result.json's summary holds.
func TestLossAwareWithoutDropsIsHdrHistogram(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		h := latencyHistogram(t, seed, 3001, 15000)
		l := NewLossAware(h, 0)
		for _, p := range []float64{0.1, 1, 25, 50, 90, 99, 99.9, 99.99, 100} {
			if v, lost := l.Percentile(p); lost || v != h.ValueAtPercentile(p) {
				t.Errorf("seed %d: p%v = %d (lost %v), HdrHistogram says %d", seed, p, v, lost, h.ValueAtPercentile(p))
			}
		}
	}
}

// TestLossAwareIsMonotonic: more drops never make a percentile better.
func TestLossAwareIsMonotonic(t *testing.T) {
	h := latencyHistogram(t, 9, 1000, 15000)
	for _, p := range []float64{50, 90, 99, 99.9} {
		prev := int64(0)
		for d := int64(0); d <= 1200; d += 7 {
			v, lost := NewLossAware(h, d).Percentile(p)
			if lost {
				break
			}
			if v < prev {
				t.Fatalf("p%v: %d dropped gives %d, fewer gave %d", p, d, v, prev)
			}
			prev = v
		}
	}
}

func TestPacketLatencyLossAware(t *testing.T) {
	res := sampleResult(t)
	run := &res.Runs[0] // 5000 latencies, 1010 measured drops: 16.8% of 6010
	l, err := run.PacketLatencyLossAware()
	if err != nil {
		t.Fatal(err)
	}
	if l.Delivered != 5000 || l.Dropped != 1010 {
		t.Fatalf("delivered %d dropped %d, want 5000 and 1010", l.Delivered, l.Dropped)
	}
	if _, lost := l.Percentile(83); lost {
		t.Errorf("p83 lost with 16.8%% dropped")
	}
	if _, lost := l.Percentile(84); !lost {
		t.Errorf("p84 kept with 16.8%% dropped")
	}
	// A run that recorded no latency (no_packet_hists): unknown, not lost.
	empty, err := Summarize(hdrhistogram.New(1, 10e9, 3), "ns")
	if err != nil {
		t.Fatal(err)
	}
	run.Histograms[metric.PacketLatency] = empty
	if l, err := run.PacketLatencyLossAware(); err != nil || l.Empty() {
		t.Errorf("an empty histogram of a run that recorded: %+v, %v; want its drops, all lost", l, err)
	}
	run.Config = []byte(`{"mode":"msix","no_packet_hists":true}`)
	if l, err := run.PacketLatencyLossAware(); err != nil || !l.Empty() {
		t.Errorf("no_packet_hists: %+v, %v; want an empty LossAware", l, err)
	}
	delete(run.Histograms, metric.PacketLatency)
	if _, err := run.PacketLatencyLossAware(); err == nil || !strings.Contains(err.Error(), "packet_latency") {
		t.Errorf("no histogram: err %v", err)
	}
}

func ExampleLossAware() {
	h := hdrhistogram.New(1, 10e9, 3)
	for v := int64(1); v <= 100; v++ {
		h.RecordValue(v * 10) // 10 ns to 1000 ns
	}
	l := NewLossAware(h, 300) // and 300 packets dropped: 75%
	for _, p := range []float64{20, 50, 99} {
		v, lost := l.Percentile(p)
		fmt.Printf("p%v %d ns lost=%v\n", p, v, lost)
	}
	// Output:
	// p20 800 ns lost=false
	// p50 0 ns lost=true
	// p99 0 ns lost=true
}

func TestStats(t *testing.T) {
	h := mustSummarize(t, oneToHundred(t), metric.Nanoseconds)
	var got []string
	for _, name := range HistogramStats() {
		v, ok := h.Stat(name)
		lv, lost, lok := NewLossAware(oneToHundred(t), 1).Stat(name)
		got = append(got, fmt.Sprintf("%s=%d/%d,%v,%v,%v", name, v, lv, lost, ok, lok))
	}
	want := "min=1/1,false,true,true p50=50/51,false,true,true p90=90/91,false,true,true p99=99/100,false,true,true " +
		"p99.9=100/0,true,true,true p99.99=100/0,true,true,true max=100/0,true,true,true"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("stats (summary/loss-aware with 1 of 101 dropped):\n got %s\nwant %s", s, want)
	}
	if _, ok := h.Stat("p42"); ok {
		t.Error("Stat(p42) ok")
	}
	if _, lost, ok := NewLossAware(nil, 3).Stat("min"); !lost || !ok {
		t.Errorf("every packet dropped: min lost %v ok %v", lost, ok)
	}
}

// TestPercentilesIsPercentile: the one-pass Percentiles gives what Percentile gives at
// each percentile, with and without drops.
func TestPercentilesIsPercentile(t *testing.T) {
	ps := []float64{50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100}
	h := hdrhistogram.New(1, 10e9, 3)
	for i := int64(1); i <= 20000; i++ {
		h.RecordValue(i * i % 99991)
	}
	for _, dropped := range []int64{0, 1, 15, 150, 3000, 30000} {
		l := NewLossAware(h, dropped)
		v, lost := l.Percentiles(ps)
		for i, p := range ps {
			wv, wl := l.Percentile(p)
			if v[i] != wv || lost[i] != wl {
				t.Errorf("dropped %d, p%v: Percentiles %d, %v; Percentile %d, %v", dropped, p, v[i], lost[i], wv, wl)
			}
		}
	}
	if v, lost := (LossAware{}).Percentiles(ps); v[0] != 0 || lost[0] {
		t.Errorf("empty: %v %v", v, lost)
	}
}

// FuzzLossAwarePercentiles checks that the one-walk Percentiles agrees with Percentile
// point by point, whatever the values and the drops.
func FuzzLossAwarePercentiles(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 7}, uint16(0))
	f.Add([]byte{9}, uint16(3))
	f.Add([]byte{}, uint16(5))
	f.Add([]byte{255, 0, 1, 1, 1, 1, 1, 1, 1, 1}, uint16(1))
	f.Fuzz(func(t *testing.T, values []byte, dropped uint16) {
		var h *hdrhistogram.Histogram
		if len(values) > 0 {
			h = hdrhistogram.New(1, 10e9, 3)
			for i, v := range values {
				_ = h.RecordValues(int64(v)*int64(i+1)*37, int64(v%5)+1)
			}
		}
		l := NewLossAware(h, int64(dropped))
		ps := []float64{0, 1e-4, 1, 10, 25, 50, 50, 75, 90, 99, 99.5, 99.9, 99.99, 99.999, 100}
		vs, lost := l.Percentiles(ps)
		for i, p := range ps {
			q := p
			if p == 0 {
				q = 1e-12 // rank 1, as p0's: the lowest delivered value's bucket
			}
			v, lo := l.Percentile(q)
			if p == 0 && l.Delivered == 0 {
				lo = l.Dropped > 0 // lost only when every packet was dropped
			}
			if v != vs[i] || lo != lost[i] {
				t.Errorf("p%v: Percentiles %d lost %v, Percentile %d lost %v", p, vs[i], lost[i], v, lo)
			}
		}
	})
}

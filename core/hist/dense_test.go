package hist_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/core/hist"
)

// TestDenseIsHdrHistogram: a Dense drained into a sparse histogram holds what
// hdrhistogram's own Histogram holds for the same values, bucket for bucket (their
// encodings are equal), for every layout ndisbench uses and a few others: the layout is
// HdrHistogram's, not an imitation.
func TestDenseIsHdrHistogram(t *testing.T) {
	for _, l := range []hist.Layout{
		hist.LatencyLayout,                       // latencies
		{Lowest: 1, Highest: 1 << 20, Digits: 3}, // DPC batch sizes
		{Lowest: 1, Highest: 3600e9, Digits: 2},  // coarser, longer
		{Lowest: 1000, Highest: 10e9, Digits: 4}, // a unit magnitude above 0
		{Lowest: 1, Highest: 2, Digits: 1},       // the smallest
	} {
		d := hist.NewDense(l.Lowest, l.Highest, l.Digits)
		want := hdrhistogram.New(l.Lowest, l.Highest, l.Digits)
		rng := rand.New(rand.NewPCG(1, uint64(l.Highest)))
		values := []int64{0, 1, 2, 3, l.Lowest, l.Highest - 1, l.Highest}
		for v := int64(1); v > 0 && v <= l.Highest; v *= 2 { // every bucket's edges
			values = append(values, v-1, v, v+1)
		}
		for range 10000 {
			values = append(values, rng.Int64N(l.Highest+1), int64(rng.ExpFloat64()*float64(l.Highest)/1000))
		}
		for _, v := range values {
			v = min(max(v, 0), l.Highest)
			d.Record(v)
			if err := want.RecordValue(v); err != nil {
				t.Fatalf("%+v: hdrhistogram refuses %d: %v", l, v, err)
			}
		}
		p := d.NewPacked()
		var clamped uint64
		from := 0
		if _, empty := d.DrainInto(p, &clamped, &from, 1<<30); !empty || d.TotalCount() != 0 {
			t.Fatalf("%+v: one drain with the whole budget left %d values", l, d.TotalCount())
		}
		got, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		exp, err := want.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, exp) || p.TotalCount() != want.TotalCount() {
			t.Errorf("%+v: the drained Dense (%d values) encodes unlike hdrhistogram's (%d values)", l, p.TotalCount(), want.TotalCount())
		}
	}
}

// TestDenseClampsAndCounts: values past the ceiling are recorded as the ceiling and
// counted, exactly; negative ones are recorded as 0 and not counted as clamped; a drain
// in small steps moves everything, the clamped count included, and leaves it empty.
func TestDenseClampsAndCounts(t *testing.T) {
	d := hist.NewDense(1, 1000, 3)
	for _, v := range []int64{-5, 0, 1, 999, 1000, 1001, 5000, 1 << 62} {
		d.Record(v)
	}
	if d.TotalCount() != 8 || d.Clamped() != 3 {
		t.Fatalf("total %d clamped %d, want 8 and 3", d.TotalCount(), d.Clamped())
	}
	p := d.NewPacked()
	var clamped uint64
	from, steps := 0, 0
	for empty := false; !empty; steps++ {
		_, empty = d.DrainInto(p, &clamped, &from, 7)
	}
	if clamped != 3 || p.TotalCount() != 8 || p.CountAtValue(1000) != 4 || p.CountAtValue(0) != 2 {
		t.Errorf("drained: clamped %d, %d values, %d at the ceiling, %d at 0; want 3, 8, 4, 2",
			clamped, p.TotalCount(), p.CountAtValue(1000), p.CountAtValue(0))
	}
	if steps < 2 || d.TotalCount() != 0 || d.Clamped() != 0 {
		t.Errorf("after %d steps of 7 buckets the Dense holds %d values, %d clamped", steps, d.TotalCount(), d.Clamped())
	}
	d.Record(5)
	p.Reset()
	clamped, from = 0, 0
	d.DrainInto(p, &clamped, &from, 1<<30)
	if p.TotalCount() != 1 || p.CountAtValue(5) != 1 || clamped != 0 {
		t.Errorf("reused: %d values, want the one 5", p.TotalCount())
	}
}

// TestDenseRecordNIsNRecords: RecordN(v, n) leaves a Dense as n calls of Record(v)
// would, clamps and negative values included: the same encoding, total and clamped count.
func TestDenseRecordNIsNRecords(t *testing.T) {
	a, b := hist.NewDense(1, 1e6, 3), hist.NewDense(1, 1e6, 3)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		v, n := rng.Int64N(3e6)-1000, 1+rng.Int64N(40)
		a.RecordN(v, n)
		for range n {
			b.Record(v)
		}
	}
	if a.TotalCount() != b.TotalCount() || a.Clamped() != b.Clamped() || a.Clamped() == 0 {
		t.Fatalf("RecordN: total %d clamped %d; Records: total %d clamped %d (want equal, some clamped)",
			a.TotalCount(), a.Clamped(), b.TotalCount(), b.Clamped())
	}
	if !bytes.Equal(encodeDense(t, a), encodeDense(t, b)) {
		t.Error("RecordN and Records encode differently")
	}
}

// BenchmarkDenseRecord is the recording cost of the writers' histograms, next to
// hdrhistogram's own RecordValue with the clamp every recorder used to go through.
func BenchmarkDenseRecord(b *testing.B) {
	values := make([]int64, 1024)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range values {
		values[i] = int64(rng.ExpFloat64() * 2000)
	}
	b.Run("dense", func(b *testing.B) {
		d := hist.NewDense(hist.Lowest, hist.Highest, hist.Digits)
		d.Prefault()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			d.Record(values[i&1023])
		}
	})
	b.Run("dense-since-32", func(b *testing.B) { // RecordSince, 32 values a call
		d := hist.NewDense(hist.Lowest, hist.Highest, hist.Digits)
		d.Prefault()
		starts := make([]int64, len(values))
		for i, v := range values {
			starts[i] = 1e9 - v
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i += 32 {
			d.RecordSince(1e9, starts[i&1023:i&1023+32])
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*32), "ns/value")
	})
	b.Run("hdrhistogram-baseline", func(b *testing.B) {
		h := hist.NewLatency()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			hist.Record(h, values[i&1023])
		}
	})
}

// TestDenseRecordSinceIsRecords: RecordSince(now, starts) leaves a Dense as a Record of
// now−t for each t would, negative spans and clamps included, whatever the batch sizes.
func TestDenseRecordSinceIsRecords(t *testing.T) {
	a, b := hist.NewDense(1, 1e6, 3), hist.NewDense(1, 1e6, 3)
	rng := rand.New(rand.NewPCG(5, 6))
	starts := make([]int64, 0, 64)
	for range 500 {
		now := 1e7 + rng.Int64N(1e6)
		starts = starts[:0]
		for range rng.IntN(65) {
			st := now - (rng.Int64N(3e6) - 1000) // some after now, some past the ceiling
			starts = append(starts, st)
			b.Record(now - st)
		}
		a.RecordSince(now, starts)
	}
	if a.TotalCount() != b.TotalCount() || a.Clamped() != b.Clamped() || a.Clamped() == 0 {
		t.Fatalf("RecordSince: total %d clamped %d; Records: total %d clamped %d (want equal, some clamped)",
			a.TotalCount(), a.Clamped(), b.TotalCount(), b.Clamped())
	}
	if !bytes.Equal(encodeDense(t, a), encodeDense(t, b)) {
		t.Error("RecordSince and Records encode differently")
	}
}

// encodeDense drains d into its sparse form and encodes that.
func encodeDense(t *testing.T, d *hist.Dense) []byte {
	t.Helper()
	p := d.NewPacked()
	var clamped uint64
	from := 0
	d.DrainInto(p, &clamped, &from, 1<<30)
	e, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

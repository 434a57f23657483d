package hist_test

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ndisbench/ndisbench/core/hist"
)

// one is the layout of the tests' histograms: values are small interval numbers.
var one = []hist.Layout{{Lowest: 1, Highest: 1000, Digits: 3}}

// collect runs c.Collect(now) and returns the intervals it handed out, as
// [index, start, end, count, clamped] rows.
func collect(c *hist.Collector, now int64) (rows [][5]int64, waiting bool) {
	_, waiting = c.Collect(now, 0, func(p hist.Part) {
		rows = append(rows, [5]int64{int64(p.Index), p.Start, p.End, p.H.TotalCount(), int64(p.Clamped)})
	})
	return rows, waiting
}

// TestWriterStalledAcrossCuts: a writer that stops ticking for several intervals and
// resumes puts what it records then in the interval of its own time, not in the one it
// stopped in nor in the first it finds open; the intervals it missed are empty from
// it, and they have the schedule's starts and lengths. The collector does not wait for
// the stalled writer: it says an interval waits, and nudges it.
func TestWriterStalledAcrossCuts(t *testing.T) {
	c := hist.NewCollector()
	stalled := hist.NewWriter(one, false)
	steady := hist.NewWriter(one, false)
	var nudged atomic.Int32
	c.Add(stalled, 0, func() { nudged.Add(1) })
	c.Add(steady, 0, nil)
	c.SetSchedule(hist.Schedule{Start: 1000, Length: 100, Last: 8})

	stalled.RecordAt(0, 900, 1) // warm-up: discarded
	stalled.RecordAt(0, 1050, 1)
	stalled.RecordAt(0, 1099, 1)
	for now := int64(1000); now <= 1450; now += 10 {
		steady.Tick(now)
		steady.Record(0, 1)
		steady.Step()
	}
	rows, waiting := collect(c, 1460)
	if len(rows) != 0 || !waiting || nudged.Load() == 0 {
		t.Fatalf("with a writer stalled in interval 0: handed out %v, waiting %v, nudged %d; want nothing, waiting, nudged", rows, waiting, nudged.Load())
	}
	// The stalled writer resumes at 1420: interval 4.
	stalled.RecordAt(0, 1420, 1)
	stalled.RecordAt(0, 1430, 1)
	stalled.Step()
	steady.Tick(1500)
	steady.Step()
	stalled.Tick(1500)
	for stalled.Converting() || steady.Converting() {
		stalled.Step()
		steady.Step()
	}
	rows, waiting = collect(c, 1500)
	want := [][5]int64{
		{0, 1000, 1100, 2 + 10, 0},
		{1, 1100, 1200, 10, 0},
		{2, 1200, 1300, 10, 0},
		{3, 1300, 1400, 10, 0},
		{4, 1400, 1500, 2 + 6, 0},
	}
	if waiting || len(rows) != len(want) {
		t.Fatalf("handed out %v (waiting %v), want %v", rows, waiting, want)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("interval %d = %v, want %v", i, rows[i], want[i])
		}
	}
}

// TestCollectorFinal: the run's end closes the interval it falls in there, intervals
// past it are never handed out, a writer's set left active is settled once it closed,
// and the totals are the sum of the intervals: the warm-up is left out.
func TestCollectorFinal(t *testing.T) {
	c := hist.NewCollector()
	w := hist.NewWriter(one, true)
	c.Add(w, 0, nil)
	c.SetSchedule(hist.NewSchedule(1000, 100, 2000)) // intervals 0..9, the last from 1900
	w.RecordAt(0, 500, 7)
	w.RecordAt(0, 1010, 7)
	w.RecordAt(0, 1250, 2000) // clamped
	w.RecordAt(0, 1260, 3)
	w.Close()
	var rows [][5]int64
	c.Final(1275, func(p hist.Part) {
		rows = append(rows, [5]int64{int64(p.Index), p.Start, p.End, p.H.TotalCount(), int64(p.Clamped)})
	})
	want := [][5]int64{{0, 1000, 1100, 1, 0}, {1, 1100, 1200, 0, 0}, {2, 1200, 1275, 2, 1}}
	if len(rows) != len(want) {
		t.Fatalf("Final handed out %v, want %v", rows, want)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("interval %d = %v, want %v", i, rows[i], want[i])
		}
	}
	totals, clamped := c.Totals()
	if totals[0].TotalCount() != 3 || clamped[0] != 1 || totals[0].Max() != 1000 {
		t.Errorf("totals: %d values (max %d), %d clamped; want 3, 1000, 1", totals[0].TotalCount(), totals[0].Max(), clamped[0])
	}
	for _, tc := range []struct {
		start, length, end int64
		last               int
	}{
		{1000, 100, 2000, 9}, // ten intervals, the last from 1900 on
		{1000, 100, 1995, 9}, // the last 95 long, and the drain
		{1000, 100, 1905, 8}, // no interval of 5: the last is 105 long
		{1000, 100, 1050, 0}, // shorter than one length
		{1000, 1e9, 2000, 0}, // a length beyond the run: no cut
	} {
		s := hist.NewSchedule(tc.start, tc.length, tc.end)
		if s.Last != tc.last || s.End(s.Last) != math.MaxInt64 || s.Index(1<<62) != tc.last || s.Index(tc.start-1) != -1 {
			t.Errorf("NewSchedule(%d, %d, %d) = %+v, want the last interval %d", tc.start, tc.length, tc.end, s, tc.last)
		}
	}
}

// TestWriterLosesNothing races an owner that records, ticks and steps as time passes
// against a collector that collects (and asks for cuts out of schedule, as Metrics
// does) until the owner closes: every value is handed out exactly once, in the interval
// of its time (each value is its interval's number plus one, so a misplaced one shows).
func TestWriterLosesNothing(t *testing.T) {
	const n = 200000
	sched := hist.Schedule{Start: 0, Length: 1000, Last: 150}
	c := hist.NewCollector()
	w := hist.NewWriter(one, true)
	c.Add(w, 0, nil)
	c.SetSchedule(sched)
	var now atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer w.Close()
		for i := int64(0); i < n; i++ {
			at := i * 3 / 4 // 150 intervals of 1333 values
			now.Store(at)
			if i%7 == 0 {
				w.RecordAt(0, at, int64(sched.Index(at))+1)
			} else {
				w.Tick(at).Record(0, int64(sched.Index(at))+1)
			}
			if i%3 == 0 {
				w.Step()
			}
		}
	}()
	got := map[int]int64{}
	check := func(p hist.Part) {
		h := p.H
		if h.TotalCount() != 0 && (h.Min() != int64(p.Index)+1 || h.Max() != int64(p.Index)+1) {
			t.Errorf("interval %d holds values %d..%d, want only %d", p.Index, h.Min(), h.Max(), p.Index+1)
		}
		got[p.Index] += h.TotalCount()
	}
	for i := 0; !w.Closed(); i++ {
		if i%50 == 0 {
			c.Flush(now.Load(), runtime.Gosched)
		}
		c.Collect(now.Load(), 1, check) // one part at a time
		runtime.Gosched()
	}
	wg.Wait()
	c.Final(n*3/4, check)
	var sum int64
	for k, v := range got {
		sum += v
		if want := int64(1333); k < 149 && v != want && v != want+1 {
			t.Errorf("interval %d holds %d values, want about %d", k, v, want)
		}
	}
	totals, _ := c.Totals()
	if sum != n || totals[0].TotalCount() != n {
		t.Errorf("intervals hold %d values, totals %d; want %d", sum, totals[0].TotalCount(), n)
	}
}

// TestWriterSetOutlivesItsCut: the set Tick returned stays its owner's to record into
// for the rest of the piece of work in hand, even when a later Tick of that piece (a
// packet indicated past the cut: Platform.Interval) retired it, and even when it was
// empty then (a DPC called again for more, which records nothing before it indicates).
// What goes into it counts in its interval, where the piece of work began: handed out
// with that interval, once, and not left over for a second Final (Metrics after the
// run's last collection) to put into the totals alone.
func TestWriterSetOutlivesItsCut(t *testing.T) {
	c := hist.NewCollector()
	w := hist.NewWriter(one, true)
	c.Add(w, 0, nil)
	c.SetSchedule(hist.Schedule{Start: 1000, Length: 100, Last: 3}) // the last from 1300
	w.RecordAt(0, 1050, 1)
	w.Step()
	set := w.Tick(1250) // a piece of work begins in interval 2, which holds nothing yet
	for w.Converting() {
		w.Step()
	}
	w.RecordAt(0, 1310, 4) // it indicates a packet past the last cut
	set.Record(0, 3)       // and records what it measured of itself: interval 2's
	set.Record(0, 3)
	w.Step()
	w.Close()
	got := map[int]int64{}
	var sum int64
	emit := func(p hist.Part) {
		got[p.Index] += p.H.TotalCount()
		sum += p.H.TotalCount()
		if p.H.TotalCount() != 0 && (p.H.Min() != int64(p.Index)+1 || p.H.Max() != int64(p.Index)+1) {
			t.Errorf("interval %d holds values %d..%d, want only %d", p.Index, p.H.Min(), p.H.Max(), p.Index+1)
		}
	}
	c.Final(1400, emit)
	c.Final(1400, emit) // as Platform.Metrics does after the run's last collection
	totals, _ := c.Totals()
	if want := map[int]int64{0: 1, 2: 2, 3: 1}; sum != 4 || got[0] != want[0] || got[2] != want[2] || got[3] != want[3] {
		t.Errorf("intervals hold %v (%d values), want %v", got, sum, want)
	}
	if totals[0].TotalCount() != sum {
		t.Errorf("totals hold %d values, the intervals %d", totals[0].TotalCount(), sum)
	}
}

package core_test

import (
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/hist"
)

// fakeTime is a clock the test sets: Now is what it was set to, Spin moves it on. With
// it, when a piece of work begins is the test's choice, and interval boundaries and
// lengths are exact.
type fakeTime struct{ t atomic.Int64 }

func (f *fakeTime) Now() int64           { return f.t.Load() }
func (f *fakeTime) Spin(d time.Duration) { f.t.Add(int64(d)) }
func (f *fakeTime) set(t int64)          { f.t.Store(t) }

// startCut builds a platform on a fake clock at 0, cut on s, and starts it. Its vCPUs
// never park (the clock stands still while they spin): GOMAXPROCS makes room for the
// test's goroutine beside them.
func startCut(t *testing.T, cfg core.PlatformConfig, s hist.Schedule) (*core.Platform, *fakeTime) {
	t.Helper()
	ft := &fakeTime{}
	cfg.Clock, cfg.NoPin = core.ClockOf(ft), true
	p, err := core.NewPlatform(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetIntervals(s); err != nil {
		t.Fatal(err)
	}
	prev := runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), cfg.VCPUs+2))
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(); runtime.GOMAXPROCS(prev) })
	return p, ft
}

// row is what a test checks of an interval: when it begins and ends, and how many values
// some histograms hold.
type row struct {
	start, end int64
	counts     string
}

// collector returns a CollectIntervals callback that appends a row per interval, with
// the counts of names, and checks that intervals come in order, each whole, its
// histograms in name order.
func collector(t *testing.T, p *core.Platform, rows *[]row, names ...string) func(core.IntervalPart) {
	all := p.IntervalNames()
	if !slices.IsSorted(all) || len(all) != 7+len(p.Config().Hists)+1 {
		t.Errorf("IntervalNames = %q: want every histogram, in name order", all)
	}
	counts, n := map[string]int64{}, 0
	return func(pt core.IntervalPart) {
		if pt.Index != len(*rows) || pt.Name != all[n] || pt.Last != (n == len(all)-1) {
			t.Errorf("part %s (last %v) of interval %d after %d intervals and %d parts", pt.Name, pt.Last, pt.Index, len(*rows), n)
		}
		counts[pt.Name] = pt.Hist.TotalCount()
		if n++; !pt.Last {
			return
		}
		r := row{start: pt.Start, end: pt.End}
		for _, name := range names {
			r.counts += " " + name + "=" + strconv.FormatInt(counts[name], 10)
		}
		*rows = append(*rows, r)
		n = 0
	}
}

// TestIntervalsAreCutByTime: the warm-up and the intervals are cut at the schedule's
// fixed times, each DPC counts in the interval its start falls in, intervals in which
// nothing ran are empty with their true starts and lengths, the last one ends when the
// platform stopped, and the intervals add up to Metrics, which leaves the warm-up out;
// counters keep the whole run.
func TestIntervalsAreCutByTime(t *testing.T) {
	p, ft := startCut(t, core.PlatformConfig{VCPUs: 2, Idle: core.IdleSpinPark, Hists: []string{"extra"}},
		hist.Schedule{Start: 1000, Length: 1000, Last: 4})
	extra, _ := p.HistID("extra")
	ix := mustRegister(t, p, nil, lineChars(
		func(any) core.ISRResult { return core.ISRResult{Recognized: true} },
		func(_ any, c *core.DPCCall) { p.Record(c.CPU, extra, 42) }), nil)
	dpcs := func(n int, at int64) {
		ft.set(at)
		for i := 0; i < n; i++ {
			ix.QueueDPC(0, core.CPUs(i%2), nil)
			waitFor(t, "the DPC to run", p.Idle)
		}
	}
	dpcs(3, 500) // warm-up
	dpcs(2, 1500)
	dpcs(5, 4200) // after two intervals with nothing
	dpcs(1, 6000) // the last interval: from 5000 on
	var rows []row
	collect := collector(t, p, &rows, "dpc_duration", "extra", "isr_to_dpc")
	waitFor(t, "the four intervals that ended", func() bool {
		p.CollectIntervals(1, collect) // a part at a time
		return len(rows) == 4
	})
	ft.set(6500)
	p.Stop()
	p.CollectIntervals(1, collect) // no budget once stopped
	want := []row{
		{1000, 2000, " dpc_duration=2 extra=2 isr_to_dpc=2"},
		{2000, 3000, " dpc_duration=0 extra=0 isr_to_dpc=0"},
		{3000, 4000, " dpc_duration=0 extra=0 isr_to_dpc=0"},
		{4000, 5000, " dpc_duration=5 extra=5 isr_to_dpc=5"},
		{5000, 6500, " dpc_duration=1 extra=1 isr_to_dpc=1"},
	}
	if len(rows) != len(want) {
		t.Fatalf("intervals %v, want %v", rows, want)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("interval %d = %v, want %v", i, rows[i], want[i])
		}
	}
	m := p.Metrics()
	if c := m.Hist("dpc_duration").TotalCount(); c != 8 {
		t.Errorf("Metrics dpc_duration = %d values, want the 8 after the warm-up", c)
	}
	if h := m.Hist("extra"); h.TotalCount() != 8 || h.Max() != 42 {
		t.Errorf("Metrics extra = %d values (max %d), want 8 of 42", h.TotalCount(), h.Max())
	}
	if got := m.Counters["dpcs"]; got != 11 {
		t.Errorf("dpcs counter = %d, want 11: counters cover the whole run", got)
	}
}

// TestDPCSpanningTheWarmupCut: a DPC that begins in the warm-up and runs past the cut
// delays nothing and empties nothing. The collector does not wait for it (it says an
// interval waits, and hands nothing out early); what it measures of itself counts where
// it began (the warm-up: discarded); what it records with a time of its own counts
// there (a packet indicated after the cut, in interval 0); and what the other vCPU ran
// after the cut is all in interval 0.
func TestDPCSpanningTheWarmupCut(t *testing.T) {
	p, ft := startCut(t, core.PlatformConfig{VCPUs: 2, Idle: core.IdleSpinPark, Hists: []string{"pkt"}},
		hist.Schedule{Start: 1000, Length: 1000, Last: 3})
	pkt, _ := p.HistID("pkt")
	started, release := make(chan struct{}), make(chan struct{})
	var others atomic.Int32
	ix := mustRegister(t, p, nil, lineChars(
		func(any) core.ISRResult { return core.ISRResult{Recognized: true} },
		func(_ any, c *core.DPCCall) {
			if c.CPU == 0 {
				p.RecordAt(0, pkt, 900, 1) // a packet before the cut
				close(started)
				<-release
				p.RecordAt(0, pkt, 1600, 1) // one after it
				return
			}
			p.RecordAt(c.CPU, pkt, ft.Now(), 1)
			others.Add(1)
		}), nil)
	ft.set(900)
	ix.QueueDPC(0, core.CPUs(0), nil)
	<-started
	ft.set(1500)
	ix.QueueDPC(0, core.CPUs(1), nil)
	waitFor(t, "the first DPC on vCPU 1", func() bool { return others.Load() == 1 })
	ix.QueueDPC(0, core.CPUs(1), nil)
	waitFor(t, "the second DPC on vCPU 1", func() bool { return others.Load() == 2 })
	ft.set(2500)
	var rows []row
	collect := collector(t, p, &rows, "pkt", "dpc_duration", "isr_to_dpc")
	returned := make(chan bool)
	go func() {
		_, waiting := p.CollectIntervals(0, collect)
		returned <- waiting
	}()
	select {
	case waiting := <-returned:
		if !waiting || len(rows) != 0 {
			t.Errorf("with vCPU 0 in its DPC: waiting %v, intervals %v; want waiting and none", waiting, rows)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("CollectIntervals waits for a DPC in progress")
	}
	close(release)
	waitFor(t, "interval 0", func() bool {
		p.CollectIntervals(0, collect)
		return len(rows) == 1
	})
	if want := (row{1000, 2000, " pkt=3 dpc_duration=2 isr_to_dpc=2"}); rows[0] != want {
		t.Errorf("interval 0 = %v, want %v", rows[0], want)
	}
	p.Stop()
	m := p.Metrics()
	if got := m.Hist("pkt").TotalCount(); got != 3 {
		t.Errorf("pkt = %d values, want 3: the one before the cut is the warm-up's", got)
	}
	if got := m.Hist("dpc_duration").TotalCount(); got != 2 {
		t.Errorf("dpc_duration = %d values, want 2: the long DPC began in the warm-up", got)
	}
}

// TestRequeuedDPCRecordingPastTheLastCut: a DPC called again for more (R8) records
// nothing before it indicates; when its packet's time is past the last cut, what the
// framework then records of the call (its duration, its batch size) counts in the
// interval the call began in, and the intervals handed out still add up to Metrics,
// value for value: nothing is left over for Metrics alone after the last collection.
func TestRequeuedDPCRecordingPastTheLastCut(t *testing.T) {
	p, ft := startCut(t, core.PlatformConfig{VCPUs: 1, Idle: core.IdleSpinPark, Hists: []string{"pkt"}},
		hist.Schedule{Start: 1000, Length: 1000, Last: 2}) // the last interval from 3000
	pkt, _ := p.HistID("pkt")
	var calls atomic.Int32
	ix := mustRegister(t, p, nil, lineChars(
		func(any) core.ISRResult { return core.ISRResult{Recognized: true} },
		func(_ any, c *core.DPCCall) {
			if calls.Add(1) == 1 {
				ft.set(2500) // the call runs past the first cut and stops for more
				c.Throttle.MorePending = true
				return
			}
			ft.set(3500)                // called again at 2500, in interval 1
			p.RecordAt(0, pkt, 3500, 1) // a packet indicated past the last cut
		}), nil)
	ft.set(1500)
	ix.QueueDPC(0, core.CPUs(0), nil)
	waitFor(t, "the DPC's two calls", func() bool { return calls.Load() == 2 && p.Idle() })
	ft.set(4000)
	p.Stop()
	sums := map[string]int64{}
	perInterval := map[string][3]int64{}
	p.CollectIntervals(0, func(pt core.IntervalPart) {
		sums[pt.Name] += pt.Hist.TotalCount()
		c := perInterval[pt.Name]
		c[pt.Index] += pt.Hist.TotalCount()
		perInterval[pt.Name] = c
	})
	m := p.Metrics()
	for name, h := range m.Hists {
		if sums[name] != h.TotalCount() {
			t.Errorf("%s: intervals hold %d values, Metrics %d", name, sums[name], h.TotalCount())
		}
	}
	for name, want := range map[string][3]int64{"dpc_duration": {1, 1, 0}, "dpc_batch_size": {1, 1, 0}, "pkt": {0, 0, 1}} {
		if got := perInterval[name]; got != want {
			t.Errorf("%s by interval = %v, want %v: each call where it began, the packet where it was indicated", name, got, want)
		}
	}
}

// TestLoopGapsCountTheMeasuredWindow: a vCPU's longest gap between two turns of its
// loop is exact on a clock that jumps, only its part after the warm-up counts, and a
// DPC's own run, however long, is no gap.
func TestLoopGapsCountTheMeasuredWindow(t *testing.T) {
	p, ft := startCut(t, core.PlatformConfig{VCPUs: 1, Idle: core.IdleSpinPark}, hist.Schedule{Start: 3000, Length: 1e6, Last: 1})
	var ran atomic.Int32
	var work atomic.Int64
	ix := mustRegister(t, p, nil, lineChars(
		func(any) core.ISRResult { return core.ISRResult{Recognized: true} },
		func(any, *core.DPCCall) {
			p.Clock().Spin(time.Duration(work.Load()))
			ran.Add(1)
		}), nil)
	turnAt := func(at int64) {
		ft.set(at)
		n := ran.Load()
		ix.QueueDPC(0, core.CPUs(0), nil)
		waitFor(t, "a turn", func() bool { return ran.Load() > n })
	}
	turnAt(1000)
	turnAt(1000)
	if g := p.LoopGaps(); g[0] != 0 {
		t.Fatalf("LoopGaps = %v in the warm-up, want 0", g)
	}
	turnAt(5000) // a gap of 4000, 2000 of it measured
	turnAt(5500)
	work.Store(50000)
	turnAt(6000) // a DPC from 6000 to 56000
	work.Store(0)
	turnAt(57000) // 1000 after it
	if g := p.LoopGaps(); len(g) != 1 || g[0] != 2000 {
		t.Errorf("LoopGaps = %v, want [2000]", g)
	}
	if m := p.Metrics(); m.Hist("dpc_duration").Max() < 50000 {
		t.Errorf("dpc_duration max %d, want the 50000 DPC", m.Hist("dpc_duration").Max())
	}
}

// TestClampedValuesAreCounted: values beyond a histogram's ceiling are recorded as the
// ceiling and counted, per histogram, exactly; Metrics reports only histograms that had
// any.
func TestClampedValuesAreCounted(t *testing.T) {
	p := newPlatform(t, core.PlatformConfig{VCPUs: 2, NoPin: true, Idle: core.IdleSpinPark, Hists: []string{"extra"}})
	extra, _ := p.HistID("extra")
	var n atomic.Int32
	ix := mustRegister(t, p, nil, lineChars(
		func(any) core.ISRResult { return core.ISRResult{Recognized: true} },
		func(_ any, c *core.DPCCall) {
			if n.Add(1) <= 3 {
				p.Record(c.CPU, extra, 20e9) // 20 s: past the 10 s ceiling
			}
			p.Record(c.CPU, extra, 5)
		}), nil)
	for i := 0; i < 5; i++ {
		ix.QueueDPC(0, core.CPUs(i%2), nil)
		waitFor(t, "the DPC to run", p.Idle)
	}
	m := p.Metrics() // while running: a cut out of schedule
	if len(m.Clamped) != 1 || m.Clamped["extra"] != 3 {
		t.Errorf("Clamped = %v, want extra: 3", m.Clamped)
	}
	if h := m.Hist("extra"); h.TotalCount() != 8 || h.Max() < int64(hist.Highest) {
		t.Errorf("extra: %d values, max %d; want 8, the ceiling", h.TotalCount(), h.Max())
	}
}

// TestPlatformHistsValidated: extra histogram names must be new and non-empty.
func TestPlatformHistsValidated(t *testing.T) {
	for _, names := range [][]string{{""}, {"dpc_duration"}, {"isr_to_dpc"}, {"a", "a"}} {
		if _, err := core.NewPlatform(core.PlatformConfig{VCPUs: 1, NoPin: true, Hists: names}); err == nil {
			t.Errorf("Hists %q accepted", names)
		}
		p, err := core.NewPlatform(core.PlatformConfig{VCPUs: 1, NoPin: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.AddWriter(names...); err == nil {
			t.Errorf("AddWriter(%q) accepted", names)
		}
	}
}

// TestMetricsOfAPlatformThatNeverRan: a platform stopped before it started reports what
// was recorded on it from its owner's goroutine, and does not wait for vCPU threads that
// never ran.
func TestMetricsOfAPlatformThatNeverRan(t *testing.T) {
	p, err := core.NewPlatform(core.PlatformConfig{VCPUs: 2, NoPin: true, Hists: []string{"extra"}})
	if err != nil {
		t.Fatal(err)
	}
	extra, _ := p.HistID("extra")
	p.Record(1, extra, 42)
	p.Stop()
	done := make(chan *core.Metrics)
	go func() { done <- p.Metrics() }()
	select {
	case m := <-done:
		if h := m.Hist("extra"); h.TotalCount() != 1 || h.Max() != 42 {
			t.Errorf("extra = %d values, max %d; want the one 42 recorded before Start", h.TotalCount(), h.Max())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Metrics of a platform that never ran does not return")
	}
}

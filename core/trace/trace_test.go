package trace_test

import (
	"bytes"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/trace"
)

func newRecorder(t testing.TB, cfg trace.Config) *trace.Recorder {
	t.Helper()
	r, err := trace.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(20 * time.Microsecond)
	}
}

func msiChars(isr core.MessageISRFunc, dpc core.MessageDPCFunc) core.InterruptCharacteristics {
	return core.InterruptCharacteristics{
		ISR:          func(any) core.ISRResult { return core.ISRResult{} },
		DPC:          func(any, *core.DPCCall) {},
		Disable:      func(any) {},
		Enable:       func(any) {},
		MSISupported: true, MessageISR: isr, MessageDPC: dpc,
		DisableMessage: func(any, core.MessageID) {}, EnableMessage: func(any, core.MessageID) {},
	}
}

// runPlatform runs n interrupts through a two-vCPU MSI-X platform observed by r: message
// 0's ISR targets both CPUs, message 1's queues its default DPC, which queues one on the
// other CPU with QueueDPC; every DPC is throttled to 2 NBLs and has 3 to indicate, so
// each asks to be called again once (R8). Then a QueueDPC and a re-enable come from an
// ordinary goroutine. It returns the platform's counters, the platform stopped.
func runPlatform(t *testing.T, r *trace.Recorder, n int) map[string]uint64 {
	t.Helper()
	p, err := core.NewPlatform(core.PlatformConfig{VCPUs: 2, NoPin: true, MSI: core.MSIX, MaxNBLs: 2,
		Spin: 5 * time.Microsecond, Observer: r})
	if err != nil {
		t.Fatal(err)
	}
	var outstanding [2]atomic.Int32 // per message: DPCs of the open batch
	var todo [2][2]atomic.Int32     // per message and CPU: NBLs its DPC must indicate
	var ix *core.Interrupt
	ix, err = p.RegisterInterrupt(nil, msiChars(
		func(_ any, msg core.MessageID) core.ISRResult {
			outstanding[msg].Store(2)
			todo[msg][0].Store(3)
			todo[msg][1].Store(3)
			ix.DeviceMasked(msg, true)
			if msg == 0 {
				return core.ISRResult{Recognized: true, TargetCPUs: core.CPUs(0, 1)}
			}
			return core.ISRResult{Recognized: true, QueueDefaultDPC: true}
		},
		func(ctx any, msg core.MessageID, c *core.DPCCall) {
			if msg == 1 && ctx == nil && todo[msg][c.CPU].Load() == 3 {
				c.QueueDPC(msg, core.CPUs(1-c.CPU), "fan-out")
			}
			left := &todo[msg][c.CPU]
			k := min(int(left.Load()), c.Throttle.MaxNBLs)
			c.Indicate(make([]core.NBL, k))
			if left.Add(-int32(k)) > 0 {
				c.Throttle.MorePending = true
				return
			}
			if outstanding[msg].Add(-1) == 0 {
				c.Interrupt().DeviceMasked(msg, false)
			}
		}), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Begin(p.Clock().Now())
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	table := ix.MessageTable()
	for i := 0; i < n; i++ {
		p.Raise(table[i%2].Vector)
		waitFor(t, "the batch", func() bool { return p.Counter(core.CtrBatches) == uint64(i+1) })
	}
	waitFor(t, "idle", p.Idle)
	outstanding[0].Store(1)
	todo[0][1].Store(1)
	dpcs := p.Counter(core.CtrDPCs)
	ix.QueueDPC(0, core.CPUs(1), "outside")
	waitFor(t, "the outside DPC", func() bool { return p.Counter(core.CtrDPCs) == dpcs+1 })
	waitFor(t, "idle", p.Idle)
	ix.DeviceMasked(0, true) // masked and re-enabled by an ordinary goroutine
	ix.DeviceMasked(0, false)
	p.Stop()
	ix.Deregister()
	r.SetCPUs([]int{-1, -1}, -1)
	return p.Metrics().Counters
}

func writeTrace(t *testing.T, r *trace.Recorder) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := r.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d bytes", n, err, buf.Len())
	}
	return buf.Bytes()
}

// TestTraceOfAPlatform: a window that covers the whole run holds a slice for every ISR
// and DPC call the platform counted, an instant for every raise, an async slice for
// every batch and an arrow into every DPC call; the trace is well-formed.
func TestTraceOfAPlatform(t *testing.T) {
	const n = 200
	r := newRecorder(t, trace.Config{VCPUs: 2, Window: time.Hour, Capacity: 1 << 16, Name: "test", Throttle: 2, Budget: time.Second})
	c := runPlatform(t, r, n)
	s := mustCheck(t, writeTrace(t, r))
	for _, chk := range []struct {
		what      string
		got, want int
	}{
		{"DPC slices vs the dpcs counter", s.Slices["DPC"], int(c["dpcs"])},
		{"ISR slices vs isr_calls", s.Slices["ISR"], int(c["isr_calls"])},
		{"raised instants vs interrupts", s.Instants["raised"], int(c["interrupts"])},
		{"async batches vs batches", s.Batches, int(c["batches"])},
		{"enabled instants", s.Instants["enabled"], int(c["batches"]) + 1}, // the last closed no batch
		{"arrows into DPC calls", s.Flows, int(c["dpcs"])},
		{"queueings outside any ISR or DPC", s.Slices["QueueDPC"], 1},
		{"metadata dpc_slices", s.metaInt(t, "dpc_slices"), int(c["dpcs"])},
		{"metadata dpcs_started_in_window", s.metaInt(t, "dpcs_started_in_window"), int(c["dpcs"])},
		{"metadata events_overflow", s.metaInt(t, "events_overflow"), 0},
		{"metadata events_in_window vs kept", s.metaInt(t, "events_in_window"), s.metaInt(t, "events_kept")},
	} {
		if chk.got != chk.want {
			t.Errorf("%s: %d, want %d", chk.what, chk.got, chk.want)
		}
	}
	if c["dpcs"] < 4*n || c["requeues"] == 0 {
		t.Fatalf("the run did not exercise fan-out and requeues: %v", c)
	}
	if s.Threads[1] != "vCPU 0 (unpinned)" || s.Threads[3] != "generator" || s.Threads[4] != "outside any vCPU" {
		t.Errorf("thread names %v", s.Threads)
	}
	if got := s.PerThread[1]["DPC"] + s.PerThread[2]["DPC"]; got != s.Slices["DPC"] {
		t.Errorf("DPC slices on the vCPUs' threads: %d of %d", got, s.Slices["DPC"])
	}
}

// TestTraceCountsWhatDoesNotFit: buffers too small for the window keep what fits, count
// the rest, and the trace says it is incomplete; it stays well-formed (an ISR or DPC
// whose start did not fit leaves no half slice, an arrow no loose end).
func TestTraceCountsWhatDoesNotFit(t *testing.T) {
	const capacity = 50
	r := newRecorder(t, trace.Config{VCPUs: 2, Window: time.Hour, Capacity: capacity})
	c := runPlatform(t, r, 100)
	s := mustCheck(t, writeTrace(t, r))
	st := r.Stats()
	if st.Overflow == 0 || s.Metadata["complete"] != false || st.Kept > 3*capacity {
		t.Fatalf("stats %+v, complete %v: want an overflow, at most %d kept", st, s.Metadata["complete"], 3*capacity)
	}
	if st.Told != st.Kept+st.Overflow || s.metaInt(t, "events_overflow") != int(st.Overflow) {
		t.Errorf("told %d, kept %d, overflow %d (metadata %v)", st.Told, st.Kept, st.Overflow, s.Metadata["events_overflow"])
	}
	if st.DPCs != c["dpcs"] || s.Slices["DPC"] >= int(c["dpcs"]) {
		t.Errorf("DPCs started in the window %d, slices %d, counter %d", st.DPCs, s.Slices["DPC"], c["dpcs"])
	}
}

// cycle tells r of one interrupt on cpu from t: raise, ISR queueing a DPC on cpu, the
// DPC, its re-enable and the batch, d long. Every event is within 8 ns of t.
func cycle(r *trace.Recorder, cpu int, t, d int64) {
	for _, e := range []core.Event{
		{Kind: core.EventRaised, Time: t, Vector: 3},
		{Kind: core.EventISRStart, Time: t + 1, Vector: 3},
		{Kind: core.EventDPCQueued, Time: t + 2, Target: cpu, By: cpu},
		{Kind: core.EventISREnd, Time: t + 2, Result: core.ISRResult{Recognized: true, QueueDefaultDPC: true}},
		{Kind: core.EventDPCStart, Time: t + 3, By: cpu, Queued: t + 2},
		{Kind: core.EventEnabled, Time: t + 4},
		{Kind: core.EventBatchEnd, Time: t + 4, Duration: d},
		{Kind: core.EventDPCEnd, Time: t + 5, Indicated: 1},
	} {
		e.CPU = cpu
		r.Observe(e)
	}
}

// TestTraceKeepsItsWindow: AtStart keeps the events from Begin for Window, the slice
// that straddles its end whole, nothing of one that began before it.
func TestTraceKeepsItsWindow(t *testing.T) {
	const from, window = 1_000_000, int64(time.Millisecond)
	r := newRecorder(t, trace.Config{VCPUs: 1, Window: time.Duration(window), Capacity: 1000})
	r.Observe(core.Event{Kind: core.EventISRStart, Time: 5}) // before Begin: ignored
	r.Begin(from)
	r.Observe(core.Event{Kind: core.EventDPCStart, Time: from - 1}) // before the window
	r.Observe(core.Event{Kind: core.EventDPCEnd, Time: from + 1})   // its end: dropped
	for t0 := int64(from); t0 < from+window; t0 += 10_000 {
		cycle(r, 0, t0, 4)
	}
	r.Observe(core.Event{Kind: core.EventDPCStart, Time: from + window - 1})
	r.Observe(core.Event{Kind: core.EventDPCEnd, Time: from + window + 50}) // straddles: kept
	cycle(r, 0, from+window, 4)                                             // after: dropped
	r.GeneratorWrote(from+10, 3)
	r.GeneratorWrote(from+999, 2) // the same microsecond
	r.GeneratorWrote(from+5000, 1)
	r.GeneratorWrote(from+window, 9) // after
	st := r.Stats()
	if want := uint64(100*8 + 2); st.Told != want || st.Kept != want || st.DPCs != 101 || st.Packets != 6 {
		t.Fatalf("stats %+v: want %d events told and kept, 101 DPCs, 6 packets", st, want)
	}
	if st.From != from || st.To != from+window {
		t.Errorf("window [%d, %d), want [%d, %d)", st.From, st.To, from, from+window)
	}
	s := mustCheck(t, writeTrace(t, r))
	if s.Slices["DPC"] != 101 || s.Slices["ISR"] != 100 || s.Flows != 100 || s.Batches != 100 {
		t.Errorf("slices %v, %d flows, %d batches", s.Slices, s.Flows, s.Batches)
	}
	// 5 in the first microsecond, back to 0; 1 in the sixth, back to 0.
	if s.Counters != 4 {
		t.Errorf("%d counter samples, want 4", s.Counters)
	}
}

// TestTraceAtWorst: AtWorst keeps the chunk of the longest batch and its neighbours, on
// every vCPU, however much came after it.
func TestTraceAtWorst(t *testing.T) {
	const from, chunk = 1_000_000, int64(100 * time.Microsecond)
	r := newRecorder(t, trace.Config{VCPUs: 2, At: trace.AtWorst, Window: 3 * time.Duration(chunk), Capacity: 3000})
	r.Begin(from)
	worstAt := int64(from + 37*chunk + 40_000)
	for t0 := int64(from); t0 < from+200*chunk; t0 += 10_000 {
		for cpu := 0; cpu < 2; cpu++ {
			d := int64(1000 + t0%7919) // below 9000 ns
			if cpu == 1 && t0 == worstAt {
				d = 50_000
			}
			cycle(r, cpu, t0+int64(cpu)*100, d)
		}
	}
	st := r.Stats()
	if st.WorstBatch != 50_000 || st.WorstEnd != worstAt+100+4 {
		t.Fatalf("worst batch %v at %d, want 50µs at %d", st.WorstBatch, st.WorstEnd, worstAt+104)
	}
	if st.From != from+36*chunk || st.To != from+39*chunk {
		t.Errorf("window [%d, %d), want chunks 36..38: [%d, %d)", st.From, st.To, from+36*chunk, from+39*chunk)
	}
	cycles := 3 * chunk / 10_000 * 2 // in the window, on two vCPUs
	if st.Kept != uint64(cycles*8) || st.Lost != 0 || st.Overflow != 0 || st.DPCs != uint64(cycles) {
		t.Errorf("stats %+v: want %d events kept, %d DPCs", st, cycles*8, cycles)
	}
	s := mustCheck(t, writeTrace(t, r))
	if s.Slices["DPC"] != int(cycles) || s.metaInt(t, "worst_batch_ns") != 50_000 {
		t.Errorf("%d DPC slices (want %d), worst %v", s.Slices["DPC"], cycles, s.Metadata["worst_batch_ns"])
	}
}

// TestTraceAtWorstWithoutBatches: no batch, no window: the trace says so, empty.
func TestTraceAtWorstWithoutBatches(t *testing.T) {
	r := newRecorder(t, trace.Config{VCPUs: 1, At: trace.AtWorst, Window: time.Millisecond, Capacity: 10})
	r.Begin(100)
	r.Observe(core.Event{Kind: core.EventISRStart, Time: 200})
	r.Observe(core.Event{Kind: core.EventISREnd, Time: 300})
	s := mustCheck(t, writeTrace(t, r))
	if len(s.Slices) != 0 || s.metaInt(t, "events_in_window") != 0 {
		t.Errorf("slices %v, metadata %v", s.Slices, s.Metadata)
	}
}

// TestObserveAllocatesNothing: recording an event, in either mode and across chunks,
// allocates nothing.
func TestObserveAllocatesNothing(t *testing.T) {
	for _, at := range []trace.At{trace.AtStart, trace.AtWorst} {
		r := newRecorder(t, trace.Config{VCPUs: 1, At: at, Window: time.Millisecond, Capacity: 1 << 12})
		r.Begin(0)
		ix := new(core.Interrupt)
		t0 := int64(0)
		allocs := testing.AllocsPerRun(2000, func() {
			cycle(r, 0, t0, t0%5000)
			r.Observe(core.Event{Kind: core.EventRaised, Time: t0, CPU: 0, Interrupt: ix})
			r.Observe(core.Event{Kind: core.EventDPCQueued, Time: t0, CPU: -1, Interrupt: ix, By: -1})
			r.GeneratorWrote(t0, 1)
			t0 += 997
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations per run", at, allocs)
		}
	}
}

func TestNewRefusesBadConfigs(t *testing.T) {
	for _, cfg := range []trace.Config{
		{VCPUs: 0, Window: time.Millisecond, Capacity: 1},        // no vCPU
		{VCPUs: 1, Window: time.Microsecond, Capacity: 1},        // window too short
		{VCPUs: 1, Window: time.Millisecond, Capacity: 0},        // no room
		{VCPUs: 1, Window: time.Millisecond, Capacity: 1, At: 7}, // unknown At
	} {
		if _, err := trace.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestParseAt(t *testing.T) {
	for _, a := range []trace.At{trace.AtStart, trace.AtWorst} {
		if got, err := trace.ParseAt(a.String()); err != nil || got != a {
			t.Errorf("ParseAt(%q) = %v, %v", a, got, err)
		}
	}
	if _, err := trace.ParseAt("middle"); err == nil {
		t.Error("ParseAt(middle) accepted")
	}
}

package harness_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/core/trace"
	"github.com/ndisbench/ndisbench/core/trace/tracetest"
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/results/metric"
)

// runTraced runs sc with a trace, and returns the report and the trace checked.
func runTraced(t *testing.T, sc scenario.Scenario) (*harness.Report, *trace.Recorder, tracetest.Summary) {
	t.Helper()
	sc = sc.WithDefaults()
	rec, err := harness.NewTrace(sc, "traced")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := harness.Run(context.Background(), sc, harness.Options{Trace: rec, SendAll: true})
	if rep == nil || err != nil {
		t.Fatalf("Run: %v", err)
	}
	var buf bytes.Buffer
	if _, err := rec.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	s, err := tracetest.Check(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return rep, rec, s
}

func metaInt(t *testing.T, s tracetest.Summary, key string) int {
	t.Helper()
	n, err := s.MetaInt(key)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRunTraceCoversTheRun: with no warm-up and a window longer than the run, the trace
// holds a slice for every ISR and DPC call the run counted, an arrow into every DPC
// call, and every packet the generator sent; in every delivery mode.
func TestRunTraceCoversTheRun(t *testing.T) {
	for _, mode := range []nicmodel.Mode{nicmodel.ModeMSIX, nicmodel.ModeMSI, nicmodel.ModeLine} {
		t.Run(mode.String(), func(t *testing.T) {
			sc := testScenario(mode)
			sc.Warmup, sc.TraceWindow, sc.TraceEvents = 0, 10*time.Second, 1<<20
			sc.Schedule.RatePPS = 50e3
			rep, rec, s := runTraced(t, sc)
			c := rep.Counters
			st := rec.Stats()
			for _, chk := range []struct {
				what      string
				got, want uint64
			}{
				{"DPC slices vs dpcs", uint64(s.Slices["DPC"]), c[metric.DPCs]},
				{"ISR slices vs isr_calls", uint64(s.Slices["ISR"]), c[metric.ISRCalls]},
				{"arrows into DPC calls", uint64(s.Flows), c[metric.DPCs]},
				{"DPCs started in the window", st.DPCs, c[metric.DPCs]},
				{"packets sent", st.Packets, c["generated"]},
				{"events that did not fit", st.Overflow, 0},
			} {
				if chk.got != chk.want {
					t.Errorf("%s: %d, want %d", chk.what, chk.got, chk.want)
				}
			}
			if c[metric.DPCs] == 0 || s.Counters == 0 || s.Threads[rep.Scenario.VCPUs+1] == "" {
				t.Errorf("dpcs %d, %d generator samples, threads %v", c[metric.DPCs], s.Counters, s.Threads)
			}
		})
	}
}

// TestRunTraceDefaultWindow: the default window is the first 50 ms after the warm-up:
// every DPC slice starts in it, and there are as many as DPC calls started in it.
func TestRunTraceDefaultWindow(t *testing.T) {
	sc := testScenario(nicmodel.ModeMSIX)
	sc.Duration = 120 * time.Millisecond
	_, rec, s := runTraced(t, sc)
	st := rec.Stats()
	if st.To-st.From != int64(scenario.DefaultTraceWindow) {
		t.Fatalf("window [%d, %d): want %v long", st.From, st.To, scenario.DefaultTraceWindow)
	}
	dpcs := s.Slices["DPC"]
	if dpcs == 0 || uint64(dpcs) != st.DPCs || metaInt(t, s, "dpc_slices") != dpcs {
		t.Errorf("%d DPC slices, %d DPC calls started in the window", dpcs, st.DPCs)
	}
	if first := s.Starts["DPC"]; first[0] < 0 || first[1] >= int64(scenario.DefaultTraceWindow) {
		t.Errorf("DPC slices start from %d to %d ns, outside the window", first[0], first[1])
	}
}

// TestRunTraceAtWorst: trace_at worst puts the window around the run's longest batch,
// the maximum of its batch_duration histogram.
func TestRunTraceAtWorst(t *testing.T) {
	sc := testScenario(nicmodel.ModeMSIX)
	sc.TraceAt, sc.TraceWindow = trace.AtWorst, 3*time.Millisecond
	rep, rec, s := runTraced(t, sc)
	st := rec.Stats()
	h := rep.Hists[metric.BatchDuration]
	if h.TotalCount() == 0 || !h.ValuesAreEquivalent(int64(st.WorstBatch), h.Max()) {
		t.Fatalf("worst batch %v, batch_duration's max %d ns", st.WorstBatch, h.Max())
	}
	if st.WorstEnd < st.From || st.WorstEnd >= st.To || st.To-st.From > int64(sc.TraceWindow)+3 {
		t.Errorf("worst batch at %d, window [%d, %d)", st.WorstEnd, st.From, st.To)
	}
	if metaInt(t, s, "worst_batch_ns") != int(st.WorstBatch) || s.Batches == 0 {
		t.Errorf("metadata %v, %d batches", s.Metadata, s.Batches)
	}
}

// TestNewTraceSizesItsBuffers: a vCPU's buffer holds what the scenario's rate can make
// happen in the window, every packet its own interrupt, up to trace_events.
func TestNewTraceSizesItsBuffers(t *testing.T) {
	for _, tt := range []struct {
		rate float64
		want int
	}{
		{1000, 550 + 4096},                 // 50 packets in 50 ms, 11 events each at most, and slack
		{1e6, 550_000 + 4096},              // 50 000 packets: below the cap
		{1e8, scenario.DefaultTraceEvents}, // capped
	} {
		sc := scenario.Default()
		sc.Schedule.RatePPS = tt.rate
		rec, err := harness.NewTrace(sc, "sized")
		if err != nil {
			t.Fatal(err)
		}
		got := rec.Config().Capacity
		if got != tt.want {
			t.Errorf("rate %g: capacity %d, want %d", tt.rate, got, tt.want)
		}
	}
}

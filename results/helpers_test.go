package results

import (
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results/metric"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ and SCHEMA.md's generated tables")

// latencyHistogram returns a histogram with ndisbench's latency range holding n values
// drawn, with a fixed seed, from a log-normal distribution around median ns, with a tail
// of rare values 100 times larger.
func latencyHistogram(t testing.TB, seed uint64, n int, median float64) *hdrhistogram.Histogram {
	t.Helper()
	h := hdrhistogram.New(1, 10e9, 3)
	rng := rand.New(rand.NewPCG(seed, 42))
	for range n {
		v := median * math.Exp(0.4*rng.NormFloat64())
		if rng.IntN(1000) == 0 {
			v *= 100
		}
		if err := h.RecordValue(int64(v)); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// batchHistogram returns a histogram of DPC batch sizes between 1 and 64.
func batchHistogram(t testing.TB, seed uint64, n int) *hdrhistogram.Histogram {
	t.Helper()
	h := hdrhistogram.New(1, 1<<20, 3)
	rng := rand.New(rand.NewPCG(seed, 7))
	for range n {
		if err := h.RecordValue(1 + int64(rng.IntN(64))); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func mustSummarize(t testing.TB, h *hdrhistogram.Histogram, unit string) Histogram {
	t.Helper()
	s, err := Summarize(h, unit)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var testStart = time.Date(2025, 3, 14, 15, 9, 26, 535000000, time.UTC)

// sampleResult returns a valid result of two runs, the second with two repetitions, with
// every field of the current schema version set.
func sampleResult(t testing.TB) *Result {
	t.Helper()
	res := New("msi-vs-line", Environment{
		GoVersion: "go1.26.0", GOOS: "linux", GOARCH: "amd64", GOMAXPROCS: 2, NumCPU: 2,
		CPUModel: "Test CPU @ 3.00GHz", Kernel: "6.1.0-test", CPUs: "0-1", Pinned: true,
		ClockSource: "tsc", ClockCostNs: 21.5, Hostname: "testhost",
		ToolVersion: "v0.3.0", Commit: "de4db9d80b70f42fe8a1de7eb55dfa47e9c54337+dirty",
	})
	res.Started = testStart
	res.Finished = testStart.Add(7 * time.Second)
	for i, rc := range []struct {
		name string
		rep  int
		seed uint64
	}{{"msix", 0, 1}, {"line", 0, 2}, {"line", 1, 3}} {
		cfg, err := json.Marshal(map[string]any{"mode": rc.name, "throttle": 32, "rate_pps": 1e6})
		if err != nil {
			t.Fatal(err)
		}
		dropped := 1000 + 10*rc.seed
		run := Run{
			Name: rc.name, Repetition: rc.rep, Config: cfg,
			Platform: &Platform{
				VCPUs: 1, CPUs: "1", Pinned: true, GOMAXPROCS: 2, Idle: "spin-park", GeneratorCPU: 0,
				IdleFallback: "no futex on plan9: a parked thread polls, yielding to the Go scheduler, instead of sleeping",
			},
			Started:    testStart.Add(time.Duration(i) * 2 * time.Second),
			DurationNs: int64(2 * time.Second),
			Counters: map[string]uint64{
				metric.Generated: 2100000, metric.MeasuredGenerated: 2000000, metric.Indicated: 2100000 - dropped,
				metric.Dropped: dropped, metric.MeasuredDropped: dropped, metric.Interrupts: 50000, metric.DPCs: 60000,
				metric.BatchesOverBudget: rc.seed, metric.Violations: 0,
			},
			Rates: Rates{
				OfferedPPS: 1e6, GeneratedPPS: 1e6, AchievedPPS: 1e6 - float64(dropped)/2,
				DropPct: 100 * float64(dropped) / 2e6, BehindMaxNs: 12345,
			},
			Histograms: map[string]Histogram{
				metric.ISRToDPC:      mustSummarize(t, latencyHistogram(t, rc.seed, 5000, 900), metric.Nanoseconds),
				metric.DPCBatchSize:  mustSummarize(t, batchHistogram(t, rc.seed, 3000), metric.NBLs),
				metric.PacketLatency: mustSummarize(t, latencyHistogram(t, rc.seed+100, 5000, 15000), metric.Nanoseconds),
				metric.IRQDelivery:   mustSummarize(t, hdrhistogram.New(1, 10e9, 3), metric.Nanoseconds), // nothing recorded
			},
		}
		res.Runs = append(res.Runs, run)
	}
	return res
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

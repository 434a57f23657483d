package compare

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

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// model is how a fake run's figures are drawn: every latency is lognormal around its
// median with a spread, then scaled; a repetition's whole curve moves by jitter.
type model struct {
	latMedian  float64 // packet_latency median, ns
	dpcMedian  float64 // dpc_duration median, ns
	achieved   float64 // pps
	scale      float64 // multiplies every latency and DPC (1 when 0)
	tailFrom   float64 // from this quantile (0..1) on, latencies are multiplied by tailScale
	tailScale  float64
	jitter     float64 // a repetition's curve moves by up to ±jitter (relative)
	dropEvery  int     // drop one packet in so many (0: none)
	packets    int     // values per repetition (10000 when 0)
	config     map[string]any
	validity   *results.Validity
	noPktHists bool
}

// env is the environment every fake result has unless a test changes it.
var env = results.Environment{GoVersion: "go1.26.8", GOOS: "linux", GOARCH: "amd64", GOMAXPROCS: 4, NumCPU: 4,
	CPUModel: "Test CPU @ 3.0GHz", ToolVersion: "devel", Commit: "abc123", ClockCostNs: 20}

// fakeRun returns one repetition of run name drawn from mo with seed.
func fakeRun(t *testing.T, name string, repetition int, mo model, seed uint64) results.Run {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	if mo.scale == 0 {
		mo.scale = 1
	}
	if mo.packets == 0 {
		mo.packets = 10000
	}
	j := 1 + mo.jitter*(2*rng.Float64()-1)
	draw := func(median float64, n int, tail bool) []float64 {
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = median * math.Exp(0.3*rng.NormFloat64()) * mo.scale * j
		}
		if tail && mo.tailScale > 0 {
			// Sort-free: a value above the model's quantile tailFrom is scaled.
			cut := median * math.Exp(0.3*quantileZ(mo.tailFrom)) * mo.scale * j
			for i, v := range vs {
				if v > cut {
					vs[i] = v * mo.tailScale
				}
			}
		}
		return vs
	}
	hist := func(vs []float64, unit string) results.Histogram {
		h := hdrhistogram.New(1, 10e9, 3)
		for _, v := range vs {
			if err := h.RecordValue(int64(v)); err != nil {
				t.Fatal(err)
			}
		}
		s, err := results.Summarize(h, unit)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	dropped := 0
	if mo.dropEvery > 0 {
		dropped = mo.packets / mo.dropEvery
	}
	lat := draw(mo.latMedian, mo.packets-dropped, true)
	if mo.noPktHists {
		lat = nil
	}
	cfg := map[string]any{"mode": "msix", "rate_pps": 1000000, "per_packet": "100ns", "no_packet_hists": mo.noPktHists}
	for k, v := range mo.config {
		cfg[k] = v
	}
	raw, _ := json.Marshal(cfg)
	achieved := mo.achieved * j
	if achieved == 0 {
		achieved = 1e6
	}
	measured := uint64(mo.packets)
	return results.Run{
		Name: name, Repetition: repetition, Config: raw,
		Started:    time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC),
		DurationNs: int64(time.Second),
		Platform:   &results.Platform{VCPUs: 2, CPUs: "0-1", Pinned: true, GOMAXPROCS: 4, Idle: "spin-park", GeneratorCPU: 2},
		Counters:   map[string]uint64{metric.MeasuredGenerated: measured, metric.MeasuredDropped: uint64(dropped)},
		Rates: results.Rates{OfferedPPS: 1e6, GeneratedPPS: 1e6, AchievedPPS: achieved,
			DropPct: 100 * float64(dropped) / float64(measured), BehindMaxNs: 1000},
		Histograms: map[string]results.Histogram{
			metric.PacketLatency: hist(lat, metric.Nanoseconds),
			metric.DPCDuration:   hist(draw(mo.dpcMedian, 2000, false), metric.Nanoseconds),
			metric.DPCBatchSize:  hist([]float64{4, 4, 4, 5, 5, 6, 8, 8}, metric.NBLs),
		},
		Validity: mo.validity,
	}
}

// quantileZ returns the standard normal quantile of q (0 < q < 1).
func quantileZ(q float64) float64 { return math.Sqrt2 * math.Erfinv(2*q-1) }

// fakeResult returns a result of reps repetitions of each named run, drawn from mo with
// seeds from seed on, interleaved as bench run -count does.
func fakeResult(t *testing.T, seed uint64, reps int, runs map[string]model, order ...string) *results.Result {
	t.Helper()
	res := results.New("msi-vs-line", env)
	res.Started = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	res.Finished = res.Started.Add(time.Minute)
	for r := range reps {
		for i, name := range order {
			res.Runs = append(res.Runs, fakeRun(t, name, r, runs[name], seed+uint64(100*r+i)))
		}
	}
	if err := res.Validate(); err != nil {
		t.Fatal(err)
	}
	return res
}

// base is the model the tests start from.
var baseModel = model{latMedian: 2000, dpcMedian: 800, achieved: 1e6, jitter: 0.02}

// side returns a side of the results, named side-0.json, side-1.json, ...
func side(res ...*results.Result) *Side {
	files := make([]string, len(res))
	for i := range res {
		files[i] = filepath.Join("side", "r"+string(rune('0'+i)), results.ResultFile)
	}
	return SideOf(files, res)
}

// writeResult writes res as dir/result.json and returns dir.
func writeResult(t *testing.T, dir string, res *results.Result) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, results.ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := res.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return dir
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// row returns the row of run's metric name, from its metric rows or its distributions.
func row(t *testing.T, run Run, name string) Row {
	t.Helper()
	for _, r := range run.Metrics {
		if r.Metric == name {
			return r
		}
	}
	for _, d := range run.Distributions {
		for _, r := range d.Points {
			if r.Metric == name {
				return r
			}
		}
	}
	t.Fatalf("run %s has no row %s", run.Name, name)
	return Row{}
}

func runOf(t *testing.T, rep *Report, name string) Run {
	t.Helper()
	for _, r := range rep.Runs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no run %s in the report", name)
	return Run{}
}

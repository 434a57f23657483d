package plot

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// t0 is when the sample runs started.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// sampleRun describes a run of a sample result set.
type sampleRun struct {
	name      string
	rep       int
	scale     int64 // multiplies every latency
	dropped   uint64
	throttle  int  // the config's throttle: the largest batch
	ratePPS   int  // the config's rate_pps
	invalid   bool // validity says not valid
	clampedPL bool // packet_latency's top value is at its ceiling, counted clamped
	noHists   bool // no_packet_hists: packet_latency and packet_service empty
	intervals int  // intervals in the .hlog; 0: no .hlog line (header only)
}

// ceiling is the sample histograms' highest trackable value.
const ceiling = 10_000_000

// writeSample writes a result set of runs into dir/name and returns it opened. Every
// value follows from the run's parameters: the golden files do not move.
func writeSample(t *testing.T, dir, name string, runs []sampleRun) *Source {
	t.Helper()
	res := results.New("sample", results.Environment{GoVersion: "go1.26", GOOS: "linux", GOARCH: "amd64",
		NumCPU: 4, GOMAXPROCS: 4, CPUModel: "Test CPU", Hostname: "host"})
	res.Started, res.Finished = t0, t0.Add(time.Minute)
	out := &results.Output{Result: res}
	for i, sr := range runs {
		hists := map[string]*hdrhistogram.Histogram{}
		var sets []results.IntervalSet
		for k := 0; k < max(sr.intervals, 1); k++ {
			set := results.IntervalSet{Start: time.Duration(k) * 100 * time.Millisecond, Length: 100 * time.Millisecond,
				Histograms: map[string]*hdrhistogram.Histogram{}}
			for _, h := range []string{metric.PacketLatency, metric.ISRToDPC, metric.DPCBatchSize} {
				ih := hdrhistogram.New(1, ceiling, 3)
				if !(sr.noHists && h == metric.PacketLatency) {
					for j := int64(1); j <= 200; j++ {
						v := sampleValue(h, sr, j, int64(k))
						if err := ih.RecordValue(min(v, ceiling)); err != nil {
							t.Fatal(err)
						}
					}
				}
				if sr.clampedPL && h == metric.PacketLatency && k == 1 {
					ih.RecordValue(ceiling)
				}
				set.Histograms[h] = ih
				if hists[h] == nil {
					hists[h] = hdrhistogram.New(1, ceiling, 3)
				}
				hists[h].Merge(ih)
			}
			sets = append(sets, set)
		}
		if sr.intervals == 0 {
			sets = nil
		}
		cfg, _ := json.Marshal(map[string]any{"throttle": sr.throttle, "rate_pps": sr.ratePPS, "no_packet_hists": sr.noHists})
		delivered := float64(hists[metric.PacketLatency].TotalCount())
		run := results.Run{Name: sr.name, Repetition: sr.rep, Config: cfg, Started: t0.Add(time.Duration(i) * time.Second),
			DurationNs: int64(time.Second), Counters: map[string]uint64{metric.MeasuredDropped: sr.dropped},
			Rates: results.Rates{OfferedPPS: float64(sr.ratePPS), GeneratedPPS: float64(sr.ratePPS),
				AchievedPPS: float64(sr.ratePPS) * (1 - float64(sr.dropped)/(delivered+float64(sr.dropped)+1)),
				DropPct:     100 * float64(sr.dropped) / (delivered + float64(sr.dropped) + 1)},
			Histograms: map[string]results.Histogram{},
			Validity:   &results.Validity{Valid: true, Interference: results.Interference{StealNs: -1, OtherCPUNs: -1, OtherCPUPct: -1}},
		}
		if sr.noHists {
			run.Rates.DropPct, run.Rates.AchievedPPS = 0, float64(sr.ratePPS)
		}
		if sr.invalid {
			run.Validity.Valid, run.Validity.Reasons = false, []string{"the host stalled it"}
		}
		if sr.clampedPL { // valid, unlike a real run's: only the interval it is in is flagged
			run.Validity.Warnings = []string{"a value beyond the ceiling"}
			run.Validity.Interference.Clamped = map[string]uint64{metric.PacketLatency: 1}
		}
		for h, hh := range hists {
			s, err := results.Summarize(hh, metric.Unit(h))
			if err != nil {
				t.Fatal(err)
			}
			run.Histograms[h] = s
		}
		res.Runs = append(res.Runs, run)
		out.Intervals = append(out.Intervals, sets)
	}
	path := filepath.Join(dir, name)
	if err := results.WriteDir(path, out); err != nil {
		t.Fatal(err)
	}
	src, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// sampleValue is the j-th value (1 to 200) of interval k of histogram h in run sr.
func sampleValue(h string, sr sampleRun, j, k int64) int64 {
	switch h {
	case metric.DPCBatchSize:
		top := int64(sr.throttle)
		if top == 0 {
			top = 100
		}
		return 1 + (j*7+k)%top
	case metric.ISRToDPC:
		return sr.scale * (50 + j*j/40)
	}
	return sr.scale * (400 + j*j*j/2000 + 100*k)
}

// basicRuns is a sample set with something of every case: repetitions (one invalid),
// a run with drops and a value clamped at the ceiling, a run without per-packet
// histograms, and throttle caps.
var basicRuns = []sampleRun{
	{name: "msix", rep: 0, scale: 1, throttle: 8, ratePPS: 1_000_000, intervals: 3},
	{name: "line", rep: 0, scale: 3, throttle: 0, ratePPS: 1_000_000, dropped: 4, clampedPL: true, intervals: 3},
	{name: "line", rep: 1, scale: 3, throttle: 0, ratePPS: 1_000_000, invalid: true, intervals: 3},
	{name: "msix", rep: 1, scale: 2, throttle: 8, ratePPS: 1_000_000, intervals: 3},
	{name: "nohists", rep: 0, scale: 1, throttle: 8, ratePPS: 1_000_000, noHists: true, intervals: 2},
	{name: "msix", rep: 2, scale: 5, throttle: 8, ratePPS: 1_000_000, invalid: true, intervals: 3},
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
		t.Fatalf("%v (run go test ./results/plot -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the figures built (run go test ./results/plot -update to accept, then read the diff):\n%s",
			path, firstDiff(string(got), string(want)))
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	line := 1
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			start := i
			for start > 0 && got[start-1] != '\n' {
				start--
			}
			end := func(s string) string {
				e := start
				for e < len(s) && s[e] != '\n' {
					e++
				}
				return s[start:e]
			}
			return "line " + strconv.Itoa(line) + ":\n  got:  " + end(got) + "\n  want: " + end(want)
		}
		if got[i] == '\n' {
			line++
		}
	}
	return "one is a prefix of the other"
}

// dump returns the text of figs, one after another.
func dump(t *testing.T, figs []*Figure) []byte {
	t.Helper()
	var out []byte
	for _, f := range figs {
		b, err := f.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		out = append(append(out, b...), '\n')
	}
	return out
}

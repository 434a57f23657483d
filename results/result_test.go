package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results/metric"
)

func TestSummarizeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		h    func(t *testing.T) *hdrhistogram.Histogram
	}{
		// Nothing recorded: every figure 0, the encoding still round-trips.
		{"empty", func(t *testing.T) *hdrhistogram.Histogram { return hdrhistogram.New(1, 10e9, 3) }},
		// A single zero: min and max 0 with a count of 1.
		{"one zero", func(t *testing.T) *hdrhistogram.Histogram {
			h := hdrhistogram.New(1, 10e9, 3)
			h.RecordValue(0)
			return h
		}},
		// The usual latency shape with a tail.
		{"latency", func(t *testing.T) *hdrhistogram.Histogram { return latencyHistogram(t, 1, 20000, 800) }},
		// Values near the top of the range.
		{"huge values", func(t *testing.T) *hdrhistogram.Histogram {
			h := hdrhistogram.New(1, 10e9, 3)
			h.RecordValues(9e9, 3)
			h.RecordValues(1, 1)
			return h
		}},
		// A coarser geometry: lowest discernible value 1000, 2 digits.
		{"coarse", func(t *testing.T) *hdrhistogram.Histogram {
			h := hdrhistogram.New(1000, 1e12, 2)
			for v := int64(1000); v < 1e9; v = v*3 + 7 {
				h.RecordValues(v, v%5+1)
			}
			return h
		}},
		// Five significant digits.
		{"fine", func(t *testing.T) *hdrhistogram.Histogram {
			h := hdrhistogram.New(1, 1e6, 5)
			for v := int64(1); v < 1e6; v += 997 {
				h.RecordValue(v)
			}
			return h
		}},
		// Batch sizes, a count unit.
		{"batch sizes", func(t *testing.T) *hdrhistogram.Histogram { return batchHistogram(t, 9, 1000) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := tt.h(t)
			s := mustSummarize(t, orig, metric.Nanoseconds)
			res := sampleResult(t)
			res.Runs[0].Histograms["probe"] = s
			var buf bytes.Buffer
			if _, err := res.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			back, err := Read(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, res) {
				t.Fatalf("result changed in the round trip:\ngot  %+v\nwant %+v", back, res)
			}
			got, err := back.Runs[0].Histograms["probe"].Decode()
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equals(orig) {
				t.Fatalf("decoded histogram differs from the original: count %d vs %d, max %d vs %d",
					got.TotalCount(), orig.TotalCount(), got.Max(), orig.Max())
			}
			if s.Count != orig.TotalCount() {
				t.Errorf("count %d, want %d", s.Count, orig.TotalCount())
			}
		})
	}
}

func TestSummarizeFigures(t *testing.T) {
	h := hdrhistogram.New(1, 10e9, 3)
	for v := int64(1); v <= 1000; v++ { // exact below 2048 with 3 digits
		h.RecordValue(v)
	}
	s := mustSummarize(t, h, metric.Nanoseconds)
	want := Histogram{Unit: "ns", Count: 1000, Min: 1, P50: 500, P90: 900, P99: 990, P999: 999, P9999: 1000, Max: 1000, Mean: 500.5, Encoded: s.Encoded}
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	if _, err := Summarize(nil, "ns"); err == nil {
		t.Error("Summarize(nil) succeeded")
	}
	if _, err := Summarize(h, ""); err == nil {
		t.Error("Summarize with no unit succeeded")
	}
}

func TestHistogramDecodeChecksCount(t *testing.T) {
	s := mustSummarize(t, latencyHistogram(t, 3, 100, 500), metric.Nanoseconds)
	s.Count++
	if _, err := s.Decode(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Decode with a wrong count: %v, want ErrInvalid", err)
	}
	s.Encoded = ""
	if _, err := s.Decode(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Decode with no encoding: %v, want ErrInvalid", err)
	}
}

// sampleJSONBytes caches sampleResult's JSON.
var sampleJSONBytes []byte

// sampleJSON returns sampleResult's JSON as a fresh generic map, for tests to break.
func sampleJSON(t *testing.T) map[string]any {
	t.Helper()
	if sampleJSONBytes == nil {
		var buf bytes.Buffer
		if _, err := sampleResult(t).WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		sampleJSONBytes = buf.Bytes()
	}
	var m map[string]any
	if err := json.Unmarshal(sampleJSONBytes, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func run0(m map[string]any) map[string]any { return m["runs"].([]any)[0].(map[string]any) }

func hist0(m map[string]any) map[string]any {
	return run0(m)["histograms"].(map[string]any)[metric.ISRToDPC].(map[string]any)
}

func TestReadRefuses(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(m map[string]any)
		want     error  // sentinel, nil when only the message is checked
		contains string // in the error message
	}{
		// Another tool's JSON.
		{"other schema", func(m map[string]any) { m["schema"] = "someone/else" }, ErrSchema, `"someone/else"`},
		// No schema at all.
		{"no schema", func(m map[string]any) { delete(m, "schema") }, ErrSchema, "schema"},
		// A future major version: refused, naming the version, although its fields differ.
		{"major 2", func(m map[string]any) { m["version"] = "2.0"; m["new_thing"] = 1 }, ErrVersion, `"2.0"`},
		// An older major version.
		{"major 0", func(m map[string]any) { m["version"] = "0.9" }, ErrVersion, `"0.9"`},
		// Not major.minor.
		{"bare major", func(m map[string]any) { m["version"] = "1" }, ErrVersion, `"1"`},
		// Signs are not version numbers.
		{"signed", func(m map[string]any) { m["version"] = "1.-1" }, ErrVersion, `"1.-1"`},
		// No version.
		{"no version", func(m map[string]any) { delete(m, "version") }, ErrVersion, "version"},
		// A field this version does not know, in a document of this version.
		{"unknown field", func(m map[string]any) { run0(m)["colour"] = "blue" }, nil, `unknown field "colour"`},
		// Percentiles must not decrease.
		{"p90 below p50", func(m map[string]any) { hist0(m)["p90"] = 1 }, ErrInvalid, "p90"},
		// The encoding must hold Count values.
		{"count mismatch", func(m map[string]any) { hist0(m)["count"] = 1 }, ErrInvalid, "count"},
		// The encoding must decode.
		{"bad encoding", func(m map[string]any) { hist0(m)["encoded"] = "SElTVA==" }, ErrInvalid, "decode"},
		// No encoding.
		{"no encoding", func(m map[string]any) { delete(hist0(m), "encoded") }, ErrInvalid, "encoding"},
		// No unit.
		{"no unit", func(m map[string]any) { hist0(m)["unit"] = "" }, ErrInvalid, "unit"},
		// Names end up in file names.
		{"run name with slash", func(m map[string]any) { run0(m)["name"] = "../x" }, ErrName, `"../x"`},
		// Histogram names end up in file names and log tags.
		{"histogram name with space", func(m map[string]any) {
			hs := run0(m)["histograms"].(map[string]any)
			hs["isr to dpc"] = hs[metric.ISRToDPC]
		}, ErrName, `"isr to dpc"`},
		// Each (name, repetition) once.
		{"duplicate run", func(m map[string]any) { m["runs"] = append(m["runs"].([]any), run0(m)) }, ErrInvalid, "twice"},
		// Durations are not negative.
		{"negative duration", func(m map[string]any) { run0(m)["duration_ns"] = -1 }, ErrInvalid, "duration_ns"},
		// Rates are not negative.
		{"negative rate", func(m map[string]any) { run0(m)["rates"].(map[string]any)["achieved_pps"] = -1 }, ErrInvalid, "rates"},
		// A percentage is at most 100.
		{"drop_pct above 100", func(m map[string]any) { run0(m)["rates"].(map[string]any)["drop_pct"] = 100.5 }, ErrInvalid, "drop_pct"},
		// And not negative.
		{"negative drop_pct", func(m map[string]any) { run0(m)["rates"].(map[string]any)["drop_pct"] = -0.1 }, ErrInvalid, "drop_pct"},
		// A platform has no negative number of vCPUs.
		{"negative vcpus", func(m map[string]any) { run0(m)["platform"].(map[string]any)["vcpus"] = -1 }, ErrInvalid, "platform"},
		// Nor a negative GOMAXPROCS.
		{"negative gomaxprocs", func(m map[string]any) { run0(m)["platform"].(map[string]any)["gomaxprocs"] = -1 }, ErrInvalid, "platform"},
		// -1 is the only negative generator CPU: not pinned.
		{"generator_cpu -2", func(m map[string]any) { run0(m)["platform"].(map[string]any)["generator_cpu"] = -2 }, ErrInvalid, "generator_cpu"},
		// The platform object is as strict as the rest.
		{"unknown platform field", func(m map[string]any) { run0(m)["platform"].(map[string]any)["numa"] = 0 }, nil, `unknown field "numa"`},
		// Time runs forward.
		{"finished before started", func(m map[string]any) { m["finished"] = "2000-01-01T00:00:00Z" }, ErrInvalid, "before"},
		// A run has a start time.
		{"run without start", func(m map[string]any) { delete(run0(m), "started") }, ErrInvalid, "start"},
		// Integers are integers.
		{"float count", func(m map[string]any) { hist0(m)["count"] = 1.5 }, nil, "count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sampleJSON(t)
			tt.edit(m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Read(bytes.NewReader(b))
			if err == nil {
				t.Fatal("Read accepted it")
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %q, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.contains) || !strings.HasPrefix(err.Error(), "results: ") {
				t.Errorf("error %q should start with \"results: \" and contain %q", err, tt.contains)
			}
		})
	}
}

func TestReadNewerMinorIgnoresNewFields(t *testing.T) {
	m := sampleJSON(t)
	m["version"] = "1.7"
	m["added_in_1_7"] = map[string]any{"x": 1}
	run0(m)["also_new"] = true
	b, _ := json.Marshal(m)
	res, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("a newer minor version must be readable: %v", err)
	}
	if res.Version != "1.7" || len(res.Runs) != 3 {
		t.Errorf("read version %q with %d runs", res.Version, len(res.Runs))
	}
}

func TestReadErrorLines(t *testing.T) {
	var buf bytes.Buffer
	if _, err := sampleResult(t).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	lines := strings.Split(good, "\n")
	tests := []struct {
		name     string
		doc      string
		wantLine int
	}{
		// A syntax error on line 3.
		{"syntax", strings.Join(append(append([]string{}, lines[:2]...), append([]string{`  "tool": ndisbench,`}, lines[3:]...)...), "\n"), 3},
		// A string where a number belongs, on the line of "duration_ns".
		{"type", strings.Replace(good, `"duration_ns": 2000000000`, `"duration_ns": "2s"`, 1), 1 + strings.Count(good[:strings.Index(good, `"duration_ns"`)], "\n")},
		// Data after the object, on the last line.
		{"trailing", good + "{}\n", len(lines)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.doc))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Line != tt.wantLine {
				t.Errorf("line %d, want %d (%v)", pe.Line, tt.wantLine, err)
			}
		})
	}
	// Truncated input is an error too.
	if _, err := Read(strings.NewReader(good[:len(good)/2])); err == nil {
		t.Error("Read accepted half a document")
	}
}

func TestReadFileNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(path, []byte(`{"schema": "ndisbench/result", "version": "9.1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	if !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"9.1"`) {
		t.Errorf("ReadFile error %q should name %s and version \"9.1\" and wrap ErrVersion", err, path)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
}

func TestWriteToRefusesInvalid(t *testing.T) {
	res := sampleResult(t)
	h := res.Runs[0].Histograms[metric.ISRToDPC]
	h.P99 = h.P50 - 1
	res.Runs[0].Histograms[metric.ISRToDPC] = h
	var buf bytes.Buffer
	n, err := res.WriteTo(&buf)
	if !errors.Is(err, ErrInvalid) || n != 0 || buf.Len() != 0 {
		t.Errorf("WriteTo of an invalid result: n=%d err=%v, wrote %d bytes", n, err, buf.Len())
	}
	if err := res.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Validate: %v", err)
	}
}

func TestWriteToCountsBytes(t *testing.T) {
	var buf bytes.Buffer
	n, err := sampleResult(t).WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) || !strings.HasSuffix(buf.String(), "}\n") {
		t.Errorf("WriteTo returned %d, %v for %d bytes", n, err, buf.Len())
	}
}

func FuzzRead(f *testing.F) {
	// A small seed: minimizing a large one would take the fuzzer's whole time.
	var buf bytes.Buffer
	res := sampleResult(f)
	res.Runs = res.Runs[:1]
	res.Runs[0].Histograms = map[string]Histogram{
		metric.ISRToDPC: mustSummarize(f, latencyHistogram(f, 1, 50, 900), metric.Nanoseconds),
	}
	if _, err := res.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	// The same as a 1.0 document: no platform, no drop_pct, the counter offered.
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		f.Fatal(err)
	}
	m["version"] = "1.0"
	delete(run0(m), "platform")
	delete(run0(m)["rates"].(map[string]any), "drop_pct")
	run0(m)["counters"] = map[string]any{"offered": 7, "generated": 9}
	b, err := json.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"schema":"ndisbench/result","version":"1.0"}`))
	f.Add([]byte(`{"schema":"ndisbench/result","version":"2.3","runs":7}`))
	f.Add([]byte(`{"schema":"ndisbench/result","version":"1.0","tool":"t","scenario":"s","started":"2025-01-01T00:00:00Z","finished":"2025-01-01T00:00:01Z","interrupted":false,"environment":{},"runs":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Read(bytes.NewReader(data))
		// A document of this schema with another major version is refused for its version.
		var probe struct{ Schema, Version string }
		if json.Unmarshal(data, &probe) == nil && probe.Schema == SchemaName {
			major, _, ok := strings.Cut(probe.Version, ".")
			if ok && major != "" && strings.TrimLeft(major, "0") != "1" && strings.Trim(major, "0123456789") == "" && !errors.Is(err, ErrVersion) {
				t.Fatalf("version %q: Read gave %v, want ErrVersion", probe.Version, err)
			}
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError: %v", err, err)
			}
			return
		}
		minor, err := checkVersion(res.Version)
		if err != nil || res.Schema != SchemaName {
			t.Fatalf("accepted schema %q version %q", res.Schema, res.Version)
		}
		// A 1.0 document comes out in 1.1's vocabulary: no counter "offered".
		for _, run := range res.Runs {
			if _, ok := run.Counters[counterOffered10]; ok && minor == 0 {
				t.Fatalf("version %q: run %q kept the 1.0 counter %q", res.Version, run.Name, counterOffered10)
			}
		}
		// Whatever Read accepts, WriteTo writes and Read reads back unchanged.
		var out bytes.Buffer
		if _, err := res.WriteTo(&out); err != nil {
			t.Fatalf("WriteTo refused what Read accepted: %v", err)
		}
		back, err := Read(&out)
		if err != nil {
			t.Fatalf("Read refused what WriteTo wrote: %v\n%s", err, out.Bytes())
		}
		if !reflect.DeepEqual(res, back) {
			t.Fatalf("round trip changed the result:\n%+v\n%+v", res, back)
		}
		for _, run := range back.Runs {
			for name, h := range run.Histograms {
				if _, err := h.Decode(); err != nil {
					t.Fatalf("histogram %q accepted but does not decode: %v", name, err)
				}
			}
		}
	})
}

package results

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ndisbench/ndisbench/results/metric"
)

// fixture10 is a result.json that version 1.0 of this package wrote (full encodings): the
// reader must go on reading it.
var fixture10 = filepath.Join("testdata", "result-1.0.json")

func TestRead10(t *testing.T) {
	res, err := ReadFile(fixture10)
	if err != nil {
		t.Fatalf("a 1.0 document must stay readable: %v", err)
	}
	if res.Version != "1.0" || len(res.Runs) != 1 {
		t.Fatalf("read version %q with %d runs, want 1.0 with 1", res.Version, len(res.Runs))
	}
	run := res.Runs[0]
	if run.Platform != nil || run.Rates.DropPct != 0 {
		t.Errorf("fields 1.0 did not have are set: platform %+v, drop_pct %v", run.Platform, run.Rates.DropPct)
	}
	want := map[string]uint64{
		metric.BatchesOverBudget: 1, metric.DPCs: 60000, metric.Dropped: 1010, metric.Generated: 2000000,
		metric.Indicated: 1998990, metric.Interrupts: 50000, metric.Violations: 0,
		metric.MeasuredGenerated: 2000000, // was "offered"
	}
	if !maps.Equal(run.Counters, want) {
		t.Errorf("counters %v\nwant %v", run.Counters, want)
	}
	for name, h := range run.Histograms {
		if _, err := h.Decode(); err != nil {
			t.Errorf("histogram %s: %v", name, err)
		}
	}
	// Written back, it is still a 1.0 document (the counters aside), and reads back the same.
	var buf bytes.Buffer
	if _, err := res.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, res) {
		t.Errorf("round trip changed the result:\ngot  %+v\nwant %+v", back, res)
	}
}

func TestRead10TranslatesOffered(t *testing.T) {
	raw, err := os.ReadFile(fixture10)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		version  string
		counters map[string]any
		want     map[string]uint64
	}{
		// 1.0's offered was measured_generated under another name: renamed.
		{"offered only", "1.0",
			map[string]any{"offered": 5, "generated": 9},
			map[string]uint64{metric.MeasuredGenerated: 5, metric.Generated: 9}},
		// A run that has both keeps measured_generated: offered was its copy.
		{"offered and measured_generated", "1.0",
			map[string]any{"offered": 5, "measured_generated": 6},
			map[string]uint64{metric.MeasuredGenerated: 6}},
		// Without offered nothing changes.
		{"no offered", "1.0",
			map[string]any{"generated": 9},
			map[string]uint64{metric.Generated: 9}},
		// A run without counters has none to translate.
		{"no counters", "1.0", nil, nil},
		// In 1.1, offered is no registry name, just one more counter a run may carry: kept.
		{"offered in 1.1", "1.1",
			map[string]any{"offered": 5},
			map[string]uint64{"offered": 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			m["version"] = tt.version
			run0(m)["counters"] = tt.counters
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Read(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Runs[0].Counters; !maps.Equal(got, tt.want) {
				t.Errorf("counters %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRead11Fields(t *testing.T) {
	res := sampleResult(t)
	var buf bytes.Buffer
	if _, err := res.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back.Version != SchemaVersion {
		t.Errorf("version %q, want %s", back.Version, SchemaVersion)
	}
	run := back.Runs[0]
	if p := run.Platform; p == nil || *p != *res.Runs[0].Platform {
		t.Errorf("platform %+v, want %+v", p, res.Runs[0].Platform)
	}
	if run.Rates.DropPct != res.Runs[0].Rates.DropPct || run.Rates.DropPct == 0 {
		t.Errorf("drop_pct %v, want %v", run.Rates.DropPct, res.Runs[0].Rates.DropPct)
	}
	// Both are optional: a run without them is valid and reads back without them.
	for i := range back.Runs {
		back.Runs[i].Platform, back.Runs[i].Rates.DropPct = nil, 0
	}
	buf.Reset()
	if _, err := back.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"platform"`, `"drop_pct"`} {
		if bytes.Contains(buf.Bytes(), []byte(field)) {
			t.Errorf("%s is written when it is not set; it is optional", field)
		}
	}
	again, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, back) {
		t.Errorf("round trip without the 1.1 fields changed the result")
	}
}

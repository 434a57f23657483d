package scenario_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/nicmodel/scenario"
)

// twoRuns is a file's runs for the headline tests, the headline spliced in after them.
const twoRuns = `{"runs":[{"name":"a","mode":"msix"},{"name":"b","mode":"line"},{"name":"c"}],"headline":%s}`

func TestHeadlineParses(t *testing.T) {
	f, err := scenario.ParseFile("h.yaml", []byte(`name: h
runs: [{name: a, mode: msix}, {name: b, mode: line}, {name: c}]
headline:
  - {metric: achieved_pps, compare: [a, b]}
  - {metric: packet_latency, compare: [b, a], stats: [p99.9, max]}
  - metric: isr_to_dpc_same_cpu
    series: [c, a, b]
    label: same CPU
    min_vcpus: 2
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []scenario.Headline{
		{Metric: "achieved_pps", Compare: []string{"a", "b"}},
		{Metric: "packet_latency", Stats: []string{"p99.9", "max"}, Compare: []string{"b", "a"}},
		{Metric: "isr_to_dpc_same_cpu", Stats: []string{"p50", "p99"}, Series: []string{"c", "a", "b"}, Label: "same CPU", MinVCPUs: 2},
	}
	if fmt.Sprintf("%+v", f.Headline) != fmt.Sprintf("%+v", want) {
		t.Errorf("headline\n got %+v\nwant %+v", f.Headline, want)
	}
	if got := strings.Join(f.Headline[2].Runs(), " "); got != "c a b" {
		t.Errorf("Runs() = %s", got)
	}
	enc, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	const wantEnc = `"headline":[{"metric":"achieved_pps","compare":["a","b"]},` +
		`{"metric":"packet_latency","stats":["p99.9","max"],"compare":["b","a"]},` +
		`{"metric":"isr_to_dpc_same_cpu","stats":["p50","p99"],"series":["c","a","b"],"label":"same CPU","min_vcpus":2}]`
	if !strings.Contains(string(enc), wantEnc) {
		t.Errorf("encoding %s\nlacks %s", enc, wantEnc)
	}
	none, err := scenario.ParseFile("n.json", []byte(`{"runs":[{"name":"a"},{"name":"b"}]}`))
	if err != nil || none.Headline != nil {
		t.Errorf("a file without a headline key: %v, %v", none, err)
	}
	if enc, _ := json.Marshal(none); strings.Contains(string(enc), "headline") {
		t.Errorf("a file without a headline encodes one: %s", enc)
	}
}

// TestHeadlineErrorsNameFileAndKey: every mistake in a headline is refused when the file
// is read, naming the file, the entry and the key.
func TestHeadlineErrorsNameFileAndKey(t *testing.T) {
	tests := []struct{ name, headline, want string }{
		{"not a list", `{"metric":"achieved_pps"}`, `key "headline": want a list`},
		{"entry not an object", `["achieved_pps"]`, `headline[0]: want an object`},
		{"unknown metric", `[{"metric":"isr2dpc","compare":["a","b"]}]`, `headline[0]: key "metric": unknown metric "isr2dpc" (want one of irq_delivery,`},
		{"no metric", `[{"compare":["a","b"]}]`, `headline[0]: key "metric": missing`},
		{"a counter", `[{"metric":"dropped","compare":["a","b"]}]`, `key "metric": dropped is a counter`},
		{"unknown run", `[{"metric":"achieved_pps","compare":["a","msx"]}]`, `headline[0]: key "compare": no run "msx" in this file (its runs: a, b, c)`},
		{"unknown run in a series", `[{"metric":"achieved_pps","series":["a","b"]},{"metric":"achieved_pps","series":["a","z"]}]`, `headline[1]: key "series": no run "z"`},
		{"three compared", `[{"metric":"achieved_pps","compare":["a","b","c"]}]`, `key "compare": want 2 runs, got 3`},
		{"one compared", `[{"metric":"achieved_pps","compare":["a"]}]`, `key "compare": want at least 2, got 1`},
		{"series of one", `[{"metric":"achieved_pps","series":["a"]}]`, `key "series": want at least 2`},
		{"run twice", `[{"metric":"achieved_pps","series":["a","a"]}]`, `"a" appears twice`},
		{"both", `[{"metric":"achieved_pps","compare":["a","b"],"series":["a","b"]}]`, `headline[0]: want one of key "compare"`},
		{"neither", `[{"metric":"achieved_pps"}]`, `want one of key "compare"`},
		{"stats of a rate", `[{"metric":"achieved_pps","stats":["p99"],"compare":["a","b"]}]`, `key "stats": achieved_pps is a rate`},
		{"unknown stat", `[{"metric":"packet_latency","stats":["p95"],"compare":["a","b"]}]`, `key "stats": unknown figure "p95" (want one of min, p50, p90, p99, p99.9, p99.99, max)`},
		{"no stats", `[{"metric":"packet_latency","stats":[],"compare":["a","b"]}]`, `key "stats": want at least 1`},
		{"stat not a string", `[{"metric":"packet_latency","stats":[99],"compare":["a","b"]}]`, `key "stats": want a figure, got number`},
		{"unknown key", `[{"metric":"achieved_pps","compare":["a","b"],"by":"mode"}]`, `headline[0]: unknown key "by"`},
		{"key twice", `[{"metric":"achieved_pps","metric":"drop_pct","compare":["a","b"]}]`, `key "metric" appears twice`},
		{"min_vcpus zero", `[{"metric":"achieved_pps","compare":["a","b"],"min_vcpus":0}]`, `key "min_vcpus": want an integer from 1 to 64, got 0`},
		{"min_vcpus fraction", `[{"metric":"achieved_pps","compare":["a","b"],"min_vcpus":1.5}]`, `key "min_vcpus"`},
		{"label with a newline", `[{"metric":"achieved_pps","compare":["a","b"],"label":"x\ny"}]`, `key "label": a line`},
	}
	for _, tt := range tests {
		_, err := scenario.ParseFile("f.json", []byte(fmt.Sprintf(twoRuns, tt.headline)))
		if err == nil || !strings.HasPrefix(err.Error(), "f.json: ") || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, scenario.ErrConfig) {
			t.Errorf("%s: %v; want an ErrConfig naming f.json and %q", tt.name, err, tt.want)
		}
	}
	// YAML reads a bare "off" as a boolean: the hint to quote it applies here too.
	_, err := scenario.ParseFile("f.yaml", []byte("runs: [{name: \"off\"}, {name: \"on\"}]\nheadline: [{metric: achieved_pps, compare: [off, on]}]\n"))
	if err == nil || !strings.Contains(err.Error(), `key "compare"`) || !strings.Contains(err.Error(), "quote the value") {
		t.Errorf("YAML boolean run name: %v", err)
	}
}

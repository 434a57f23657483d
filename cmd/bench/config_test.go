package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/results"
)

func TestScenarioFileErrorsNameFileAndKey(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body, want string
	}{
		{"unknown-key", `{"runs":[{"name":"a","throtle":3}]}`, `runs[0]: unknown key "throtle"`},
		{"wrong-type", `{"runs":[{"name":"a","throttle":"3"}]}`, `key "throttle"`},
		{"bad-duration", `{"base":{"duration":"2 parsecs"},"runs":[{"name":"a"}]}`, `base: key "duration"`},
		{"bad-mode", `{"runs":[{"name":"a","mode":"pci"}]}`, `key "mode"`},
		{"impossible", `{"runs":[{"name":"a","ring_size":1000}]}`, "ring_size"},
		{"no-runs", `{"base":{}}`, `"runs"`},
		{"unnamed", `{"runs":[{}]}`, `key "name"`},
		{"twice", `{"runs":[{"name":"a"},{"name":"a"}]}`, "used twice"},
		{"top-level", `{"runz":[]}`, `unknown key "runz"`},
		{"syntax", `{"runs":[`, "JSON"},
		{"trailing", `{"runs":[{"name":"a"}]} {}`, "after the JSON"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name+".json")
		os.WriteFile(path, []byte(tt.body), 0o644)
		out := filepath.Join(dir, "out-"+tt.name)
		_, stderr, code := runCLI("run", "-config", path, "-o", out)
		if code != 2 || !strings.Contains(stderr, path) || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 naming the file and %q", tt.name, code, stderr, tt.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: a refused file still wrote %s", tt.name, out)
		}
	}
	_, stderr, code := runCLI("run", "-config", filepath.Join(dir, "missing.json"))
	if code != 2 || !strings.Contains(stderr, "missing.json") {
		t.Errorf("missing file: exit %d, %q", code, stderr)
	}
}

func TestScenarioFileRuns(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.json")
	os.WriteFile(path, []byte(`{"name":"mine","base":{"mode":"line","duration":"1s","rate_pps":100000,"flows":16,"imix":true},
		"runs":[{"name":"a","throttle":4},{"name":"b","fan_out":"queue-dpc","queues":2}]}`), 0o644)
	out := filepath.Join(dir, "out")
	// -duration overrides the file's base.
	_, stderr, code := runCLI("run", "-config", path, "-o", out, "-duration", "100ms", "-warmup", "10ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	res, err := results.ReadFile(filepath.Join(out, results.ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	if res.Scenario != "mine" || len(res.Runs) != 2 || res.Runs[0].Name != "a" {
		t.Fatalf("scenario %q runs %d", res.Scenario, len(res.Runs))
	}
	for _, want := range []string{`"mode":"line"`, `"throttle":4`, `"duration_ns":100000000`, `"imix":true`} {
		if !strings.Contains(string(res.Runs[0].Config), want) {
			t.Errorf("run a's config lacks %s: %s", want, res.Runs[0].Config)
		}
	}
	if !strings.Contains(string(res.Runs[1].Config), `"fan_out":"queue-dpc"`) {
		t.Errorf("run b's config: %s", res.Runs[1].Config)
	}
}

// TestScenarioFileYAML: a .yaml file is the same scenario as its JSON twin, and its
// errors name the file and the key too.
func TestScenarioFileYAML(t *testing.T) {
	dir := t.TempDir()
	yamlPath := filepath.Join(dir, "s.yaml")
	os.WriteFile(yamlPath, []byte(`# a comment
name: mine
base:
  mode: line
  duration: 1s
  rate_pps: 100000
  imix: true
runs:
  - name: a
    throttle: 4
  - {name: b, fan_out: queue-dpc, queues: 2}
`), 0o644)
	jsonPath := filepath.Join(dir, "s.json")
	os.WriteFile(jsonPath, []byte(`{"name":"mine","base":{"mode":"line","duration":"1s","rate_pps":100000,"imix":true},
		"runs":[{"name":"a","throttle":4},{"name":"b","fan_out":"queue-dpc","queues":2}]}`), 0o644)
	plans := map[string][]string{}
	for _, path := range []string{yamlPath, jsonPath} {
		def, err := fileScenario(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, v := range def.variants {
			var s nicmodel.Scenario
			def.base(&s)
			v.set(&s)
			plans[path] = append(plans[path], fmt.Sprintf("%s %+v", v.name, s))
		}
	}
	if y, j := strings.Join(plans[yamlPath], "\n"), strings.Join(plans[jsonPath], "\n"); y != j || y == "" {
		t.Errorf("YAML and JSON give different runs:\n%s\n%s", y, j)
	}
	tests := []struct{ name, body, want string }{
		{"unknown-key", "runs:\n  - name: a\n    throtle: 3\n", `unknown key "throtle"`},
		{"wrong-type", "runs:\n  - name: a\n    throttle: [3]\n", `key "throttle"`},
		{"duplicate", "runs:\n  - name: a\n    mode: line\n    mode: msix\n", "mode"},
		{"syntax", "runs: [\n", "yaml"},
		{"norway", "runs:\n  - name: off\n", "quote the value"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name+".yml")
		os.WriteFile(path, []byte(tt.body), 0o644)
		_, stderr, code := runCLI("run", "-config", path, "-o", filepath.Join(dir, "out-"+tt.name))
		if code != 2 || !strings.Contains(stderr, path) || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 naming the file and %q", tt.name, code, stderr, tt.want)
		}
	}
}

// FuzzScenarioFileYAML: as FuzzScenarioFile, for a .yaml file.
func FuzzScenarioFileYAML(f *testing.F) {
	f.Add([]byte("name: m\nbase: {mode: msix, duration: 2s}\nruns:\n  - {name: a, throttle: 8}\n"))
	f.Add([]byte("runs:\n- name: a\n  cpus: 0-3\n  moderation_interval: 50us\n"))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkScenarioFile(t, "f.yaml", data) })
}

// FuzzScenarioFile: any input is either refused with an error naming the file, or gives
// runs that apply without panicking.
func FuzzScenarioFile(f *testing.F) {
	f.Add([]byte(`{"name":"m","base":{"mode":"msix","duration":"2s"},"runs":[{"name":"a","throttle":8}]}`))
	f.Add([]byte(`{"runs":[{"name":"a","cpus":"0-3","moderation_interval":"50us","imix":true}]}`))
	f.Add([]byte(`{"runs":[{"name":"a","seed":-1}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) { checkScenarioFile(t, "f.json", data) })
}

// checkScenarioFile parses data as the scenario file path: it is refused with an error
// naming the file, or its runs apply without panicking.
func checkScenarioFile(t *testing.T, path string, data []byte) {
	_, base, runs, err := parseScenarioFile(path, data)
	if err != nil {
		if !strings.HasPrefix(err.Error(), path) {
			t.Errorf("error does not name the file: %v", err)
		}
		return
	}
	var s nicmodel.Scenario
	_ = base.apply(&s)
	for i := range runs {
		_ = runs[i].apply(&s)
	}
	_ = s.WithDefaults().Validate()
}

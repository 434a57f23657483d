package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		{"slash in name", `{"runs":[{"name":"a/b"}]}`, `key "name"`},
		{"zero rate", `{"runs":[{"name":"a","rate_pps":0}]}`, "rate_pps"},
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
	if !measured(t, code) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	res := readResult(t, out)
	if res.Scenario != "mine" || len(res.Runs) != 2 || res.Runs[0].Name != "a" {
		t.Fatalf("scenario %q runs %d", res.Scenario, len(res.Runs))
	}
	for _, want := range []string{`"mode":"line"`, `"throttle":4`, `"duration":"100ms"`, `"imix":true`} {
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
	plans := map[string]string{}
	for _, path := range []string{yamlPath, jsonPath} {
		def, err := chooseScenario(runFlags{config: path, count: 1, set: map[string]bool{"config": true}})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		plan, err := planRuns(def, runFlags{count: 1})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		plans[path] = fmt.Sprintf("%+v", plan)
	}
	if y, j := plans[yamlPath], plans[jsonPath]; y != j || y == "" {
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

package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/results"
)

// TestReplayRerunsTheRecordedConfig: a replay's runs have byte for byte the configs of
// the result it replays, all of them or the one named, under the same scenario name.
func TestReplayRerunsTheRecordedConfig(t *testing.T) {
	dir := t.TempDir()
	a, b, one := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "one")
	args := append([]string{"run", "-scenario", "throttle", "-o", a, "-set", "per_packet=10ns", "-seed", "7"}, shortRun...)
	if _, stderr, code := runCLI(args...); !measured(t, code) {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCLI("run", "-replay", filepath.Join(a, results.ResultFile), "-o", b); !measured(t, code) {
		t.Fatalf("replay: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCLI("run", "-replay", filepath.Join(a, results.ResultFile)+":throttle=8", "-o", one); !measured(t, code) {
		t.Fatalf("replay of one run: exit %d: %s", code, stderr)
	}
	ra, rb, r1 := readResult(t, a), readResult(t, b), readResult(t, one)
	if rb.Scenario != ra.Scenario || len(rb.Runs) != len(ra.Runs) || len(ra.Runs) != 6 {
		t.Fatalf("replay: scenario %q with %d runs, want %q with %d", rb.Scenario, len(rb.Runs), ra.Scenario, len(ra.Runs))
	}
	for i := range ra.Runs {
		if ra.Runs[i].Name != rb.Runs[i].Name || !bytes.Equal(ra.Runs[i].Config, rb.Runs[i].Config) {
			t.Errorf("run %s: config\n%s\nreplayed as %s\n%s", ra.Runs[i].Name, ra.Runs[i].Config, rb.Runs[i].Name, rb.Runs[i].Config)
		}
	}
	if len(r1.Runs) != 1 || r1.Runs[0].Name != "throttle=8" || !bytes.Equal(r1.Runs[0].Config, ra.Runs[1].Config) {
		t.Errorf("replay of throttle=8: %d runs, first %q", len(r1.Runs), r1.Runs[0].Name)
	}
	for _, want := range []string{`"per_packet":"10ns"`, `"seed":7`, `"throttle":8`, `"moderation_interval":"50us"`} {
		if !strings.Contains(string(ra.Runs[1].Config), want) {
			t.Errorf("config lacks %s: %s", want, ra.Runs[1].Config)
		}
	}
}

// TestReplayRefusesWhatItCannotRerun: a 1.0 result (another config layout), a run it
// does not hold, a config with a key this ndisbench does not know, and a scenario flag
// beside -replay all exit 2, naming the problem.
func TestReplayRefusesWhatItCannotRerun(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	if _, stderr, code := runCLI(append([]string{"run", "-o", a}, shortRun...)...); !measured(t, code) {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	res := filepath.Join(a, results.ResultFile)
	data, _ := os.ReadFile(res)
	edited := filepath.Join(dir, "edited.json") // the first run's config with a key misspelt
	if !bytes.Contains(data, []byte(`"seed":`)) {
		t.Fatalf("no seed key in %s", res)
	}
	os.WriteFile(edited, bytes.Replace(data, []byte(`"seed":`), []byte(`"sede":`), 1), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-replay", "../../results/testdata/result-1.0.json"}, "not a scenario this ndisbench can replay"},
		{[]string{"run", "-replay", res + ":nosuch"}, `no run "nosuch"`},
		{[]string{"run", "-replay", edited}, `unknown key "sede"`},
		{[]string{"run", "-replay", res, "-mode", "line"}, "-mode"},
		{[]string{"run", "-replay", res, "-scenario", "throttle"}, "give one of them"},
	} {
		_, stderr, code := runCLI(append(tt.args, "-o", filepath.Join(dir, "never"))...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("bench %q: exit %d, stderr %q; want exit 2 naming %q", tt.args, code, stderr, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "never")); err == nil {
		t.Errorf("a refused replay wrote results")
	}
}

func readResult(t *testing.T, dir string) *results.Result {
	t.Helper()
	r, err := results.ReadFile(filepath.Join(dir, results.ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBuiltinScenariosAreTheEmbeddedFiles: every embedded scenario file is listed, every
// listed one is embedded, parses, and plans into valid runs with the default flags.
func TestBuiltinScenariosAreTheEmbeddedFiles(t *testing.T) {
	names, _ := fs.Glob(builtinFiles, "scenarios/*.yaml")
	for i, n := range names {
		names[i] = strings.TrimSuffix(filepath.Base(n), ".yaml")
	}
	slices.Sort(names)
	listed := slices.Sorted(slices.Values(builtinOrder))
	if !slices.Equal(names, listed) {
		t.Fatalf("embedded %v, listed %v", names, listed)
	}
	for _, name := range builtinOrder {
		def, _, err := builtin(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if def.Name != name {
			t.Errorf("scenarios/%s.yaml is named %q", name, def.Name)
		}
		plan, err := planRuns(def, runFlags{count: 1})
		if err != nil || len(plan) != len(def.Runs) {
			t.Errorf("%s: %d runs planned, %v", name, len(plan), err)
		}
	}
}

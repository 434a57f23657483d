package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/nicmodel/scenario"
)

// goTypeName matches what a message must never show a user: a Go type or package
// name (main.duration, scenario.Scenario, time.Duration) or a fmt verb gone wrong.
var goTypeName = regexp.MustCompile(`\bmain\.[a-zA-Z]|\b[a-z]+\.[A-Z][A-Za-z]+\b|%!`)

// checkRefused runs bench with args and -o out, and checks that it exited 2 with a
// message naming every want, in the user's words, and created no output directory.
func checkRefused(t *testing.T, out string, args []string, want ...string) {
	t.Helper()
	args = slices.Clone(args)
	if args[0] == "run" { // should a check miss, the run is short
		args = append(args, "-duration", "150ms", "-warmup", "20ms")
	}
	if !slices.Contains(args, "-o") {
		args = append(args, "-o", out)
	}
	_, stderr, code := runCLI(args...)
	if code != 2 {
		t.Errorf("bench %q: exit %d, want 2; stderr %q", args, code, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("bench %q: stderr %q does not name %q", args, stderr, w)
		}
	}
	if m := goTypeName.FindString(stderr); m != "" {
		t.Errorf("bench %q: stderr %q shows a Go name (%q)", args, stderr, m)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("bench %q: refused, yet %s was created", args, out)
	}
}

// TestBadInputExits2 runs each kind of bad input the CLI must refuse before measuring:
// it exits 2, names the flag, key or file as the user wrote it, and writes nothing.
func TestBadInputExits2(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	aFile := write("a-file", "x")
	full := filepath.Join(dir, "full")
	os.Mkdir(full, 0o755)
	write("full/keep", "x")
	tests := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		// Duplicate keys in a JSON scenario file, at each level.
		{"duplicate run key", []string{"run", "-config", write("dup-run.json", `{"runs":[{"name":"a","mode":"line","mode":"msix"}]}`)}, []string{"dup-run.json", `"mode"`, "twice"}},
		{"duplicate base key", []string{"run", "-config", write("dup-base.json", `{"base":{"rate_pps":1000,"rate_pps":2000},"runs":[{"name":"a"}]}`)}, []string{"dup-base.json", `"rate_pps"`, "twice"}},
		{"duplicate top key", []string{"run", "-config", write("dup-top.json", `{"name":"x","name":"y","runs":[{"name":"a"}]}`)}, []string{"dup-top.json", `"name"`, "twice"}},
		{"duplicate YAML key", []string{"run", "-config", write("dup.yaml", "runs:\n  - name: a\n    mode: line\n    mode: msix\n")}, []string{"dup.yaml", "mode"}},
		// A rate of 0, from a file and from the flags.
		{"rate_pps 0 in a file", []string{"run", "-config", write("rate0.json", `{"runs":[{"name":"a","rate_pps":0}]}`)}, []string{"rate0.json", "rate_pps", "> 0"}},
		{"-rate 0", []string{"run", "-rate", "0"}, []string{"-rate", "rate_pps"}},
		// A rate no generator can offer: refused, not run for minutes.
		{"-rate 1e9", []string{"run", "-rate", "1e9"}, []string{"-rate", "rate_pps", "1e8"}},
		{"-set rate_pps=1e9", []string{"run", "-set", "rate_pps=1e9"}, []string{"-set", "rate_pps"}},
		{"rate_pps 1e9 in a file", []string{"run", "-config", write("fast.yaml", "base: {rate_pps: 1e9}\nruns: [{name: a}]\n")}, []string{"fast.yaml", "rate_pps"}},
		// Queues out of range (0 is the documented automatic value: see below).
		{"-queues 65", []string{"run", "-queues", "65"}, []string{"-queues", "queues"}},
		{"-queues -1", []string{"run", "-queues", "-1"}, []string{"-queues", "queues"}},
		// An -o that cannot receive results, found before measuring.
		{"-o is a file", []string{"run", "-o", aFile}, []string{"-o", aFile, "not a directory"}},
		{"-o under a file", []string{"run", "-o", filepath.Join(aFile, "sub")}, []string{"-o", aFile, "not a directory"}},
		{"-o not empty", []string{"run", "-o", full}, []string{"-o", full, "not empty"}},
		// -runs names a run the scenario does not have; -cpuprofile cannot be written.
		{"-runs unknown", []string{"run", "-runs", "msix,nope"}, []string{"-runs", `"nope"`, "msix, line"}},
		{"-runs empty name", []string{"run", "-runs", "msix,"}, []string{"-runs", "empty"}},
		{"-cpuprofile under a file", []string{"run", "-cpuprofile", filepath.Join(aFile, "cpu.prof")}, []string{"-cpuprofile", aFile}},
		{"-cpuprofile a directory", []string{"run", "-cpuprofile", full}, []string{"-cpuprofile", full, "directory"}},
		{"calibrate -o under a file", []string{"calibrate", "-samples", "10", "-o", filepath.Join(aFile, "c.json")}, []string{"-o", aFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefused(t, filepath.Join(dir, "out-"+strings.ReplaceAll(tt.name, " ", "-")), tt.args, tt.want...)
		})
	}
	if _, err := os.Stat(filepath.Join(full, "keep")); err != nil {
		t.Errorf("a refused run touched the non-empty -o: %v", err)
	}
}

// TestUnwritableOutputExits2: an -o whose directory is not writable, or that exists and
// is not writable, is found before measuring. Permission bits do not stop root: as
// root it checks a directory no one may write in (sysfs, where there is one) and skips
// the rest (run the test binary as another user to see them).
func TestUnwritableOutputExits2(t *testing.T) {
	if os.Geteuid() == 0 {
		if fi, err := os.Stat("/sys"); err != nil || !fi.IsDir() {
			t.Skip("running as root, and no /sys: nothing here stops root")
		}
		p, err := os.MkdirTemp("/sys", "ndisbench-probe-")
		if err == nil {
			os.Remove(p)
			t.Skip("running as root, and /sys is writable: nothing here stops root")
		}
		out := "/sys/ndisbench-never"
		_, stderr, code := runCLI(append([]string{"run", "-o", out}, shortRun...)...)
		if code != 2 || !strings.Contains(stderr, "-o") || !strings.Contains(stderr, "/sys is not writable") {
			t.Errorf("-o %s: exit %d, stderr %q; want exit 2 naming -o and /sys", out, code, stderr)
		}
		t.Skip("running as root: the permission-bit cases do not stop root")
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "read-only")
	os.Mkdir(ro, 0o755)
	os.Mkdir(filepath.Join(ro, "empty"), 0o755)
	if err := os.Chmod(filepath.Join(ro, "empty"), 0o555); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(ro, 0o755) })
	for _, tt := range []struct{ name, out, want string }{
		{"cannot create", filepath.Join(ro, "new"), "not writable"},                  // its directory is read-only
		{"cannot create deeper", filepath.Join(ro, "new", "deeper"), "not writable"}, // so is its nearest ancestor
		{"exists, not writable", filepath.Join(ro, "empty"), "not writable"},         // it exists, read-only, empty
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(append([]string{"run", "-o", tt.out}, shortRun...)...)
			if code != 2 || !strings.Contains(stderr, "-o") || !strings.Contains(stderr, tt.want) {
				t.Errorf("-o %s: exit %d, stderr %q; want exit 2 naming -o and %q", tt.out, code, stderr, tt.want)
			}
		})
	}
	_, stderr, code := runCLI("calibrate", "-samples", "10", "-o", filepath.Join(ro, "c.json"))
	if code != 2 || !strings.Contains(stderr, "-o") || !strings.Contains(stderr, "not writable") {
		t.Errorf("calibrate -o in a read-only directory: exit %d, %q", code, stderr)
	}
}

// TestEveryFlagAndKeyRefusesABadValue: a value of the wrong type for any flag, and for
// any key through -set, exits 2 naming the flag (and the key), in words, never a Go
// type.
func TestEveryFlagAndKeyRefusesABadValue(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "never")
	type tc struct {
		args []string
		want []string
	}
	var tests []tc
	// "x y" is no value of any type: not a number, duration, boolean, CPU list, hex
	// string or name.
	for _, sf := range scenarioFlags {
		tests = append(tests, tc{[]string{"run", "-" + sf.flag, "x y"}, []string{"-" + sf.flag}})
	}
	for _, key := range scenario.Keys() {
		tests = append(tests, tc{[]string{"run", "-set", key + "=x y"}, []string{"-set", key}})
	}
	for _, fl := range []string{"count", "interval", "json"} {
		tests = append(tests, tc{[]string{"run", "-" + fl + "=x y"}, []string{"-" + fl}})
	}
	for _, fl := range []string{"cpus", "samples", "wake-samples", "json"} {
		tests = append(tests, tc{[]string{"calibrate", "-" + fl + "=x y"}, []string{"-" + fl}})
	}
	tests = append(tests,
		tc{[]string{"run", "-set", "queues"}, []string{"-set", "KEY=VALUE"}},               // no "="
		tc{[]string{"run", "-set", "qeues=2"}, []string{"-set", `"qeues"`}},                // unknown key
		tc{[]string{"run", "-count", "99999999999999999999"}, []string{"-count", "range"}}, // overflow
	)
	for _, tt := range tests {
		checkRefused(t, out, tt.args, tt.want...)
	}
}

// TestQueuesZeroIsAutomatic: queues 0 is not bad input: it is the documented automatic
// value (one queue per vCPU), which the rss scenario sets on purpose.
func TestQueuesZeroIsAutomatic(t *testing.T) {
	def, _, err := builtin(defaultScenario)
	if err != nil {
		t.Fatal(err)
	}
	st, err := scenario.ParseSetting("queues", "0")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := planRuns(def, runFlags{count: 1, settings: []flagSetting{{"queues", st}}})
	if err != nil {
		t.Fatalf("-queues 0: %v", err)
	}
	for _, p := range plan {
		if p.sc.Queues < 1 || p.sc.Queues != p.sc.VCPUs {
			t.Errorf("run %s: -queues 0 resolved to %d queues for %d vCPUs", p.name, p.sc.Queues, p.sc.VCPUs)
		}
	}
}

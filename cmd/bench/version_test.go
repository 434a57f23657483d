package main

import (
	"runtime"
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/results"
)

// TestVersion: "bench version", "bench -version" and "bench --version" print the same
// identification, the one DetectEnvironment records in every result.json.
func TestVersion(t *testing.T) {
	want := results.CurrentBuild()
	var first string
	for _, args := range [][]string{{"version"}, {"-version"}, {"--version"}} {
		out, stderr, code := runCLI(args...)
		if code != 0 || stderr != "" {
			t.Fatalf("bench %q: exit %d, stderr %q", args, code, stderr)
		}
		for _, w := range []string{"ndisbench " + want.Version + "\n", "commit ", runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH} {
			if !strings.Contains(out, w) {
				t.Errorf("bench %q lacks %q:\n%s", args, w, out)
			}
		}
		if first == "" {
			first = out
		} else if out != first {
			t.Errorf("bench %q printed\n%s\nbench version printed\n%s", args, out, first)
		}
	}
	if env := results.DetectEnvironment(); !strings.HasPrefix(first, "ndisbench "+env.ToolVersion+"\n") {
		t.Errorf("bench version says %q, result.json would record tool_version %q", first, env.ToolVersion)
	}
	if _, stderr, code := runCLI("version", "extra"); code != 2 || !strings.Contains(stderr, "extra") {
		t.Errorf("bench version extra: exit %d, %q", code, stderr)
	}
}

func TestPrintVersion(t *testing.T) {
	tests := []struct {
		b    results.Build
		want []string
	}{
		// A stamped build from a checkout with changes.
		{results.Build{Version: "v0.0.0-20261123213536-de4db9d80b70+dirty", Commit: "de4db9d80b70f42fe8a1de7eb55dfa47e9c54337+dirty",
			CommitTime: "2026-11-23T21:35:36Z", GoVersion: "go1.26.0", GOOS: "darwin", GOARCH: "arm64"},
			[]string{"ndisbench v0.0.0-20261123213536-de4db9d80b70+dirty\n", "commit    de4db9d80b70f42fe8a1de7eb55dfa47e9c54337+dirty (2026-11-23T21:35:36Z)\n", "go        go1.26.0 darwin/arm64\n"}},
		// go run: nothing stamped, and it says why the commit is unknown.
		{results.Build{Version: "devel", GoVersion: "go1.26.0", GOOS: "linux", GOARCH: "amd64"},
			[]string{"ndisbench devel\n", "commit    unknown (not stamped", "go        go1.26.0 linux/amd64\n"}},
	}
	for _, tt := range tests {
		var b strings.Builder
		printVersion(&b, tt.b)
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%+v: output lacks %q:\n%s", tt.b, w, b.String())
			}
		}
	}
}

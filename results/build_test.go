package results

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestBuildOf(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "GOOS", Value: "darwin"}, {Key: "GOARCH", Value: "arm64"},
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: "2026-11-23T21:35:36Z"}, {Key: "vcs.modified", Value: modified},
		}
	}
	const rev = "de4db9d80b70f42fe8a1de7eb55dfa47e9c54337"
	tests := []struct {
		name            string
		bi              *debug.BuildInfo
		ok              bool
		version, commit string
	}{
		// No build information at all (a binary built without module support).
		{"none", nil, false, "devel", ""},
		// go test, go run, or go build -buildvcs=false: no version, no revision.
		{"devel", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/ndisbench/ndisbench", Version: "(devel)"}}, true, "devel", ""},
		// go build from a clean git checkout: a pseudo-version and the revision.
		{"clean", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20261123213536-de4db9d80b70"}, Settings: vcs(rev, "false")}, true,
			"v0.0.0-20261123213536-de4db9d80b70", rev},
		// go build from a checkout with changes: both say so.
		{"dirty", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20261123213536-de4db9d80b70+dirty"}, Settings: vcs(rev, "true")}, true,
			"v0.0.0-20261123213536-de4db9d80b70+dirty", rev + "+dirty"},
		// go install of a tagged release: the tag, and no VCS settings.
		{"release", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}}, true, "v1.2.3", ""},
	}
	for _, tt := range tests {
		b := buildOf(tt.bi, tt.ok)
		if b.Version != tt.version || b.Commit != tt.commit {
			t.Errorf("%s: version %q commit %q, want %q %q", tt.name, b.Version, b.Commit, tt.version, tt.commit)
		}
		if b.GoVersion == "" || b.GOOS == "" || b.GOARCH == "" {
			t.Errorf("%s: toolchain or target missing: %+v", tt.name, b)
		}
	}
	if b := buildOf(tests[2].bi, true); b.GOOS != "darwin" || b.GOARCH != "arm64" || b.GoVersion != "go1.26.0" || b.CommitTime != "2026-11-23T21:35:36Z" {
		t.Errorf("the stamped target and commit time: %+v", b)
	}
	if b := buildOf(nil, false); b.GoVersion != runtime.Version() || b.GOOS != runtime.GOOS || b.GOARCH != runtime.GOARCH {
		t.Errorf("without build information the running toolchain and target: %+v", b)
	}
}

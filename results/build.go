package results

import (
	"runtime"
	"runtime/debug"
)

// Build identifies the ndisbench binary that is running: what "bench version" prints and
// what every result.json records as its environment's tool_version and commit.
type Build struct {
	// Version is the main module's version as the Go toolchain stamped it (a release
	// tag, or a pseudo-version such as "v0.0.0-20260102150405-abcdef123456" when built
	// with VCS stamping from an untagged commit); "devel" when the toolchain knew none
	// (go run, go test, -buildvcs=false).
	Version string
	// Commit is the VCS revision the binary was built from, with "+dirty" appended when
	// the tree had uncommitted changes; "" when the toolchain did not stamp one.
	Commit string
	// CommitTime is the revision's commit time (RFC 3339); "" when unknown.
	CommitTime string
	// GoVersion, GOOS and GOARCH are the toolchain and the target it built for.
	GoVersion, GOOS, GOARCH string
}

// CurrentBuild returns the running binary's Build, from runtime/debug.ReadBuildInfo.
func CurrentBuild() Build {
	bi, ok := debug.ReadBuildInfo()
	return buildOf(bi, ok)
}

// buildOf reads a Build out of bi; ok is ReadBuildInfo's.
func buildOf(bi *debug.BuildInfo, ok bool) Build {
	b := Build{Version: "devel", GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
	if !ok || bi == nil {
		return b
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		b.Version = v
	}
	if bi.GoVersion != "" {
		b.GoVersion = bi.GoVersion
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.CommitTime = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		case "GOOS":
			b.GOOS = s.Value
		case "GOARCH":
			b.GOARCH = s.Value
		}
	}
	if b.Commit != "" && dirty {
		b.Commit += "+dirty"
	}
	return b
}

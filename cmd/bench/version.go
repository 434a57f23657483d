package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/ndisbench/ndisbench/results"
)

var versionCommand = command{
	summary: "print which ndisbench this is: version, commit, Go version and target",
	usage:   versionUsage,
	run:     runVersion,
}

const versionUsage = `Usage: bench version
       bench -version

Version prints which ndisbench this binary is, the same identification every
result.json records (environment.tool_version and environment.commit):

  version  the main module's version as the Go toolchain stamped it: a release tag, a
           pseudo-version for a "go build" in a git checkout (+dirty when the tree had
           changes), or "devel" when none was stamped (go run, -buildvcs=false)
  commit   the git revision it was built from, +dirty when the tree had uncommitted
           changes; "unknown" when the build carries none
  go       the Go toolchain, and the GOOS/GOARCH it was built for

Example:
  bench version
`

func runVersion(_ context.Context, stdout, _ io.Writer, args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if err := parseFlags(fs, versionUsage, stdout, args); err != nil {
		return err
	}
	printVersion(stdout, results.CurrentBuild())
	return nil
}

// printVersion writes b as "bench version" shows it.
func printVersion(w io.Writer, b results.Build) {
	commit := b.Commit
	switch {
	case commit == "":
		commit = "unknown (not stamped: go run, -buildvcs=false, or not built in a git checkout)"
	case b.CommitTime != "":
		commit += " (" + b.CommitTime + ")"
	}
	fmt.Fprintf(w, "ndisbench %s\ncommit    %s\ngo        %s %s/%s\n", b.Version, commit, b.GoVersion, b.GOOS, b.GOARCH)
}

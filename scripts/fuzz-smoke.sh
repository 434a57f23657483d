#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time (default 5s each), so that CI
# exercises the fuzzers beyond their seed corpora. Usage: scripts/fuzz-smoke.sh [DURATION]
# A failing target prints the fuzzer's output (the failure and the file holding the input
# that caused it, under the package's testdata/fuzz/) and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
dur="${1:-5s}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $target ($dur)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$dur" "$pkg" >"$log" 2>&1; then
      echo "fuzz $pkg $target FAILED:"
      tail -n 60 "$log"
      for f in "$dir"/testdata/fuzz/"$target"/*; do
        [ -f "$f" ] && git -C "$dir" ls-files --error-unmatch "$f" >/dev/null 2>&1 && continue
        [ -f "$f" ] && { echo "--- new failing input $f:"; head -c 4000 "$f"; echo; }
      done
      exit 1
    fi
  done
done

#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time (default 5s each), so that CI
# exercises the fuzzers beyond their seed corpora. Usage: scripts/fuzz-smoke.sh [DURATION]
#
# A finding is a reproducer the fuzzer wrote under the package's testdata/fuzz/<target>/:
# the script prints the fuzzer's output and the input, and exits 1. Go's fuzzer can also
# exit non-zero with only "context deadline exceeded" when -fuzztime ends while a worker
# is busy (golang/go#51484, #56238): that, and only that, is reported and tolerated. Any
# other failure (a build error, say) fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
dur="${1:-5s}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
flakes=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $target ($dur)"
    corpus="$dir/testdata/fuzz/$target"
    before=$(ls "$corpus" 2>/dev/null | sort || true)
    if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$dur" -fuzzminimizetime 2s "$pkg" >"$log" 2>&1; then
      continue
    fi
    after=$(ls "$corpus" 2>/dev/null | sort || true)
    new=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d')
    if [ -z "$new" ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
      echo "fuzz $pkg $target: the fuzzer's -fuzztime boundary error, no input found (tolerated):"
      tail -n 5 "$log"
      flakes=$((flakes + 1))
      continue
    fi
    echo "fuzz $pkg $target FAILED:"
    tail -n 60 "$log"
    for f in $new; do
      echo "--- failing input $corpus/$f:"
      head -c 4000 "$corpus/$f"
      echo
    done
    exit 1
  done
done
echo "fuzz: every target ran ($flakes fuzzer boundary error(s) tolerated)"

#!/usr/bin/env bash
# Makes the README's pictures in scripts/readme-plots/: short runs of the default
# scenario (two of them, "base" and "new", to show two directories overlaid) and of the
# throttle scenario, then bench plot. Run it under ../shared/tools/quiet-run where you can: the
# pictures show what the plots look like, not figures to quote. A run the host disturbed
# (bench run's exit 3) is kept and drawn, flagged as the plots flag it.
#
# Usage: scripts/readme-plots.sh [OUT]   (default scripts/readme-plots)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-scripts/readme-plots}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bench" ./cmd/bench

# run ARGS...: bench run, accepting exit 3 (written, flagged not a valid measurement).
run() {
  local rc=0
  "$tmp/bench" run "$@" >/dev/null 2>"$tmp/err" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    echo "readme-plots: bench run $* exited $rc:"; cat "$tmp/err"; exit 1
  fi
}
run -duration 1s -interval 100ms -count 3 -o "$tmp/base"
run -duration 1s -interval 100ms -count 3 -o "$tmp/new"
run -scenario throttle -duration 1s -o "$tmp/throttle"

"$tmp/bench" plot -format png -kind time -o "$tmp/one" "$tmp/base" >/dev/null
"$tmp/bench" plot -format png -kind spectrum,rate -o "$tmp/two" "$tmp/base" "$tmp/new" >/dev/null
"$tmp/bench" plot -format png -kind batch -o "$tmp/throttle-plots" "$tmp/throttle" >/dev/null

mkdir -p "$out"
cp "$tmp/two/spectrum.packet_latency.png" "$out/spectrum-base-new.png"
cp "$tmp/one/time.packet_latency.png" "$out/time.png"
cp "$tmp/throttle-plots/batch.dpc_batch_size.png" "$out/batch-throttle.png"
cp "$tmp/two/rate.achieved.png" "$out/rate-base-new.png"
du -ch "$out"/*.png | tail -1 | sed "s|total|in $out|"

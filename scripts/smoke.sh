#!/usr/bin/env bash
# A short run of the CLI that checks what it prints, what it writes, and that bad input
# exits 2. Used by .ci/run; runnable by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bench" ./cmd/bench

echo "bench calibrate (short)"
"$tmp/bench" calibrate -samples 2000 -wake-samples 200 -o "$tmp/cal.json" | tee "$tmp/cal.txt"
grep -q 'cache-line round trip' "$tmp/cal.txt"
if ! command -v python3 >/dev/null; then
  grep -q '"cacheline_rtt_ns"' "$tmp/cal.json" && grep -q '"clock_ns"' "$tmp/cal.json"
  echo "cal.json has its fields (python3 missing: shallow check)"
else python3 - "$tmp/cal.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("clock_ns", "cpus", "pinned"):
    assert k in d, k
assert d["clock_ns"] > 0
for k in ("cacheline_rtt_ns", "futex_wake_ns", "chan_wake_ns", "ring_handoff_ns"):
    v = d[k]
    if v is None:
        assert k in d.get("unmeasured", {}), f"{k} is null but not explained"
    else:
        assert 0 < v["p50"] <= v["p99"], (k, v)
print("cal.json ok")
PY
fi

echo "bench run (short)"
"$tmp/bench" run -duration 300ms -warmup 50ms -rate 200000 -o "$tmp/run" | tee "$tmp/run.txt"
grep -q '^headline' "$tmp/run.txt"  # what msi-vs-line.yaml declares, or why there is none
for f in result.json bench.txt msix.hlog line.hlog msix.packet_latency.hgrm line.isr_to_dpc.hgrm; do
  [ -s "$tmp/run/$f" ] || { echo "bench run did not write $f"; exit 1; }
done
grep -q '^#\[Histogram log format version 1.3\]' "$tmp/run/msix.hlog"
grep -q '^BenchmarkNdis/scenario=msi-vs-line/run=msix' "$tmp/run/bench.txt"
if command -v python3 >/dev/null; then python3 - "$tmp/run/result.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "ndisbench/result" and d["version"].startswith("1."), d["schema"]
assert [r["name"] for r in d["runs"]] == ["msix", "line"]
for r in d["runs"]:
    assert r["counters"]["indicated"] > 0 and r["histograms"]["packet_latency"]["count"] > 0
print("result.json ok")
PY
fi

echo "bench run -replay: the same configuration again"
"$tmp/bench" run -duration 200ms -warmup 20ms -rate 100000 -o "$tmp/a" >/dev/null
"$tmp/bench" run -replay "$tmp/a/result.json" -o "$tmp/b" >/dev/null
if command -v python3 >/dev/null; then python3 - "$tmp/a/result.json" "$tmp/b/result.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ca = {r["name"]: r["config"] for r in a["runs"]}
cb = {r["name"]: r["config"] for r in b["runs"]}
assert ca == cb and len(ca) == 2, (ca, cb)
assert a["scenario"] == b["scenario"]
print("replayed configs identical:", ", ".join(sorted(ca)))
PY
fi

echo "bench run -driver minimal"
"$tmp/bench" run -driver minimal -duration 200ms -warmup 20ms -rate 100000 -o "$tmp/minimal" | tail -3
grep -q '"driver": *"minimal"' "$tmp/minimal/result.json"

expect_usage_error() { # command... : must exit 2 and say something on stderr
  set +e
  "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  set -e
  if [ "$rc" -ne 2 ] || [ ! -s "$tmp/err" ]; then
    echo "expected exit 2 with a message from: $*; got $rc"; cat "$tmp/err"; exit 1
  fi
  echo "exit 2 as expected: $(head -1 "$tmp/err")"
}
expect_usage_error "$tmp/bench" calibrate -cpus 9-x
expect_usage_error "$tmp/bench" calibrate -samples 0
expect_usage_error "$tmp/bench" nosuchcommand
expect_usage_error "$tmp/bench" run -scenario nosuch
expect_usage_error "$tmp/bench" run -rate -5
expect_usage_error "$tmp/bench" run -rate 0
expect_usage_error "$tmp/bench" run -driver nosuch
expect_usage_error "$tmp/bench" run -set nosuch=1
expect_usage_error "$tmp/bench" run -replay "$tmp/nosuch.json"
expect_usage_error "$tmp/bench" run -replay "$tmp/a/result.json" -duration 1s
[ ! -e "$tmp/never.json" ] || exit 1
echo "smoke: ok"

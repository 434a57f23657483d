#!/usr/bin/env bash
# A short run of the CLI that checks what it prints, what it writes, and that bad input
# exits 2 and writes nothing. Used by .ci/run; runnable by hand. With SMOKE_REPORT=FILE
# it copies the run's report.html there, for scripts/check-report.sh to open in a browser.
#
# It checks structure and invariants, never how much a run delivered or how fast: the
# machine may be busy. For the same reason a bench run may exit 3 (a run the host
# disturbed is flagged "not a valid measurement"): that is accepted, and said.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bench" ./cmd/bench

have_python=true
command -v python3 >/dev/null || have_python=false
skip() { echo "smoke: SKIPPED: $*"; }

# measure OUT ARGS...: runs bench ARGS with stdout in OUT; exit 0 passes, exit 3 passes
# with a line that says so (and sets invalid=true), anything else fails.
invalid=false
measure() {
  local out=$1 rc
  shift
  set +e
  "$tmp/bench" "$@" >"$out"
  rc=$?
  set -e
  case $rc in
  0) ;;
  3)
    invalid=true
    echo "smoke: ACCEPTED exit 3 from bench $*: a run was flagged not a valid measurement (a busy machine); its files are still checked"
    ;;
  *)
    echo "smoke: bench $* exited $rc"
    exit 1
    ;;
  esac
}

echo "bench version"
"$tmp/bench" version | tee "$tmp/version.txt"
grep -q '^ndisbench ' "$tmp/version.txt" && grep -q "^go  *go" "$tmp/version.txt"
"$tmp/bench" help >"$tmp/help.txt"
for status in 0 1 2 3 4 130; do
  grep -q "^  $status " "$tmp/help.txt" || { echo "bench help does not document exit status $status"; exit 1; }
done

echo "bench calibrate (short)"
"$tmp/bench" calibrate -samples 2000 -wake-samples 200 -o "$tmp/cal.json" | tee "$tmp/cal.txt"
grep -q 'cache-line round trip' "$tmp/cal.txt"
if ! $have_python; then
  grep -q '"cacheline_rtt_ns"' "$tmp/cal.json" && grep -q '"clock_ns"' "$tmp/cal.json"
  skip "cal.json's values not checked (python3 missing: its fields only)"
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
measure "$tmp/run.txt" run -duration 300ms -warmup 50ms -rate 200000 -o "$tmp/run"
cat "$tmp/run.txt"
for w in msix line achieved headline "wrote $tmp/run"; do
  grep -q "$w" "$tmp/run.txt" || { echo "bench run's table lacks $w"; exit 1; }
done
for f in result.json bench.txt report.html msix.hlog line.hlog msix.packet_latency.hgrm line.isr_to_dpc.hgrm; do
  [ -s "$tmp/run/$f" ] || { echo "bench run did not write $f"; exit 1; }
done
grep -q '^#\[Histogram log format version 1.3\]' "$tmp/run/msix.hlog"
if $invalid; then
  skip "bench.txt's lines per run (an invalid run may be left out of it)"
else
  grep -q '^BenchmarkNdis/scenario=msi-vs-line/run=msix' "$tmp/run/bench.txt"
fi
if ! $have_python; then
  skip "result.json's structure (python3 missing)"
else python3 - "$tmp/run/result.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "ndisbench/result" and d["version"].startswith("1."), d["schema"]
assert d["environment"].get("tool_version"), "no environment.tool_version"
assert [r["name"] for r in d["runs"]] == ["msix", "line"]
hists = {"irq_delivery", "isr_duration", "isr_to_dpc", "dpc_duration", "dpc_batch_size",
         "batch_duration", "packet_latency", "packet_service"}
for r in d["runs"]:
    c = r["counters"]
    assert hists <= set(r["histograms"]), (r["name"], sorted(r["histograms"]))
    # The invariants the run checked, as written: every packet indicated or dropped.
    assert c["generated"] == c["indicated"] + c["dropped"], (r["name"], c)
    assert c["violations"] == 0, (r["name"], c)
    for h in r["histograms"].values():
        assert h["count"] == 0 or h["min"] <= h["p50"] <= h["p99"] <= h["max"], h
print("result.json ok")
PY
fi

echo "report.html and bench plot"
for k in spectrum time batch rate; do
  grep -q "data-plot=\"$k\." "$tmp/run/report.html" || { echo "report.html has no $k plot"; exit 1; }
done
if grep -qE 'https?://' "$tmp/run/report.html"; then
  echo "report.html holds a URL: $(grep -oE '.{0,30}https?://.{0,30}' "$tmp/run/report.html" | head -1)"; exit 1
fi
if [ -n "${SMOKE_REPORT:-}" ]; then
  cp "$tmp/run/report.html" "$SMOKE_REPORT"
fi
"$tmp/bench" plot -o "$tmp/plots" "$tmp/run" >"$tmp/plot.txt"
for f in spectrum.packet_latency time.packet_latency batch.dpc_batch_size rate.achieved; do
  for ext in png svg; do
    [ -s "$tmp/plots/$f.$ext" ] || { echo "bench plot did not write $f.$ext"; cat "$tmp/plot.txt"; exit 1; }
  done
done
head -c 8 "$tmp/plots/rate.achieved.png" | od -An -c | grep -q 'P   N   G' || { echo "rate.achieved.png is not a PNG"; exit 1; }
grep -q '<svg' "$tmp/plots/rate.achieved.svg"
echo "bench plot: $(wc -l <"$tmp/plot.txt") images"

echo "bench run -replay: the same configuration again"
measure /dev/null run -duration 200ms -warmup 20ms -rate 100000 -o "$tmp/a"
measure /dev/null run -replay "$tmp/a/result.json" -o "$tmp/b"
if ! $have_python; then
  skip "replayed configs not compared (python3 missing)"
else python3 - "$tmp/a/result.json" "$tmp/b/result.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ca = {r["name"]: r["config"] for r in a["runs"]}
cb = {r["name"]: r["config"] for r in b["runs"]}
assert ca == cb and len(ca) == 2, (ca, cb)
assert a["scenario"] == b["scenario"]
print("replayed configs identical:", ", ".join(sorted(ca)))
PY
fi

echo "bench plot of two directories, bench report"
"$tmp/bench" plot -format svg -kind spectrum,rate -o "$tmp/plots2" "$tmp/a" "$tmp/b" >/dev/null
grep -q '>a msix' "$tmp/plots2/spectrum.isr_to_dpc.svg" && grep -q '>b msix' "$tmp/plots2/spectrum.isr_to_dpc.svg" ||
  { echo "the two directories' plot does not name a and b's runs"; exit 1; }
rm "$tmp/b/report.html"
"$tmp/bench" report "$tmp/b" | grep -q "wrote $tmp/b/report.html"
[ -s "$tmp/b/report.html" ]

echo "bench run -driver minimal"
measure "$tmp/minimal.txt" run -driver minimal -duration 200ms -warmup 20ms -rate 100000 -o "$tmp/minimal"
tail -3 "$tmp/minimal.txt"
grep -q '"driver": *"minimal"' "$tmp/minimal/result.json"

echo "bench run -trace: a timeline of every ISR and DPC call, the whole run in its window"
measure /dev/null run -runs msix -duration 200ms -warmup 0s -rate 20000 -trace-window 10s -trace "$tmp/t.json" -o "$tmp/traced"
if ! $have_python; then
  [ -s "$tmp/t.json" ] && grep -q '"traceEvents"' "$tmp/t.json"
  skip "the trace's slices not counted (python3 missing)"
else python3 - "$tmp/t.json" "$tmp/traced/result.json" <<'PY'
import json, sys
t, r = (json.load(open(p)) for p in sys.argv[1:3])
ev = t["traceEvents"]
for e in ev:
    assert {"name", "ph", "ts", "pid", "tid"} <= set(e), e
dpcs = sum(1 for e in ev if e["ph"] == "X" and e["name"] == "DPC")
want = r["runs"][0]["counters"]["dpcs"]
assert dpcs == want and t["metadata"]["complete"], (dpcs, want, t["metadata"])
print(f"trace ok: {len(ev)} events, {dpcs} DPC slices for {want} DPC calls")
PY
fi

# expect_usage_error ARGS...: bench ARGS must exit 2, say something on stderr, and not
# create $tmp/never (every command below that writes is pointed there).
touch "$tmp/a-file"
expect_usage_error() {
  local rc
  set +e
  "$tmp/bench" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  set -e
  if [ "$rc" -ne 2 ] || [ ! -s "$tmp/err" ]; then
    echo "expected exit 2 with a message from: bench $*; got $rc"; cat "$tmp/err"; exit 1
  fi
  if [ -e "$tmp/never" ]; then
    echo "bench $* exited 2 but created $tmp/never"; exit 1
  fi
  echo "exit 2 as expected: $(head -1 "$tmp/err")"
}
expect_usage_error calibrate -cpus 9-x -o "$tmp/never"
expect_usage_error calibrate -samples 0 -o "$tmp/never"
expect_usage_error calibrate -o "$tmp/a-file/never"
expect_usage_error nosuchcommand
expect_usage_error run -scenario nosuch -o "$tmp/never"
expect_usage_error run -rate -5 -o "$tmp/never"
expect_usage_error run -rate 0 -o "$tmp/never"
expect_usage_error run -rate 1e9 -o "$tmp/never"
expect_usage_error run -count x -o "$tmp/never"
expect_usage_error run -driver nosuch -o "$tmp/never"
expect_usage_error run -set nosuch=1 -o "$tmp/never"
expect_usage_error run -o "$tmp/a-file"
expect_usage_error run -o "$tmp/a-file/never"
expect_usage_error run -replay "$tmp/nosuch.json" -o "$tmp/never"
expect_usage_error run -replay "$tmp/a/result.json" -duration 1s -o "$tmp/never"
expect_usage_error compare "$tmp/nosuch" "$tmp/a" -format markdown -o "$tmp/never"
expect_usage_error compare -threshold packet_latency.p99=-5% "$tmp/a" "$tmp/b" -o "$tmp/never"
expect_usage_error run -trace "$tmp/never.json" -trace-window -1ms -o "$tmp/never"
expect_usage_error run -trace "$tmp/never.json" -trace-at nonsense -o "$tmp/never"
expect_usage_error run -trace "$tmp/a-file/t.json" -o "$tmp/never"
[ ! -e "$tmp/never.json" ] || { echo "a refused run wrote its trace"; exit 1; }
expect_usage_error plot -o "$tmp/never" "$tmp/nosuch"
expect_usage_error plot -o "$tmp/never" "$tmp/a-file"
expect_usage_error plot -format gif -o "$tmp/never" "$tmp/a"
expect_usage_error plot -kind spectra -o "$tmp/never" "$tmp/a"
expect_usage_error plot -o "$tmp/never"
expect_usage_error report "$tmp/never"
echo "smoke: ok"

#!/usr/bin/env bash
# ci-bench.sh: measure a baseline build and a candidate build of ndisbench on this
# machine, interleaved, and compare them with bench compare.
#
# Usage: scripts/ci-bench.sh [flags] BASE_BIN NEW_BIN [-- COMPARE_FLAGS...]
#
#   BASE_BIN, NEW_BIN    the two bench binaries (say, built from the pull request's base
#                        and head); they may be the same binary (an A/A comparison)
#   -n COUNT             repetitions of each side (default 6: at alpha 0.05 the U test
#                        needs 4 a side, and the percentile-by-percentile comparison 6)
#   -o OUTDIR            where the results go: OUTDIR/base-1 ... base-COUNT,
#                        OUTDIR/new-1 ..., OUTDIR/compare.md (default ci-bench-results;
#                        it must be absent or empty)
#   -scenario NAME       the built-in scenario to run (default msi-vs-line)
#   -runs LIST           only these runs of it (bench run -runs)
#   -duration D          each run's measured time (default 2s)
#   -rate PPS            the offered rate (bench run -rate; default the scenario's)
#   -allow-undecided     pass -allow-undecided to bench compare (exit 0, not 4, when
#                        the results cannot decide)
#   -h                   this help
#   -- COMPARE_FLAGS     everything after -- goes to bench compare (-threshold ...,
#                        -thresholds FILE, -alpha, -vary, -force)
#
# It runs BASE_BIN and NEW_BIN one repetition at a time, alternating (base, new, base,
# new, ...), so that whatever the machine does over the minutes it takes falls on both
# sides alike; then NEW_BIN compare writes OUTDIR/compare.md (markdown, for a job
# summary or a pull request comment), prints the text table, and the script exits with
# compare's status:
#
#   0  no regression        1  a regression
#   2  bad usage or input, or a bench run failed (broke an invariant, exit 1, or
#      refused its input): the comparison could not be made
#   4  could not decide (too few valid repetitions; configurations, environments or
#      machine states that differ)
#
# A run the host disturbed (bench run exit 3, "not a valid measurement") is kept: bench
# compare leaves it out and counts it.
#
# The noise lesson: compare builds measured on the same machine in the same job. A
# baseline from another machine or another day measures the machine as much as the
# code; bench compare refuses one whose environment differs, and -force (after --)
# compares it anyway with the difference noted.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "ci-bench: $*" >&2; exit 2; }

count=6 out=ci-bench-results scenario=msi-vs-line runs="" duration=2s rate="" allow=""
while [ $# -gt 0 ]; do
  case $1 in
  -n) [ $# -ge 2 ] || die "-n needs a count"; count=$2; shift 2 ;;
  -o) [ $# -ge 2 ] || die "-o needs a directory"; out=$2; shift 2 ;;
  -scenario) [ $# -ge 2 ] || die "-scenario needs a name"; scenario=$2; shift 2 ;;
  -runs) [ $# -ge 2 ] || die "-runs needs a list"; runs=$2; shift 2 ;;
  -duration) [ $# -ge 2 ] || die "-duration needs a duration"; duration=$2; shift 2 ;;
  -rate) [ $# -ge 2 ] || die "-rate needs a rate"; rate=$2; shift 2 ;;
  -allow-undecided) allow=-allow-undecided; shift ;;
  -h | -help | --help) usage; exit 0 ;;
  --) die "give BASE_BIN and NEW_BIN before --" ;;
  -*) die "unknown flag $1 (see -h)" ;;
  *) break ;;
  esac
done
[ $# -ge 2 ] || die "want BASE_BIN and NEW_BIN (see -h)"
base_bin=$1 new_bin=$2
shift 2
if [ $# -gt 0 ]; then
  [ "$1" = "--" ] || die "unexpected argument $1: compare flags go after --"
  shift
fi
case $count in '' | *[!0-9]*) die "-n $count: want a number of repetitions" ;; esac
[ "$count" -ge 1 ] || die "-n $count: want at least 1"
for bin in "$base_bin" "$new_bin"; do
  [ -x "$bin" ] || die "$bin: not an executable"
done
if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  die "-o $out: not empty (its results would mix with these)"
fi
mkdir -p "$out"

run_args=(-scenario "$scenario" -duration "$duration" -count 1)
[ -n "$runs" ] && run_args+=(-runs "$runs")
[ -n "$rate" ] && run_args+=(-rate "$rate")

# measure SIDE BIN I: one repetition of SIDE into OUT/SIDE-I.
measure() {
  local side=$1 bin=$2 i=$3 rc
  set +e
  "$bin" run "${run_args[@]}" -o "$out/$side-$i" >"$out/$side-$i.log" 2>&1
  rc=$?
  set -e
  case $rc in
  0) echo "ci-bench: $side $i/$count: measured" ;;
  3) echo "ci-bench: $side $i/$count: measured, flagged not a valid measurement (the host disturbed it; compare leaves it out)" ;;
  1)
    echo "ci-bench: $side $i/$count: bench run broke an invariant (exit 1):" >&2
    tail -n 20 "$out/$side-$i.log" >&2
    exit 2
    ;;
  *)
    echo "ci-bench: $side $i/$count: bench run failed (exit $rc):" >&2
    tail -n 20 "$out/$side-$i.log" >&2
    exit 2
    ;;
  esac
}

bases=() news=()
for i in $(seq 1 "$count"); do
  measure base "$base_bin" "$i"
  measure new "$new_bin" "$i"
  bases+=("$out/base-$i")
  news+=("$out/new-$i")
done

join() { local IFS=,; echo "$*"; }
set +e
"$new_bin" compare -format markdown -o "$out/compare.md" $allow "$@" "$(join "${bases[@]}")" "$(join "${news[@]}")"
rc=$?
set -e
echo "ci-bench: bench compare exited $rc; markdown in $out/compare.md"
exit $rc

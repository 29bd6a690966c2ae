#!/usr/bin/env bash
# Cost against history (issue 9, section 8), end to end through the real binary.
#
#   scripts/bench/history.sh            1,000,000 recorded rollouts (1,250,000 cases)
#   HISTORY_CASES=250000 scripts/bench/history.sh   a smaller history
#
# Prints, each a median of RUNS (default 5) runs:
#   - a 100-case run on an empty state dir, and on a state dir that already holds the history:
#     wall time, the ratio between the two (target: within 2x) and peak RSS (target: < 64 MB);
#   - `--deployment-status-inspect --deployment-status-json` on that state dir (target: < 50 ms);
#   - a fresh 100,000-case run against Python's json.load of the same fixture (target: at most
#     half of it), and the peak RSS of a fresh 1,000,000-case run (target: < 400 MB).
# The history itself is built by one run of HISTORY_CASES cases (4 in 5 applied), timed as well.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${RUNS:-5}"
history_cases="${HISTORY_CASES:-1250000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet -p tau-coding-agent
tau=target/release/tau
measure=scripts/bench/measure.py

run_fixture() { # fixture state-dir queue-limit
  "$measure" -- "$tau" --deployment-contract-runner --deployment-fixture "$1" \
    --deployment-state-dir "$2" --deployment-queue-limit "$3"
}
median() { python3 -c 'import statistics,sys; v=[float(l.split()[0]) for l in sys.stdin if l.strip()]; print(f"{statistics.median(v):.4f}")'; }
peak_mb() { python3 -c 'import sys; print(f"{max(int(l.split()[1]) for l in sys.stdin if l.strip())/1024:.1f}")'; }

# The history: one big run, then its rollout count as status reports it.
python3 scripts/bench/gen-fixture.py "$history_cases" "$work/history.json"
build=$(run_fixture "$work/history.json" "$work/state" "$history_cases")
rollouts=$("$tau" --deployment-status-inspect --deployment-status-json --deployment-state-dir "$work/state" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["rollout_count"])')
echo "history bench: built history of cases=$history_cases rollouts=$rollouts in seconds=${build% *} peak_rss_mb=$(echo "$build" | peak_mb) state_json_kb=$(( $(stat -c %s "$work/state/state.json") / 1024 )) history_mb=$(du -sm "$work/state/history" | cut -f1)"

# 100-case runs: empty state dir vs the history. Each run gets its own case ids, so none is a
# duplicate of an earlier one.
: >"$work/empty" ; : >"$work/full"
for i in $(seq "$runs"); do
  python3 scripts/bench/gen-fixture.py 100 "$work/small-$i.json" $((50000000 + i * 1000))
  rm -rf "$work/empty-state"
  sync
  run_fixture "$work/small-$i.json" "$work/empty-state" 100 >>"$work/empty"
  run_fixture "$work/small-$i.json" "$work/state" 100 >>"$work/full"
done
empty_s=$(median <"$work/empty"); full_s=$(median <"$work/full")
echo "history bench: run_100_cases empty_state_seconds=$empty_s with_history_seconds=$full_s ratio=$(python3 -c "print(f'{$full_s/$empty_s:.2f}')")x (target <= 2x) peak_rss_mb=$(peak_mb <"$work/full") (target < 64)"

: >"$work/status"
for _ in $(seq "$runs"); do
  "$measure" -- "$tau" --deployment-status-inspect --deployment-status-json \
    --deployment-state-dir "$work/state" >>"$work/status"
done
status_s=$(median <"$work/status")
echo "history bench: status_json rollouts=$rollouts median_ms=$(python3 -c "print(f'{$status_s*1000:.1f}')") (target < 50) peak_rss_mb=$(peak_mb <"$work/status")"
rm -rf "$work/state" "$work/history.json"

# Fresh runs against Python's json.load of the same fixture.
python3 scripts/bench/gen-fixture.py 100000 "$work/f100k.json"
: >"$work/fresh" ; : >"$work/python"
for _ in $(seq "$runs"); do
  rm -rf "$work/fresh-state"; sync
  run_fixture "$work/f100k.json" "$work/fresh-state" 100000 >>"$work/fresh"
  python3 -c 'import json,sys,time; t=time.perf_counter(); json.load(open(sys.argv[1])); print(f"{time.perf_counter()-t:.4f} 0")' "$work/f100k.json" >>"$work/python"
done
fresh_s=$(median <"$work/fresh"); py_s=$(median <"$work/python")
echo "history bench: fresh_run_100k seconds=$fresh_s python_json_load_seconds=$py_s ratio=$(python3 -c "print(f'{$fresh_s/$py_s:.2f}')") (target <= 0.5) peak_rss_mb=$(peak_mb <"$work/fresh")"
rm -rf "$work/fresh-state" "$work/f100k.json"

python3 scripts/bench/gen-fixture.py 1000000 "$work/f1m.json"
rm -rf "$work/fresh-state"; sync
one=$(run_fixture "$work/f1m.json" "$work/fresh-state" 1000000)
echo "history bench: fresh_run_1m seconds=${one% *} peak_rss_mb=$(echo "$one" | peak_mb) (target < 400)"

#!/usr/bin/env bash
# Runner throughput and memory, end to end through the real binary with every durable write
# (state.json, runtime-events.jsonl, channel store, fsyncs included).
#
#   scripts/bench/runner.sh [N ...]        default: 100000
#   scripts/bench/runner.sh 100000 1000000 also prints how the larger runs scale against the first
#
# For each N it generates an N-case fixture (64 blueprints, every target/runtime pair plus a
# rejected case), runs it RUNS times (default 3) into a fresh state dir, and prints the median wall
# time, cases/s, the peak RSS, and the median time of Python's `json.load` of the same fixture with
# the ratio between the two; also both sides' CPU time (user + system) and its ratio, which a
# busy machine disturbs less than wall time. Targets (issue 9 §8): a fresh run at most half of `json.load`
# (ratio_to_json_load <= 0.5) and peak RSS under 400 MB at 1,000,000 cases; each line says
# whether its figures meet them.
#
# TAU_BIN=PATH benchmarks that binary instead of building this checkout (before/after comparisons).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${RUNS:-3}"
[ "$#" -gt 0 ] || set -- 100000
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -n "${TAU_BIN:-}" ]; then
  tau="$TAU_BIN"
else
  cargo build --release --quiet -p tau-coding-agent
  tau=target/release/tau
fi
first_seconds=""
first_n=""
for n in "$@"; do
  python3 scripts/bench/gen-fixture.py "$n" "$work/fixture.json"
  : >"$work/times"
  : >"$work/json_times"
  for _ in $(seq "$runs"); do
    python3 -c 'import json,sys,time
t, c = time.perf_counter(), time.process_time(); json.load(open(sys.argv[1]))
print(time.perf_counter() - t, time.process_time() - c)' \
      "$work/fixture.json" >>"$work/json_times"
    rm -rf "$work/state"
    sync
    /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$tau" \
      --deployment-contract-runner \
      --deployment-fixture "$work/fixture.json" \
      --deployment-state-dir "$work/state" \
      --deployment-queue-limit "$n" \
      --deployment-processed-case-cap "$n" >"$work/out"
    grep -q "discovered=$n queued=$n" "$work/out" || { cat "$work/out"; echo "bench: run did not queue every case" >&2; exit 1; }
    cat "$work/time" >>"$work/times"
  done
  state_mb=$(du -sm "$work/state" | cut -f1)
  fixture_mb=$(du -m "$work/fixture.json" | cut -f1)
  python3 - "$n" "$work/times" "$fixture_mb" "$state_mb" "$first_n" "$first_seconds" "$work/secs" \
    "$work/json_times" <<'PY'
import statistics, sys
n, times, fixture_mb, state_mb, first_n, first_s, secs_out, json_times = sys.argv[1:9]
n = int(n)
rows = [line.split() for line in open(times) if line.strip()]
secs = statistics.median(float(r[0]) for r in rows)
rss_mb = max(int(r[1]) for r in rows) / 1024
json_rows = [line.split() for line in open(json_times) if line.strip()]
json_secs = statistics.median(float(r[0]) for r in json_rows)
ratio = secs / json_secs
# CPU seconds (user + system) beside wall time: on a shared machine the wall time of both sides
# depends on what else runs, the CPU time much less.
cpu = statistics.median(float(r[2]) + float(r[3]) for r in rows)
json_cpu = statistics.median(float(r[1]) for r in json_rows)
out = (f"runner bench: cases={n} runs={len(rows)} median_seconds={secs:.2f} cases_per_s={n / secs:,.0f} "
       f"peak_rss_mb={rss_mb:.0f} fixture_mb={fixture_mb} state_mb={state_mb} "
       f"json_load_seconds={json_secs:.2f} ratio_to_json_load={ratio:.2f} "
       f"cpu_seconds={cpu:.2f} json_load_cpu_seconds={json_cpu:.2f} cpu_ratio={cpu / json_cpu:.2f} "
       f"time_target={'met' if ratio <= 0.5 else 'missed'}")
if n >= 1_000_000:
    out += f" rss_target_400mb={'met' if rss_mb < 400 else 'missed'}"
if first_n:
    out += f" scale_vs_{first_n}={secs / float(first_s):.1f}x_time_for_{n / int(first_n):.0f}x_cases"
print(out)
open(secs_out, "w").write(f"{secs}")
PY
  if [ -z "$first_n" ]; then first_n="$n"; first_seconds="$(cat "$work/secs")"; fi
done

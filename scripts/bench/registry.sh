#!/usr/bin/env bash
# Registry benchmarks (issue 11, "Measure"):
#   1. `tag record` and history queries with ROWS (default 100,000) history rows of one agent
#      already stored, on the file store and on PostgreSQL: p50/p99 over SAMPLES (default 200).
#   2. Rollout-to-active and failure-to-rolled-back times through a real Deploy Agent, engine and
#      registry (the test lab: Podman + docker-registry on loopback).
#
#   scripts/bench/registry.sh
#   ROWS=10000 SAMPLES=50 BENCH_VERIFY_SECONDS=5 BENCH_RUNS=2 scripts/bench/registry.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
rows="${ROWS:-100000}"
samples="${SAMPLES:-200}"
work="$(mktemp -d)"
cleanup() {
  rm -rf "$work"
  if [ -n "${db:-}" ]; then
    su postgres -c "psql -qc 'DROP DATABASE IF EXISTS $db WITH (FORCE)' -c 'DROP ROLE IF EXISTS $db'" >/dev/null
  fi
}
trap cleanup EXIT

echo "== store: $rows history rows, $samples samples (release build)"
cargo build --release --quiet -p tau-registry --example store_bench
bench=target/release/examples/store_bench
"$bench" file "$work/state" "$rows" "$samples"

./scripts/ci/postgres.sh >/dev/null
port=$(pg_lsclusters -h | awk 'NR==1 {print $3}')
db="tau_bench_$$"
password="b$$$RANDOM"
su postgres -c "psql -qc \"CREATE ROLE $db LOGIN PASSWORD '$password'\" -c 'CREATE DATABASE $db OWNER $db'" >/dev/null
"$bench" postgres "postgres://$db:$password@127.0.0.1:$port/$db" "$rows" "$samples"

echo "== rollout through a real Deploy Agent (verify ${BENCH_VERIFY_SECONDS:-30} s, ${BENCH_RUNS:-3} runs)"
cargo test --quiet -p tau-coding-agent --test registry_rollout -- --ignored --nocapture \
  bench_rollout_times_against_the_real_engine 2>&1 | grep '^BENCH'

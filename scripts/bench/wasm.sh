#!/usr/bin/env bash
# WASM deliverable throughput: packaging and inspection in MB/s on a 2 MB module and on a
# directory of 50 MB of modules, and the time to inspect 10,000 manifests.
# Targets on a 2-core machine: at least 100 MB/s; 10,000 inspections within 2 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! cargo bench --locked -p tau-wasm --bench throughput >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
grep '^wasm bench:' "$log"

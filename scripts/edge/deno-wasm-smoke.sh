#!/usr/bin/env bash
# Deno probe: runs the kamn-wasm module under Deno with no permission beyond reading the module
# (no network, no env, no writes), and checks it derives the native DID.
#
#   scripts/edge/deno-wasm-smoke.sh WASM REQUEST_JSON EXPECTED_JSON
#
# Prints one line `deno probe: pass|fail|skipped (<reason>)`; exits 1 only on fail.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
wasm="$1" request="$2" expected="$3"

if ! command -v deno >/dev/null 2>&1; then
  echo "deno probe: skipped (deno not installed; pip install deno)"
  exit 0
fi
if out=$(deno run --no-prompt --allow-read="$wasm" "$here/deno-probe.mjs" "$wasm" "$request" "$expected" 2>&1); then
  printf '%s\n' "$out" | sed 's/^/  /'
  echo "deno probe: pass"
else
  printf '%s\n' "$out" | sed 's/^/  /' >&2
  echo "deno probe: fail"
  exit 1
fi

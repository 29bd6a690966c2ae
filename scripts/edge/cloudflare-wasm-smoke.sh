#!/usr/bin/env bash
# Cloudflare Workers probe: runs the kamn-wasm module inside workerd (Cloudflare's Workers runtime,
# from the `workerd` npm package) with no network, and checks it derives the native DID.
#
#   scripts/edge/cloudflare-wasm-smoke.sh WASM REQUEST_JSON EXPECTED_JSON
#
# Prints one line `cloudflare probe: pass|fail|skipped (<reason>)`; exits 1 only on fail.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
wasm="$1" request="$2" expected="$3"

find_workerd() {
  if [ -n "${WORKERD:-}" ] && [ -x "$WORKERD" ]; then echo "$WORKERD"; return; fi
  if command -v workerd >/dev/null 2>&1; then command -v workerd; return; fi
  for candidate in "$root/target/edge-tools/node_modules/.bin/workerd" "$root/node_modules/.bin/workerd"; do
    if [ -x "$candidate" ]; then echo "$candidate"; return; fi
  done
}

workerd="$(find_workerd)"
if [ -z "$workerd" ]; then
  echo "cloudflare probe: skipped (workerd not installed; npm install --prefix target/edge-tools workerd)"
  exit 0
fi
if ! "$workerd" --version >/dev/null 2>&1; then
  echo "cloudflare probe: skipped (workerd at $workerd does not run on this machine)"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$wasm" "$work/kamn.wasm"
cp "$here/kamn-probe.mjs" "$here/workerd-worker.mjs" "$work/"
printf '%s' "$request" >"$work/request.json"
printf '%s' "$expected" >"$work/expected.json"
cat >"$work/config.capnp" <<'CAPNP'
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .probe),
    # The worker's only way out: a network service that allows no address at all.
    (name = "no-network", network = (allow = [])),
  ],
);

const probe :Workerd.Worker = (
  modules = [
    (name = "workerd-worker.mjs", esModule = embed "workerd-worker.mjs"),
    (name = "kamn-probe.mjs", esModule = embed "kamn-probe.mjs"),
    (name = "kamn.wasm", wasm = embed "kamn.wasm"),
  ],
  bindings = [
    (name = "REQUEST", text = embed "request.json"),
    (name = "EXPECTED", text = embed "expected.json"),
  ],
  compatibilityDate = "2024-09-23",
  globalOutbound = "no-network",
);
CAPNP

if "$workerd" test "$work/config.capnp" >"$work/out" 2>&1 && grep -q "PASS" "$work/out"; then
  grep -h "workerd probe:" "$work/out" | sed 's/^/  /' || true
  echo "cloudflare probe: pass"
else
  sed 's/^/  /' "$work/out" >&2
  echo "cloudflare probe: fail"
  exit 1
fi

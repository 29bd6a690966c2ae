#!/usr/bin/env bash
# WASM compile + edge smoke harness.
#
# 1. cargo check --target wasm32-unknown-unknown for kamn-core, kamn-sdk, tau-access, tau-deployment
# 2. builds kamn-wasm, a wasm32 module exposing the DID derivation
# 3. Deno probe and 4. Cloudflare (workerd) probe: each runs that module with no network and checks
#    that it derives exactly the identity the native `tau` binary derives for the same input.
#
# Each probe prints pass, fail or skipped (<reason>); a skipped probe never counts as a pass. The
# last line is the summary: status=fail if any step or probe failed, status=skipped if no probe
# ran (the build steps alone prove nothing about a runtime), status=pass only if at least one
# probe passed and none failed. The script exits non-zero on fail, zero on pass or skipped.
# WASM_SMOKE_REQUIRE=deno,cloudflare turns a skip of the named probes into a failure (CI sets it
# for the runtimes it installs, so a broken install cannot pass as a skip).
set -uo pipefail
cd "$(dirname "$0")/../.."

target=wasm32-unknown-unknown
packages=(kamn-core kamn-sdk tau-access tau-deployment)
status=pass

if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  echo "wasm smoke: installing rust target $target"
  rustup target add "$target" || status=fail
fi

echo "wasm smoke: cargo check --target $target ${packages[*]}"
check_args=()
for p in "${packages[@]}"; do check_args+=(-p "$p"); done
if ! cargo check --quiet --locked --target "$target" "${check_args[@]}"; then
  echo "wasm smoke: cargo check for $target failed"
  status=fail
fi

echo "wasm smoke: building kamn-wasm for $target"
wasm="target/$target/release/kamn_wasm.wasm"
if ! cargo build --quiet --locked --release --target "$target" -p kamn-wasm; then
  echo "wasm smoke: kamn-wasm build failed"
  status=fail
fi

echo "wasm smoke: deriving the native reference with tau"
cargo build --quiet --locked -p tau-coding-agent || status=fail
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
entropy="wasm-smoke-entropy"
request=$(printf '{"method":"key","network":"tau-devnet","subject":"edge-smoke","entropy":"%s"}' "$entropy")
if ! TAU_DEPLOYMENT_WASM_BROWSER_DID_ENTROPY="$entropy" target/debug/tau \
  --deployment-state-dir "$work/state" \
  --deployment-wasm-browser-did-init \
  --deployment-wasm-browser-did-network tau-devnet \
  --deployment-wasm-browser-did-subject edge-smoke \
  --deployment-wasm-browser-did-output "$work/browser-did.json" >/dev/null; then
  echo "wasm smoke: native DID derivation failed"
  status=fail
fi

probe() {
  local name="$1" script="$2" line
  if [ "$status" = fail ] && [ ! -f "$wasm" ]; then
    echo "$name probe: skipped (no wasm artifact)"
    results+=("$name:skipped")
    return
  fi
  local out
  out=$("$script" "$wasm" "$request" "$(cat "$work/browser-did.json" 2>/dev/null)" 2>&1)
  printf '%s\n' "$out"
  line=$(printf '%s\n' "$out" | tail -n 1)
  case "$line" in
    *": pass") results+=("$name:pass") ;;
    *": skipped"*)
      results+=("$name:skipped")
      case ",${WASM_SMOKE_REQUIRE:-}," in
        *",$name,"*) echo "wasm smoke: $name probe is required (WASM_SMOKE_REQUIRE) but was skipped"; status=fail ;;
      esac
      ;;
    *) results+=("$name:fail"); status=fail ;;
  esac
}

results=()
probe deno scripts/edge/deno-wasm-smoke.sh
probe cloudflare scripts/edge/cloudflare-wasm-smoke.sh
probes=$(IFS=,; echo "${results[*]}")
status=$(scripts/edge/probe-verdict.sh "$status" "${results[@]}")
echo "wasm smoke summary: status=$status packages=${#packages[@]} probes=$probes"
[ "$status" != fail ]

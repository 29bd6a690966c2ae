#!/usr/bin/env bash
# Gateway load: starts the release gateway on loopback against a state dir with one passing run,
# drives GET /gateway/status with wrk for a fixed time, and prints requests/s and p99 latency.
# The load tool runs on the same 2-core machine, so its CPU use is included in the figure.
# Target: at least 20,000 requests/s with p99 at most 5 ms.
#
#   scripts/bench/gateway.sh [SECONDS] [CONNECTIONS]     default: 10 64
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-10}"
connections="${2:-64}"
if ! command -v wrk >/dev/null 2>&1; then
  echo "gateway bench: installing wrk (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else sudo apt-get install -y -qq wrk >/dev/null; fi
fi
cargo build --release --quiet --locked -p tau-coding-agent
work="$(mktemp -d)"
gateway_pid=""
cleanup() {
  [ -n "$gateway_pid" ] && kill -INT "$gateway_pid" 2>/dev/null && wait "$gateway_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
target/release/tau --deployment-contract-runner \
  --deployment-fixture testdata/deployment-contract/rollout-pass.json \
  --deployment-state-dir "$work/state" >/dev/null
target/release/tau --gateway-serve --gateway-bind 127.0.0.1:0 --deployment-state-dir "$work/state" >"$work/gateway.out" &
gateway_pid=$!
for _ in $(seq 50); do grep -q "listening" "$work/gateway.out" 2>/dev/null && break; sleep 0.1; done
url="$(grep -o 'http://[0-9.:]*' "$work/gateway.out")/gateway/status"
curl -fsS "$url" | grep -q '"rollout_gate":"pass"'
wrk --threads 2 --connections "$connections" --duration "${seconds}s" --latency "$url" >"$work/wrk.out"
python3 - "$work/wrk.out" "$seconds" "$connections" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def ms(label):
    m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"gateway bench: route=/gateway/status seconds={sys.argv[2]} connections={sys.argv[3]} "
      f"requests_per_s={rps:,.0f} p50_ms={ms('50%'):.2f} p99_ms={ms('99%'):.2f} "
      f"non_2xx={errors.group(1) if errors else 0}")
PY

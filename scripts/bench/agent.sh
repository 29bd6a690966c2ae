#!/usr/bin/env bash
# Deploy Agent figures on a real engine: starts Podman's Docker-compatible service and a registry
# on loopback (the recipe of docs/guides/deploy-agent.md's tests), the release `tau agent serve`,
# then measures
#   1. deploy latency with a cached image (N deploys alternating two pushed tags, settle 1 s),
#      split into engine time (sum of the answer's step durations, settle included) and agent
#      overhead (the answer's agent_overhead_ms: auth, checks, lock, journal, answer);
#   2. GET /v1/status requests per second with wrk (each one inspects the container in the engine);
#   3. the agent's RSS at rest (after start-up and again after the load).
#
#   scripts/bench/agent.sh [DEPLOYS] [SECONDS]     default: 10 10
set -euo pipefail
cd "$(dirname "$0")/../.."
deploys="${1:-10}"
seconds="${2:-10}"
for tool in podman docker-registry busybox wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "agent bench: $tool is required (apt-get install podman runc docker-registry busybox-static wrk)" >&2; exit 1; }
done
cargo build --release --quiet --locked -p tau-coding-agent
tau="$PWD/target/release/tau"
work="$(mktemp -d /tmp/tau-agent-bench.XXXXXX)"
pids=()
cleanup() {
  [ -n "${agent_pid:-}" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
  pm rm --all --force --time 0 >/dev/null 2>&1 || true
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
registry="127.0.0.1:$port"
mkdir -p "$work/tmp" "$work/rootfs/bin" "$work/rootfs/etc"
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
tmp_dir = "$work/tmp"
CONF
printf 'unqualified-search-registries = []\n[[registry]]\nlocation = "%s"\ninsecure = true\n' "$registry" >"$work/registries.conf"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' "$work/registry" "$registry" >"$work/registry.yml"
export CONTAINERS_CONF="$work/containers.conf" CONTAINERS_REGISTRIES_CONF="$work/registries.conf"
pm() { podman --root "$work/root" --runroot "$work/runroot" "$@"; }
setsid docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 & pids+=($!)
setsid podman --root "$work/root" --runroot "$work/runroot" system service --time=0 "unix://$work/podman.sock" >"$work/podman.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -fsS "http://$registry/v2/" >/dev/null 2>&1 && curl -fsS --unix-socket "$work/podman.sock" http://d/_ping >/dev/null 2>&1 && break; sleep 0.1; done

busybox="$(command -v busybox)"
cp "$busybox" "$work/rootfs/bin/busybox"
for applet in $("$busybox" --list); do [ "$applet" = busybox ] || ln -sf busybox "$work/rootfs/bin/$applet"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$work/rootfs/etc/passwd"; echo 'root:x:0:' >"$work/rootfs/etc/group"
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
for tag in v1 v2; do
  pm import --quiet --change 'CMD ["sleep","3600"]' "$work/rootfs.tar" "$registry/bench/app:$tag" >/dev/null
  pm push --quiet --tls-verify=false "$registry/bench/app:$tag" >/dev/null
done
pm volume create bench-data >/dev/null

cat >"$work/agent.toml" <<CONF
environment = "dev"
listen = "127.0.0.1:0"
container_name = "bench-runtime"
image_repositories = ["$registry/bench"]
audit_log = "$work/audit.jsonl"
state_dir = "$work/state"
engine = "unix://$work/podman.sock"
settle_seconds = 1
stop_timeout_seconds = 2
[volumes]
bench-data = "/data"
[[service_tokens]]
client_id = "bench.access"
secret_env = "BENCH_AGENT_SECRET"
CONF
export BENCH_AGENT_SECRET="bench-secret-$$"
"$tau" agent serve --config "$work/agent.toml" >"$work/agent.out" 2>"$work/agent.err" &
agent_pid=$!
for _ in $(seq 300); do grep -q listening "$work/agent.out" 2>/dev/null && break; sleep 0.1; done
url="$(grep -o 'http://[0-9.:]*' "$work/agent.out")"
rss_start="$(awk '/VmRSS/ {print $2}' "/proc/$agent_pid/status")"

auth=(-H "CF-Access-Client-Id: bench.access" -H "CF-Access-Client-Secret: $BENCH_AGENT_SECRET")
: >"$work/deploys.jsonl"
for i in $(seq 0 "$deploys"); do
  tag=$([ $((i % 2)) = 0 ] && echo v1 || echo v2)
  body="{\"container_name\":\"bench-runtime\",\"image\":\"$registry/bench/app:$tag\",\"environment\":\"dev\",\"env\":{\"MODE\":\"bench\"},\"volumes\":{\"bench-data\":\"/data\"}}"
  start=$(date +%s%N)
  curl -fsS "${auth[@]}" -H 'Content-Type: application/json' --data-binary "$body" "$url/v1/deploy" >"$work/answer.json"
  end=$(date +%s%N)
  # The first deploy pulls both into the cache's warm state and has no old container: not counted.
  [ "$i" = 0 ] && continue
  python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); a["client_ms"]=(int(sys.argv[3])-int(sys.argv[2]))/1e6; print(json.dumps(a))' \
    "$work/answer.json" "$start" "$end" >>"$work/deploys.jsonl"
done
rss_after_deploys="$(awk '/VmRSS/ {print $2}' "/proc/$agent_pid/status")"
cat >"$work/wrk.lua" <<LUA
wrk.headers["CF-Access-Client-Id"] = "bench.access"
wrk.headers["CF-Access-Client-Secret"] = "$BENCH_AGENT_SECRET"
LUA
wrk --threads 2 --connections 16 --duration "${seconds}s" --latency -s "$work/wrk.lua" "$url/v1/status" >"$work/wrk.out"
rss_end="$(awk '/VmRSS/ {print $2}' "/proc/$agent_pid/status")"
python3 - "$work/deploys.jsonl" "$work/wrk.out" "$rss_start" "$rss_after_deploys" "$rss_end" <<'PY'
import json, re, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(xs): return statistics.median(xs)
total = [r["client_ms"] for r in rows]
engine = [sum(s["duration_ms"] for s in r["steps"]) for r in rows]
settle = [sum(s["duration_ms"] for s in r["steps"] if s["step"] == "settle") for r in rows]
overhead = [r["agent_overhead_ms"] for r in rows]
steps = {}
for r in rows:
    for s in r["steps"]:
        steps.setdefault(s["step"], []).append(s["duration_ms"])
print(f"deploys (cached image, settle 1 s): n={len(rows)} median total {med(total):.0f} ms = engine {med(engine):.0f} ms (settle {med(settle):.0f} ms) + agent overhead {med(overhead):.0f} ms")
print("  median per step: " + ", ".join(f"{k} {med(v):.0f} ms" for k, v in steps.items()))
text = open(sys.argv[2]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1)
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
print(f"GET /v1/status: {rps:.0f} requests/s, p99 {p99}, non-2xx {non2xx.group(1) if non2xx else 0} (wrk 2 threads, 16 connections)")
print(f"agent RSS: {int(sys.argv[3])/1024:.1f} MiB at rest after start-up, {int(sys.argv[4])/1024:.1f} MiB after the deploys, {int(sys.argv[5])/1024:.1f} MiB after the status load")
PY

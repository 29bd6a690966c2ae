#!/usr/bin/env bash
# Cloud deploy (issue 12): build and push time of a small service against a real engine and
# registry, and `tau deploy --dry-run` time per provider.
#
# Starts its own Podman service (Docker-compatible API on a unix socket) and docker-registry on a
# free 127.0.0.1 port under a temp dir, pushes a static-busybox base image there, then times:
#   - `tau deploy build` of a 3-file static site on that base (first build, then again with the
#     engine's layer cache warm);
#   - `tau deploy push` (a cached build plus the push; the registry digest is checked);
#   - `tau deploy --dry-run --json` for local, aws (App Runner), aws-ecs (ECS Express Mode), gcp and
#     azure (median of RUNS, default 20).
#
#   scripts/bench/cloud.sh                    release binary
#   PROFILE=dev scripts/bench/cloud.sh        the debug binary (say so next to the figures)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${RUNS:-20}"
profile="${PROFILE:-release}"
for tool in podman docker-registry busybox runc; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { echo "cloud bench: $tool is missing (apt-get install podman runc docker-registry busybox-static)" >&2; exit 2; }
done
cargo build --quiet --locked --profile "$profile" -p tau-coding-agent
bin="target/$([ "$profile" = dev ] && echo debug || echo "$profile")/tau"
tau="$(pwd)/$bin"

work="$(mktemp -d)"
podman_pid=""
registry_pid=""
cleanup() {
  [ -n "$podman_pid" ] && kill "$podman_pid" 2>/dev/null
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
  wait 2>/dev/null || true
  podman --root "$work/root" --runroot "$work/runroot" rm -af >/dev/null 2>&1 || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/tmp"
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\nevents_logger = "file"\ntmp_dir = "%s/tmp"\n' "$work" >"$work/containers.conf"
printf 'unqualified-search-registries = []\n[[registry]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n' "$port" >"$work/registries.conf"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: 127.0.0.1:%s\n' "$work" "$port" >"$work/registry.yml"
export CONTAINERS_CONF="$work/containers.conf" CONTAINERS_REGISTRIES_CONF="$work/registries.conf"
pm() { podman --root "$work/root" --runroot "$work/runroot" "$@"; }
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
pm system service --time=0 "unix://$work/podman.sock" >"$work/podman.log" 2>&1 &
podman_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && curl -fsS --unix-socket "$work/podman.sock" http://d/_ping >/dev/null 2>&1 && break
  sleep 0.2
done
engine="unix://$work/podman.sock"

# The base image: static busybox with every applet linked, pushed to the registry.
root="$work/rootfs"
mkdir -p "$root/bin" "$root/etc" "$root/tmp"
cp "$(command -v busybox)" "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
tar -C "$root" -cf "$work/rootfs.tar" .
base="127.0.0.1:$port/library/busybox:1.36"
pm import --change 'CMD ["sh"]' "$work/rootfs.tar" "$base" >/dev/null 2>&1
pm push --tls-verify=false "$base" >/dev/null 2>&1
pm rmi "$base" >/dev/null

project="$work/project"
mkdir -p "$project/site"
echo hello >"$project/site/index.html"
echo ok >"$project/site/health"
head -c 200000 /dev/urandom | base64 >"$project/site/asset.txt"
config() { # $1: target block, $2: registry host (default the local one)
  cat <<YAML
deployment:
  service: bench
  registry: {url: '${2:-127.0.0.1:$port}', repository: org/bench, tag_strategy: semver, version: 1.0.0}
  target:
$1
  environment: {MODE: bench}
  build: {context: site, base_image: '$base', command: [httpd, -f, -p, '8080', -h, /app]}
YAML
}
config "    provider: local" >"$project/tau.yaml"

seconds() { python3 -c 'import sys,time; t=time.monotonic(); import subprocess; r=subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); print(f"{time.monotonic()-t:.3f}"); sys.exit(r.returncode)' "$@"; }
cd "$project"
echo "cloud bench: binary $bin, engine Podman $(pm version --format '{{.Client.Version}}'), registry 127.0.0.1:$port"
echo "build (cold layer cache):  $(seconds "$tau" deploy build --engine "$engine" -q) s"
echo "build (warm layer cache):  $(seconds "$tau" deploy build --engine "$engine" -q) s"
echo "push (warm build + push):  $(seconds "$tau" deploy push --engine "$engine" -q) s"
digest="$(python3 -c 'import json; print(json.load(open(".tau/deployments.json"))["pushed"]["bench"]["image_digest"])')"
held="$(curl -fsSI -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
  "http://127.0.0.1:$port/v2/org/bench/manifests/v1.0.0" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')"
[ "$digest" = "$held" ] || { echo "cloud bench: recorded digest $digest is not the registry's $held" >&2; exit 1; }
echo "registry digest: $digest (matches the record)"

declare -A targets=(
  [local]="    provider: local"
  [aws]="    provider: aws
    aws: {region: eu-west-1, ecr_role_arn: 'arn:aws:iam::123456789012:role/AppRunnerECRAccess'}"
  [aws-ecs]="    provider: aws
    aws: {region: eu-west-1, service: ecs-express, execution_role_arn: 'arn:aws:iam::123456789012:role/exec', infrastructure_role_arn: 'arn:aws:iam::123456789012:role/infra'}"
  [gcp]="    provider: gcp
    gcp: {project_id: acme-prod, region: europe-west1}"
  [azure]="    provider: azure
    azure: {subscription_id: 00000000-1111-2222-3333-444444444444, resource_group: rg, environment_name: env}"
)
for p in local aws aws-ecs gcp azure; do
  registry=""
  [ "$p" = aws ] && registry="123456789012.dkr.ecr.eu-west-1.amazonaws.com"  # App Runner pulls from ECR only
  [ "$p" = aws-ecs ] && registry="123456789012.dkr.ecr.eu-west-1.amazonaws.com"
  config "${targets[$p]}" "$registry" >"$project/tau.yaml"
  times=()
  for _ in $(seq "$runs"); do times+=("$(seconds "$tau" deploy --dry-run --json --engine "$engine")"); done
  median="$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
  echo "dry run $p: median ${median} s over $runs runs"
done

#!/usr/bin/env bash
# Deploy one image through the Deploy Agent, then verify it runs. Called by
# .github/workflows/deploy.yml; the tests run it against a real agent.
#
# Usage: scripts/deploy/agent-deploy.sh ENVIRONMENT IMAGE_TAG
#   ENVIRONMENT   dev | prod
#   IMAGE_TAG     the tag to deploy (never `latest`)
# Required environment (no defaults; a missing or empty one fails before any request):
#   DEPLOY_ENDPOINT          the agent's base URL (https://…; http:// only for loopback)
#   CF_ACCESS_CLIENT_ID      Cloudflare Access service token id
#   CF_ACCESS_CLIENT_SECRET  Cloudflare Access service token secret
#   DATABASE_URL             passed to the runtime container, never printed
#   IMAGE_REPOSITORY         e.g. ghcr.io/owner/repo/runtime
#   CONTAINER_NAME           e.g. dreichor-runtime
#   EXECUTION_PLANE          passed to the runtime container (e.g. paper)
#   DEPLOY_VOLUMES           NAME=PATH[,NAME=PATH…] (named, pre-existing volumes)
# Prints the agent's answers (which never contain env values) and never a secret.
set -euo pipefail

die() { echo "agent-deploy: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 ENVIRONMENT IMAGE_TAG"
environment=$1
image_tag=$2
case "$environment" in dev|prod) ;; *) die "ENVIRONMENT must be dev or prod, got '$environment'" ;; esac
[ -n "$image_tag" ] || die "IMAGE_TAG is empty"
[ "$image_tag" != latest ] || die "IMAGE_TAG 'latest' names no fixed image; deploy a version tag"

missing=()
for name in DEPLOY_ENDPOINT CF_ACCESS_CLIENT_ID CF_ACCESS_CLIENT_SECRET DATABASE_URL \
  IMAGE_REPOSITORY CONTAINER_NAME EXECUTION_PLANE DEPLOY_VOLUMES; do
  if [ -z "${!name:-}" ]; then missing+=("$name"); fi
done
[ ${#missing[@]} -eq 0 ] || die "missing or empty: ${missing[*]} (set them as GitHub Environment secrets/variables; there are no defaults)"

endpoint=${DEPLOY_ENDPOINT%/}
case "$endpoint" in
  https://*) ;;
  http://127.*|http://localhost:*|http://localhost) ;;
  *) die "DEPLOY_ENDPOINT must be an https:// URL (http:// only for a loopback test agent)" ;;
esac
command -v curl >/dev/null || die "curl is required"
command -v python3 >/dev/null || die "python3 is required"

image="${IMAGE_REPOSITORY}:${image_tag}"
work=$(umask 077 && mktemp -d)
trap 'rm -rf "$work"' EXIT

# Headers and body go through files: secrets never appear in argv (visible in ps) or the log.
(
  umask 077
  printf 'CF-Access-Client-Id: %s\nCF-Access-Client-Secret: %s\n' \
    "$CF_ACCESS_CLIENT_ID" "$CF_ACCESS_CLIENT_SECRET" >"$work/auth"
  printf 'Content-Type: application/json\n' >"$work/json"
  ENVIRONMENT=$environment IMAGE=$image python3 - >"$work/body" <<'PY'
import json, os, sys
volumes = {}
for item in os.environ["DEPLOY_VOLUMES"].split(","):
    name, sep, path = item.strip().partition("=")
    if not sep or not name or not path.startswith("/"):
        sys.exit("agent-deploy: DEPLOY_VOLUMES items must be NAME=/absolute/path")
    volumes[name] = path
json.dump({
    "container_name": os.environ["CONTAINER_NAME"],
    "image": os.environ["IMAGE"],
    "environment": os.environ["ENVIRONMENT"],
    "env": {
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "EXECUTION_PLANE": os.environ["EXECUTION_PLANE"],
    },
    "volumes": volumes,
}, sys.stdout)
PY
)

call() { # METHOD PATH OUTFILE [curl args…]; prints the HTTP status
  local method=$1 path=$2 out=$3
  shift 3
  curl --silent --show-error --max-time 900 -X "$method" -H @"$work/auth" "$@" \
    -o "$out" -w '%{http_code}' "$endpoint$path" || echo 000
}

echo "agent-deploy: POST $endpoint/v1/deploy image=$image environment=$environment container=$CONTAINER_NAME"
code=$(call POST /v1/deploy "$work/deploy.out" -H @"$work/json" \
  -H "Idempotency-Key: gh-${GITHUB_RUN_ID:-local}-${GITHUB_RUN_ATTEMPT:-$$}-$environment" \
  --data-binary @"$work/body")
echo "agent-deploy: deploy answered HTTP $code: $(cat "$work/deploy.out" 2>/dev/null)"
[ "$code" = 200 ] || die "deploy failed (HTTP $code); any non-200 is a hard failure"

code=$(call GET /v1/status "$work/status.out")
echo "agent-deploy: status answered HTTP $code: $(cat "$work/status.out" 2>/dev/null)"
[ "$code" = 200 ] || die "status failed (HTTP $code)"

IMAGE=$image CONTAINER=$CONTAINER_NAME python3 - "$work/status.out" <<'PY' || exit 1
import json, os, sys
status = json.load(open(sys.argv[1]))
want_image, want_name = os.environ["IMAGE"], os.environ["CONTAINER"]
problems = []
if status.get("running") is not True:
    problems.append("the container is not running")
if status.get("image") != want_image:
    problems.append(f"status shows image {status.get('image')!r}, expected {want_image!r}")
if status.get("container_name") != want_name:
    problems.append(f"status shows container {status.get('container_name')!r}, expected {want_name!r}")
if problems:
    sys.exit("agent-deploy: verification failed: " + "; ".join(problems))
print(f"agent-deploy: verified {want_name} running {want_image} since {status.get('started_at')} digest {status.get('image_digest')}")
PY

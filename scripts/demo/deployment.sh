#!/usr/bin/env bash
# Deterministic demo of the deployment contract path: build, validate and replay the rollout-pass
# fixture into a fresh .tau/demo-deployment, then read health and the rollout gate.
# Prints each step; exits non-zero as soon as a step fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

state_dir=".tau/demo-deployment"
fixture="testdata/deployment-contract/rollout-pass.json"
# TAU_DEMO_PROFILE=debug reuses the debug build (the test command does, after the tests built it).
profile="${TAU_DEMO_PROFILE:-release}"
case "$profile" in
  release) build=(cargo build --release --locked --quiet -p tau-coding-agent) ;;
  debug) build=(cargo build --locked --quiet -p tau-coding-agent) ;;
  *) echo "TAU_DEMO_PROFILE must be release or debug, not $profile" >&2; exit 2 ;;
esac
tau=("target/$profile/tau")
steps=0

step() {
  steps=$((steps + 1))
  printf '\n[demo %d] %s\n' "$steps" "$*"
}

step "build tau ($profile)"
"${build[@]}"

step "reset $state_dir"
rm -rf "$state_dir"

step "validate $fixture"
"${tau[@]}" fixture validate "$fixture"

step "replay $fixture (simulated evidence: the fixture's expectations decide each outcome)"
"${tau[@]}" run --state-dir "$state_dir" --fixture "$fixture"

step "transport health"
"${tau[@]}" health --state-dir "$state_dir"

step "status and rollout gate for this fixture (exit 3 if the gate holds)"
"${tau[@]}" status --state-dir "$state_dir" --require-pass --require-fixture "$fixture"

step "the same gate in the runbook's flag form"
"${tau[@]}" --deployment-state-dir "$state_dir" --deployment-status-inspect \
  --deployment-status-require-pass

gate=$("${tau[@]}" status --state-dir "$state_dir" --json |
  python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["rollout_gate"], s["rollout_count"], s["cycle_reports"])')
read -r rollout_gate rollout_count cycle_reports <<<"$gate"
printf '\ndeployment demo summary: status=pass steps=%d state_dir=%s rollout_gate=%s rollouts=%s cycle_reports=%s\n' \
  "$steps" "$state_dir" "$rollout_gate" "$rollout_count" "$cycle_reports"

#!/usr/bin/env bash
# Engine and swap timings on a real Podman service and registry started for the run (no network
# beyond loopback): pull of a cached image, create/start/stop/rename/remove, and a full replace
# with a 1 s settle. Usage: scripts/bench/engine.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo run --quiet --release -p tau-agent --example engine_bench -- "${1:-10}"

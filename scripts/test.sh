#!/usr/bin/env bash
# Every suite: native cargo tests (core and reference server), wasm-bindgen tests in headless
# Chromium, the typed usage file, Node tests and end-to-end tests in Chromium (Playwright)
# against the reference server. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n=== %s\n' "$*"; }

step "cargo fmt and clippy"
cargo fmt --all -- --check
cargo clippy --quiet --workspace --all-targets -- -D warnings
cargo clippy --quiet -p sendonce --target wasm32-unknown-unknown -- -D warnings

step "native tests: core and reference server"
mkdir -p target
if cargo test --workspace >target/cargo-test.log 2>&1; then
  grep -E '^(     Running|   Doc-tests|test result)' target/cargo-test.log
else
  cat target/cargo-test.log
  exit 1
fi

step "browser tests: wasm-bindgen-test in headless Chromium"
CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=120 \
  wasm-pack test --headless --chrome --chromedriver /usr/bin/chromedriver . --test web

step "package: build pkg/ and print its size"
./scripts/build.sh
cargo build --quiet -p sendonce-server

step "types: typed usage files with tsc --noEmit (ES2022 and ES2020 libs, a Node project without DOM, skipLibCheck off)"
node_modules/.bin/tsc -p tests/types/tsconfig.json
node_modules/.bin/tsc -p tests/types/tsconfig.es2020.json
# A Node project: lib ES2022 without DOM, with Node's types and with none at all.
node_modules/.bin/tsc -p tests/types/tsconfig.node.json
node_modules/.bin/tsc -p tests/types/tsconfig.bare.json

step "docs: every code block of the READMEs type-checks; the API reference matches the types"
node tests/types/docs.mjs
node scripts/api-docs.mjs --check

step "node and end-to-end tests (node --test)"
# Every test is bounded (3 min, ten times the slowest one here): a test that hangs (a child
# process that never starts, a server that never answers) fails instead of stalling the run.
node --test --test-concurrency=1 --test-timeout=180000 --test-reporter=spec tests/node/ tests/e2e/

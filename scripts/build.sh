#!/usr/bin/env bash
# Builds the npm package into pkg/ (ES module + TypeScript types) and prints its size.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
wasm-pack build --release --target web --out-dir pkg --out-name sendonce --no-pack . >/dev/null 2>build.log || { cat build.log >&2; exit 1; }
rm -f build.log
# A current wasm-opt (binaryen from npm; Debian's 108 mis-optimises reference types).
node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg/sendonce_bg.wasm -o pkg/sendonce_bg.wasm
node scripts/package-json.mjs
node scripts/size.mjs

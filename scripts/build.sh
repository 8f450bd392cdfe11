#!/usr/bin/env bash
# Builds the npm package into pkg/ (ES module + TypeScript types) and prints its size.
#
# The package is built in a temporary directory and its files are renamed into pkg/ at the end,
# so that two builds at once (a test run and a demo, say) never read or serve a half-written
# .wasm.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
root="$PWD"
mkdir -p target pkg
tmp="$(mktemp -d "$root/target/pkg-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# Panic messages name source files. Rewrite the build machine's paths (the crate registry and
# git checkouts under CARGO_HOME, the home directory, this checkout) to neutral prefixes, for
# the wasm build only. Computed here, never hard-coded; CARGO_ENCODED_RUSTFLAGS (separated by
# 0x1f) keeps paths with spaces intact. Later flags win where prefixes overlap.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
# Keep the caller's own flags: cargo ignores RUSTFLAGS once CARGO_ENCODED_RUSTFLAGS is set.
flags=()
if [ -n "${CARGO_ENCODED_RUSTFLAGS:-}" ]; then
  IFS=$'\x1f' read -r -a flags <<<"$CARGO_ENCODED_RUSTFLAGS"
elif [ -n "${RUSTFLAGS:-}" ]; then
  read -r -a flags <<<"$RUSTFLAGS"
fi
[ -n "${HOME:-}" ] && flags+=("--remap-path-prefix=$HOME=~")
flags+=("--remap-path-prefix=$root=sendonce")
for d in "$cargo_home"/registry/src/*/; do
  [ -d "$d" ] && flags+=("--remap-path-prefix=${d%/}=crates")
done
[ -d "$cargo_home/git/checkouts" ] && flags+=("--remap-path-prefix=$cargo_home/git/checkouts=git")
CARGO_ENCODED_RUSTFLAGS="$(IFS=$'\x1f'; echo "${flags[*]}")"
export CARGO_ENCODED_RUSTFLAGS

# One wasm per entry: `sendonce` (every feature) and `sendonce/forms` (actions and forms only:
# cargo's --no-default-features leaves out chat, reply streams and quick replies).
build_wasm() { # OUT_NAME, then extra cargo arguments
  local name="$1"
  shift
  wasm-pack build --release --target web --out-dir "$tmp/$name" --out-name "$name" --no-pack . "$@" \
    >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
  rm -f "$tmp/build.log"
  # A current wasm-opt (binaryen from npm; Debian's 108 mis-optimises reference types).
  # `--converge` repeats the passes until the module stops shrinking: 0.1 to 0.2 KB gzip for
  # a few seconds of build (BENCHMARKS.md). `--low-memory-unused` lets it fold constant
  # offsets into loads and stores, which is sound here: the module's first KB is the bottom
  # of Rust's stack (rust-lld lays the 1 MiB stack first), and no pointer arithmetic wraps
  # into it (0.7 KB gzip). The producers and target-features sections are for tools, which
  # have read them by now (wasm-bindgen ran before): 0.2 KB.
  node_modules/.bin/wasm-opt -Oz --converge --low-memory-unused --strip-producers --strip-target-features \
    --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$tmp/$name/${name}_bg.wasm" -o "$tmp/${name}_bg.wasm"
  rm -f "$tmp/$name/${name}_bg.wasm"
  cp -R "$tmp/$name/." "$tmp/"
  rm -rf "$tmp/$name"
}
build_wasm sendonce
build_wasm sendonce_forms -- --no-default-features
# The entry files around the generated glue (SendonceError, not_initialized, types fixed).
node scripts/entry.mjs "$tmp"
# Same file system: each rename replaces a whole file at once.
find "$tmp" -mindepth 1 -maxdepth 1 -type f -exec mv -f {} pkg/ \;
node scripts/package-json.mjs
# The htmx demo page (www/htmx.html) loads htmx from the dev dependency, copied next to it
# (ignored by git; not part of the package).
if [ -f node_modules/htmx.org/dist/htmx.min.js ]; then
  mkdir -p www/vendor
  cp node_modules/htmx.org/dist/htmx.min.js www/vendor/htmx.min.js
fi
node scripts/size.mjs

#!/usr/bin/env bash
# Benchmarks: builds pkg/ (scripts/build.sh), then measures in headless Chromium, against a
# hand-written JS baseline in the same page: package size (every entry), per-action cost, fingerprint
# throughput, init time, a 1,000-click storm, storage per record, click-to-disabled time inside
# the click task and wasm memory after 100,000 actions (Node). Prints a table and writes
# bench/results.json. `./scripts/bench.sh --quick` runs fewer iterations; `--no-build` reuses pkg/;
# `--sizes-only` prints only each entry's download (its JS closure + wasm, each file gzip -9,
# summed: scripts/size.mjs) against issue 21's targets, without the browser and memory runs.
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    *) args+=("$a") ;;
  esac
done
if [ "$build" = 1 ]; then
  ./scripts/build.sh
fi
node bench/run.mjs "${args[@]+"${args[@]}"}"

#!/usr/bin/env bash
# The demo: installs what is missing, builds pkg/, starts the reference server on 127.0.0.1
# (SQLite file sendonce-demo.sqlite3) serving the demo pages in www/ (not the test pages in
# tests/pages/), and prints the URL. Ctrl-C stops it.
# PORT=8080 by default; extra arguments go to the server (for example --chaos 0.3). --demo lets
# the pages show the server's effects, request log and key traces (off by default).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
./scripts/build.sh
# The dev build: it compiles in a fraction of the release build's time (the release profile is
# tuned for the small wasm), and a demo server needs no speed.
cargo build --quiet -p sendonce-server
exec target/debug/sendonce-server --addr "127.0.0.1:${PORT:-8080}" --db sendonce-demo.sqlite3 --www www --pkg pkg --demo "$@"

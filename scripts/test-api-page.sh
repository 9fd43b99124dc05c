#!/usr/bin/env bash
# make test-api-page: the API page (GET /docs) in headless Chromium, against the local server
# built and started here on a fresh data folder, with no network: every operation is listed and
# "Try it out" with a token succeeds (scripts/api-page-check.cjs). Installs what is missing:
# Debian's chromium, node and npm (apt-get), playwright-core into .tools/api-page (npm).
# The page's screenshot goes to target/api-page/api-page.png; UPDATE_SCREENSHOT=1 also copies it
# to docs/api-page.png, the README's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

ensure_packages /usr/lib/chromium/chromium:chromium node:nodejs npm:npm curl:curl
tools="$root/.tools/api-page"
want="playwright-core@1.65.1"
if [ "$(cat "$tools/.installed" 2>/dev/null)" != "$want" ]; then
  echo "installing $want into .tools/api-page (from npm)" >&2
  rm -rf "$tools"
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" "$want" >&2
  echo "$want" >"$tools/.installed"
fi

cargo build --quiet -p server --bin user-service
binary="${CARGO_TARGET_DIR:-$root/target}/debug/user-service"
work="$(mktemp -d)"
port="$(free_port)"
DATA_DIR="$work" PORT="$port" RUST_LOG=warn "$binary" serve >"$work/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
wait_for_port "$port" "the local server" 60 || { cat "$work/server.log" >&2; exit 1; }
token="$(DATA_DIR="$work" "$binary" token)"

mkdir -p target/api-page
if ! NODE_PATH="$tools/node_modules" node scripts/api-page-check.cjs \
  "http://127.0.0.1:$port" "$token" target/api-page/api-page.png; then
  echo "the server's log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
if [ "${UPDATE_SCREENSHOT:-0}" = 1 ]; then
  mkdir -p docs
  cp target/api-page/api-page.png docs/api-page.png
  echo "docs/api-page.png updated"
fi

#!/usr/bin/env bash
# make bench: builds the release binaries (each function on its own, with only its features),
# then runs the benchmark with PostgreSQL, S3 and PgBouncer as the tests have them. Prints one
# table and writes target/bench/results.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing wrk (Debian)" >&2
    apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else
    echo "error: make bench needs wrk (apt-get install wrk)" >&2
    exit 1
  fi
fi

for function in $(lambda_functions); do
  cargo build --release --quiet --package "$function" --bin "$function"
done
cargo build --release --quiet --package server --bin user-service
cargo build --release --quiet --package bench
scripts/with-test-services.sh "${CARGO_TARGET_DIR:-target}/release/bench"

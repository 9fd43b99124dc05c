#!/usr/bin/env bash
# The workspace's tests: with cargo-nextest when installed (one process per test), else cargo test.
set -euo pipefail
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --all-targets --no-fail-fast "$@"
else
  cargo test --workspace --all-targets --no-fail-fast "$@"
fi

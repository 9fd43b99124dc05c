#!/usr/bin/env bash
# make test-stack: the stack suite (testkit/tests/stack.rs) against the stack scripts/stack.sh
# deploys; then, unless STACK_SELF_TEST=0, against a copy of the template broken on purpose
# (one route moved to another function, one variable removed), where it must fail, and fail
# for those two reasons.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

# The suite signs its tokens with this secret and serves the Auth Service at this address.
JWT_SECRET="stack-suite-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
AUTH_SERVICE_URL="http://127.0.0.1:$(free_port)"
PORT="$(free_port)"
export JWT_SECRET AUTH_SERVICE_URL PORT
if cargo nextest --version >/dev/null 2>&1; then
  suite=(cargo nextest run -p testkit --features stack --test stack --no-fail-fast)
else
  suite=(cargo test -p testkit --features stack --test stack --no-fail-fast)
fi
# Built before the stack starts, so that its build is not in the stack's time.
cargo test --quiet -p testkit --features stack --test stack --no-run

started=$SECONDS
scripts/stack.sh "${suite[@]}"
echo "test-stack: the suite passed on the stack in $((SECONDS - started)) s" >&2

[ "${STACK_SELF_TEST:-1}" = 0 ] && exit 0
started=$SECONDS
log="$root/target/stack-run/broken-suite.log"
mkdir -p "${log%/*}"
if STACK_BREAK=1 scripts/stack.sh "${suite[@]}" >"$log" 2>&1; then
  echo "error: the stack suite passed on a stack broken on purpose (see $log)" >&2
  exit 1
fi
for expected in "which does not serve them: [\"ANY /streaks" "the variables differ from the template's"; do
  grep -qF "$expected" "$log" || {
    tail -n 40 "$log" >&2
    echo "error: the suite failed on the broken stack, but not with \"$expected\" (see $log)" >&2
    exit 1
  }
done
echo "test-stack: the suite failed on the broken copy as it must, in $((SECONDS - started)) s (see ${log#"$root/"})" >&2

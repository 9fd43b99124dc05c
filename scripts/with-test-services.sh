#!/usr/bin/env bash
# Runs a command with the real services the tests need, then stops what it started:
#
#   PostgreSQL  TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres). When
#               nothing answers there, a throwaway cluster is made with the machine's own
#               initdb/pg_ctl on a free loopback port; without them, one line says what to install.
#   PgBouncer   installed when missing (Debian's package); the tests start their own.
#   S3          TEST_S3_ENDPOINT. Unless already set (LocalStack, MinIO), a moto S3 server is
#               started on a free 127.0.0.1 port (installed into .tools/ from PyPI when missing).
#
# usage: scripts/with-test-services.sh <command> [args...]
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work="$root/target/test-services"
mkdir -p "$work"

pids=()
pg_dir=""
cleanup() {
  for pid in "${pids[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  if [ -n "$pg_dir" ]; then
    run_as_pg pg_ctl -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
}
trap cleanup EXIT INT TERM

# --- PostgreSQL --------------------------------------------------------------------------
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

pg_answers() {
  python3 - "$1" <<'PY'
import socket, sys, urllib.parse
url = urllib.parse.urlparse(sys.argv[1])
try:
    socket.create_connection((url.hostname or "127.0.0.1", url.port or 5432), timeout=2).close()
except OSError:
    sys.exit(1)
PY
}

find_pg_bin() {
  local dir
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  return 1
}

# PostgreSQL refuses to run as root: run it as the postgres user then.
run_as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- env PATH="$PATH" "$@"
  else
    "$@"
  fi
}

if ! pg_answers "$TEST_DATABASE_URL"; then
  if ! pg_bin="$(find_pg_bin)"; then
    echo "error: no PostgreSQL at $TEST_DATABASE_URL and no initdb/pg_ctl to start one: install PostgreSQL (apt-get install postgresql) or set TEST_DATABASE_URL" >&2
    exit 1
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "error: running as root without a 'postgres' user to run a throwaway PostgreSQL: create one or set TEST_DATABASE_URL" >&2
    exit 1
  fi
  export PATH="$pg_bin:$PATH"
  pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/user-service-pg.XXXXXX")"
  [ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
  pg_port="$(free_port)"
  echo "starting a throwaway PostgreSQL on 127.0.0.1:$pg_port" >&2
  run_as_pg initdb -D "$pg_dir/data" -U postgres --auth=trust >"$work/initdb.log" 2>&1 ||
    { echo "error: initdb failed (see $work/initdb.log)" >&2; exit 1; }
  # The log goes where the postgres user may write; it is removed with the cluster.
  run_as_pg pg_ctl -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c max_connections=200" start >/dev/null ||
    { echo "error: the throwaway PostgreSQL did not start:" >&2; tail -n 5 "$pg_dir/postgres.log" >&2; exit 1; }
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
fi

# --- PgBouncer ---------------------------------------------------------------------------
# The tests start their own (testkit::PgBouncer), standing in for RDS Proxy.
PATH="$PATH:/usr/sbin" ensure_packages pgbouncer:pgbouncer

# --- S3 ----------------------------------------------------------------------------------
if [ -z "${TEST_S3_ENDPOINT:-}" ]; then
  # A pinned moto, whatever the machine has: 5.2.1 answers CompleteMultipartUpload with the
  # wrong XML root, which the AWS SDK refuses.
  moto_python="$(python_tool moto 'moto[server]==5.2.5')/python"
  s3_port="$(free_port)"
  "$moto_python" -m moto.server -H 127.0.0.1 -p "$s3_port" >"$work/moto.log" 2>&1 &
  pids+=("$!")
  wait_for_port "$s3_port" "the moto S3 server (see $work/moto.log)" || exit 1
  export TEST_S3_ENDPOINT="http://127.0.0.1:$s3_port"
fi

echo "tests use PostgreSQL at ${TEST_DATABASE_URL%%\?*} and S3 at $TEST_S3_ENDPOINT" >&2
"$@"

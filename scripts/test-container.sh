#!/usr/bin/env bash
# make test-container: builds the image (make container), then runs it as the previous service's
# compose setup did, against this machine's PostgreSQL (TEST_DATABASE_URL, a fresh database) and
# the test S3 server (TEST_S3_ENDPOINT) standing in for MinIO: its Docker secrets mounted at
# /run/secrets (jwt_secret, db_password, minio_access_key, minio_secret_key), its variables
# (POSTGRES_*, MINIO_*). Checks /health, a request with a token signed by the mounted secret, that
# the process is not root, and prints the image's size. Run through with-test-services.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"
: "${TEST_DATABASE_URL:?run it through scripts/with-test-services.sh}" "${TEST_S3_ENDPOINT:?}"

image="${CONTAINER_IMAGE:-user-service:latest}"
scripts/container.sh

# The database server of TEST_DATABASE_URL, as POSTGRES_* names it.
rest="${TEST_DATABASE_URL#*://}"
pg_user="${rest%%@*}"
pg_user="${pg_user%%:*}"
pg_address="${rest#*@}"
pg_address="${pg_address%%/*}"
pg_host="${pg_address%%:*}"
pg_port="${pg_address##*:}"
[ "$pg_port" != "$pg_address" ] || pg_port=5432
database="container_$(date +%s)_$$"
s3_address="${TEST_S3_ENDPOINT#http://}"
s3_address="${s3_address%%/*}"

work="$(mktemp -d)"
name="user-service-test-$$"
cleanup() {
  podman_run rm --force --time 0 "$name" >/dev/null 2>&1 || true
  psql -q "$TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
psql -q "$TEST_DATABASE_URL" -c "CREATE DATABASE $database" >/dev/null

# The previous service's secrets, one file each, readable by the container's user.
mkdir -p "$work/secrets"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secrets/jwt_secret"
echo "not-needed-with-trust" >"$work/secrets/db_password"
echo "container-test" >"$work/secrets/minio_access_key"
echo "container-test-secret" >"$work/secrets/minio_secret_key"
chmod 0755 "$work/secrets"
chmod 0644 "$work/secrets"/*

port="$(free_port)"
profile_bucket="container-pp-$$"
food_bucket="container-fi-$$"
exports_bucket="container-ex-$$"
podman_run run --detach --name "$name" --network=host \
  --volume "$work/secrets:/run/secrets:ro" \
  --env BIND=127.0.0.1 --env PORT="$port" \
  --env POSTGRES_HOST="$pg_host" --env POSTGRES_PORT="$pg_port" \
  --env POSTGRES_DB="$database" --env POSTGRES_USER="$pg_user" \
  --env MINIO_HOST="${s3_address%%:*}" --env MINIO_PORT="${s3_address##*:}" --env MINIO_SECURE=false \
  --env PROFILE_PICTURES_BUCKET="$profile_bucket" --env FOOD_IMAGES_BUCKET="$food_bucket" \
  --env EXPORTS_BUCKET="$exports_bucket" \
  "$image" >/dev/null
if ! wait_for_port "$port" "the container" 30; then
  podman_run logs "$name" >&2 || true
  exit 1
fi

passes=0 failures=0
check() {
  if [ "$1" = "$2" ]; then
    echo "ok: $3"
    passes=$((passes + 1))
  else
    echo "FAILED: $3: expected $2, got $1" >&2
    failures=$((failures + 1))
  fi
}
health="$(curl -sS "http://127.0.0.1:$port/health")"
check "$health" '{"status":"healthy","service":"user-service","checks":{"database":"connected","minio":"connected"}}' \
  "/health: PostgreSQL through POSTGRES_* and the S3 store through MINIO_* with the mounted keys"

# A token from the container's own command, so signed with the mounted jwt_secret.
token="$(podman_run exec --env USER_ID=container-user "$name" /usr/local/bin/user-service token)"
status="$(curl -sS -o "$work/profile" -w '%{http_code}' -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/profile")"
check "$status $(grep -o '"userId":"[^"]*"' "$work/profile")" '200 "userId":"container-user"' \
  "GET /profile with a token signed by /run/secrets/jwt_secret"
other="$(podman_run exec --env JWT_SECRET=another-secret "$name" /usr/local/bin/user-service token)"
wrong="$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $other" \
  "http://127.0.0.1:$port/profile")"
check "$wrong" 401 "a token signed with another secret is refused"

pid="$(podman_run inspect --format '{{.State.Pid}}' "$name")"
check "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" 10001 "the server runs as uid 10001, not root"
logs="$(podman_run logs "$name" 2>&1)"
check "$(grep -c '^{.*"user-service listening on http' <<<"$logs" || true)" 1 \
  "its start-up line is a JSON log line"

size="$(podman_run image inspect --format '{{.Size}}' "$image")"
echo "image $image: $((size / 1024 / 1024)) MiB"
[ "$failures" -eq 0 ] || { echo "container: $passes passed, $failures failed" >&2; exit 1; }
echo "container: $passes passed, 0 failed"

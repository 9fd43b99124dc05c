#!/usr/bin/env bash
# Serves the functions as Lambda does, with `cargo lambda watch` on http://127.0.0.1:9000:
# the API Gateway paths of Cargo.toml's [workspace.metadata.lambda.watch.router] reach their
# function (curl localhost:9000/health), and /lambda-url/<function>/… reaches one directly.
# Functions are built as for Lambda (PostgreSQL only): DATABASE_URL must be postgres://…;
# images go to $DATA_DIR/images unless S3_ENDPOINT is set; the JWT secret is the local
# server's, so `make token` works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

case "${DATABASE_URL:-}" in
  postgres://* | postgresql://*) ;;
  *) echo "error: make watch needs DATABASE_URL=postgres://… (Lambda functions are built without SQLite)" >&2; exit 1 ;;
esac
data_dir="$(mkdir -p "${DATA_DIR:-.data}" && cd "${DATA_DIR:-.data}" && pwd)"
export DATA_DIR="$data_dir"
cargo run --quiet -p server --bin user-service -- migrate
cargo run --quiet -p server --bin user-service -- token >/dev/null   # makes the dev secret

if ! command -v cargo-lambda >/dev/null 2>&1; then
  PATH="$(python_tool cargo-lambda 'cargo-lambda==1.9.2'):$PATH"
  export PATH
fi
image_store=local
if [ -n "${S3_ENDPOINT:-}" ]; then
  image_store=s3
else
  # The local server creates its buckets at start; here nobody else would.
  mkdir -p "$data_dir/images/${PROFILE_PICTURES_BUCKET:-profile-pictures}" \
    "$data_dir/images/${FOOD_IMAGES_BUCKET:-food-images}"
fi
# cargo lambda watch sets AWS_LAMBDA_MAX_CONCURRENCY, about which the runtime warns on every
# cold start (it serves one request at a time, as on Lambda): that warning is filtered out.
exec cargo lambda watch --invoke-address 127.0.0.1 \
  --env-var "RUST_LOG=${RUST_LOG:-info},lambda_runtime::runtime=error" \
  --env-var "DATABASE_URL=$DATABASE_URL" \
  --env-var "JWT_SECRET_FILE=$data_dir/jwt_secret" \
  --env-var "DATA_DIR=$data_dir" \
  --env-var "IMAGE_STORE=$image_store" \
  --env-var "LOG_FORMAT=pretty"

#!/usr/bin/env bash
# make stack: template.yaml deployed by CloudFormation on LocalStack (host mode, no Docker),
# its functions run by LocalStack's Lambda (as processes of this host) and its buckets on
# LocalStack's S3, and the API served on http://127.0.0.1:$PORT by testkit's gateway, which
# stands in for the HTTP API (Pro-only on LocalStack).
#
#   PORT              the gateway's port (8083)
#   DATABASE_URL      the functions' PostgreSQL; unset: a fresh database on
#                     postgres://postgres@127.0.0.1:5432, dropped at the end. Migrated first.
#   JWT_SECRET        unset: the local server's dev secret ($DATA_DIR/jwt_secret), so
#                     `make token` works against the stack
#   AUTH_SERVICE_URL  unset: the functions run without one, as `make run` does
#   STACK_BREAK=1     deploys a copy broken on purpose (scripts/stack-template.py --break)
#
# usage: scripts/stack.sh                serves until Ctrl-C or SIGTERM
#        scripts/stack.sh <command...>   runs the command with STACK_URL, STACK_DIR and
#                                        LOCALSTACK_ENDPOINT set, then stops; its exit status
# Everything it starts (LocalStack, the functions' processes, the gateway, the database) is
# stopped at the end, also on failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

name="user-service${STACK_BREAK:+-broken}"
work="$root/target/stack-run/$name"
port="${PORT:-8083}"
code_dir="$root/target/stack-run/lambda"
mapfile -t functions < <(lambda_functions)
arch="$(uname -m)"
[ "$arch" = aarch64 ] && arch=arm64

localstack_pid=""
gateway_pid=""
database=""
admin_url="postgres://postgres@127.0.0.1:5432/postgres"
cleanup() {
  trap - EXIT INT TERM
  [ -n "$gateway_pid" ] && kill "$gateway_pid" 2>/dev/null || true
  # LocalStack may ignore TERM. Its function processes run in sessions of their own: the
  # executor lists their pids.
  [ -n "$localstack_pid" ] && kill -9 "$localstack_pid" 2>/dev/null || true
  for file in "$work"/pids/*; do
    [ -e "$file" ] || continue
    pid="${file##*/}"
    if grep -qs bootstrap "/proc/$pid/cmdline"; then kill -9 "$pid" 2>/dev/null || true; fi
    rm -f "$file"
  done
  [ -n "$gateway_pid" ] && wait "$gateway_pid" 2>/dev/null || true
  [ -n "$localstack_pid" ] && wait "$localstack_pid" 2>/dev/null || true
  if [ -n "$database" ]; then
    psql -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '%s  %s\n' "$(date +%T)" "$*" >&2; }
started=$SECONDS

rm -rf "$work"
mkdir -p "$work/pids" "$work/functions" "$code_dir"

# --- Tools -------------------------------------------------------------------------------
TOOL_PYTHON="$(newest_python)"
export TOOL_PYTHON
localstack_bin="$(python_tool localstack-lambda 'localstack-core[runtime]==2026.3.0' \
  'boto3==1.42.72' 'cbor2==5.9.0' 'cryptography==44.0.3' 'pyopenssl==24.3.0' 'service-identity==24.2.0' \
  -e "$root/localstack/host-executor")"
unset TOOL_PYTHON
aws_bin="$(python_tool aws 'cfn-lint==1.53.3' 'aws-sam-cli==1.170.0' 'aws-sam-cli-local==1.71.0')"

# --- Builds ------------------------------------------------------------------------------
step "building the functions for this host ($arch, profile stack) and the gateway"
packages=()
for function in "${functions[@]}"; do packages+=(-p "$function"); done
cargo build --quiet --profile stack "${packages[@]}"
cargo build --quiet -p server --bin user-service -p testkit --bin gateway
for function in "${functions[@]}"; do
  mkdir -p "$code_dir/$function"
  cp "target/stack/$function" "$code_dir/$function/bootstrap"
done
user_service="$root/target/debug/user-service"

# --- Database and secrets ----------------------------------------------------------------
if [ -z "${DATABASE_URL:-}" ]; then
  database="user_service_stack_$$"
  psql -q "$admin_url" -c "CREATE DATABASE \"$database\"" >/dev/null ||
    { echo "error: no PostgreSQL at $admin_url to create the stack's database: set DATABASE_URL" >&2; exit 1; }
  database_url="postgres://postgres@127.0.0.1:5432/$database"
else
  database_url="$DATABASE_URL"
fi
step "migrating the database"
DATABASE_URL="$database_url" "$user_service" migrate >/dev/null
jwt_secret="${JWT_SECRET:-}"
if [ -z "$jwt_secret" ]; then
  data_dir="${DATA_DIR:-.data}"
  DATA_DIR="$data_dir" "$user_service" token >/dev/null # makes the dev secret when missing
  jwt_secret="$(cat "$data_dir/jwt_secret")"
fi

# --- LocalStack --------------------------------------------------------------------------
localstack_port="${LOCALSTACK_PORT:-$(free_port)}"
endpoint="http://127.0.0.1:$localstack_port"
step "starting LocalStack on $endpoint (log: ${work#"$root/"}/localstack.log)"
# Loopback only, no DNS server, no telemetry, no certificate download; Lambda runs on the host.
env GATEWAY_LISTEN="127.0.0.1:$localstack_port" GATEWAY_SERVER=hypercorn DNS_ADDRESS=0 \
  DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 OVERRIDE_IN_DOCKER=0 \
  LAMBDA_RUNTIME_EXECUTOR="${LAMBDA_RUNTIME_EXECUTOR:-host}" \
  HOST_EXECUTOR_PID_DIR="$work/pids" HOST_EXECUTOR_LOG_DIR="$work/functions" \
  LOCALSTACK_VOLUME_DIR="$work/volume" S3_SKIP_SIGNATURE_VALIDATION=0 \
  "$localstack_bin/python" -m localstack.runtime.main >"$work/localstack.log" 2>&1 &
localstack_pid=$!
for attempt in $(seq 1 240); do
  curl -fs "$endpoint/_localstack/health" >/dev/null 2>&1 && break
  kill -0 "$localstack_pid" 2>/dev/null || { echo "error: LocalStack exited while starting (see $work/localstack.log)" >&2; exit 1; }
  [ "$attempt" -lt 240 ] || { echo "error: LocalStack did not answer within 2 minutes" >&2; exit 1; }
  sleep 0.5
done

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
  AWS_ENDPOINT_URL="$endpoint" SAM_CLI_TELEMETRY=0
step "creating the secrets"
secrets="$(DATABASE_URL="$database_url" JWT_SECRET="$jwt_secret" "$localstack_bin/python" - <<'PY'
import boto3, os
client = boto3.client("secretsmanager")
arns = [client.create_secret(Name=name, SecretString=os.environ[variable])["ARN"]
        for name, variable in (("user-service/database-url", "DATABASE_URL"),
                               ("auth-service/jwt-secret", "JWT_SECRET"))]
boto3.client("s3").create_bucket(Bucket="sam-artifacts")
print(*arns)
PY
)"
read -r database_secret jwt_secret_arn <<<"$secrets"

# --- The stack ---------------------------------------------------------------------------
flags=()
[ -n "${AUTH_SERVICE_URL:-}" ] || flags+=(--no-auth-service)
[ -n "${STACK_BREAK:-}" ] && flags+=(--break)
"$localstack_bin/python" scripts/stack-template.py template.yaml "$work" "$code_dir" "$arch" "${flags[@]}"
step "deploying template.yaml through CloudFormation (log: ${work#"$root/"}/deploy.log)"
if ! "$aws_bin/samlocal" deploy --template-file "$work/deployed.json" --stack-name "$name" \
  --s3-bucket sam-artifacts --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
  --no-confirm-changeset --no-progressbar --region us-east-1 \
  --parameter-overrides "DatabaseUrlSecretArn=$database_secret" "JwtSecretArn=$jwt_secret_arn" \
  "AuthServiceUrl=${AUTH_SERVICE_URL:-http://auth-service.invalid}" >"$work/deploy.log" 2>&1; then
  tail -n 30 "$work/deploy.log" >&2
  echo "error: the deployment failed (see $work/deploy.log)" >&2
  exit 1
fi
"$localstack_bin/python" - "$name" >"$work/functions.json" <<'PY'
import boto3, json, sys
resources = boto3.client("cloudformation").describe_stack_resources(StackName=sys.argv[1])
print(json.dumps({r["LogicalResourceId"]: r["PhysicalResourceId"]
                  for r in resources["StackResources"]
                  if r["ResourceType"] == "AWS::Lambda::Function"}, indent=2))
PY

# --- The gateway -------------------------------------------------------------------------
step "starting the gateway on http://127.0.0.1:$port"
STACK_DIR="$work" LOCALSTACK_ENDPOINT="$endpoint" PORT="$port" target/debug/gateway \
  >"$work/gateway.log" 2>&1 &
gateway_pid=$!
wait_for_port "$port" "the gateway (see $work/gateway.log)" || exit 1

export STACK_URL="http://127.0.0.1:$port" STACK_DIR="$work" LOCALSTACK_ENDPOINT="$endpoint"
step "the stack $name serves on $STACK_URL (ready in $((SECONDS - started)) s)"
if [ $# -gt 0 ]; then
  status=0
  "$@" || status=$?
  exit "$status"
fi
echo "Ctrl-C to stop it; TOKEN=\$(make -s token); curl -H \"Authorization: Bearer \$TOKEN\" $STACK_URL/profile" >&2
wait "$gateway_pid"

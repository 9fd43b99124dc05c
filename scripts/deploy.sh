#!/usr/bin/env bash
# Deploys the stack: migrations first (they only ever add, so the running version keeps
# working), then `sam build` (cargo-lambda) and `sam deploy` with samconfig.toml.
#
# DEPLOY_DATABASE_URL (or DEPLOY_DATABASE_URL_FILE) names the target database; it must be
# reachable from here (for a private RDS instance: a bastion or SSM port forward).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

url="${DEPLOY_DATABASE_URL:-}"
if [ -z "$url" ] && [ -n "${DEPLOY_DATABASE_URL_FILE:-}" ]; then url="$(cat "$DEPLOY_DATABASE_URL_FILE")"; fi
[ -n "$url" ] || { echo "error: set DEPLOY_DATABASE_URL (or DEPLOY_DATABASE_URL_FILE) to the target database" >&2; exit 1; }

DATABASE_URL="$url" cargo run --quiet --release -p server --bin user-service -- migrate

aws_bin="$(python_tool aws 'cfn-lint==1.53.3' 'aws-sam-cli==1.170.0' 'aws-sam-cli-local==1.71.0')"
if ! command -v cargo-lambda >/dev/null 2>&1; then
  PATH="$(python_tool cargo-lambda 'cargo-lambda==1.9.2'):$PATH"
fi
export PATH SAM_CLI_TELEMETRY=0
"$aws_bin/sam" build --beta-features
"$aws_bin/sam" deploy "$@"

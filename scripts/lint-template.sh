#!/usr/bin/env bash
# Lints template.yaml: cfn-lint 1.53.3 (later versions no longer run the SAM transform and miss
# most SAM errors) and `sam validate`, which works offline once a region is set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bin="$(python_tool aws 'cfn-lint==1.53.3' 'aws-sam-cli==1.170.0' 'aws-sam-cli-local==1.71.0')"
cd "$root"
"$bin/cfn-lint" template.yaml
AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" SAM_CLI_TELEMETRY=0 \
  "$bin/sam" validate --template template.yaml >/dev/null
AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" SAM_CLI_TELEMETRY=0 \
  "$bin/sam" validate --lint --template template.yaml >/dev/null
echo "template.yaml: cfn-lint and sam validate pass"

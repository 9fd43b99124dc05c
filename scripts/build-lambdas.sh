#!/usr/bin/env bash
# Builds every function's `bootstrap` for AWS Lambda (arm64, release) with cargo-lambda and
# reports each binary's and zip's size. Each function is built on its own, so Cargo enables
# only the features that function asks for (no S3 SDK where no image is touched).
#
# usage: scripts/build-lambdas.sh [function...]     (default: all of them)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

if ! command -v cargo-lambda >/dev/null 2>&1; then
  # The PyPI package brings zig, which cargo-lambda uses to cross-link for arm64.
  PATH="$(python_tool cargo-lambda 'cargo-lambda==1.9.2'):$PATH"
  export PATH
fi

mapfile -t all < <(lambda_functions)
functions=("${@:-${all[@]}}")
for function in "${functions[@]}"; do
  echo "building $function" >&2
  cargo lambda build --release --arm64 --output-format zip --package "$function" --bin "$function"
done

python3 - "${functions[@]}" <<'PY'
import json, os, sys, zipfile
rows = []
for function in sys.argv[1:]:
    path = f"target/lambda/{function}/bootstrap.zip"
    with zipfile.ZipFile(path) as archive:
        binary = archive.getinfo("bootstrap").file_size
    rows.append({"function": function, "binaryBytes": binary, "zipBytes": os.path.getsize(path)})
print(f"{'function':<14} {'bootstrap':>12} {'zip':>12}")
for row in rows:
    print(f"{row['function']:<14} {row['binaryBytes'] / 2**20:>10.1f}MB {row['zipBytes'] / 2**20:>10.1f}MB")
os.makedirs("target/lambda", exist_ok=True)
with open("target/lambda/sizes.json", "w") as out:
    json.dump(rows, out, indent=2)
PY

#!/usr/bin/env bash
# make lint-compose: compose.yaml read as Compose reads it (podman-compose 1.6.0's `config`, from
# PyPI into .tools/), then what a parser lets through: every secret, volume and dependency a
# service names is declared, and the service gets the previous service's variables.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

bin="$(python_tool podman-compose 'podman-compose==1.6.0')"
# --dry-run: reading the file needs no podman on the machine.
"$bin/podman-compose" --dry-run --no-ansi -f compose.yaml config | "$bin/python" -c '
import sys, yaml
compose = yaml.safe_load(sys.stdin)
services, problems = compose["services"], []
for name, service in services.items():
    for secret in service.get("secrets", []):
        if secret not in compose.get("secrets", {}):
            problems.append(f"{name}: secret {secret} is not declared")
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if not source.startswith((".", "/")) and source not in compose.get("volumes", {}):
            problems.append(f"{name}: volume {source} is not declared")
    for dependency in service.get("depends_on", {}):
        if dependency not in services:
            problems.append(f"{name}: depends on {dependency}, which is no service")
service = services["user-service"]
for variable in ("POSTGRES_HOST", "POSTGRES_DB", "POSTGRES_USER", "MINIO_HOST", "MINIO_PORT"):
    if variable not in service.get("environment", {}):
        problems.append(f"user-service: no {variable}")
for secret in ("jwt_secret", "db_password", "minio_access_key", "minio_secret_key"):
    if secret not in service.get("secrets", []):
        problems.append(f"user-service: no secret {secret}")
if problems:
    sys.exit("compose.yaml: " + "; ".join(problems))
print(f"compose.yaml: {len(services)} services, their secrets, volumes and dependencies declared")
'

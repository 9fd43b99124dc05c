#!/usr/bin/env bash
# LocalStack's S3 on this host without Docker, on 127.0.0.1:4566, with signature checks on.
# It needs Python 3.12 or newer (current releases need 3.13: the newest found is used); it is
# installed into .tools/localstack from PyPI. The two
# buckets are created once it answers. Stop it with Ctrl-C (or SIGKILL: it may ignore TERM).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="$root/.tools/localstack"

source "$root/scripts/lib.sh"
python="$(newest_python)"

# `.installed` is written last, so an install cut short is redone on the next run.
if [ ! -f "$venv/.installed" ]; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    'localstack-core[base-runtime]' 'cbor2<6' 'cryptography<45' 'pyopenssl<25' service_identity boto3
  touch "$venv/.installed"
fi

# As make stack runs it: no DNS server (without one upstream, it logs a failed start and a
# failed `docker ps` looking for a network to serve), no telemetry, no certificate download.
export GATEWAY_SERVER=hypercorn SERVICES=s3 OVERRIDE_IN_DOCKER=0 \
  GATEWAY_LISTEN=127.0.0.1:4566 S3_SKIP_SIGNATURE_VALIDATION=0 \
  DNS_ADDRESS=0 DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 \
  LOCALSTACK_VOLUME_DIR="$root/target/localstack"
mkdir -p "$LOCALSTACK_VOLUME_DIR"
"$venv/bin/python" -m localstack.runtime.main &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true' EXIT INT TERM

for attempt in $(seq 1 240); do
  (exec 3<>/dev/tcp/127.0.0.1/4566) 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { echo "error: LocalStack exited while starting" >&2; exit 1; }
  [ "$attempt" -lt 240 ] || { echo "error: LocalStack did not listen on 127.0.0.1:4566 within 2 minutes" >&2; exit 1; }
  sleep 0.5
done
"$venv/bin/python" - <<'PY'
import boto3, os
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:4566", region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
for bucket in (os.environ.get("PROFILE_PICTURES_BUCKET", "profile-pictures"),
               os.environ.get("FOOD_IMAGES_BUCKET", "food-images")):
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception:
        s3.create_bucket(Bucket=bucket)
# LocalStack's own banner says https: one port answers both, and service.env uses http.
print("LocalStack S3 ready on http://127.0.0.1:4566 with the service's buckets "
      "(its banner's https://127.0.0.1:4566 is the same port; localstack/service.env uses http)")
PY
wait $pid

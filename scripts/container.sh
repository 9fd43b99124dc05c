#!/usr/bin/env bash
# make container: the local server as an image `user-service:latest` that needs no registry to
# build: one static binary (x86_64-unknown-linux-musl) on an empty base (FROM scratch) with the
# CA certificates and a non-root user, built by podman (Docker builds the same context too).
# Installs what is missing: the rustup target, musl-tools and podman with runc (apt-get).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

target=x86_64-unknown-linux-musl
image="${CONTAINER_IMAGE:-user-service:latest}"
ensure_packages musl-gcc:musl-tools podman:podman runc:runc
rustup target list --installed | grep -qx "$target" || rustup target add "$target"

echo "building user-service for $target (several minutes the first time)..." >&2
cargo build --locked --profile container --target "$target" -p server --bin user-service
binary="${CARGO_TARGET_DIR:-$root/target}/$target/container/user-service"

# The build context: only what the image holds.
context="$root/target/container/context"
rm -rf "$context"
mkdir -p "$context/data"
cp "$binary" "$context/user-service"
cp /etc/ssl/certs/ca-certificates.crt "$context/"
echo 'user-service:x:10001:10001:user-service:/data:/sbin/nologin' >"$context/passwd"
echo 'user-service:x:10001:' >"$context/group"
podman_run build --quiet --tag "$image" --file "$root/Dockerfile" "$context" >/dev/null
size=$(podman_run image inspect --format '{{.Size}}' "$image")
echo "$image: $((size / 1024 / 1024)) MiB ($size bytes)"

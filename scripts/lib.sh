# Helpers shared by the project's scripts (source it).

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The Lambda functions, one per directory of functions/ (each a package with a binary of its
# name).
lambda_functions() {
  (cd "$root/functions" && for dir in */; do echo "${dir%/}"; done)
}

# Installs PyPI packages into the virtualenv .tools/<name> unless it already holds exactly
# them; prints the virtualenv's bin folder. The registries are the only network we use.
# TOOL_PYTHON names the interpreter (default python3).
python_tool() {
  local name=$1
  shift
  local venv="$root/.tools/$name"
  local want="$*"
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.installed" 2>/dev/null)" != "$want" ]; then
    echo "installing $want into .tools/$name (from PyPI)" >&2
    rm -rf "$venv"
    # Called as $(python_tool …), where `set -e` does not apply: each step is checked, and a
    # failed install leaves nothing that a later run would take for a finished one.
    if ! "${TOOL_PYTHON:-python3}" -m venv "$venv" >&2 ||
      ! "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2; then
      rm -rf "$venv"
      echo "error: could not install $want into .tools/$name (from PyPI)" >&2
      return 1
    fi
    echo "$want" >"$venv/.installed"
  fi
  echo "$venv/bin"
}

# Prints the newest Python 3.12 or newer on this machine (LocalStack needs one), or fails.
newest_python() {
  local candidate newest_first
  newest_first=$(ls -d "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV || true)
  for candidate in python3.14 python3.13 python3.12 $newest_first python3; do
    # Run it: a pyenv shim exists even where its version is not selected.
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "error: LocalStack on the host needs Python 3.12 or newer" >&2
  return 1
}

# Prints a TCP port of 127.0.0.1 on which nothing listens now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $3 seconds (default 15) until something accepts TCP connections on 127.0.0.1:$1.
wait_for_port() {
  local port=$1 what=$2 tries=$((${3:-15} * 10))
  for _ in $(seq 1 "$tries"); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "error: $what did not listen on 127.0.0.1:$port" >&2
  return 1
}

# Installs Debian packages for the commands that are missing: ensure_packages cmd:package …
# (as root, with apt-get; elsewhere one line says what to install).
ensure_packages() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: install ${missing[*]} (Debian package names)" >&2
    return 1
  fi
  echo "installing ${missing[*]} (apt-get)" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

# Runs podman as these machines allow it without a Docker engine: no default ulimits (the
# sandbox refuses raising them), Debian's runc, cgroups by file system.
podman_run() {
  local conf="$root/target/container/containers.conf"
  mkdir -p "${conf%/*}"
  [ -f "$conf" ] || printf '[containers]\ndefault_ulimits = []\n' >"$conf"
  CONTAINERS_CONF="$conf" podman --runtime runc --cgroup-manager=cgroupfs "$@"
}

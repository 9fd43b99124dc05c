# Helpers shared by the project's scripts (source it).

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Installs PyPI packages into the virtualenv .tools/<name> unless it already holds exactly
# them; prints the virtualenv's bin folder. The registries are the only network we use.
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
    if ! python3 -m venv "$venv" >&2 ||
      ! "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2; then
      rm -rf "$venv"
      echo "error: could not install $want into .tools/$name (from PyPI)" >&2
      return 1
    fi
    echo "$want" >"$venv/.installed"
  fi
  echo "$venv/bin"
}

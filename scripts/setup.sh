#!/usr/bin/env bash
# Make the project's virtual environment (.venv) ready: create it with the
# Python found (python3, or $PYTHON), installing Debian's python3-venv first
# when that Python cannot make one, then install the locked packages and the
# project itself.  Nothing is installed outside .venv, so this works with a
# distribution's externally managed Python (PEP 668).
#
#   bash scripts/setup.sh          the runtime (requirements.txt)
#   bash scripts/setup.sh test     the runtime and the test tools (requirements-dev.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV=.venv
LOCK=requirements.txt
[ "${1:-}" = "test" ] && LOCK=requirements-dev.txt

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "setup: no $PYTHON on PATH; install Python 3.11 or newer (apt-get install python3)" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: $("$PYTHON" --version 2>&1) is too old; Python 3.11 or newer is needed" >&2
  exit 1
fi

if ! "$VENV/bin/python" -c 'import pip' >/dev/null 2>&1; then
  rm -rf "$VENV"
  # Debian and Ubuntu ship venv without ensurepip until python3-venv is installed.
  if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "setup: installing python3-venv so that $PYTHON can make a virtual environment" >&2
    apt_install python3-venv
  fi
  "$PYTHON" -m venv "$VENV"
fi

# Install only when the lock or the project changed since the last install.
stamp="$VENV/.installed-$(basename "$LOCK" .txt)"
wanted=$(cat requirements.txt "$LOCK" pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$LOCK"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
  echo "$wanted" >"$stamp"
fi

#!/usr/bin/env bash
# Install what the tests need on a fresh machine (Debian's Chromium for the
# page tests, the Python packages), then run the whole suite.  Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! command -v chromium >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
"$PYTHON" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
"$PYTHON" -m ruff check .
exec "$PYTHON" -m pytest "$@"

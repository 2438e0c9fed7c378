#!/usr/bin/env bash
# Install what the tests need on a fresh machine (Debian's Chromium and
# Japanese fonts for the page tests, the locked Python packages in .venv, a
# PostgreSQL server for the PostgreSQL half of the storage tests), then check
# the code with ruff and run the whole suite.  Extra arguments go to pytest.
#
# The PostgreSQL tests use $ARCHIVE_TEST_POSTGRES_URL when it is set (a role
# that may create databases); otherwise scripts/postgres.sh starts a throwaway
# server on 127.0.0.1:55432 and this sets the variable.  Without a server they
# skip, except in CI, where they fail.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium for the page tests, Japanese fonts so that the
# screenshots they save can be read, and Node's npm to install axe-core (the
# accessibility checker the page tests inject); nothing is fetched when all are there.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium chromium-driver)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "ok installed" ||
  missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
bash scripts/setup.sh test
# axe-core at the version package-lock.json pins, into node_modules (not in git).
pinned=$(node -p "require('./package-lock.json').packages['node_modules/axe-core'].version")
installed=$(node -p "require('./node_modules/axe-core/package.json').version" 2>/dev/null || true)
[ "$pinned" = "$installed" ] || npm ci --no-audit --no-fund --loglevel=error
if [ -z "${ARCHIVE_TEST_POSTGRES_URL:-}" ]; then
  if url=$(bash scripts/postgres.sh); then
    export ARCHIVE_TEST_POSTGRES_URL="$url"
  elif [ -n "${CI:-}" ]; then
    echo "test: CI needs a PostgreSQL server and none could be started" >&2
    exit 1
  else
    echo "test: no PostgreSQL server could be started; the PostgreSQL tests will skip" >&2
  fi
fi
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
exec .venv/bin/python -m pytest "$@"

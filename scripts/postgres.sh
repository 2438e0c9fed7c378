#!/usr/bin/env bash
# A PostgreSQL server for the tests, on this machine only, and its URL.
#
#   bash scripts/postgres.sh        start it (if it is not running) and print its URL
#   bash scripts/postgres.sh stop   stop it
#
# It installs Debian's postgresql package when no PostgreSQL is installed, then
# keeps a cluster of its own in $ARCHIVE_TEST_PGDATA (default: a folder under
# /tmp), listening on 127.0.0.1:$ARCHIVE_TEST_PGPORT (default 55432) and owned
# by the `postgres` user when run as root (PostgreSQL refuses to run as root).
# The cluster is throwaway test data: it trusts local connections and does not
# fsync.  Running it again is harmless: a running server is reused, a stopped
# one (after a reboot) is started again.  Only the URL goes to standard output.
set -euo pipefail
cd "$(dirname "$0")/.."

PGDATA_DIR="${ARCHIVE_TEST_PGDATA:-${TMPDIR:-/tmp}/archive-test-postgres}"
PORT="${ARCHIVE_TEST_PGPORT:-55432}"
ROLE=archive
DATABASE=archive_test

say() { echo "postgres: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

if ! BIN=$(bindir); then
  say "installing Debian's postgresql package"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
  BIN=$(bindir) || { say "no initdb after installing postgresql"; exit 1; }
fi

# The server's own user: `postgres` when we are root, else whoever runs this.
if [ "$(id -u)" -eq 0 ]; then
  run() { runuser -u postgres -- "$@"; }
  owner=postgres
else
  run() { "$@"; }
  owner=$(id -un)
fi

pg_ctl() { run "$BIN/pg_ctl" -D "$PGDATA_DIR" "$@"; }

if [ "${1:-start}" = "stop" ]; then
  if [ -f "$PGDATA_DIR/PG_VERSION" ] && pg_ctl status >/dev/null 2>&1; then
    pg_ctl stop -m fast >/dev/null
  fi
  exit 0
fi

if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
  say "creating a test cluster in $PGDATA_DIR"
  rm -rf "$PGDATA_DIR"
  mkdir -p "$PGDATA_DIR"
  chmod 700 "$PGDATA_DIR"
  [ "$owner" = "$(id -un)" ] || chown "$owner": "$PGDATA_DIR"
  run "$BIN/initdb" -D "$PGDATA_DIR" -U "$ROLE" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >>"$PGDATA_DIR/postgresql.conf" <<EOF
# Written by scripts/postgres.sh: a throwaway server for the tests.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$PGDATA_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
fi

if ! pg_ctl status >/dev/null 2>&1; then
  say "starting the test server on 127.0.0.1:$PORT"
  pg_ctl -w -t 60 -l "$PGDATA_DIR/server.log" start >/dev/null || {
    say "the server did not start; its log:"
    tail -n 20 "$PGDATA_DIR/server.log" >&2
    exit 1
  }
fi

psql() { "$BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U "$ROLE" "$@"; }
if [ -z "$(psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" ]; then
  psql -d postgres -c "CREATE DATABASE $DATABASE"
fi
echo "postgresql+psycopg://$ROLE@127.0.0.1:$PORT/$DATABASE"

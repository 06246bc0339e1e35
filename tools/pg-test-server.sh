#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests: its own data directory, a free loopback port, a unix
# socket in the same directory, trust authentication for the user "ain" and a database "ain".
#
#   tools/pg-test-server.sh start DIR   initdb into DIR/data, start, print the URL (also in DIR/url)
#   tools/pg-test-server.sh stop DIR    stop it (fast, then immediate), leave DIR in place
#   tools/pg-test-server.sh reset DIR   drop and recreate the schema of database "ain"
#   tools/pg-test-server.sh url DIR     print the URL again
#
# Root cannot run postgres, so as root the server runs as the "postgres" user (runuser) and DIR is
# handed to it; as any other user it runs as that user. Callers stop it in a trap, so that a failed
# test does not leave a server behind.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|reset|url DIR" >&2
  exit 2
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_ain() {
  local port
  port=$(cat "$dir/port")
  psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U ain -d ain "$@"
}

port_free() {
  # A connect that fails means nobody listens there (good enough: start retries on a race).
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$PGBIN/initdb" -D "$dir/data" -U ain --auth=trust -E UTF8 --locale=C.UTF-8 \
      --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  local try port
  for try in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 30000))
    port_free "$port" || continue
    if as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c synchronous_commit=on -c max_connections=200" \
      start >/dev/null; then
      echo "$port" >"$dir/port"
      psql -X -q -h 127.0.0.1 -p "$port" -U ain -d postgres -c 'CREATE DATABASE ain' >/dev/null
      echo "postgres://ain@127.0.0.1:$port/ain" >"$dir/url"
      cat "$dir/url"
      return 0
    fi
  done
  echo "pg-test-server: could not start postgres (see $dir/server.log)" >&2
  tail -n 20 "$dir/server.log" >&2 || true
  exit 1
}

stop() {
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -w -t 20 -m fast stop >/dev/null 2>&1 ||
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -w -t 20 -m immediate stop >/dev/null
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  reset) psql_ain -c 'SET client_min_messages = warning' \
    -c 'DROP SCHEMA IF EXISTS public CASCADE' -c 'CREATE SCHEMA public' ;;
  url) cat "$dir/url" ;;
  *) echo "usage: $0 start|stop|reset|url DIR" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Runs a throwaway PostgreSQL for tests.
#
#   scripts/postgres.sh start DIR   install postgresql if missing, initdb in
#                                   DIR, start it on 127.0.0.1 on a free port,
#                                   wait until it accepts connections, and
#                                   print its DSN on stdout (nothing else)
#   scripts/postgres.sh stop DIR    stop it (not an error if it is not running)
#
# The server trusts local connections for the role "anya", listens only on
# 127.0.0.1 and keeps its socket in DIR. As root the server runs as the
# postgres user (root cannot run it). Progress goes to stderr.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2
log() { echo "postgres.sh: $*" >&2; }

# as runs a server command as the postgres user when we are root.
as() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

dsn() { echo "postgres://anya@127.0.0.1:$1/postgres?sslmode=disable"; }

# port_free reports whether nothing accepts connections on 127.0.0.1:$1.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case $cmd in
start)
  B=$(bindir || true)
  if [ -z "$B" ]; then
    log "installing postgresql"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    B=$(bindir)
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$dir"
  fi
  if [ -f "$dir/port" ] && as "$B/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    dsn "$(cat "$dir/port")" # already running
    exit 0
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as "$B/initdb" -D "$dir/data" -A trust -U anya -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  # Another process may take a port between the check and the bind, so a
  # start that fails is retried on another port.
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    port_free "$port" || continue
    as "$B/pg_ctl" -D "$dir/data" -l "$dir/log" -W \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    # Poll until the server accepts connections or its postmaster is gone.
    for _ in $(seq 1 600); do
      if "$B/pg_isready" -q -h 127.0.0.1 -p "$port" -U anya -d postgres; then
        echo "$port" >"$dir/port"
        dsn "$port"
        exit 0
      fi
      if [ -f "$dir/log" ] && ! as "$B/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 &&
        grep -q "could not\|FATAL" "$dir/log"; then
        break
      fi
      sleep 0.1
    done
    log "start on port $port failed (attempt $attempt); log tail:"
    tail -n 5 "$dir/log" >&2 || true
    as "$B/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    : >"$dir/log"
  done
  log "could not start PostgreSQL in $dir"
  exit 1
  ;;
stop)
  B=$(bindir || true)
  if [ -z "$B" ] || [ ! -f "$dir/data/postmaster.pid" ]; then
    exit 0
  fi
  as "$B/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
*)
  usage
  ;;
esac

#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests and the benchmark (docs/hq-storage.md).
#
#   installer/pg-cluster.sh start DIR   initialises and starts a cluster in DIR (a new
#                                       folder, e.g. from mktemp -d) and prints its conninfo
#                                       (also kept in DIR/conninfo)
#   installer/pg-cluster.sh stop DIR    stops it and deletes DIR
#
# The server listens on 127.0.0.1 only, on a free port, with its unix socket in DIR, and
# trusts every local connection: it holds test data only and lives for one run. Durability
# is off (fsync) for speed. The server refuses to run as root: under root it runs as the
# Debian package's 'postgres' user (or a 'regulars-pg' system user made here when there is
# none), so DIR must be reachable by that user (a folder under /tmp is).
set -euo pipefail

PG_BIN="${REGULARS_PG_BIN:-/usr/lib/postgresql/15/bin}"
command="${1:-}"
dir="${2:-}"
if [ -z "$command" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

server_user=""
if [ "$(id -u)" -eq 0 ]; then
  if [ -d "$dir/data" ]; then
    server_user="$(stat -c %U "$dir/data")"
  elif id -u postgres >/dev/null 2>&1; then
    server_user=postgres
  else
    id -u regulars-pg >/dev/null 2>&1 ||
      useradd --system --no-create-home --shell /usr/sbin/nologin regulars-pg
    server_user=regulars-pg
  fi
fi

# Runs a server program as the server's user (ourselves unless we are root).
as_server() {
  if [ -n "$server_user" ]; then
    runuser -u "$server_user" -- "$@"
  else
    "$@"
  fi
}

start() {
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  cd "$dir"  # the server user may not be allowed into the caller's folder
  if [ -n "$server_user" ]; then chown "$server_user" "$dir"; fi
  if ! as_server "$PG_BIN/initdb" -D "$dir/data" -U regulars --auth=trust -E UTF8 \
      --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    return 1
  fi
  # A random port below the ephemeral range (a port there may be held by any connection's
  # TIME_WAIT); if it is taken the server does not start and we try another.
  local low port
  low="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
  for _ in 1 2 3 4 5 6 7 8; do
    port=$((10000 + RANDOM % (low - 10000)))
    if as_server "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -s start \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
            -c max_connections=200" 2>>"$dir/pg_ctl.log"; then
      "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U regulars regulars_test
      local conninfo="host=127.0.0.1 port=$port user=regulars dbname=regulars_test"
      echo "$conninfo" >"$dir/conninfo"
      echo "$conninfo"
      return 0
    fi
  done
  echo "PostgreSQL did not start; its log:" >&2
  tail -20 "$dir/pg_ctl.log" "$dir/server.log" >&2 || true
  return 1
}

stop() {
  # Only a folder this script made: never delete what a wrong argument points at.
  if [ ! -f "$dir/initdb.log" ]; then
    echo "$dir is not a cluster made by $0; left as it is" >&2
    return 1
  fi
  cd "$dir"
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_server "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -s stop || true
  fi
  cd /
  rm -rf "$dir"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac

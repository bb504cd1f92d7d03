#!/usr/bin/env bash
# Starts N shardkeep-supplier daemons on this machine, for trying ShardKeep out.
#
#   deploy/local-suppliers.sh start N DIR [CAPACITY] [FIRST_PORT]
#       Starts N suppliers listening on 127.0.0.1:FIRST_PORT, FIRST_PORT+1, ...
#       (default 7700), each with its data dir DIR/supplier-<i>/data, log
#       DIR/supplier-<i>.log and pid file DIR/supplier-<i>.pid, each with
#       --capacity CAPACITY (default 10GiB). Waits until all listen, then prints
#       their addresses comma-separated on stdout (what `shardkeep init
#       --suppliers` takes). Data dirs that exist are reused.
#   deploy/local-suppliers.sh stop DIR
#       SIGTERM to every supplier started under DIR; waits for them to exit.
#   deploy/local-suppliers.sh status DIR
#       One line per supplier: address, pid, running or not.
#
# Environment:
#   SHARDKEEP_SUPPLIER_BIN    the daemon (default: bazel-bin/supplier/shardkeep-supplier
#                             of this checkout, else shardkeep-supplier on PATH)
#   SHARDKEEP_LISTEN_HOST     address to listen on (default 127.0.0.1)
#   SHARDKEEP_SUPPLIER_FLAGS  extra flags for every supplier, e.g. "--lease=1h --grace=10m"
# Exit status: 0 ok, 1 a supplier failed to start or stop (its log is shown), 2 usage.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

find_binary() {
  if [[ -n "${SHARDKEEP_SUPPLIER_BIN:-}" ]]; then
    echo "$SHARDKEEP_SUPPLIER_BIN"
    return
  fi
  local here
  here=$(cd "$(dirname "$0")/.." && pwd)
  for candidate in "$here/bazel-bin/supplier/shardkeep-supplier" \
                   "$here/bazel-out/k8-opt/bin/supplier/shardkeep-supplier"; do
    if [[ -x "$candidate" ]]; then
      echo "$candidate"
      return
    fi
  done
  command -v shardkeep-supplier || {
    echo "shardkeep-supplier not found: bazel build //supplier:shardkeep-supplier," \
         "or set SHARDKEEP_SUPPLIER_BIN" >&2
    exit 1
  }
}

start() {
  local n=$1 dir=$2 capacity=${3:-10GiB} first_port=${4:-7700}
  [[ "$n" =~ ^[0-9]+$ && "$n" -ge 1 ]] || usage
  [[ "$first_port" =~ ^[0-9]+$ ]] || usage
  local bin host
  bin=$(find_binary)
  host=${SHARDKEEP_LISTEN_HOST:-127.0.0.1}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local addrs=() i
  for ((i = 0; i < n; i++)); do
    local port=$((first_port + i)) sdir="$dir/supplier-$i"
    local pidfile="$dir/supplier-$i.pid"
    if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "supplier $i already runs (pid $(cat "$pidfile")); stop it first" >&2
      exit 1
    fi
    mkdir -p "$sdir"
    rm -f "$sdir/port"
    # shellcheck disable=SC2086  # SHARDKEEP_SUPPLIER_FLAGS is a list of flags
    setsid "$bin" --listen="$host:$port" --data-dir="$sdir/data" --capacity="$capacity" \
      --port-file="$sdir/port" ${SHARDKEEP_SUPPLIER_FLAGS:-} \
      >>"$dir/supplier-$i.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    addrs+=("$host:$port")
  done
  for ((i = 0; i < n; i++)); do
    local pid waited=0
    pid=$(cat "$dir/supplier-$i.pid")
    until [[ -s "$dir/supplier-$i/port" ]]; do
      if ! kill -0 "$pid" 2>/dev/null || ((waited > 300)); then
        echo "supplier $i did not start; last lines of $dir/supplier-$i.log:" >&2
        tail -n 15 "$dir/supplier-$i.log" >&2
        stop "$dir" >/dev/null 2>&1 || true
        exit 1
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
  done
  local IFS=,
  echo "${addrs[*]}"
}

stop() {
  local dir=$1 status=0 pidfile pid
  shopt -s nullglob
  for pidfile in "$dir"/supplier-*.pid; do
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      local waited=0
      while kill -0 "$pid" 2>/dev/null; do
        if ((waited > 300)); then
          echo "supplier pid $pid did not stop within 30 s; sending SIGKILL" >&2
          kill -KILL "$pid" 2>/dev/null || true
          status=1
          break
        fi
        sleep 0.1
        waited=$((waited + 1))
      done
      echo "stopped pid $pid ($(basename "$pidfile" .pid))"
    fi
    rm -f "$pidfile"
  done
  return $status
}

status() {
  local dir=$1 pidfile pid name port
  shopt -s nullglob
  for pidfile in "$dir"/supplier-*.pid; do
    name=$(basename "$pidfile" .pid)
    pid=$(cat "$pidfile")
    port=$(cat "$dir/$name/port" 2>/dev/null || echo "?")
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name port $port pid $pid running"
    else
      echo "$name port $port pid $pid not running"
    fi
  done
}

case "${1:-}" in
  start) [[ $# -ge 3 && $# -le 5 ]] || usage; shift; start "$@" ;;
  stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
  status) [[ $# -eq 2 ]] || usage; status "$2" ;;
  *) usage ;;
esac

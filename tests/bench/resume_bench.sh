#!/usr/bin/env bash
# resume_bench.sh -- issue 10's resumability target: kill -9 a first backup
# of random data once 70% of it is stored, back up again, and compare the
# bytes the second run sends with an uninterrupted run. restic 0.14 side by
# side (killed at 70% of its repository size, then run again).
#
# Usage: tests/bench/resume_bench.sh [SIZE_MB]      (default 2048)
# Needs: restic; ShardKeep binaries built with -c opt (done here).
# Prints one line per tool: full run bytes, second run bytes, ratio.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SIZE_MB=${1:-2048}
W=${BENCH_DIR:-/tmp/resume-bench}
rm -rf "$W"; mkdir -p "$W/src"
(cd "$ROOT" && bazel build -c opt //customer:shardkeep //supplier:shardkeep-supplier >&2)
BIN=$(cd "$ROOT" && bazel info -c opt bazel-bin 2>/dev/null)
SK=$BIN/customer/shardkeep
for i in $(seq 1 $((SIZE_MB / 64))); do head -c $((64 << 20)) /dev/urandom > "$W/src/f$i"; done
export SHARDKEEP_PASSWORD=bench-password RESTIC_PASSWORD=bench-password

PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
start_suppliers() { # DIR: starts 4 suppliers, sets A to their addresses
  local d=$1 addrs=""
  for i in 0 1 2 3; do
    mkdir -p "$d/$i"
    "$BIN/supplier/shardkeep-supplier" --listen 127.0.0.1:0 --port-file "$d/$i/port" \
      --data-dir "$d/$i" --capacity 64GiB >"$d/$i/log" 2>&1 &
    PIDS+=($!)
  done
  for i in 0 1 2 3; do
    for _ in $(seq 100); do [ -s "$d/$i/port" ] && break; sleep 0.1; done
    addrs="${addrs:+$addrs,}127.0.0.1:$(cat "$d/$i/port")"
  done
  A=$addrs
}
sent() { # JSON summary -> bytes sent to all suppliers
  python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(s["bytes"] for s in j.get("supplier_bytes", [])))'
}
kill_at() { # PID DIR BYTES: SIGKILL PID once DIR holds BYTES
  local pid=$1 dir=$2 want=$3
  while kill -0 "$pid" 2>/dev/null; do
    [ "$(du -sb "$dir" | cut -f1)" -ge "$want" ] && { kill -9 "$pid"; break; }
    sleep 0.2
  done
  wait "$pid" 2>/dev/null || true
}

# --- ShardKeep: full run
start_suppliers "$W/sk-full"
export SHARDKEEP_CONFIG_DIR=$W/sk-full/cfg SHARDKEEP_CACHE_DIR=$W/sk-full/cache
"$SK" init --suppliers "$A" --needed $((SIZE_MB * 3))MiB >/dev/null
full=$("$SK" backup --json "$W/src" | sent)
full_disk=$(du -sb "$W/sk-full" | cut -f1)
kill "${PIDS[@]}"; wait "${PIDS[@]}" 2>/dev/null || true; PIDS=()

# --- ShardKeep: killed at 70%, then again
start_suppliers "$W/sk-kill"
export SHARDKEEP_CONFIG_DIR=$W/sk-kill/cfg SHARDKEEP_CACHE_DIR=$W/sk-kill/cache
"$SK" init --suppliers "$A" --needed $((SIZE_MB * 3))MiB >/dev/null
base=$(du -sb "$W/sk-kill" | cut -f1)
"$SK" backup --json "$W/src" >/dev/null 2>&1 & bp=$!
kill_at $bp "$W/sk-kill" $((base + (full_disk - base) * 7 / 10))
second=$("$SK" backup --json "$W/src" | sent)
echo "shardkeep full_sent=$full second_sent=$second ratio=$(echo "scale=3; $second / $full" | bc)"
kill "${PIDS[@]}"; wait "${PIDS[@]}" 2>/dev/null || true; PIDS=()

# --- restic, same
restic init -q --repo "$W/r-full" >/dev/null
restic backup -q --repo "$W/r-full" "$W/src" >/dev/null
rfull=$(du -sb "$W/r-full" | cut -f1)
restic init -q --repo "$W/r-kill" >/dev/null
rbase=$(du -sb "$W/r-kill" | cut -f1)
restic backup -q --repo "$W/r-kill" "$W/src" >/dev/null 2>&1 & rp=$!
kill_at $rp "$W/r-kill" $((rbase + (rfull - rbase) * 7 / 10))
before=$(du -sb "$W/r-kill" | cut -f1)
restic backup -q --repo "$W/r-kill" "$W/src" >/dev/null 2>&1 || true
after=$(du -sb "$W/r-kill" | cut -f1)
echo "restic full_stored=$rfull second_added=$((after - before)) ratio=$(echo "scale=3; ($after - $before) / $rfull" | bc)"

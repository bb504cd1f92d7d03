#!/usr/bin/env bash
# many_snapshots.sh -- how long `shardkeep snapshots` takes on a vault with
# COUNT snapshots (issue 10's target: 1,000 snapshots, under 1 s with a warm
# cache), and `forget --keep-last 10 --prune` on it.
#
# Usage: tests/bench/many_snapshots.sh [COUNT]      (default 1000)
# Env:   RUNS=5      timed runs of `snapshots` (median reported)
#        KEEP_DIR=   a directory to keep everything in (default: a temp dir,
#                    deleted at the end)
#
# 4 local suppliers (opt build of this checkout). The COUNT backups (one
# small changing file each) are made with the cheap test KDF so that making
# them takes minutes, not an hour; then `key passwd` writes a key record with
# the real Argon2id and the timings are taken with it, as a user would see
# them. Prints the medians of `snapshots` (cache warm: after one untimed
# run) and of `snapshots` with the cache dir deleted.
set -euo pipefail
COUNT=${1:-1000}
RUNS=${RUNS:-5}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
(cd "$HERE" && bazel build -c opt //customer:shardkeep //supplier:shardkeep-supplier >&2)
BIN=$(cd "$HERE" && bazel info -c opt bazel-bin 2>/dev/null)
DIR=${KEEP_DIR:-$(mktemp -d /tmp/many-snapshots.XXXXXX)}
cleanup() {
  SHARDKEEP_SUPPLIER_BIN=$BIN/supplier/shardkeep-supplier "$HERE/deploy/local-suppliers.sh" stop "$DIR/sup" >/dev/null 2>&1 || true
  [ -n "${KEEP_DIR:-}" ] || rm -rf "$DIR"
}
trap cleanup EXIT
mkdir -p "$DIR/src"
ADDRS=$(SHARDKEEP_SUPPLIER_BIN=$BIN/supplier/shardkeep-supplier \
  "$HERE/deploy/local-suppliers.sh" start 4 "$DIR/sup" 8GiB $((20000 + RANDOM % 20000)))
export SHARDKEEP_CONFIG_DIR=$DIR/config SHARDKEEP_CACHE_DIR=$DIR/cache
export SHARDKEEP_PASSWORD='bench passphrase for many snapshots'
SK=$BIN/customer/shardkeep
SHARDKEEP_INSECURE_TEST_KDF=1 "$SK" init --suppliers "$ADDRS" --needed 1GiB >/dev/null
start=$(date +%s)
for i in $(seq 1 "$COUNT"); do
  echo "$i" > "$DIR/src/counter"
  SHARDKEEP_INSECURE_TEST_KDF=1 "$SK" backup "$DIR/src" >/dev/null
  if (( i % 100 == 0 )); then echo "  $i snapshots ($(( $(date +%s) - start )) s)" >&2; fi
done
SHARDKEEP_NEW_PASSWORD=$SHARDKEEP_PASSWORD "$SK" key passwd >/dev/null
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
time_it() {  # prints seconds of one run
  local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
n=$("$SK" snapshots --json | grep -o '"id"' | wc -l)
"$SK" snapshots >/dev/null  # warm
warm=$(for _ in $(seq "$RUNS"); do time_it "$SK" snapshots; done | median)
cold=$(for _ in $(seq "$RUNS"); do rm -rf "$SHARDKEEP_CACHE_DIR"; time_it "$SK" snapshots; done | median)
t0=$(date +%s.%N)
"$SK" forget --keep-last 10 --prune >/dev/null
forget_prune=$(echo "$(date +%s.%N) - $t0" | bc -l)
after=$(for _ in $(seq "$RUNS"); do time_it "$SK" snapshots; done | median)
printf 'snapshots listed: %s\n' "$n"
printf 'shardkeep snapshots, warm cache: median %.3f s of %s runs\n' "$warm" "$RUNS"
printf 'shardkeep snapshots, no cache:   median %.3f s of %s runs\n' "$cold" "$RUNS"
printf 'forget --keep-last 10 --prune:   %.3f s\n' "$forget_prune"
printf 'shardkeep snapshots after (10 left, %s tombstones): median %.3f s\n' "$((n - 10))" "$after"

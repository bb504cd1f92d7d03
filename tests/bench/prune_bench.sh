#!/usr/bin/env bash
# prune_bench.sh -- issue 10's prune target: 10 snapshots of the kernel tree
# with changes between them, the 5 odd ones forgotten, then prune; ShardKeep
# (4 local suppliers) beside restic 0.14 on the same history.
#
# Usage: tests/bench/prune_bench.sh [CHANGE_PERCENT]   (default 5)
# Env:   CORPUS=/tmp/bench/corpora/kernel   BENCH=/tmp/bench
# Each round rewrites CHANGE_PERCENT of the files (chosen with a fixed seed)
# with random bytes of the same size, so every snapshot has data of its own.
# Everything lives on a fresh journaled ext4 loop mount ($BENCH/prune.img).
# Prints wall time and peak RSS (/usr/bin/time) of each tool's prune, and
# the repository / supplier usage before and after.
set -euo pipefail
PCT=${1:-5}
BENCH=${BENCH:-/tmp/bench}
CORPUS=${CORPUS:-$BENCH/corpora/kernel}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
(cd "$HERE" && bazel build -c opt //customer:shardkeep //supplier:shardkeep-supplier >&2)
BIN=$(cd "$HERE" && bazel info -c opt bazel-bin 2>/dev/null)
IMG=$BENCH/prune.img MNT=$BENCH/prune-mnt
PIDS=()
cleanup() {
  kill "${PIDS[@]}" 2>/dev/null || true; wait "${PIDS[@]}" 2>/dev/null || true
  umount "$MNT" 2>/dev/null || true; rm -f "$IMG"
}
trap cleanup EXIT
umount "$MNT" 2>/dev/null || true
rm -f "$IMG"; truncate -s 16G "$IMG"; mkfs.ext4 -q -F "$IMG"; mkdir -p "$MNT"; mount -o loop "$IMG" "$MNT"
SRC=$MNT/src
cp -a "$CORPUS" "$SRC"
mapfile -t FILES < <(cd "$SRC" && find . -type f -size +0 | sort)
change() {  # round number
  local n=$(( ${#FILES[@]} * PCT / 100 ))
  for j in $(seq 0 $((n - 1))); do
    local f=${FILES[$(( (j * 7919 + $1 * 104729) % ${#FILES[@]} ))]}
    head -c "$(stat -c %s "$SRC/$f")" /dev/urandom > "$SRC/$f"
  done
}

# ShardKeep: 4 suppliers.
mkdir -p "$MNT/sup"
addrs=""
for i in 0 1 2 3; do
  mkdir -p "$MNT/sup/$i"
  "$BIN/supplier/shardkeep-supplier" --listen 127.0.0.1:0 --port-file "$MNT/sup/$i/port" \
    --data-dir "$MNT/sup/$i" --capacity 8GiB >"$MNT/sup/$i/log" 2>&1 &
  PIDS+=($!)
done
for i in 0 1 2 3; do
  for _ in $(seq 100); do [ -s "$MNT/sup/$i/port" ] && break; sleep 0.1; done
  addrs="${addrs:+$addrs,}127.0.0.1:$(cat "$MNT/sup/$i/port")"
done
export SHARDKEEP_CONFIG_DIR=$MNT/sk-config SHARDKEEP_CACHE_DIR=$MNT/sk-cache
export SHARDKEEP_PASSWORD='prune bench passphrase' RESTIC_PASSWORD='prune bench passphrase'
export RESTIC_REPOSITORY=$MNT/restic RESTIC_CACHE_DIR=$MNT/restic-cache
SK=$BIN/customer/shardkeep
"$SK" init --suppliers "$addrs" --needed 8GiB >/dev/null
restic init -q
for round in $(seq 1 10); do
  [ "$round" -gt 1 ] && change "$round"
  "$SK" backup --tag "r$round" "$SRC" >/dev/null
  restic backup -q --tag "r$round" "$SRC" >/dev/null
  echo "round $round backed up" >&2
done
for round in 1 3 5 7 9; do
  id=$("$SK" snapshots --json | python3 -c 'import json,sys; print(next(s["id"] for s in json.load(sys.stdin) if "r'"$round"'" in s["tags"]))')
  "$SK" forget "$id" >/dev/null
  restic forget -q --tag "r$round" >/dev/null
done
sk_before=$(du -sb "$MNT/sup" | cut -f1); r_before=$(du -sb "$RESTIC_REPOSITORY" | cut -f1)
sync
sk=$(/usr/bin/time -f '%e %M' "$SK" prune 2>&1 >/dev/null | tail -1)
sync
rs=$(/usr/bin/time -f '%e %M' restic prune -q 2>&1 >/dev/null | tail -1)
sk_after=$(du -sb "$MNT/sup" | cut -f1); r_after=$(du -sb "$RESTIC_REPOSITORY" | cut -f1)
printf 'shardkeep prune: %s s, %s KB peak RSS; suppliers %s -> %s bytes\n' $sk "$sk_before" "$sk_after"
printf 'restic prune:    %s s, %s KB peak RSS; repository %s -> %s bytes\n' $rs "$r_before" "$r_after"
# Both kept snapshots still restore (the newest, checked against the source).
"$SK" restore latest --target "$MNT/sk-restore" >/dev/null
diff -r "$SRC" "$MNT/sk-restore$SRC" >/dev/null && echo "shardkeep: latest restores identical"

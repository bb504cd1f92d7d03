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
#
# The history is built once; then each tool prunes RUNS times (default 3),
# every time from a fresh copy of the same pre-prune state (suppliers' data
# dirs, ShardKeep's config and cache dirs, restic's repository and cache),
# alternating the tools, and the medians are printed.
# SK_OTHER=/path/to/shardkeep also times that binary on the same copies
# (e.g. a build of main, to measure a change). SK_PROFILE="perf record -g
# -o FILE" runs one more, untimed, shardkeep prune under that command.
# KEEP=1 leaves the loop mount with the history in place; a later run with
# REUSE=1 times prunes on it again instead of building a new one.
set -euo pipefail
RUNS=${RUNS:-3}
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
  [ -n "${KEEP:-}" ] && return
  umount "$MNT" 2>/dev/null || true; rm -f "$IMG"
}
trap cleanup EXIT
export SHARDKEEP_CONFIG_DIR=$MNT/sk-config SHARDKEEP_CACHE_DIR=$MNT/sk-cache
export SHARDKEEP_PASSWORD='prune bench passphrase' RESTIC_PASSWORD='prune bench passphrase'
export RESTIC_REPOSITORY=$MNT/restic RESTIC_CACHE_DIR=$MNT/restic-cache
SK=$BIN/customer/shardkeep SRC=$MNT/src
PORTS=(0 0 0 0)
start_suppliers() {
  PIDS=()
  for i in 0 1 2 3; do
    mkdir -p "$MNT/sup/$i"; rm -f "$MNT/sup/$i/port"
    "$BIN/supplier/shardkeep-supplier" --listen "127.0.0.1:${PORTS[$i]}" --port-file "$MNT/sup/$i/port" \
      --data-dir "$MNT/sup/$i" --capacity 8GiB >>"$MNT/sup-$i.log" 2>&1 &
    PIDS+=($!)
  done
  for i in 0 1 2 3; do
    for _ in $(seq 100); do [ -s "$MNT/sup/$i/port" ] && break; sleep 0.1; done
    PORTS[$i]=$(cat "$MNT/sup/$i/port")
  done
}
stop_suppliers() { kill "${PIDS[@]}" 2>/dev/null || true; wait "${PIDS[@]}" 2>/dev/null || true; PIDS=(); }
if [ -n "${REUSE:-}" ] && [ -f "$MNT/saved/.complete" ]; then
  # The history a KEEP=1 run left mounted: time prunes again (e.g. after a
  # change to shardkeep) without backing it all up again.
  for i in 0 1 2 3; do PORTS[$i]=$(cat "$MNT/saved/sup/$i/port"); done
  sk_before=$(du -sb "$MNT/saved/sup" | cut -f1); r_before=$(du -sb "$MNT/saved/restic" | cut -f1)
  echo "reusing the history in $MNT/saved" >&2
else
umount "$MNT" 2>/dev/null || true
rm -f "$IMG"; truncate -s 16G "$IMG"; mkfs.ext4 -q -F "$IMG"; mkdir -p "$MNT"; mount -o loop "$IMG" "$MNT"
cp -a "$CORPUS" "$SRC"
mapfile -t FILES < <(cd "$SRC" && find . -type f -size +0 | sort)
change() {  # round number
  local n=$(( ${#FILES[@]} * PCT / 100 ))
  for j in $(seq 0 $((n - 1))); do
    local f=${FILES[$(( (j * 7919 + $1 * 104729) % ${#FILES[@]} ))]}
    head -c "$(stat -c %s "$SRC/$f")" /dev/urandom > "$SRC/$f"
  done
}

# ShardKeep: 4 suppliers. They are restarted on the same ports for each
# prune (their data dirs copied back), so the vault's config stays valid.
start_suppliers
addrs=""
for i in 0 1 2 3; do addrs="${addrs:+$addrs,}127.0.0.1:${PORTS[$i]}"; done
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
  # By ID: restic's forget without a --keep-* policy removes nothing.
  id=$(restic snapshots --json --tag "r$round" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
  restic forget -q "$id" >/dev/null
done
sk_before=$(du -sb "$MNT/sup" | cut -f1); r_before=$(du -sb "$RESTIC_REPOSITORY" | cut -f1)
# The pre-prune state, copied back before every prune.
stop_suppliers
mkdir -p "$MNT/saved"
for d in sup sk-config sk-cache restic restic-cache; do cp -a "$MNT/$d" "$MNT/saved/$d"; done
touch "$MNT/saved/.complete"
fi
restore_state() {  # dirs...
  for d in "$@"; do rm -rf "${MNT:?}/$d"; cp -a "$MNT/saved/$d" "$MNT/$d"; done
  sync
}
sk_prune() {  # binary -> "seconds KB" in $MNT/time.out; leaves the suppliers running
  restore_state sup sk-config sk-cache
  start_suppliers
  /usr/bin/time -o "$MNT/time.out" -f '%e %M' "$1" prune >/dev/null
}
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A T M
for run in $(seq 1 "$RUNS"); do
  for tool in sk ${SK_OTHER:+other} restic; do
    case $tool in
      sk) sk_prune "$SK"; sk_after=$(du -sb "$MNT/sup" | cut -f1); stop_suppliers ;;
      other) sk_prune "$SK_OTHER"; stop_suppliers ;;
      restic) restore_state restic restic-cache
              /usr/bin/time -o "$MNT/time.out" -f '%e %M' restic prune -q >/dev/null
              r_after=$(du -sb "$RESTIC_REPOSITORY" | cut -f1) ;;
    esac
    read -r t m <"$MNT/time.out"
    T[$tool]+="$t "; M[$tool]+="$m "
    printf 'run %d %-6s prune: %s s, %s KB peak RSS\n' "$run" "$tool" "$t" "$m" >&2
  done
done
for tool in sk ${SK_OTHER:+other} restic; do
  printf '%-15s median of %d: %s s, %s KB peak RSS   (times: %s)\n' "$tool prune" "$RUNS" \
    "$(tr ' ' '\n' <<<"${T[$tool]}" | grep . | median)" "$(tr ' ' '\n' <<<"${M[$tool]}" | grep . | median)" "${T[$tool]}"
done
printf 'shardkeep: suppliers %s -> %s bytes\n' "$sk_before" "$sk_after"
printf 'restic:    repository %s -> %s bytes\n' "$r_before" "$r_after"
if [ -n "${SK_PROFILE:-}" ]; then
  restore_state sup sk-config sk-cache; start_suppliers
  $SK_PROFILE "$SK" prune >/dev/null; stop_suppliers
fi
# The newest kept snapshot restores identical after the (last) prune.
restore_state sup sk-config sk-cache; start_suppliers
"$SK" prune >/dev/null
"$SK" restore latest --target "$MNT/sk-restore" >/dev/null
diff -r "$SRC" "$MNT/sk-restore$SRC" >/dev/null && echo "shardkeep: latest restores identical"

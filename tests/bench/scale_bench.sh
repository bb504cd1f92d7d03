#!/usr/bin/env bash
# scale_bench.sh -- issue 10's scale targets: peak RSS and time of the
# customer (and restic, same run) over a growing history on a big corpus.
# For each tool: init, then SNAPS backups (before backup i>1 the corpus is
# changed: CHANGE_NEW new files in a directory new/<i> and the first
# CHANGE_MOD files of the corpus rewritten), one unchanged backup, then
# restores of snapshots 1, 5 and SNAPS (each into an emptied target, then
# compared with `cmp`-level checks on a sample and file counts). The corpus
# is put back as it was (new/ removed, changed files rewritten) between tools.
#
# Usage: tests/bench/scale_bench.sh CORPUS [TOOL...]
#   CORPUS  files1m: 1,000,000 small text files (100-2,100 bytes) in 1,000
#                    directories, made once under $BENCH/corpora (about 1.1 GB)
#           big20g:  20 GiB in 80 files of 256 MiB, partly compressible:
#                    every 1 MiB is 512 KiB of AES-CTR keystream then
#                    512 KiB of text (zstd stores it at about 55%)
#           or an absolute directory path
#   TOOL    shardkeep (4 local suppliers, bazel-bin -c opt; INIT_ARGS for
#           `shardkeep init`, e.g. "--n 4 --k 3") | restic   default: both
# Env: BENCH=/tmp/bench, SNAPS=10, CHANGE_NEW=10000 (files1m) CHANGE_MOD=1000,
#      FS_SIZE=60G (sparse loop image: repos, suppliers, restore target),
#      RESTORE_SNAPS="1 5 10", SK_BIN (default: bazel-bin of this checkout),
#      PASSWORD. Rows go to $BENCH/results/scale.tsv in peers.sh's format
#      (step = backup-<i>, incr-unchanged, restore-<i>); a summary is printed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=${BENCH:-/tmp/bench}
SNAPS=${SNAPS:-10}
CHANGE_MOD=${CHANGE_MOD:-1000}
RESTORE_SNAPS=${RESTORE_SNAPS:-"1 5 $SNAPS"}
PASSWORD=${PASSWORD:-bench-password}
MNT=$BENCH/scale-mnt IMG=$BENCH/scale-fs.img TSV=$BENCH/results/scale.tsv
mkdir -p "$BENCH/results" "$BENCH/corpora"
log() { printf '[scale %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

[ $# -ge 1 ] || { sed -n '2,28p' "$0"; exit 2; }
CORPUS=$1; shift
TOOLS=("$@"); [ ${#TOOLS[@]} -eq 0 ] && TOOLS=(shardkeep restic)

make_files1m() { # DIR
  python3 - "$1" 1000000 <<'PY'
import os, sys, hashlib
root, n = sys.argv[1], int(sys.argv[2])
words = [hashlib.sha1(str(i).encode()).hexdigest()[:(i % 9) + 3] for i in range(4096)]
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 100000), "d%03d" % ((i // 1000) % 100))
    if i % 1000 == 0: os.makedirs(d, exist_ok=True)
    h = hashlib.sha256(b"f%d" % i).digest()
    size = 100 + (int.from_bytes(h[:2], "little") % 2000)
    parts, ln, j = ["file %d\n" % i], 0, 0
    while ln < size:
        w = words[(h[j % 32] * 16 + j * 7 + i) % 4096]; parts.append(w); ln += len(w) + 1; j += 1
    data = (" ".join(parts))[:size].encode()
    fd = os.open(os.path.join(d, "f%06d.txt" % i), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, data); os.close(fd)
PY
}
make_big20g() { # DIR
  mkdir -p "$1"
  local i
  for i in $(seq 0 79); do
    python3 - "$1/part$i.bin" "$i" <<'PY'
import sys, subprocess, hashlib
path, i = sys.argv[1], int(sys.argv[2])
key = hashlib.sha256(b"big20g-%d" % i).hexdigest()
rnd = subprocess.run(["openssl", "enc", "-aes-256-ctr", "-nosalt", "-K", key, "-iv", "0" * 32],
                     input=b"\0" * (128 << 20), capture_output=True, check=True).stdout
words = [hashlib.sha1(b"%d-%d" % (i, w)).hexdigest()[:(w % 9) + 3].encode() for w in range(8192)]
with open(path, "wb") as f:
    for m in range(256):
        f.write(rnd[m * 512 * 1024:(m + 1) * 512 * 1024])
        text = b" ".join(words[(m * 131 + j * 17) % 8192] for j in range(70000))
        f.write((text * 2)[:512 * 1024])
PY
  done
}

case $CORPUS in
  /*) SRC=$CORPUS; CNAME=$(basename "$CORPUS") ;;
  files1m|big20g)
    SRC=$BENCH/corpora/$CORPUS; CNAME=$CORPUS
    if [ ! -f "$BENCH/corpora/.$CORPUS.ok" ]; then
      log "making corpus $CORPUS in $SRC"
      rm -rf "$SRC"; "make_$CORPUS" "$SRC"; touch "$BENCH/corpora/.$CORPUS.ok"
    fi ;;
  *) echo "unknown corpus $CORPUS" >&2; exit 2 ;;
esac
SRC=$(cd "$SRC" && pwd -P)
if [ "$CNAME" = big20g ]; then CHANGE_NEW=${CHANGE_NEW:-4}; else CHANGE_NEW=${CHANGE_NEW:-10000}; fi

# The corpus's files in a fixed order: the first CHANGE_MOD are the ones changed.
LIST=$BENCH/corpora/.$CNAME.list
[ -s "$LIST" ] || (cd "$SRC" && find . -path ./new -prune -o -type f -print | LC_ALL=C sort >"$LIST")

change() { # I: the change made before backup I (I >= 2), same for every tool
  python3 - "$SRC" "$LIST" "$1" "$CHANGE_MOD" "$CHANGE_NEW" "$CNAME" <<'PY'
import os, sys
src, lst, i, nmod, nnew, cname = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
names = [l.rstrip("\n") for _, l in zip(range(nmod), open(lst))]
for n, name in enumerate(names):
    p = os.path.join(src, name)
    with open(p, "r+b") as f:  # the first 64 bytes rewritten: one chunk changes
        f.write((b"changed %d %d " % (i, n)).ljust(64, b"."))
d = os.path.join(src, "new", str(i)); os.makedirs(d, exist_ok=True)
for n in range(nnew):
    size = (64 << 20) if cname == "big20g" else 100 + (n * 37) % 2000
    with open(os.path.join(d, "n%06d" % n), "wb") as f:
        if cname == "big20g":
            f.write(os.urandom(size // 2)); f.write((b"snapshot %d file %d " % (i, n)) * (size // 40))
        else:
            f.write(((b"new file %d of change %d " % (n, i)) * 100)[:size])
PY
}
restore_corpus() { # undoes change(): the changed files' first 64 bytes back, new/ gone
  rm -rf "$SRC/new"
  python3 - "$SRC" "$LIST" "$CHANGE_MOD" "$BENCH/corpora/.$CNAME.heads" <<'PY'
import os, sys, pickle
src, lst, nmod, heads = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
names = [l.rstrip("\n") for _, l in zip(range(nmod), open(lst))]
if not os.path.exists(heads):
    pickle.dump({n: open(os.path.join(src, n), "rb").read(64) for n in names}, open(heads, "wb"))
saved = pickle.load(open(heads, "rb"))
for n in names:
    with open(os.path.join(src, n), "r+b") as f: f.write(saved[n])
PY
}

scratch_fresh() {
  if mountpoint -q "$MNT"; then
    local dev; dev=$(findmnt -n -o SOURCE "$MNT"); umount "$MNT"; losetup -d "$dev" 2>/dev/null || true
  fi
  losetup -j "$IMG" 2>/dev/null | cut -d: -f1 | while read -r d; do losetup -d "$d" || true; done
  rm -f "$IMG"; mkdir -p "$MNT"
  truncate -s "${FS_SIZE:-60G}" "$IMG"
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$IMG"
  local dev; dev=$(losetup --direct-io=on --find --show "$IMG"); mount "$dev" "$MNT"
}
scratch_down() {
  if mountpoint -q "$MNT"; then
    local dev; dev=$(findmnt -n -o SOURCE "$MNT"); umount "$MNT"; losetup -d "$dev" 2>/dev/null || true
  fi
  rm -f "$IMG"
}

RUN_ID=${RUN_ID:-$(date +%Y%m%d-%H%M%S)-scale-$CNAME}
LOGDIR=$BENCH/logs/$RUN_ID; mkdir -p "$LOGDIR"
[ -f "$TSV" ] || printf 'run_id\tcorpus\tcorpus_bytes\ttool\trep\tstep\twall_s\tuser_s\tsys_s\tmaxrss_kb\trepo_bytes\tsteal_s\tload1\tcache\tnote\n' >"$TSV"
CBYTES=$(find "$SRC" -type f -printf '%s\n' | awk '{s+=$1} END{printf "%.0f", s}')  # %d stops at 2^31 in mawk
prewarm() { tar -cf - -C "$1" . 2>/dev/null | cat >/dev/null; }

run_step() { # TOOL STEP REPO -- cmd...
  local tool=$1 step=$2 repo=$3; shift 4
  local tf=$LOGDIR/.time lf=$LOGDIR/$tool-$step.log note="" load; load=$(cut -d' ' -f1 /proc/loadavg)
  if ! /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >"$lf" 2>&1; then
    note=FAILED; log "FAILED: $tool $step; see $lf"; tail -5 "$lf" >&2
  fi
  sync
  local wall usr sys rss; read -r wall usr sys rss < <(tail -1 "$tf")
  local rb=""; [ -n "$repo" ] && rb=$(du -sb "$repo" | cut -f1)
  printf '%s\t%s\t%s\t%s\t1\t%s\t%s\t%s\t%s\t%s\t%s\t\t%s\twarm\t%s\n' "$RUN_ID" "$CNAME" "$CBYTES" \
    "$tool" "$step" "$wall" "$usr" "$sys" "$rss" "$rb" "$load" "$note" >>"$TSV"
  log "$tool $step: ${wall}s wall, ${usr}u ${sys}s, $((rss / 1024)) MB peak RSS, repo ${rb:-n/a} B"
}

check_restore() { # TOOL SNAP DIR: file count of the restored tree against the list (+ new files)
  local want got
  want=$(( $(wc -l <"$LIST") + ($2 - 1) * CHANGE_NEW ))
  got=$(find "$3" -type f | wc -l)
  if [ "$want" = "$got" ]; then log "$1 restore of snapshot $2: $got files, as expected"
  else log "$1 restore of snapshot $2: MISMATCH: $got files, $want expected"; fi
}

SK_PIDS=()
trap 'kill "${SK_PIDS[@]}" 2>/dev/null || true' EXIT
if printf '%s\n' "${TOOLS[@]}" | grep -qx shardkeep && [ -z "${SK_BIN:-}" ]; then
  (cd "$HERE/../.." && bazel build -c opt //customer:shardkeep //supplier:shardkeep-supplier >&2)
  SK_BIN=$(cd "$HERE/../.." && bazel info -c opt bazel-bin 2>/dev/null)
fi
log "run $RUN_ID: corpus $CNAME ($SRC, $CBYTES bytes), tools ${TOOLS[*]}, $SNAPS snapshots"

for tool in "${TOOLS[@]}"; do
  restore_corpus
  scratch_fresh
  repo=$MNT/repo; dst=$MNT/restore; cache=$MNT/cache
  mkdir -p "$repo" "$cache"
  ids=()
  case $tool in
    restic)
      export RESTIC_REPOSITORY=$repo RESTIC_PASSWORD=$PASSWORD RESTIC_CACHE_DIR=$cache
      restic init >"$LOGDIR/restic-init.log" 2>&1
      backup_cmd=(restic backup --host bench "$SRC") ;;
    shardkeep)
      sup=$repo/suppliers addrs=""
      for i in 0 1 2 3; do
        mkdir -p "$sup/$i"
        "$SK_BIN/supplier/shardkeep-supplier" --listen 127.0.0.1:0 --port-file "$sup/$i/port" \
          --data-dir "$sup/$i" --capacity 64GiB >"$sup/$i/log" 2>&1 &
        SK_PIDS+=($!)
      done
      for i in 0 1 2 3; do
        for _ in $(seq 100); do [ -s "$sup/$i/port" ] && break; sleep 0.1; done
        addrs="${addrs:+$addrs,}127.0.0.1:$(cat "$sup/$i/port")"
      done
      export SHARDKEEP_CONFIG_DIR=$cache/config SHARDKEEP_CACHE_DIR=$cache/cache SHARDKEEP_PASSWORD=$PASSWORD
      # shellcheck disable=SC2086
      "$SK_BIN/customer/shardkeep" init --suppliers "$addrs" --needed 50GiB ${INIT_ARGS:-} \
        >"$LOGDIR/shardkeep-init.log" 2>&1
      backup_cmd=("$SK_BIN/customer/shardkeep" backup "$SRC") ;;
    *) echo "unknown tool $tool" >&2; exit 2 ;;
  esac
  for i in $(seq 1 "$SNAPS"); do
    [ "$i" -gt 1 ] && change "$i"
    prewarm "$SRC"
    run_step "$tool" "backup-$i" "$repo" -- "${backup_cmd[@]}"
  done
  prewarm "$SRC"
  run_step "$tool" incr-unchanged "$repo" -- "${backup_cmd[@]}"
  case $tool in
    restic) mapfile -t ids < <(restic snapshots --json | python3 -c 'import json,sys; [print(s["id"]) for s in sorted(json.load(sys.stdin), key=lambda s: s["time"])]') ;;
    shardkeep) mapfile -t ids < <("$SK_BIN/customer/shardkeep" snapshots --json | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d if isinstance(d,list) else d.get("snapshots",d); [print(s["id"]) for s in sorted(d, key=lambda s: s.get("time_ns", s.get("time")))]') ;;
  esac
  for s in $RESTORE_SNAPS; do
    # fstrim: the image is sparse, and the blocks of an emptied target stay
    # allocated in it otherwise (20 GiB restored three times filled the disk).
    rm -rf "$dst"; mkdir -p "$dst"; sync; fstrim "$MNT" 2>/dev/null || true
    prewarm "$repo"
    case $tool in
      restic) run_step "$tool" "restore-$s" "" -- restic restore "${ids[$((s - 1))]}" --target "$dst" ;;
      shardkeep) run_step "$tool" "restore-$s" "" -- "$SK_BIN/customer/shardkeep" restore "${ids[$((s - 1))]}" --target "$dst" ;;
    esac
    check_restore "$tool" "$s" "$dst"
  done
  rm -rf "$dst"
  kill "${SK_PIDS[@]}" 2>/dev/null || true; wait "${SK_PIDS[@]}" 2>/dev/null || true; SK_PIDS=()
done
restore_corpus
scratch_down
python3 - "$TSV" "$RUN_ID" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]), delimiter='\t') if r['run_id'] == sys.argv[2]]
print(f"\n{'tool':10} {'step':16} {'wall s':>8} {'cpu s':>8} {'RSS MB':>7} {'repo MB':>9} note")
for r in rows:
    cpu = float(r['user_s']) + float(r['sys_s'])
    repo = f"{int(r['repo_bytes'])/1e6:9.1f}" if r['repo_bytes'] else f"{'':9}"
    print(f"{r['tool']:10} {r['step']:16} {float(r['wall_s']):8.2f} {cpu:8.2f} {int(r['maxrss_kb'])/1024:7.0f} {repo} {r['note']}")
PY
echo "rows appended to $TSV; logs in $LOGDIR"

#!/usr/bin/env bash
# peers.sh -- (ShardKeep copy of shared/bench/peers.sh, with a shardkeep case) time restic and borg on one corpus: init, initial backup,
# unchanged (incremental) backup, restore, verify.  Each tool gets a fresh
# local repo, fresh private cache dirs and (by default) a freshly made
# scratch filesystem per repetition.
#
# Usage: bench/peers.sh CORPUS [TOOL...]
#        bench/peers.sh --report [CORPUS...]     (summarise all recorded runs)
#        bench/peers.sh --umount                 (tear down the scratch fs)
#   CORPUS  kernel|random|small (a dir under $BENCH/corpora, see corpus.sh)
#           or any absolute directory path
#   TOOL    restic         restic 0.14, repo v2, default compression (auto = zstd "fastest")
#           restic-nocomp  restic with --compression off
#           borg           borg 1.2, -e repokey, default compression (lz4)
#           borg-zstd3     borg 1.2, -e repokey, --compression zstd,3
#           borg-none      borg 1.2, -e repokey, --compression none
#           shardkeep      ShardKeep with 4 local suppliers (data dirs on the scratch fs),
#                          binaries from bazel-bin (-c opt; built first); SK_N=4 suppliers
#           shardkeep-base the same with the binaries in $SK_BASE_BIN (customer/shardkeep,
#                          supplier/shardkeep-supplier): an earlier build, for a
#                          before/after comparison in one sitting
#           shardkeep-plain  as shardkeep, but plaintext gRPC (--insecure-plaintext on
#                          both sides): what TLS costs
#           copy           floor reference: backup = cp -a, incr = rsync -a
#                          (nothing to copy), restore = cp -a back
#           default: restic borg borg-zstd3
# Env:
#   BENCH=/tmp/bench     data root; results TSV $BENCH/results/peers.tsv,
#                        logs $BENCH/logs/RUN_ID/
#   SCRATCH=loop         repos, restores and caches go on a journaled ext4
#                        made fresh per repetition in $BENCH/fs.img
#                        (loop device, direct-io) mounted on $BENCH/mnt.
#                        Why: this VM's root fs is ext4 *without journal*;
#                        there, creating files soon after deleting many
#                        (rm -rf of the last restore) costs ~0.3 ms of
#                        kernel time per new inode (ext4 find_inode_bit ->
#                        recently_deleted), i.e. 5-10x slower restores.
#                        SCRATCH=plain: use $BENCH/mnt as a plain directory.
#   FS_SIZE=24G          size of the sparse scratch image
#   REPS=2               repetitions of the whole init..restore sequence
#   PASSWORD=bench-password   (RESTIC_PASSWORD / BORG_PASSPHRASE)
#   VERIFY=1             rsync -anci --delete compare of source vs restore
#   SK_RECOVER=1         shardkeep also: delete its config and cache dirs, `recover`
#                        from one supplier, `restore latest` again (steps recover,
#                        restore-recovered)
#   SK_LOSS=1            shardkeep also: kill -9 n-k of the n suppliers (the first
#                        ones; k = n/2, the default), then `restore latest` again
#                        into an emptied target (step restore-lost; VERIFY checks
#                        that one): issue 9's restore under losses
#   KEEP=0               1 = keep the last rep's repo/restore (and the fs)
#   PREWARM=1            read the corpus (before backups) / the repo (before
#                        restore) through the page cache first, untimed;
#                        its time goes into the note (prewarm=..s). This
#                        VM's page cache shrinks by itself while idle, so
#                        "warm" has to be made so.
#   SYNC_AFTER=1         run `sync` (untimed) after each backup/restore
#                        step; its time goes into the note (sync=..s)
#   DROP_CACHES=0        1 = try `echo 3 >/proc/sys/vm/drop_caches` instead
#                        of prewarming (cold runs; refused in some sandboxes,
#                        then it falls back to warm and says so)
#   RUN_ID               default: date-time-corpus; rows are tagged with it
#
# Every timed step runs under /usr/bin/time -f '%e %U %S %M' and is recorded
# as a row: run_id corpus corpus_bytes tool rep step wall_s user_s sys_s
# maxrss_kb repo_bytes steal_s load1 cache note.
# MB = 10^6 bytes; MB/s = corpus bytes / wall seconds (also for the
# incremental step, where it is a scan rate, and for restore).
# To bench another tool the same way, add a case in run_tool() below.
set -euo pipefail

BENCH=${BENCH:-/tmp/bench}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SHARED_BENCH=${SHARED_BENCH:-$HERE/../../../shared/bench}
TSV=$BENCH/results/peers.tsv
MNT=$BENCH/mnt
IMG=$BENCH/fs.img
mkdir -p "$BENCH/results"

log() { printf '[peers %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

scratch_down() {
  if mountpoint -q "$MNT"; then
    local dev; dev=$(findmnt -n -o SOURCE "$MNT")
    umount "$MNT"
    case $dev in /dev/loop*) losetup -d "$dev" 2>/dev/null || true ;; esac
  fi
  # detach any leftover loop device on our image
  losetup -j "$IMG" 2>/dev/null | cut -d: -f1 | while read -r d; do losetup -d "$d" || true; done
  rm -f "$IMG"
}
scratch_fresh() { # fresh empty scratch fs on $MNT
  if [ "${SCRATCH:-loop}" = loop ]; then
    scratch_down
    mkdir -p "$MNT"
    truncate -s "${FS_SIZE:-24G}" "$IMG"
    mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$IMG"
    local dev; dev=$(losetup --direct-io=on --find --show "$IMG")
    mount "$dev" "$MNT"
  else
    mkdir -p "$MNT"
    rm -rf "${MNT:?}"/*
  fi
}

summarise() { # TSV [RUN_ID or ""] [CORPUS...]
  python3 - "$@" <<'PY'
import sys, csv, statistics as st
tsv, run = sys.argv[1], sys.argv[2]
corpora = set(sys.argv[3:])
rows = [r for r in csv.DictReader(open(tsv), delimiter='\t')
        if (not run or r['run_id'] == run) and (not corpora or r['corpus'] in corpora)]
if not rows:
    print('(no rows)'); sys.exit(0)
MB = 1e6
def f(x):
    try: return float(x)
    except: return float('nan')
if run:
    print(f"\nPer-step rows of run {run} (MB=1e6 B; MB/s = corpus bytes / wall):")
    print(f"{'tool':13} {'rep':>3} {'step':8} {'wall s':>8} {'MB/s':>8} {'cpu s':>8} {'RSS MB':>7} {'repo MB':>9} {'steal s':>7} {'load1':>5}  note")
    for r in rows:
        w = f(r['wall_s']); b = f(r['corpus_bytes'])
        mbs = b / MB / w if r['step'] not in ('init',) and w > 0 else float('nan')
        cpu = f(r['user_s']) + f(r['sys_s'])
        repo = f(r['repo_bytes']) / MB if r['repo_bytes'] else float('nan')
        print(f"{r['tool']:13} {r['rep']:>3} {r['step']:8} {w:8.2f} {mbs:8.1f} {cpu:8.2f} "
              f"{f(r['maxrss_kb'])/1024:7.0f} {repo:9.1f} {f(r['steal_s']):7.2f} {r['load1']:>5}  {r['note']}")
# summary: group by corpus/tool/step
groups = {}
for r in rows:
    groups.setdefault((r['corpus'], r['tool'], r['step']), []).append(r)
order = {'init': 0, 'backup': 1, 'incr': 2, 'restore': 3, 'restore-lost': 4, 'verify': 5}
print("\nSummary: median over reps [min-max]; MB/s from median wall; CPU = user+sys (median); MB/cpu-s = corpus MB per CPU second;"
      " RSS = max; repo = after that step (median); sync s = untimed flush after the step (median).")
print(f"{'corpus':8} {'tool':13} {'step':8} {'n':>2} {'wall s (med) [min-max]':>26} {'MB/s':>8} {'cpu s':>8} {'MB/cpu-s':>8} {'cpu/wall':>8} {'RSS MB':>7} {'repo MB':>9} {'sync s':>6}  cache notes")
for key in sorted(groups, key=lambda k: (k[0], k[1], order.get(k[2], 9))):
    g = groups[key]
    walls = [f(r['wall_s']) for r in g]
    med = st.median(walls)
    b = f(g[0]['corpus_bytes'])
    mbs = b / MB / med if key[2] != 'init' and med > 0 else float('nan')
    cpu = st.median([f(r['user_s']) + f(r['sys_s']) for r in g])
    rss = max(f(r['maxrss_kb']) for r in g) / 1024
    repos = [f(r['repo_bytes']) for r in g if r['repo_bytes']]
    repo = st.median(repos) / MB if repos else float('nan')
    cache = ','.join(sorted(set(r['cache'] for r in g)))
    syncs, pw, notes = [], [], set()
    for r in g:
        for part in filter(None, r['note'].split(',')):
            if part.startswith('sync='): syncs.append(float(part[5:].rstrip('s')))
            elif part.startswith('prewarm='): pw.append(float(part[8:].rstrip('s')))
            else: notes.add(part)
    sync = f"{st.median(syncs):6.2f}" if syncs else f"{'':6}"
    if pw: notes.add(f"prewarm(max)={max(pw):.1f}s")
    rng = f"{med:8.2f} [{min(walls):.2f}-{max(walls):.2f}]"
    mbcpu = b / MB / cpu if key[2] != 'init' and cpu > 0 else float('nan')
    print(f"{key[0]:8} {key[1]:13} {key[2]:8} {len(g):2d} {rng:>26} {mbs:8.1f} {cpu:8.2f} {mbcpu:8.1f} {cpu/med if med else 0:8.2f} {rss:7.0f} {repo:9.1f} {sync}  {cache} {' '.join(sorted(notes))}")
PY
}

if [ "${1:-}" = "--report" ]; then
  shift
  summarise "$TSV" "" "$@"
  exit 0
fi
if [ "${1:-}" = "--umount" ]; then scratch_down; exit 0; fi

[ $# -ge 1 ] || { sed -n '2,60p' "$0"; exit 2; }
CORPUS=$1; shift
TOOLS=("$@"); [ ${#TOOLS[@]} -eq 0 ] && TOOLS=(restic borg borg-zstd3)
case $CORPUS in
  /*) SRC=$CORPUS; CNAME=$(basename "$CORPUS") ;;
  *) SRC=$BENCH/corpora/$CORPUS; CNAME=$CORPUS
     [ -f "$BENCH/corpora/.$CORPUS.ok" ] || bash "$SHARED_BENCH/corpus.sh" "$BENCH/corpora" "$CORPUS" ;;
esac
[ -d "$SRC" ] || { echo "no such corpus dir: $SRC" >&2; exit 2; }
SRC=$(cd "$SRC" && pwd -P)

REPS=${REPS:-2}
PASSWORD=${PASSWORD:-bench-password}
VERIFY=${VERIFY:-1}
KEEP=${KEEP:-0}
DROP_CACHES=${DROP_CACHES:-0}
SYNC_AFTER=${SYNC_AFTER:-1}
PREWARM=${PREWARM:-1}
RUN_ID=${RUN_ID:-$(date +%Y%m%d-%H%M%S)-$CNAME}
LOGDIR=$BENCH/logs/$RUN_ID
mkdir -p "$LOGDIR"

export RESTIC_PASSWORD=$PASSWORD BORG_PASSPHRASE=$PASSWORD
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export BORG_DISPLAY_PASSPHRASE=no

if [ -f "$BENCH/corpora/$CNAME.info" ] && [ "$SRC" = "$(cd "$BENCH/corpora/$CNAME" 2>/dev/null && pwd -P)" ]; then
  CBYTES=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' "$BENCH/corpora/$CNAME.info")
else
  CBYTES=$(find "$SRC" -type f -printf '%s\n' | awk '{s+=$1} END{printf "%d", s}')
fi

[ -f "$TSV" ] || printf 'run_id\tcorpus\tcorpus_bytes\ttool\trep\tstep\twall_s\tuser_s\tsys_s\tmaxrss_kb\trepo_bytes\tsteal_s\tload1\tcache\tnote\n' >"$TSV"

{
  echo "run_id=$RUN_ID corpus=$CNAME src=$SRC bytes=$CBYTES reps=$REPS tools=${TOOLS[*]} scratch=${SCRATCH:-loop}"
  echo "date=$(date -Is) host=$(hostname) nproc=$(nproc) $(grep -m1 'model name' /proc/cpuinfo)"
  restic version; borg --version; uname -r
} | tee "$LOGDIR/meta.txt" >&2

CACHE_STATE=warm
drop_caches() {
  [ "$DROP_CACHES" = 1 ] || { CACHE_STATE=warm; return 0; }
  sync
  if echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then CACHE_STATE=cold
  else CACHE_STATE=warm; log "drop_caches refused; running warm"; DROP_CACHES=0; fi
}

PREWARM_NOTE=""
prewarm() { # DIR: read it through the page cache, untimed
  if [ "$PREWARM" != 1 ] || [ "$DROP_CACHES" = 1 ]; then PREWARM_NOTE=""; return 0; fi
  local t0 t1; t0=$(date +%s.%N)
  tar -cf - -C "$1" . 2>/dev/null | cat >/dev/null
  t1=$(date +%s.%N)
  PREWARM_NOTE="prewarm=$(echo "$t1-$t0" | bc -l | xargs printf '%.1f')s"
}
before() { prewarm "$1"; drop_caches; } # before a timed read-heavy step

steal_ticks() { awk '/^cpu /{print $9}' /proc/stat; }
CLK=$(getconf CLK_TCK)

# run_step TOOL REP STEP REPO NOTE -- cmd...   (records one TSV row)
run_step() {
  local tool=$1 rep=$2 step=$3 repo=$4 note=$5; shift 6
  local tf=$LOGDIR/.time.$$ lf=$LOGDIR/$tool-r$rep-$step.log s0 s1 load
  load=$(cut -d' ' -f1 /proc/loadavg)
  s0=$(steal_ticks)
  if ! /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >"$lf" 2>&1; then
    log "FAILED: $tool $step (rep $rep); see $lf"; tail -5 "$lf" >&2
    note="FAILED${note:+,$note}"
  fi
  s1=$(steal_ticks)
  if [ "$SYNC_AFTER" = 1 ] && [ "$step" != init ]; then
    # untimed flush of what the step left dirty (repo / restored files),
    # so it does not leak into the next step; its duration goes in the note
    local q0 q1; q0=$(date +%s.%N); sync; q1=$(date +%s.%N)
    note="${note:+$note,}sync=$(echo "$q1-$q0" | bc -l | xargs printf '%.2f')s"
  fi
  local wall usr sys rss repo_bytes=""
  read -r wall usr sys rss < <(tail -1 "$tf")
  [ -n "$repo" ] && [ -d "$repo" ] && repo_bytes=$(du -sb "$repo" | cut -f1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$RUN_ID" "$CNAME" "$CBYTES" "$tool" "$rep" "$step" "$wall" "$usr" "$sys" "$rss" \
    "$repo_bytes" "$(echo "($s1-$s0)/$CLK" | bc -l | xargs printf '%.2f')" "$load" "$CACHE_STATE" "$note" >>"$TSV"
  log "$tool r$rep $step: ${wall}s wall, ${usr}u ${sys}s, ${rss} KB, repo ${repo_bytes:-n/a} B ${note}"
  rm -f "$tf"
}

verify_step() { # TOOL REP RESTORED_DIR
  local tool=$1 rep=$2 dst=$3 lf=$LOGDIR/$1-r$2-verify.items
  local t0 t1 content meta
  t0=$(date +%s.%N)
  rsync -anci --delete "$SRC/" "$dst/" >"$lf" 2>&1 || true
  t1=$(date +%s.%N)
  content=$(grep -vc '^\.' "$lf" || true)
  meta=$(grep -c '^\.' "$lf" || true)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$RUN_ID" "$CNAME" "$CBYTES" "$tool" "$rep" verify "$(echo "$t1-$t0" | bc -l | xargs printf '%.2f')" \
    "" "" "" "" "" "$(cut -d' ' -f1 /proc/loadavg)" "$CACHE_STATE" "content_diffs=$content,meta_diffs=$meta" >>"$TSV"
  if [ "$content" = 0 ]; then log "$tool r$rep verify: OK (identical content; $meta metadata-only diffs)"
  else log "$tool r$rep verify: MISMATCH: $content content/structure diffs (see $lf)"; fi
}

# run_tool TOOL REP REPO DST: the four timed steps; the restore must leave
# the tree at $DST$SRC (restic and borg both keep the absolute path).
run_tool() {
  local tool=$1 rep=$2 repo=$3 dst=$4
  case $tool in
    restic*)
      local extra=()
      [ "$tool" = restic-nocomp ] && extra=(--compression off)
      run_step "$tool" "$rep" init "$repo" "" -- restic init
      restic cat config >>"$LOGDIR/$tool-r$rep-init.log" 2>&1 || true
      before "$SRC"
      run_step "$tool" "$rep" backup "$repo" "$PREWARM_NOTE" -- restic backup "${extra[@]}" --host bench "$SRC"
      before "$SRC"
      run_step "$tool" "$rep" incr "$repo" "$PREWARM_NOTE" -- restic backup "${extra[@]}" --host bench "$SRC"
      before "$repo"
      run_step "$tool" "$rep" restore "" "$PREWARM_NOTE" -- restic restore latest --target "$dst"
      restic stats --mode raw-data >>"$LOGDIR/$tool-r$rep-restore.log" 2>&1 || true
      ;;
    borg*)
      local comp=()
      case $tool in
        borg-zstd3) comp=(--compression zstd,3) ;;
        borg-none) comp=(--compression none) ;;
      esac
      run_step "$tool" "$rep" init "$repo" "" -- borg init -e repokey "$repo"
      before "$SRC"
      run_step "$tool" "$rep" backup "$repo" "$PREWARM_NOTE" -- borg create --stats "${comp[@]}" "$repo::b1" "$SRC"
      before "$SRC"
      run_step "$tool" "$rep" incr "$repo" "$PREWARM_NOTE" -- borg create --stats "${comp[@]}" "$repo::b2" "$SRC"
      before "$repo"
      run_step "$tool" "$rep" restore "" "$PREWARM_NOTE" -- bash -c 'cd "$1" && exec borg extract "$2"' _ "$dst" "$repo::b2"
      ;;
    shardkeep|shardkeep-base|shardkeep-plain)
      local n=${SK_N:-4} bin=$SK_BIN sup=$repo/suppliers plain=()
      [ "$tool" = shardkeep-base ] && bin=${SK_BASE_BIN:?shardkeep-base needs SK_BASE_BIN}
      [ "$tool" = shardkeep-plain ] && plain=(--insecure-plaintext)
      mkdir -p "$sup"
      local ports=() addrs=""
      for i in $(seq 0 $((n - 1))); do
        mkdir -p "$sup/$i"
        "$bin/supplier/shardkeep-supplier" --listen 127.0.0.1:0 --port-file "$sup/$i/port" \
          --data-dir "$sup/$i" --capacity 64GiB "${plain[@]}" >"$sup/$i/log" 2>&1 &
        SK_PIDS+=($!)
      done
      for i in $(seq 0 $((n - 1))); do
        for _ in $(seq 100); do [ -s "$sup/$i/port" ] && break; sleep 0.1; done
        addrs="${addrs:+$addrs,}127.0.0.1:$(cat "$sup/$i/port")"
      done
      export SHARDKEEP_CONFIG_DIR=$cache/config SHARDKEEP_CACHE_DIR=$cache/cache SHARDKEEP_PASSWORD=$PASSWORD
      export SHARDKEEP_INSECURE_PLAINTEXT=${plain:+1}
      run_step "$tool" "$rep" init "$repo" "" -- "$bin/customer/shardkeep" init --suppliers "$addrs" --needed 8GiB
      before "$SRC"
      run_step "$tool" "$rep" backup "$repo" "$PREWARM_NOTE" -- "$bin/customer/shardkeep" backup "$SRC"
      before "$SRC"
      run_step "$tool" "$rep" incr "$repo" "$PREWARM_NOTE" -- "$bin/customer/shardkeep" backup "$SRC"
      before "$repo"
      run_step "$tool" "$rep" restore "" "$PREWARM_NOTE" -- "$bin/customer/shardkeep" restore latest --target "$dst"
      if [ "${SK_RECOVER:-0}" = 1 ]; then
        # Restore after disk loss (issue 8): the config and cache dirs are
        # gone; recover from one supplier, then restore latest again.
        local vault; vault=$(basename "$(ls -d "$cache/cache"/*/ | head -1)")
        rm -rf "$cache/config" "$cache/cache" "$dst"
        mkdir -p "$dst"; sync
        run_step "$tool" "$rep" recover "" "" -- "$bin/customer/shardkeep" recover --vault "$vault" --supplier "${addrs%%,*}"
        before "$repo"
        run_step "$tool" "$rep" restore-recovered "" "$PREWARM_NOTE" -- "$bin/customer/shardkeep" restore latest --target "$dst"
      fi
      if [ "${SK_LOSS:-0}" = 1 ]; then
        # Issue 9: n-k suppliers die; every block comes from the other k.
        local lost=$((n - (n + 1) / 2))
        kill -9 "${SK_PIDS[@]:0:$lost}" 2>/dev/null || true
        wait "${SK_PIDS[@]:0:$lost}" 2>/dev/null || true
        rm -rf "$dst"; mkdir -p "$dst"; sync
        before "$repo"
        run_step "$tool" "$rep" restore-lost "" "${PREWARM_NOTE:+$PREWARM_NOTE,}killed=$lost" -- \
          "$bin/customer/shardkeep" restore latest --target "$dst"
      fi
      kill "${SK_PIDS[@]}" 2>/dev/null || true; wait "${SK_PIDS[@]}" 2>/dev/null || true; SK_PIDS=()
      ;;
    copy)
      run_step "$tool" "$rep" init "$repo" "" -- mkdir -p "$repo"
      before "$SRC"
      run_step "$tool" "$rep" backup "$repo" "$PREWARM_NOTE" -- cp -a "$SRC" "$repo/"
      before "$SRC"
      run_step "$tool" "$rep" incr "$repo" "$PREWARM_NOTE" -- rsync -a "$SRC" "$repo/"
      before "$repo"
      mkdir -p "$dst$(dirname "$SRC")"
      run_step "$tool" "$rep" restore "" "$PREWARM_NOTE" -- cp -a "$repo/$(basename "$SRC")" "$dst$(dirname "$SRC")/"
      ;;
    *) echo "unknown tool $tool" >&2; exit 2 ;;
  esac
}

SK_PIDS=()
trap 'kill "${SK_PIDS[@]}" 2>/dev/null || true' EXIT
if printf '%s\n' "${TOOLS[@]}" | grep -qx 'shardkeep\|shardkeep-plain'; then
  # ShardKeep's binaries, optimised, from this checkout.
  (cd "$HERE/../.." && bazel build -c opt //customer:shardkeep //supplier:shardkeep-supplier >&2)
  SK_BIN=$(cd "$HERE/../.." && bazel info -c opt bazel-bin 2>/dev/null)
fi

# rep-major order (r1 of every tool, then r2 ...) so slow drifts of the
# shared machine hit all tools alike
for rep in $(seq 1 "$REPS"); do
  for tool in "${TOOLS[@]}"; do
    scratch_fresh
    repo=$MNT/repos/$tool-$CNAME
    dst=$MNT/restore/$tool-$CNAME
    cache=$MNT/cache/$tool-$CNAME
    mkdir -p "$MNT/repos" "$dst" "$cache"
    export RESTIC_CACHE_DIR=$cache BORG_BASE_DIR=$cache
    export RESTIC_REPOSITORY=$repo BORG_REPO=$repo
    log "== $tool on $CNAME ($SRC, $CBYTES bytes), rep $rep/$REPS, scratch ${SCRATCH:-loop} $MNT"
    run_tool "$tool" "$rep" "$repo" "$dst"
    [ "$VERIFY" = 1 ] && verify_step "$tool" "$rep" "$dst$SRC"
    if [ "$KEEP" = 1 ] && [ "$tool" = "${TOOLS[-1]}" ] && [ "$rep" = "$REPS" ]; then
      log "KEEP=1: leaving $MNT mounted with the last repo/restore"
    elif [ "${SCRATCH:-loop}" != loop ]; then rm -rf "$repo" "$dst" "$cache"
    fi
  done
done
[ "$KEEP" = 1 ] || [ "${SCRATCH:-loop}" != loop ] || scratch_down

summarise "$TSV" "$RUN_ID"
echo "rows appended to $TSV; logs in $LOGDIR"

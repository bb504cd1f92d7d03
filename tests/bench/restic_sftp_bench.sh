#!/usr/bin/env bash
# restic_sftp_bench.sh -- issue 12's side-by-side: ShardKeep's first backup
# vs restic's to an SFTP repository, of the same files, through the same
# emulated link: one tests/harness/link_proxy.py giving the customer RATE
# kbit/s per direction and DELAY ms each way, in front of both sshd (restic's
# repository) and the 4 local suppliers (n=4, k=2: ShardKeep sends twice the
# bytes). Runs in a network namespace of its own (unshare -n; root), with
# Debian's openssh-server on 127.0.0.1 inside it.
#
# Usage: tests/bench/restic_sftp_bench.sh [MB]     (default 200: the first MB
#        megabytes of the kernel corpus, files in sorted order)
# Env:   RATE_KBIT=10000 DELAY_MS=50 REPS=3
#        CORPUS=/tmp/bench/corpora/kernel
#        SK_BIN=dir with customer/shardkeep and supplier/shardkeep-supplier
#          (default: bazel-bin of this checkout, -c opt; built first)
# Prints per repetition the two times and their ratio, then the medians.
# Order alternates (restic first in odd repetitions) so drifts of the shared
# machine hit both alike.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MB=${1:-200}
RATE_KBIT=${RATE_KBIT:-10000} DELAY_MS=${DELAY_MS:-50} REPS=${REPS:-3}
CORPUS=${CORPUS:-/tmp/bench/corpora/kernel}

if [[ -z "${SK_IN_NETNS:-}" ]]; then
  if [[ -z "${SK_BIN:-}" ]]; then
    (cd "$ROOT" && bazel build -c opt //customer:shardkeep //supplier:shardkeep-supplier >&2)
    SK_BIN=$(cd "$ROOT" && bazel info -c opt bazel-bin 2>/dev/null)
  fi
  export SK_BIN SK_IN_NETNS=1
  exec unshare -n "$0" "$@"
fi
ip link set lo up mtu 1500

work=$(mktemp -d /tmp/restic-sftp-bench-XXXXXX)
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  [[ -f "$work/ssh/pid" ]] && kill "$(cat "$work/ssh/pid")" 2>/dev/null || true
  SHARDKEEP_SUPPLIER_BIN="$SK_BIN/supplier/shardkeep-supplier" \
    "$ROOT/deploy/local-suppliers.sh" stop "$work/suppliers" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The files: the first MB megabytes of the corpus, sorted by path.
(cd "$CORPUS" && find . -type f -printf '%s %P\n' | sort -k2 |
  awk -v max=$((MB * 1000000)) '!stop { if (s + $1 > max) { stop = 1; next } s += $1; print $2 }') \
  >"$work/files"
mkdir -p "$work/src"
rsync -a --files-from="$work/files" "$CORPUS/" "$work/src/"
bytes=$(du -sb --apparent-size "$work/src" | cut -f1)
echo "corpus: $(wc -l <"$work/files") files, $bytes bytes from $CORPUS" >&2

# sshd on 127.0.0.1:2222, key login for root, sftp subsystem.
mkdir -p "$work/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/user_key"
cp "$work/ssh/user_key.pub" "$work/ssh/authorized_keys"
cat >"$work/ssh/sshd_config" <<EOF
ListenAddress 127.0.0.1:2222
HostKey $work/ssh/host_key
AuthorizedKeysFile $work/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $work/ssh/pid
Subsystem sftp internal-sftp
EOF
mkdir -p /run/sshd
/usr/sbin/sshd -f "$work/ssh/sshd_config" -E "$work/ssh/log"

# 4 suppliers, then one link for everything.
addrs=$(SHARDKEEP_SUPPLIER_BIN="$SK_BIN/supplier/shardkeep-supplier" \
  "$ROOT/deploy/local-suppliers.sh" start 4 "$work/suppliers" 64GiB 18900)
/usr/bin/python3 "$ROOT/tests/harness/link_proxy.py" ${addrs//,/ } 127.0.0.1:2222 \
  --port-file "$work/ports" --delay-ms "$DELAY_MS" --rate-kbit "$RATE_KBIT" >"$work/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s "$work/ports" && $(wc -l <"$work/ports") -ge 5 ]] && break; sleep 0.1; done
proxied=$(head -4 "$work/ports" | sed 's/^/127.0.0.1:/' | paste -sd,)
ssh_port=$(sed -n 5p "$work/ports")
echo "link: $RATE_KBIT kbit/s each way, +$DELAY_MS ms each way; suppliers $proxied; sshd via :$ssh_port" >&2

export RESTIC_PASSWORD=bench-password
sftp_cmd="ssh -p $ssh_port -i $work/ssh/user_key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@127.0.0.1 -s sftp"

run_restic() { # REP -> seconds on stdout
  local repo="sftp:root@127.0.0.1:$work/restic-$1"
  export RESTIC_CACHE_DIR=$work/restic-cache-$1
  restic -o sftp.command="$sftp_cmd" -r "$repo" init >"$work/restic-init-$1.log" 2>&1
  local t0 t1; t0=$(date +%s.%N)
  restic -o sftp.command="$sftp_cmd" -r "$repo" backup --host bench "$work/src" \
    >"$work/restic-backup-$1.log" 2>&1 || { cat "$work/restic-backup-$1.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

run_sk() { # REP -> seconds on stdout
  export SHARDKEEP_CONFIG_DIR=$work/sk-config-$1 SHARDKEEP_CACHE_DIR=$work/sk-cache-$1
  export SHARDKEEP_PASSWORD=bench-password
  "$SK_BIN/customer/shardkeep" init --suppliers "$proxied" --needed 8GiB >"$work/sk-init-$1.log" 2>&1
  local t0 t1; t0=$(date +%s.%N)
  "$SK_BIN/customer/shardkeep" backup --json "$work/src" >"$work/sk-backup-$1.log" 2>&1 ||
    { cat "$work/sk-backup-$1.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

results=()
for rep in $(seq "$REPS"); do
  if ((rep % 2)); then r=$(run_restic "$rep"); s=$(run_sk "$rep")
  else s=$(run_sk "$rep"); r=$(run_restic "$rep"); fi
  stored=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("bytes_stored", "?"))' \
    "$work/sk-backup-$rep.log" 2>/dev/null || echo "?")
  added=$(grep -o 'Added to the repo.*' "$work/restic-backup-$rep.log" || echo "?")
  printf 'rep %d: restic %.1f s (%s), shardkeep %.1f s (bytes_stored %s, x2 on the link), ratio %.2f\n' \
    "$rep" "$r" "$added" "$s" "$stored" "$(echo "$s / $r" | bc -l)"
  results+=("$r $s")
done
printf '%s\n' "${results[@]}" | python3 -c '
import sys, statistics as st
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
r = st.median(x for x, _ in rows); s = st.median(y for _, y in rows)
ratios = sorted(y / x for x, y in rows)
print("median: restic %.1f s, shardkeep %.1f s, ratio of medians %.2f; per-rep ratios %s"
      % (r, s, s / r, ", ".join("%.2f" % x for x in ratios)))'

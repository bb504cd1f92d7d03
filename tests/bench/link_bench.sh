#!/usr/bin/env bash
# link_bench.sh -- ShardKeep backup and restore through an emulated link:
# N local suppliers behind one tests/harness/link_proxy.py that gives the
# customer's link RATE kbit/s per direction (shared by all suppliers) and
# DELAY ms added each way. Prints payload rates against the link's limits:
# backup payload limit = RATE / (n/k), restore limit = RATE.
#
# Usage: tests/bench/link_bench.sh [MIB]          (default 64 MiB of random data)
# Env:   RATE_KBIT=10000  DELAY_MS=50  N=4  REPS=1
#        SK_BIN=dir with customer/shardkeep and supplier/shardkeep-supplier
#           (default: bazel-bin of this checkout, -c opt; built first)
#        SK_FLAGS="..." extra global flags for shardkeep (e.g. --insecure-plaintext)
#        SUPPLIER_FLAGS="..." extra flags for the suppliers
# Prints one line per step: "backup 64 MiB in 120.3 s: 0.56 MB/s payload = 89% of 0.625 MB/s".
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MIB=${1:-64}
RATE_KBIT=${RATE_KBIT:-10000} DELAY_MS=${DELAY_MS:-50} N=${N:-4} REPS=${REPS:-1}
if [[ -z "${SK_BIN:-}" ]]; then
  (cd "$ROOT" && bazel build -c opt //customer:shardkeep //supplier:shardkeep-supplier >&2)
  SK_BIN=$(cd "$ROOT" && bazel info -c opt bazel-bin 2>/dev/null)
fi
work=$(mktemp -d /tmp/link-bench-XXXXXX)
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  SHARDKEEP_SUPPLIER_BIN="$SK_BIN/supplier/shardkeep-supplier" \
    "$ROOT/deploy/local-suppliers.sh" stop "$work/suppliers" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

head -c "${MIB}M" /dev/urandom >"$work/data.bin"
for rep in $(seq "$REPS"); do
  rm -rf "$work/suppliers" "$work/config" "$work/cache" "$work/restore"
  addrs=$(SHARDKEEP_SUPPLIER_BIN="$SK_BIN/supplier/shardkeep-supplier" \
    SHARDKEEP_SUPPLIER_FLAGS="${SUPPLIER_FLAGS:-}" \
    "$ROOT/deploy/local-suppliers.sh" start "$N" "$work/suppliers" 64GiB $((18700 + rep * 10)))
  rm -f "$work/ports"
  /usr/bin/python3 "$ROOT/tests/harness/link_proxy.py" ${addrs//,/ } --port-file "$work/ports" \
    --delay-ms "$DELAY_MS" --rate-kbit "$RATE_KBIT" >"$work/proxy.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [[ -s "$work/ports" ]] && break; sleep 0.1; done
  proxied=$(sed 's/^/127.0.0.1:/' "$work/ports" | paste -sd,)
  export SHARDKEEP_CONFIG_DIR=$work/config SHARDKEEP_CACHE_DIR=$work/cache SHARDKEEP_PASSWORD=bench
  sk() { "$SK_BIN/customer/shardkeep" ${SK_FLAGS:-} "$@"; }
  sk init --suppliers "$proxied" --needed 8GiB >"$work/init.log"
  k=$(grep -o '[0-9]* data' "$work/init.log" | cut -d' ' -f1)
  t0=$(date +%s.%N)
  sk backup "$work/data.bin" >"$work/backup.log" 2>&1 || { cat "$work/backup.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  sk restore latest --target "$work/restore" >"$work/restore.log" 2>&1 ||
    { cat "$work/restore.log" >&2; exit 1; }
  t2=$(date +%s.%N)
  cmp "$work/data.bin" "$work/restore$work/data.bin"
  python3 - "$MIB" "$RATE_KBIT" "$N" "$k" "$t0" "$t1" "$t2" "$DELAY_MS" <<'PY'
import sys
mib, kbit, n, k, t0, t1, t2, delay = sys.argv[1:]
mib, kbit, n, k = int(mib), float(kbit), int(n), int(k)
t0, t1, t2 = float(t0), float(t1), float(t2)
link = kbit * 1000 / 8 / 1e6  # MB/s
data = mib * 1048576 / 1e6
bl = link * k / n
print("link %.0f kbit/s, +%s ms each way, n=%d k=%d, %d MiB random" % (kbit, delay, n, k, mib))
print("backup  %6.1f s: %.3f MB/s payload = %3.0f%% of %.3f MB/s (link / (n/k))" % (t1 - t0, data / (t1 - t0), 100 * data / (t1 - t0) / bl, bl))
print("restore %6.1f s: %.3f MB/s payload = %3.0f%% of %.3f MB/s (link)" % (t2 - t1, data / (t2 - t1), 100 * data / (t2 - t1) / link, link))
PY
  kill "${pids[@]}" 2>/dev/null || true; pids=()
  SHARDKEEP_SUPPLIER_BIN="$SK_BIN/supplier/shardkeep-supplier" \
    "$ROOT/deploy/local-suppliers.sh" stop "$work/suppliers" >/dev/null
done

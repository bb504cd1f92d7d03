#!/usr/bin/env bash
# The main job, end to end on one machine: installs what is missing, builds
# ShardKeep (-c opt), starts N local suppliers (default 4) on loopback,
# creates a vault, backs up FOLDER (default /usr/include), restores the
# snapshot into a scratch directory and compares the two trees (content,
# modes, owners, times, links, xattrs, holes) with tests/fidelity/compare.sh.
#
#   deploy/demo.sh [FOLDER] [N_SUPPLIERS]
#
# Suppliers listen on 127.0.0.1:$DEMO_PORT.. (default 17700). Everything it
# makes lives under $DEMO_DIR (default /tmp/shardkeep-demo),
# which it removes at the start; the suppliers are stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
folder=$(realpath "${1:-/usr/include}")
n=${2:-4}
demo=${DEMO_DIR:-/tmp/shardkeep-demo}
# Stop suppliers a previous run left behind before wiping their data.
if [[ -d "$demo/suppliers" ]]; then deploy/local-suppliers.sh stop "$demo/suppliers" >/dev/null 2>&1 || true; fi

deploy/install-deps.sh
echo "== building (bazel build -c opt)"
bazel build -c opt //customer:shardkeep //supplier:shardkeep-supplier 2>&1 | tail -1
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
sk="$bin/customer/shardkeep"

rm -rf "$demo"
mkdir -p "$demo"
echo "== starting $n local suppliers (data under $demo/suppliers)"
addrs=$(SHARDKEEP_SUPPLIER_BIN="$bin/supplier/shardkeep-supplier" \
  deploy/local-suppliers.sh start "$n" "$demo/suppliers" 64GiB "${DEMO_PORT:-17700}")
trap 'deploy/local-suppliers.sh stop "$demo/suppliers" >/dev/null 2>&1 || true' EXIT
echo "   suppliers: $addrs"

export SHARDKEEP_CONFIG_DIR=$demo/config SHARDKEEP_CACHE_DIR=$demo/cache
export SHARDKEEP_PASSWORD=${SHARDKEEP_PASSWORD:-demo-passphrase}
size=$(du -sb "$folder" | cut -f1)
echo "== shardkeep init ($n suppliers)"
"$sk" init --suppliers "$addrs" --needed $((size * 2 + (1 << 30)))
echo "== shardkeep backup $folder"
"$sk" backup "$folder"
echo "== shardkeep snapshots"
"$sk" snapshots
echo "== shardkeep restore latest --target $demo/restore"
"$sk" restore latest --target "$demo/restore"
echo "== comparing $folder with $demo/restore$folder"
if tests/fidelity/compare.sh "$folder" "$demo/restore$folder"; then
  echo "OK: the restored tree is identical to $folder"
else
  echo "MISMATCH: see the differences above" >&2
  exit 1
fi

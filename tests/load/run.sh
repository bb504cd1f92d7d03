#!/usr/bin/env bash
# The long load run of issue 11: 50 honest customers, 10 minutes with and
# without the attacker, then kill -9 every 30 s. Figures go to
# docs/RELIABILITY.md.
# Usage: tests/load/run.sh [SECONDS_PER_PHASE [CUSTOMERS [KILL_EVERY [PHASES]]]]
# PHASES: comma-separated subset of quiet,attacked,killed (default all three),
# e.g. `tests/load/run.sh 120 50 10 killed` for the kill phase alone.
#
# Bazel builds the test and the daemon; the run itself uses copies of both in
# a directory of its own, outside Bazel: a 35-minute `bazel test` would hold
# the worktree's Bazel server all that time, and a rebuild meanwhile would
# replace the daemon binary the test restarts every 30 s. The full log
# (per-second RSS and fds of the supplier and of the test, restart times) is
# kept in that directory; its path is printed first.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
customers=${2:-50}
kill_every=${3:-30}
phases=${4:-quiet,attacked,killed}
bazel build //tests/load:load_test //supplier:shardkeep-supplier 2>&1 | tail -1
run=$(mktemp -d "${TMPDIR:-/tmp}/shardkeep-load.XXXXXX")
bin=$(bazel info bazel-bin 2>/dev/null)
# load_test finds its shared libraries at $ORIGIN/../../_solib_k8.
mkdir -p "$run/bin/tests/load" "$run/tmp"
cp -L "$bin/tests/load/load_test" "$run/bin/tests/load/"
cp -rL "$bin/_solib_k8" "$run/bin/"
cp -L "$bin/supplier/shardkeep-supplier" "$run/bin/"
echo "log: $run/test.log"
set +e
env LOAD_SECONDS="$seconds" LOAD_CUSTOMERS="$customers" LOAD_KILL_EVERY="$kill_every" \
  LOAD_PHASES="$phases" SHARDKEEP_SUPPLIER_BIN="$run/bin/shardkeep-supplier" \
  TEST_TMPDIR="$run/tmp" "$run/bin/tests/load/load_test" >"$run/test.log" 2>&1
rc=$?
set -e
grep -E "RESULT|FAILED|PASSED|Failure|Which is|Expected|^  customer|kill [0-9]+:" "$run/test.log"
echo "exit code $rc; log: $run/test.log"
exit "$rc"

#!/usr/bin/env bash
# The long load run of issue 11: 50 honest customers, 10 minutes with and
# without the attacker, then kill -9 every 30 s. Figures go to
# docs/RELIABILITY.md. Usage: tests/load/run.sh [SECONDS_PER_PHASE [CUSTOMERS [KILL_EVERY]]]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
customers=${2:-50}
kill_every=${3:-30}
bazel test //tests/load:load_test --test_output=streamed --test_timeout=7200 \
  --test_env=LOAD_SECONDS="$seconds" --test_env=LOAD_CUSTOMERS="$customers" \
  --test_env=LOAD_KILL_EVERY="$kill_every" 2>&1 | grep -E "RESULT|FAILED|PASSED|Failure|Which is|Expected"

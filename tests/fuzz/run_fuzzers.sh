#!/usr/bin/env bash
# Builds every libFuzzer target with clang (ASan+UBSan) in its own output base
# and runs each for SECONDS seconds (default 30) from its seed corpus.
# Exit 0 if no fuzzer found a crash. Usage: tests/fuzz/run_fuzzers.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
ob="${HOME:-/root}/.cache/bazel-shardkeep-fuzz"
targets=$(bazel --output_base="$ob" query 'attr(name, "_fuzzer$", //tests/fuzz:all)' 2>/dev/null)
bazel --output_base="$ob" build --config=fuzz $targets >&2
bin=$(bazel --output_base="$ob" info --config=fuzz bazel-bin 2>/dev/null)
status=0
for t in $targets; do
  name=${t##*:}
  base=${name%_fuzzer}
  work=$(mktemp -d)
  cp -r tests/fuzz/seeds/"$base"/. "$work"/ 2>/dev/null || true
  echo "== $name (${secs}s)" >&2
  if ! "$bin/tests/fuzz/$name" -max_total_time="$secs" -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="/tmp/$name-" "$work" 2>"/tmp/$name.log"; then
    echo "FUZZER FAILED: $name; see /tmp/$name.log and /tmp/$name-*" >&2
    tail -30 "/tmp/$name.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "/tmp/$name.log" | tail -2 >&2
  fi
  rm -rf "$work"
done
exit $status

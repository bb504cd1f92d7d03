#!/usr/bin/env bash
# Builds every libFuzzer target with clang (ASan+UBSan) in its own output base
# and runs each, one at a time, for SECONDS seconds (default 30) from its seed
# corpus. A unit that runs longer than 25 s counts as a failure (a hang), and
# so does any UBSan report.
# Exit 0 if no fuzzer found a crash. Logs: /tmp/<name>_fuzzer.log; crashing
# inputs: /tmp/<name>_fuzzer-crash-*.
# Usage: tests/fuzz/run_fuzzers.sh [SECONDS [NAME...]]   (NAME: e.g. tree)
# SK_FUZZ_OUTPUT_BASE: another output base (two worktrees fuzzing at once
# must not share one: each would restart the other's Bazel server).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
shift || true
ob="${SK_FUZZ_OUTPUT_BASE:-${HOME:-/root}/.cache/bazel-shardkeep-fuzz}"
if [ $# -gt 0 ]; then
  targets=$(printf '//tests/fuzz:%s_fuzzer ' "$@")
else
  targets=$(bazel --output_base="$ob" query 'attr(name, "_fuzzer$", //tests/fuzz:all)' 2>/dev/null)
fi
bazel --output_base="$ob" build --config=fuzz $targets >&2
bin=$(bazel --output_base="$ob" info --config=fuzz bazel-bin 2>/dev/null)
# UBSan reports are recoverable in this build: make them crashes, as ASan's are.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
summary=""
for t in $targets; do
  name=${t##*:}
  base=${name%_fuzzer}
  work=$(mktemp -d)
  cp -r tests/fuzz/seeds/"$base"/. "$work"/ 2>/dev/null || true
  echo "== $name (${secs}s)" >&2
  if ! "$bin/tests/fuzz/$name" -max_total_time="$secs" -timeout=25 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="/tmp/$name-" "$work" 2>"/tmp/$name.log"; then
    echo "FUZZER FAILED: $name; see /tmp/$name.log and /tmp/$name-*" >&2
    tail -30 "/tmp/$name.log" >&2
    status=1
    summary+="$base FAILED"$'\n'
  else
    execs=$(grep -o "stat::number_of_executed_units: [0-9]*" "/tmp/$name.log" | grep -o "[0-9]*$")
    cov=$(grep -E "^#[0-9]+.*(DONE|pulse|NEW|REDUCE)" "/tmp/$name.log" | tail -1 |
      grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*" || true)
    echo "   $execs executions; $cov" >&2
    summary+="$base $execs executions; $cov"$'\n'
  fi
  rm -rf "$work"
done
echo "== summary (${secs}s each)" >&2
printf '%s' "$summary" >&2
exit $status

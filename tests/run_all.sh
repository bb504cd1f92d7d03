#!/usr/bin/env bash
# Installs what is missing, then runs every test of ShardKeep with Bazel and
# ends with one plain line: "N passed, N failed" (GoogleTest cases and shell
# tests, counted from Bazel's test.xml files). Exit status 0 only if all passed.
#
#   tests/run_all.sh            the whole suite (what .ci/run calls)
#   tests/run_all.sh --asan     the whole suite under AddressSanitizer + UBSan
#   tests/run_all.sh --fuzz     also builds the libFuzzer targets with clang and runs each briefly
# Extra arguments after "--" go to `bazel test`.
set -uo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

mode=default
bazel_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --asan) mode=asan ;;
    --fuzz) mode=fuzz ;;
    --) shift; bazel_args+=("$@"); break ;;
    *) echo "usage: tests/run_all.sh [--asan|--fuzz] [-- bazel args]" >&2; exit 2 ;;
  esac
  shift
done

startup=()
config=()
if [[ $mode == asan ]]; then
  # A separate output base keeps the ASan build from evicting the normal one.
  startup=(--output_base="${HOME:-/root}/.cache/bazel-shardkeep-asan")
  config=(--config=asan)
fi

bazel "${startup[@]}" test "${config[@]}" --keep_going "${bazel_args[@]}" //... 2>&1 | tee /tmp/shardkeep-test.log
rc=${PIPESTATUS[0]}

fuzz_failed=0
fuzz_passed=0
if [[ $mode == fuzz ]]; then
  tests/fuzz/run_fuzzers.sh 20 && fuzz_passed=1 || fuzz_failed=1
fi

testlogs=$(bazel "${startup[@]}" info "${config[@]}" bazel-testlogs 2>/dev/null)
read -r passed failed < <(python3 - "$testlogs" <<'PY'
import os, sys, xml.etree.ElementTree as ET
root = sys.argv[1]
passed = failed = 0
for d, _, files in os.walk(root):
    if "test.xml" not in files:
        continue
    try:
        tree = ET.parse(os.path.join(d, "test.xml"))
    except ET.ParseError:
        failed += 1
        continue
    cases = list(tree.iter("testcase"))
    if not cases:
        failed += 1
        continue
    for c in cases:
        bad = c.find("failure") is not None or c.find("error") is not None
        if bad:
            failed += 1
        elif c.get("status") != "notrun" and c.find("skipped") is None:
            passed += 1
print(passed, failed)
PY
)
passed=$((passed + fuzz_passed))
failed=$((failed + fuzz_failed))
# A build error leaves tests unrun: count it as a failure so it cannot read as green.
if [[ $rc -ne 0 && $failed -eq 0 ]]; then failed=1; fi
echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 && $rc -eq 0 ]]

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
  # No convenience symlinks: bazel-bin and friends stay with the normal build.
  config=(--config=asan --symlink_prefix=/)
fi

# The project's packages, named rather than //...: with a second output base
# (--asan) the first one's convenience symlinks (bazel-<dir>) would be walked.
packages=(//:all //common/... //raid/... //proto/... //supplier/... //customer/... //tests/... //deploy/...)
# One log per run: two runs at once (say --asan beside the normal suite) must
# not count each other's test targets.
log=$(mktemp /tmp/shardkeep-test.XXXXXX)
trap 'rm -f "$log"' EXIT
bazel "${startup[@]}" test "${config[@]}" --keep_going "${bazel_args[@]}" "${packages[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

# The layering (docs/ARCHITECTURE.md), proved on the build graph: one check.
layering_passed=0
layering_failed=0
if tests/layering_check.sh "${startup[@]}"; then layering_passed=1; else layering_failed=1; fi

fuzz_failed=0
fuzz_passed=0
if [[ $mode == fuzz ]]; then
  tests/fuzz/run_fuzzers.sh 20 && fuzz_passed=1 || fuzz_failed=1
fi

testlogs=$(bazel "${startup[@]}" info "${config[@]}" bazel-testlogs 2>/dev/null)
read -r passed failed < <(python3 - "$testlogs" "$log" <<'PY'
# Counts test cases of the test targets Bazel reported in this run's summary.
import os, re, sys, xml.etree.ElementTree as ET
testlogs, log = sys.argv[1], sys.argv[2]
passed = failed = 0
line_re = re.compile(r"^(//\S+)\s+(?:\(cached\) )?(PASSED|FAILED|TIMEOUT|FLAKY|NO STATUS|FAILED TO BUILD|INCOMPLETE|REMOTE FAILURE)")
for line in open(log, errors="replace"):
    m = line_re.match(line)
    if not m:
        continue
    target, status = m.groups()
    pkg, _, name = target[2:].partition(":")
    xml = os.path.join(testlogs, pkg, name, "test.xml")
    cases = []
    if status in ("PASSED", "FAILED", "FLAKY", "TIMEOUT") and os.path.exists(xml):
        try:
            cases = list(ET.parse(xml).iter("testcase"))
        except ET.ParseError:
            cases = []
    target_ok = status in ("PASSED", "FLAKY")
    if not cases:
        passed, failed = (passed + 1, failed) if target_ok else (passed, failed + 1)
        continue
    bad_cases = 0
    for c in cases:
        if c.find("failure") is not None or c.find("error") is not None:
            bad_cases += 1
        elif c.get("status") != "notrun" and c.find("skipped") is None:
            passed += 1
    # A target that failed (crash, timeout) without a failing case still counts once.
    failed += bad_cases if (bad_cases or target_ok) else 1
print(passed, failed)
PY
)
passed=$((passed + fuzz_passed + layering_passed))
failed=$((failed + fuzz_failed + layering_failed))
# A build error leaves tests unrun: count it as a failure so it cannot read as green.
if [[ $rc -ne 0 && $failed -eq 0 ]]; then failed=1; fi
echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 && $rc -eq 0 ]]

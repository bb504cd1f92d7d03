"""sk_fuzz_target: one libFuzzer entry point, two ways to build it.

- `<name>_test` (cc_test, in every build): a standalone driver runs the entry
  point on the seed files in `seeds/<name>/` and on `iterations` (default
  3000) pseudo-random inputs and mutations of the seeds, so the suite catches
  crashes without clang.
- `<name>_fuzzer` (cc_binary, tag manual): the real libFuzzer binary; build
  with `bazel --output_base=... build --config=fuzz //tests/fuzz:<name>_fuzzer`
  (tests/fuzz/run_fuzzers.sh does it).
"""

def sk_fuzz_target(name, srcs, deps = [], iterations = 3000, tags = []):
    native.cc_test(
        name = name + "_test",
        srcs = srcs + ["standalone_main.cc"],
        deps = deps + [":fuzz_util"],
        data = native.glob(["seeds/%s/**" % name]),
        args = ["tests/fuzz/seeds/%s" % name, "--iterations=%d" % iterations],
        size = "small",
        tags = tags,
    )
    native.cc_binary(
        name = name + "_fuzzer",
        srcs = srcs,
        deps = deps + [":fuzz_util"],
        linkopts = ["-fsanitize=fuzzer"],
        testonly = True,
        tags = ["manual"],
    )

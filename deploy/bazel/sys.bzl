"""A repository of Debian's system libraries, described by pkg-config.

Each entry of `libs` becomes one cc_library in @<name>//: whose defines and
linkopts come from `pkg-config --cflags/--libs`. The system protoc and
grpc_cpp_plugin are exposed as @<name>//:protoc and @<name>//:grpc_cpp_plugin.
Nothing is downloaded: a missing package fails here with its name.
"""

def _pkg_config(ctx, flag, modules):
    res = ctx.execute(["pkg-config", flag] + modules.split(" "))
    if res.return_code != 0:
        fail("pkg-config %s %s failed (install the Debian -dev package): %s" % (flag, modules, res.stderr))
    return [f for f in res.stdout.strip().split(" ") if f]

def _system_libraries_impl(ctx):
    out = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, modules in ctx.attr.libs.items():
        cflags = _pkg_config(ctx, "--cflags", modules)
        libs = _pkg_config(ctx, "--libs", modules)
        defines = [f[2:] for f in cflags if f.startswith("-D")]
        copts = [f for f in cflags if not f.startswith("-D")]
        if name in ctx.attr.drop_include_dirs:
            copts = [f for f in copts if not f.startswith("-I/usr/include/")]
        if copts:
            fail("unexpected cflags for %s: %s" % (modules, copts))

        # Keep order, drop repeats after the first (pkg-config repeats absl libraries).
        seen = {}
        linkopts = []
        for f in libs:
            if f not in seen or not f.startswith("-l"):
                seen[f] = True
                linkopts.append(f)
        out.append("cc_library(")
        out.append("    name = %r," % name)
        out.append("    defines = %r," % defines)
        out.append("    linkopts = %r," % linkopts)
        out.append(")")
        out.append("")
    for tool in ["protoc", "grpc_cpp_plugin"]:
        path = ctx.which(tool)
        if path == None:
            fail("%s not found: apt-get install protobuf-compiler protobuf-compiler-grpc" % tool)
        ctx.symlink(path, "bin/" + tool)
        out.append("sh_binary(name = %r, srcs = [%r])" % (tool, "bin/" + tool))
        out.append("")
    ctx.file("BUILD.bazel", "\n".join(out))
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)

system_libraries = repository_rule(
    implementation = _system_libraries_impl,
    attrs = {
        "libs": attr.string_dict(mandatory = True),
        # Libraries whose -I/usr/include/<dir> cflags are not needed by the
        # headers ShardKeep includes (cc_library cannot carry absolute
        # include dirs to its dependents).
        "drop_include_dirs": attr.string_list(default = []),
    },
    local = True,
)

"""cc_grpc_proto: compiles .proto files with the system protoc and grpc_cpp_plugin."""

def cc_grpc_proto(name, srcs, deps = [], grpc = True, visibility = None):
    """Generates C++ (and gRPC stubs if grpc) for srcs; makes cc_library `name`.

    srcs are .proto files in this package; deps are other cc_grpc_proto targets
    whose .proto files srcs import (their sources are passed as `proto_deps`).
    """
    pkg = native.package_name()
    hdrs = []
    cc = []
    for s in srcs:
        base = s[:-len(".proto")]
        hdrs.append(base + ".pb.h")
        cc.append(base + ".pb.cc")
        if grpc:
            hdrs.append(base + ".grpc.pb.h")
            cc.append(base + ".grpc.pb.cc")
    dep_srcs = [d + "_srcs" for d in deps]
    native.filegroup(name = name + "_srcs", srcs = srcs + dep_srcs, visibility = visibility)
    plugin = "--plugin=protoc-gen-grpc=$(location @sys//:grpc_cpp_plugin) --grpc_out=$(GENDIR) " if grpc else ""
    native.genrule(
        name = name + "_gen",
        srcs = srcs + dep_srcs,
        outs = hdrs + cc,
        tools = ["@sys//:protoc", "@sys//:grpc_cpp_plugin"],
        cmd = "$(location @sys//:protoc) -I. -I/usr/include --cpp_out=$(GENDIR) " + plugin +
              " ".join(["%s/%s" % (pkg, s) for s in srcs]),
    )
    native.cc_library(
        name = name,
        srcs = cc,
        hdrs = hdrs,
        deps = deps + ["@sys//:protobuf"] + (["@sys//:grpc++"] if grpc else []),
        visibility = visibility,
    )

// shardkeep ls: lists what a snapshot holds.
#include <time.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/crypto.h"
#include "customer/cmd/cli.h"
#include "customer/repo/tree_node.h"

namespace shardkeep::customer {
namespace {

const char kHelp[] =
    "Usage: shardkeep ls SNAPSHOT [PATH] [--long] [--json]\n"
    "\n"
    "Lists the paths a snapshot holds, under PATH (default: everything), one\n"
    "absolute path a line. SNAPSHOT is an ID, an unambiguous ID prefix, or\n"
    "'latest'.\n"
    "\n"
    "  -l, --long   mode, owner, size and time before each path\n"
    "  --json       one JSON object a line (path, type, mode, uid, gid, size, mtime)\n";

std::string ModeString(const vault::v1::TreeNode& n) {
  std::string s(1, TypeLetter(n.type()));
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s.push_back((n.mode() >> (8 - i)) & 1 ? rwx[i] : '-');
  if (n.mode() & 04000) s[3] = (s[3] == 'x') ? 's' : 'S';
  if (n.mode() & 02000) s[6] = (s[6] == 'x') ? 's' : 'S';
  if (n.mode() & 01000) s[9] = (s[9] == 'x') ? 't' : 'T';
  return s;
}

std::string TimeString(int64_t ns) {
  time_t secs = static_cast<time_t>(ns / 1000000000);
  struct tm tm;
  localtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

const char* TypeName(vault::v1::NodeType t) {
  switch (t) {
    case vault::v1::NODE_TYPE_DIR:
      return "dir";
    case vault::v1::NODE_TYPE_SYMLINK:
      return "symlink";
    case vault::v1::NODE_TYPE_FIFO:
      return "fifo";
    case vault::v1::NODE_TYPE_CHAR_DEV:
      return "chardev";
    case vault::v1::NODE_TYPE_BLOCK_DEV:
      return "blockdev";
    default:
      return "file";
  }
}

absl::Status Ls(CommandContext& ctx) {
  bool json = false, help = false, long_format = false;
  FlagParser flags("ls");
  flags.Bool("json", &json);
  flags.Bool("long", &long_format);
  flags.Bool("l", &long_format);
  std::vector<std::string> positional;
  RETURN_IF_ERROR(flags.Parse(ctx.args, &positional, &help));
  if (help) {
    fputs(kHelp, ctx.out);
    fputs(kExitCodesHelp, ctx.out);
    return absl::OkStatus();
  }
  if (positional.empty() || positional.size() > 2) {
    return UsageError("ls: want SNAPSHOT [PATH] (see `shardkeep ls --help`)");
  }
  std::vector<std::string> want;
  if (positional.size() == 2) {
    for (absl::string_view c : absl::StrSplit(positional[1], '/', absl::SkipEmpty())) {
      if (c != ".") want.emplace_back(c);
    }
  }
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  RETURN_IF_ERROR(repo->CheckSuppliers(repo->k()));
  RETURN_IF_ERROR(repo->LoadIndex());
  ASSIGN_OR_RETURN(auto snaps, repo->LoadSnapshots());
  ASSIGN_OR_RETURN(auto snap, Repository::FindSnapshot(snaps, positional[0]));

  auto print = [&](const std::string& path, const vault::v1::TreeNode& n) {
    if (json) {
      fprintf(ctx.out,
              "{\"path\":%s,\"name\":%s,\"type\":\"%s\",\"mode\":%u,\"uid\":%u,\"gid\":%u,"
              "\"size\":%llu,\"mtime_ns\":%lld%s}\n",
              JsonString(path).c_str(), JsonString(n.name()).c_str(), TypeName(n.type()), n.mode(),
              n.uid(), n.gid(), (unsigned long long)n.size(), (long long)n.mtime_ns(),
              n.type() == vault::v1::NODE_TYPE_SYMLINK
                  ? absl::StrCat(",\"link_target\":", JsonString(n.symlink_target())).c_str()
                  : "");
    } else if (long_format) {
      std::string extra =
          n.type() == vault::v1::NODE_TYPE_SYMLINK ? absl::StrCat(" -> ", n.symlink_target()) : "";
      fprintf(ctx.out, "%s %6u %6u %12llu %s %s%s\n", ModeString(n).c_str(), n.uid(), n.gid(),
              (unsigned long long)n.size(), TimeString(n.mtime_ns()).c_str(), path.c_str(),
              extra.c_str());
    } else {
      fprintf(ctx.out, "%s\n", path.c_str());
    }
  };

  uint64_t printed = 0;
  std::function<absl::Status(const google::protobuf::RepeatedPtrField<vault::v1::ChunkRef>&,
                             const std::string&, size_t)>
      walk = [&](const auto& refs, const std::string& dir, size_t depth) -> absl::Status {
    // A tree that contains itself (a bug or a forged vault) must not recurse
    // until the stack overflows; no real path is this deep (PATH_MAX).
    if (depth > 1024) {
      return absl::DataLossError(absl::StrCat("directories nested deeper than 1024 levels below ",
                                              dir.substr(0, 200),
                                              "... (a tree that contains itself?)"));
    }
    ASSIGN_OR_RETURN(vault::v1::Tree tree, repo->LoadTree(refs));
    for (const auto& n : tree.nodes()) {
      if (depth < want.size() && n.name() != want[depth]) continue;
      std::string path = dir == "/" ? "/" + n.name() : dir + "/" + n.name();
      if (depth + 1 >= want.size()) {
        print(path, n);
        printed++;
      }
      if (n.type() == vault::v1::NODE_TYPE_DIR) RETURN_IF_ERROR(walk(n.subtree(), path, depth + 1));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(walk(snap.root(), "/", 0));
  // A mistyped PATH must not look like an empty directory: name it (exit 1).
  if (!want.empty() && printed == 0) {
    return absl::NotFoundError(absl::StrCat("ls: ", positional[1], " is not in snapshot ",
                                            crypto::ToHex(snap.id()).substr(0, 8)));
  }
  return absl::OkStatus();
}

}  // namespace

int CmdLs(CommandContext& ctx) {
  absl::Status s = Ls(ctx);
  return s.ok() ? kSuccess : ReportError(s);
}

}  // namespace shardkeep::customer

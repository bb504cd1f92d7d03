// shardkeep ls: lists what a snapshot holds.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto.h"
#include "customer/cmd/command.h"
#include "customer/repo/tree_node.h"
#include "customer/repo/tree_walker.h"
#include "customer/ui/format.h"
#include "customer/ui/json.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Lists the paths a snapshot holds, under PATH (default: everything), one\n"
    "absolute path a line. SNAPSHOT is an ID, an unambiguous ID prefix, or\n"
    "'latest'. Names that are not UTF-8 are printed raw (JSON: with U+FFFD).";

const char kNotes[] = "Example: shardkeep ls -l latest /home/ann/docs\n";

struct LsFlags {
  std::string snapshot;
  std::string path;
  bool json = false;
  bool long_format = false;
};

void PrintEntry(const LsFlags& flags, const std::string& path, const vault::v1::TreeNode& n,
                FILE* out) {
  if (flags.json) {
    fprintf(out, "%s\n", DumpJson(LsEntryJson(path, n)).c_str());
  } else if (flags.long_format) {
    std::string extra =
        n.type() == vault::v1::NODE_TYPE_SYMLINK ? absl::StrCat(" -> ", n.symlink_target()) : "";
    fprintf(out, "%s %6u %6u %12llu %s %s%s\n", ModeString(n).c_str(), n.uid(), n.gid(),
            (unsigned long long)n.size(), FormatLocalTime(n.mtime_ns()).c_str(), path.c_str(),
            extra.c_str());
  } else {
    fprintf(out, "%s\n", path.c_str());
  }
}

absl::StatusOr<ExitCode> Ls(const LsFlags& flags, const CommandContext& ctx) {
  std::vector<std::string> want;
  for (absl::string_view c : absl::StrSplit(flags.path, '/', absl::SkipEmpty())) {
    if (c != ".") want.emplace_back(c);
  }
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  ASSIGN_OR_RETURN(vault::v1::Snapshot snap, repo->OpenSnapshot(flags.snapshot));
  TreeWalker walker(*repo);
  ASSIGN_OR_RETURN(uint64_t printed,
                   VisitUnder(walker, snap.root(), want, [&](const auto& path, const auto& node) {
                     PrintEntry(flags, path, node, ctx.out());
                   }));
  // A mistyped PATH must not look like an empty directory: name it (exit 1).
  if (!want.empty() && printed == 0) {
    return absl::NotFoundError(absl::StrCat("ls: ", flags.path, " is not in snapshot ",
                                            crypto::ToHex(snap.id()).substr(0, 8)));
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupLs(CLI::App& command) {
  auto flags = std::make_shared<LsFlags>();
  Describe(command, kIntro, kNotes);
  command.add_option("SNAPSHOT", flags->snapshot, "an ID, an unambiguous ID prefix, or 'latest'")
      ->type_name("")
      ->required();
  command.add_option("PATH", flags->path, "list only PATH and what is below it")->type_name("");
  command.add_flag("-l,--long", flags->long_format, "mode, owner, size and time before each path");
  command.add_flag("--json", flags->json,
                   "one JSON object a line (path, name, type,\nmode, uid, gid, size, mtime_ns, "
                   "link_target)");
  return [flags](const CommandContext& ctx) { return Ls(*flags, ctx); };
}

}  // namespace shardkeep::customer

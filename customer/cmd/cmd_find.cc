// shardkeep find: which snapshots hold a path matching a pattern.
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/units.h"
#include "customer/cmd/command.h"
#include "customer/repo/finder.h"
#include "customer/ui/format.h"
#include "customer/ui/json.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Finds the paths matching PATTERN in every snapshot (or those given with\n"
    "--snapshot), oldest snapshot first. PATTERN is a shell glob matched against\n"
    "each name ('*.odt' at any depth) and against the whole absolute path\n"
    "('/home/*/docs/*.odt'; there * does not cross a /). Quote it, or the shell\n"
    "expands it. Prints snapshot, type, size, modification time and path.";

const char kNotes[] =
    "Examples: shardkeep find '*.odt'\n"
    "          shardkeep find --snapshot latest '/home/ann/docs/*'\n"
    "Exit code 0 whether or not something matched (the last line says).\n";

struct FindFlags {
  FindOptions options;
  bool json = false;
};

absl::StatusOr<ExitCode> Find(const FindFlags& flags, const CommandContext& ctx) {
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  FILE* out = ctx.out();
  ASSIGN_OR_RETURN(
      FindResult r,
      FindInSnapshots(*repo, flags.options,
                      [&](const vault::v1::Snapshot& snap, const std::string& path,
                          const vault::v1::TreeNode& node) {
                        if (flags.json) {
                          Json j;
                          j["snapshot_id"] = crypto::ToHex(snap.id());
                          j["snapshot_time"] = FormatIsoTime(snap.time_ns());
                          j.update(LsEntryJson(path, node));
                          j["mtime"] = FormatIsoTime(node.mtime_ns());
                          fprintf(out, "%s\n", DumpJson(j).c_str());
                        } else {
                          fprintf(out, "%-8s  %-7s  %10s  %-19s  %s\n",
                                  crypto::ToHex(snap.id()).substr(0, 8).c_str(),
                                  TypeName(node.type()), FormatByteSize(node.size()).c_str(),
                                  FormatLocalTime(node.mtime_ns()).c_str(), path.c_str());
                        }
                      }));
  if (!flags.json) {
    fprintf(out, "%llu matches in %llu of %llu snapshots\n", (unsigned long long)r.matches,
            (unsigned long long)r.snapshots_matching, (unsigned long long)r.snapshots_searched);
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupFind(CLI::App& command) {
  auto flags = std::make_shared<FindFlags>();
  Describe(command, kIntro, kNotes);
  command.add_option("PATTERN", flags->options.patterns, "a glob; several: any of them")
      ->type_name("")
      ->required();
  command
      .add_option("-s,--snapshot", flags->options.snapshots,
                  "search only this snapshot (an ID, a prefix or\n'latest'; repeatable)")
      ->type_name("ID")
      ->allow_extra_args(false);
  command.add_flag("-i,--ignore-case", flags->options.ignore_case, "match without case");
  command.add_flag("--json", flags->json,
                   "one JSON object a line: snapshot_id,\nsnapshot_time, the fields of ls "
                   "--json, mtime");
  return [flags](const CommandContext& ctx) { return Find(*flags, ctx); };
}

}  // namespace shardkeep::customer

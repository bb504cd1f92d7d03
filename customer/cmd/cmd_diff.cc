// shardkeep diff: what changed between two snapshots.
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/units.h"
#include "customer/cmd/command.h"
#include "customer/repo/snapshot_diff.h"
#include "customer/ui/format.h"
#include "customer/ui/json.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Prints every path that differs between SNAPSHOT1 and SNAPSHOT2, one a line,\n"
    "with restic's letters: + added (only in SNAPSHOT2), - removed (only in\n"
    "SNAPSHOT1), M content modified, U metadata only (mode, owner, times,\n"
    "xattrs), T another type. Below an added or removed directory every path is\n"
    "listed. Then a summary. Directories stored the same on both sides are not\n"
    "read, so two close snapshots are compared quickly.";

const char kNotes[] = "Example: shardkeep diff 3f9a latest\n";

struct DiffFlags {
  std::string first, second;
  bool json = false;
};

std::string ShortId(const vault::v1::Snapshot& s) { return crypto::ToHex(s.id()).substr(0, 8); }

absl::StatusOr<ExitCode> Diff(const DiffFlags& flags, const CommandContext& ctx) {
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  FILE* out = ctx.out();
  ASSIGN_OR_RETURN(
      SnapshotDiff d,
      DiffSnapshots(*repo, flags.first, flags.second,
                    [&](const std::string& path, Change c, const vault::v1::TreeNode& node) {
                      if (flags.json) {
                        Json j;
                        j["message_type"] = "change";
                        j["path"] = path;
                        j["modifier"] = ChangeLetter(c);
                        j["type"] = TypeName(node.type());
                        fprintf(out, "%s\n", DumpJson(j).c_str());
                      } else {
                        fprintf(out, "%-2s %s\n", ChangeLetter(c), path.c_str());
                      }
                    }));
  const DiffCounts& n = d.counts;
  if (flags.json) {
    Json j;
    j["message_type"] = "statistics";
    j["source_snapshot"] = crypto::ToHex(d.first.id());
    j["target_snapshot"] = crypto::ToHex(d.second.id());
    j["added"] = n.added;
    j["removed"] = n.removed;
    j["modified"] = n.modified;
    j["metadata"] = n.metadata;
    j["type_changed"] = n.type;
    j["bytes_added"] = d.bytes_added;
    j["bytes_removed"] = d.bytes_removed;
    fprintf(out, "%s\n", DumpJson(j).c_str());
  } else {
    fprintf(out,
            "\ncomparing snapshot %s (%s) to %s (%s):\n"
            "  %llu added, %llu removed, %llu modified, %llu metadata only, %llu other type\n"
            "  files added: %s, removed: %s\n",
            ShortId(d.first).c_str(), FormatLocalTime(d.first.time_ns()).c_str(),
            ShortId(d.second).c_str(), FormatLocalTime(d.second.time_ns()).c_str(),
            (unsigned long long)n.added, (unsigned long long)n.removed,
            (unsigned long long)n.modified, (unsigned long long)n.metadata,
            (unsigned long long)n.type, FormatByteSize(d.bytes_added).c_str(),
            FormatByteSize(d.bytes_removed).c_str());
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupDiff(CLI::App& command) {
  auto flags = std::make_shared<DiffFlags>();
  Describe(command, kIntro, kNotes);
  command.add_option("SNAPSHOT1", flags->first, "an ID, an unambiguous ID prefix, or 'latest'")
      ->type_name("")
      ->required();
  command.add_option("SNAPSHOT2", flags->second, "the snapshot to compare SNAPSHOT1 with")
      ->type_name("")
      ->required();
  command.add_flag("--json", flags->json,
                   "one JSON object a line: {message_type: change,\npath, modifier, type} per "
                   "path, then\n{message_type: statistics, ...}");
  return [flags](const CommandContext& ctx) { return Diff(*flags, ctx); };
}

}  // namespace shardkeep::customer

// shardkeep snapshots: lists the vault's snapshots.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto.h"
#include "common/units.h"
#include "customer/cmd/command.h"
#include "customer/ui/format.h"
#include "customer/ui/json.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Lists the vault's snapshots, oldest first: ID (short), time, host, tags,\n"
    "files, size and paths. --json prints one array with full IDs and summaries\n"
    "(times in RFC 3339 with nanoseconds).";

void PrintTable(const std::vector<vault::v1::Snapshot>& snaps, FILE* out) {
  fprintf(out, "%-8s  %-19s  %-12s  %-10s  %8s  %10s  %s\n", "ID", "Time", "Host", "Tags", "Files",
          "Size", "Paths");
  fprintf(out, "%s\n", std::string(96, '-').c_str());
  for (const auto& s : snaps) {
    const auto& m = s.summary();
    fprintf(out, "%-8s  %-19s  %-12s  %-10s  %8llu  %10s  %s%s\n",
            crypto::ToHex(s.id()).substr(0, 8).c_str(), FormatLocalTime(s.time_ns()).c_str(),
            s.hostname().c_str(), absl::StrJoin(s.tags(), ",").c_str(),
            (unsigned long long)(m.files_new() + m.files_changed() + m.files_unchanged()),
            FormatByteSize(m.bytes_total()).c_str(), absl::StrJoin(s.paths(), " ").c_str(),
            s.partial() ? " (partial)" : "");
  }
  fprintf(out, "%zu snapshots\n", snaps.size());
}

absl::StatusOr<ExitCode> Snapshots(bool json, const CommandContext& ctx) {
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  RETURN_IF_ERROR(repo->CheckSuppliers(1));
  ASSIGN_OR_RETURN(auto snaps, repo->LoadSnapshots());
  if (json) {
    Json all = Json::array();
    for (const auto& s : snaps) all.push_back(SnapshotJson(s));
    fprintf(ctx.out(), "%s\n", DumpJson(all).c_str());
  } else {
    PrintTable(snaps, ctx.out());
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupSnapshots(CLI::App& command) {
  auto json = std::make_shared<bool>(false);
  Describe(command, kIntro);
  command.add_flag("--json", *json, "print one JSON array");
  return [json](const CommandContext& ctx) { return Snapshots(*json, ctx); };
}

}  // namespace shardkeep::customer

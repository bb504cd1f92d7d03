// shardkeep snapshots: lists the vault's snapshots.
#include <time.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/crypto.h"
#include "customer/cmd/cli.h"
#include "customer/ui/progress_line.h"
#include "customer/net/supplier_set.h"

namespace shardkeep::customer {
namespace {

const char kHelp[] =
    "Usage: shardkeep snapshots [--json]\n"
    "\n"
    "Lists the vault's snapshots, oldest first: ID (short), time, host, tags,\n"
    "paths, files and size. --json prints one array with full IDs and summaries.\n";

std::string LocalTime(int64_t ns, bool iso) {
  time_t secs = static_cast<time_t>(ns / 1000000000);
  struct tm tm;
  localtime_r(&secs, &tm);
  char buf[64];
  if (iso) {
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char tz[16];
    strftime(tz, sizeof tz, "%z", &tm);  // +0100 -> +01:00
    std::string z(tz);
    if (z.size() == 5) z.insert(3, ":");
    return absl::StrFormat("%s.%09d%s", buf, ns % 1000000000, z);
  }
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string SnapshotJson(const vault::v1::Snapshot& s) {
  std::vector<std::string> paths, tags;
  for (const auto& p : s.paths()) paths.push_back(JsonString(p));
  for (const auto& t : s.tags()) tags.push_back(JsonString(t));
  const auto& m = s.summary();
  return absl::StrCat(
      "{\"id\":\"", crypto::ToHex(s.id()), "\",\"short_id\":\"", crypto::ToHex(s.id()).substr(0, 8),
      "\",\"time\":\"", LocalTime(s.time_ns(), true), "\",\"hostname\":", JsonString(s.hostname()),
      ",\"username\":", JsonString(s.username()), ",\"paths\":[", absl::StrJoin(paths, ","),
      "],\"tags\":[", absl::StrJoin(tags, ","), "],\"parent\":\"", crypto::ToHex(s.parent()),
      "\",\"partial\":", s.partial() ? "true" : "false", ",\"program\":", JsonString(s.program()),
      ",\"summary\":{\"files\":", m.files_new() + m.files_changed() + m.files_unchanged(),
      ",\"files_new\":", m.files_new(), ",\"files_changed\":", m.files_changed(),
      ",\"files_unchanged\":", m.files_unchanged(), ",\"dirs\":", m.dirs(),
      ",\"bytes_total\":", m.bytes_total(), ",\"bytes_stored\":", m.bytes_stored(),
      ",\"errors\":", m.errors(), ",\"seconds\":", absl::StrFormat("%.3f", m.seconds()), "}}");
}

absl::Status Snapshots(CommandContext& ctx) {
  bool json = false, help = false;
  FlagParser flags("snapshots");
  flags.Bool("json", &json);
  std::vector<std::string> positional;
  RETURN_IF_ERROR(flags.Parse(ctx.args, &positional, &help));
  if (help) {
    fputs(kHelp, ctx.out);
    fputs(kExitCodesHelp, ctx.out);
    return absl::OkStatus();
  }
  if (!positional.empty()) return UsageError("snapshots: unexpected argument " + positional[0]);
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  RETURN_IF_ERROR(repo->CheckSuppliers(1));
  ASSIGN_OR_RETURN(auto snaps, repo->LoadSnapshots());
  if (json) {
    std::vector<std::string> items;
    for (const auto& s : snaps) items.push_back(SnapshotJson(s));
    fprintf(ctx.out, "[%s]\n", absl::StrJoin(items, ",").c_str());
    return absl::OkStatus();
  }
  fprintf(ctx.out, "%-8s  %-19s  %-12s  %-10s  %8s  %10s  %s\n", "ID", "Time", "Host", "Tags",
          "Files", "Size", "Paths");
  fprintf(ctx.out, "%s\n", std::string(96, '-').c_str());
  for (const auto& s : snaps) {
    const auto& m = s.summary();
    std::string paths;
    for (const auto& p : s.paths()) absl::StrAppend(&paths, paths.empty() ? "" : " ", p);
    fprintf(ctx.out, "%-8s  %-19s  %-12s  %-10s  %8llu  %10s  %s%s\n",
            crypto::ToHex(s.id()).substr(0, 8).c_str(), LocalTime(s.time_ns(), false).c_str(),
            s.hostname().c_str(), absl::StrJoin(s.tags(), ",").c_str(),
            (unsigned long long)(m.files_new() + m.files_changed() + m.files_unchanged()),
            FormatByteSize(m.bytes_total()).c_str(), paths.c_str(), s.partial() ? " (partial)" : "");
  }
  fprintf(ctx.out, "%zu snapshots\n", snaps.size());
  return absl::OkStatus();
}

}  // namespace

int CmdSnapshots(CommandContext& ctx) {
  absl::Status s = Snapshots(ctx);
  return s.ok() ? kSuccess : ReportError(s);
}

}  // namespace shardkeep::customer

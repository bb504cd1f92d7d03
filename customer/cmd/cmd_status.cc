// shardkeep status: one answer to "am I safe?".
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "customer/cmd/command.h"
#include "customer/repo/vault_status.h"
#include "customer/ui/format.h"
#include "customer/ui/json.h"
#include "customer/ui/progress_line.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Answers \"am I safe?\": checks the vault as `check` does (listings and\n"
    "audits, no download), then prints per snapshot how many more supplier\n"
    "losses it survives, the suppliers that are down or failing audits, leases\n"
    "ending within 7 days, and the age of the last backup; then every thing that\n"
    "needs attention.";

const char kNotes[] =
    "Exit code: 0 when nothing needs attention, 4 when something does (a\n"
    "degraded snapshot, a supplier down or failing audits, a lease ending, no\n"
    "backup for 48 h), 5 when a snapshot is damaged. For cron and monitoring.\n";

absl::StatusOr<ExitCode> Status(bool json, const CommandContext& ctx) {
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  ProgressLine progress(isatty(STDERR_FILENO));
  StatusOptions opts;
  auto r = VaultStatus(*repo, opts, progress);
  progress.Stop();
  if (!r.ok()) return r.status();
  const int full = r->check.n - r->check.k;
  if (json) {
    Json j;
    j["message_type"] = "status";
    j["state"] = StateName(r->check.state);
    j["full_margin"] = full;
    Json snaps = Json::array();
    for (const auto& s : r->check.snapshots) {
      Json o;
      o["snapshot_id"] = s.id_hex;
      o["state"] = StateName(s.state);
      o["margin"] = s.margin;
      snaps.push_back(std::move(o));
    }
    j["snapshots"] = std::move(snaps);
    Json sup = Json::array();
    for (const auto& s : r->suppliers) {
      Json o;
      o["position"] = s.position;
      o["address"] = s.address;
      o["health"] = s.health;
      sup.push_back(std::move(o));
    }
    j["suppliers"] = std::move(sup);
    j["last_backup_age_s"] = r->last_backup_s == 0 ? -1 : r->now_s - r->last_backup_s;
    j["attention"] = r->attention;
    fprintf(ctx.out(), "%s\n", DumpJson(j).c_str());
  } else {
    for (const auto& s : r->check.snapshots) {
      fprintf(ctx.out(), "snapshot %s  %s  %s\n", s.id_hex.substr(0, 8).c_str(),
              FormatLocalTime(s.time_ns).c_str(),
              s.state == SnapshotCheck::State::kDamaged
                  ? "DAMAGED"
                  : absl::StrCat("survives ", s.margin, " of ", full, " supplier losses").c_str());
    }
    for (const auto& s : r->suppliers) {
      fprintf(ctx.out(), "supplier %d  %s  %s\n", s.position, s.address.c_str(), s.health.c_str());
    }
    if (r->last_backup_s != 0) {
      fprintf(ctx.out(), "last backup %lld h ago\n",
              (long long)((r->now_s - r->last_backup_s) / 3600));
    }
    if (r->attention.empty()) {
      fprintf(ctx.out(), "all is well\n");
    } else {
      for (const auto& a : r->attention) fprintf(ctx.out(), "attention: %s\n", a.c_str());
    }
  }
  if (r->check.state == SnapshotCheck::State::kDamaged) return kDamaged;
  return r->attention.empty() ? kSuccess : kDegraded;
}

}  // namespace

CommandAction SetupStatus(CLI::App& command) {
  auto json = std::make_shared<bool>(false);
  Describe(command, kIntro, kNotes);
  command.add_flag("--json", *json, "print one JSON object");
  return [json](const CommandContext& ctx) { return Status(*json, ctx); };
}

}  // namespace shardkeep::customer

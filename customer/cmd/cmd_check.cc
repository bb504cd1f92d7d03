// shardkeep check: are the fragments every snapshot needs where they belong?
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "customer/cmd/command.h"
#include "customer/repo/checker.h"
#include "customer/ui/format.h"
#include "customer/ui/json.h"
#include "customer/ui/progress_line.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Checks that every block a snapshot needs has its n fragments at the right\n"
    "suppliers: one fragment listing per supplier, compared with the index (size\n"
    "and hash). With --read-data every fragment is downloaded and hashed, and\n"
    "each block is decoded, decrypted and its chunk IDs verified. Reports each\n"
    "supplier (missing, corrupt, unreachable, extra fragments) and each snapshot:\n"
    "healthy, degraded (restorable, and how many more supplier losses it can\n"
    "take) or damaged (naming the files that cannot come back).";

const char kNotes[] =
    "Exit code: 0 healthy, 4 degraded, 5 damaged (13 if fewer than k suppliers\n"
    "answer).\n"
    "\n"
    "Example: shardkeep check --read-data-subset 1/7   (a seventh of the data a day)\n";

struct CheckFlags {
  bool read_data = false;
  std::string subset;
  bool json = false;
};

Json CheckJson(const CheckResult& r) {
  Json j;
  j["message_type"] = "check";
  j["state"] = StateName(r.state);
  j["n"] = r.n;
  j["k"] = r.k;
  j["blocks"] = r.blocks;
  j["blocks_read"] = r.blocks_read;
  j["blocks_degraded"] = r.blocks_degraded;
  j["blocks_damaged"] = r.blocks_damaged;
  Json sup = Json::array();
  for (const auto& s : r.suppliers) {
    Json o;
    o["position"] = s.position;
    o["address"] = s.address;
    o["reachable"] = s.reachable;
    if (!s.error.empty()) o["error"] = s.error;
    o["expected"] = s.expected;
    o["ok"] = s.ok;
    o["missing"] = s.missing;
    o["corrupt"] = s.corrupt;
    o["extra"] = s.extra;
    o["read"] = s.read;
    o["read_failed"] = s.read_failed;
    o["audited"] = s.audited;
    o["audit_failed"] = s.audit_failed;
    sup.push_back(std::move(o));
  }
  j["suppliers"] = std::move(sup);
  Json snaps = Json::array();
  for (const auto& s : r.snapshots) {
    Json o;
    o["snapshot_id"] = s.id_hex;
    o["state"] = StateName(s.state);
    o["margin"] = s.margin;
    o["blocks"] = s.blocks;
    o["damaged_files"] = s.damaged_files;
    snaps.push_back(std::move(o));
  }
  j["snapshots"] = std::move(snaps);
  j["seconds"] = RoundSeconds(r.seconds);
  return j;
}

void PrintCheck(const CheckResult& r, FILE* out) {
  fprintf(out, "suppliers (n = %d, k = %d):\n", r.n, r.k);
  for (const auto& s : r.suppliers) {
    if (!s.reachable) {
      fprintf(out, "  %d  %s  unreachable: %s\n", s.position, s.address.c_str(), s.error.c_str());
      continue;
    }
    fprintf(out, "  %d  %s  %llu of %llu fragments ok", s.position, s.address.c_str(),
            (unsigned long long)s.ok, (unsigned long long)s.expected);
    if (s.missing) fprintf(out, ", %llu missing", (unsigned long long)s.missing);
    if (s.corrupt) fprintf(out, ", %llu corrupt", (unsigned long long)s.corrupt);
    if (s.read_failed) fprintf(out, ", %llu unreadable", (unsigned long long)s.read_failed);
    if (s.extra) fprintf(out, ", %llu extra", (unsigned long long)s.extra);
    if (s.read) fprintf(out, " (%llu read)", (unsigned long long)s.read);
    if (s.audited + s.audit_failed) {
      fprintf(out, " (%llu audits passed, %llu failed)", (unsigned long long)s.audited,
              (unsigned long long)s.audit_failed);
    }
    fprintf(out, "\n");
  }
  fprintf(out, "snapshots:\n");
  const int full = r.n - r.k;
  for (const auto& s : r.snapshots) {
    std::string what;
    switch (s.state) {
      case SnapshotCheck::State::kHealthy:
        what = absl::StrCat("healthy (survives ", full, " more supplier losses)");
        break;
      case SnapshotCheck::State::kDegraded:
        what = absl::StrCat("degraded: survives ", s.margin, " more supplier losses, not ", full);
        break;
      case SnapshotCheck::State::kDamaged:
        what = absl::StrCat("damaged: ", s.damaged_files.size(), " files cannot be restored");
        break;
    }
    fprintf(out, "  %s  %s  %s\n", s.id_hex.substr(0, 8).c_str(),
            FormatLocalTime(s.time_ns).c_str(), what.c_str());
    for (const auto& f : s.damaged_files) fprintf(out, "      lost: %s\n", f.c_str());
  }
  fprintf(out, "check: %llu blocks (%llu read), %llu degraded, %llu damaged: %s, %.1f s\n",
          (unsigned long long)r.blocks, (unsigned long long)r.blocks_read,
          (unsigned long long)r.blocks_degraded, (unsigned long long)r.blocks_damaged,
          StateName(r.state), r.seconds);
}

absl::StatusOr<ExitCode> Check(const CheckFlags& flags, const CommandContext& ctx) {
  CheckOptions opts;
  if (flags.read_data && !flags.subset.empty()) {
    return UsageError("--read-data and --read-data-subset exclude each other");
  }
  if (flags.read_data) opts.read_data = CheckOptions::ReadData::kAll;
  if (!flags.subset.empty()) RETURN_IF_ERROR(ParseReadDataSubset(flags.subset, &opts));
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  ProgressLine progress(isatty(STDERR_FILENO));
  auto r = CheckVault(*repo, opts, progress);
  progress.Stop();
  if (!r.ok()) return r.status();
  if (flags.json) {
    fprintf(ctx.out(), "%s\n", DumpJson(CheckJson(*r)).c_str());
  } else {
    PrintCheck(*r, ctx.out());
  }
  switch (r->state) {
    case SnapshotCheck::State::kHealthy:
      return kSuccess;
    case SnapshotCheck::State::kDegraded:
      return kDegraded;
    case SnapshotCheck::State::kDamaged:
      return kDamaged;
  }
  return kError;
}

}  // namespace

CommandAction SetupCheck(CLI::App& command) {
  auto flags = std::make_shared<CheckFlags>();
  Describe(command, kIntro, kNotes);
  command.add_flag("--read-data", flags->read_data,
                   "download and verify every fragment and block");
  command
      .add_option("--read-data-subset", flags->subset,
                  "read a part: N% of the blocks at random, or\ngroup N of M (N/M; M runs "
                  "cover all)")
      ->type_name("N%|N/M")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  command.add_flag("--json", flags->json, "print the report as one JSON object");
  return [flags](const CommandContext& ctx) { return Check(*flags, ctx); };
}

}  // namespace shardkeep::customer

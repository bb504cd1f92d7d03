// shardkeep repair: puts back missing or corrupt fragments from the others.
#include <unistd.h>

#include "customer/cmd/command.h"
#include "customer/repo/repairer.h"
#include "customer/ui/json.h"
#include "customer/ui/progress_line.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Finds missing and corrupt fragments as `check` does and rebuilds each from\n"
    "k good fragments of its block, at its own position. Heals the blocks a\n"
    "backup left degraded while a supplier was down. Safe to run again (it then\n"
    "does nothing) and to interrupt (the next run finishes the work).";

const char kNotes[] =
    "--read-data (or --read-data-subset) also finds fragments that rotted on a\n"
    "supplier's disk; without it the suppliers' listings are trusted.\n"
    "Exit code: 0 when everything found was repaired (or nothing was found),\n"
    "4 when a supplier did not answer (its position is healed once it answers,\n"
    "or replace it), 5 when some blocks have fewer than k good fragments (they\n"
    "are named), 1 when storing failed.\n";

struct RepairFlags {
  bool dry_run = false;
  bool read_data = false;
  std::string subset;
  bool json = false;
};

absl::StatusOr<ExitCode> Repair(const RepairFlags& flags, const CommandContext& ctx) {
  RepairOptions opts;
  opts.dry_run = flags.dry_run;
  if (flags.read_data && !flags.subset.empty()) {
    return UsageError("--read-data and --read-data-subset exclude each other");
  }
  if (flags.read_data) opts.check.read_data = CheckOptions::ReadData::kAll;
  if (!flags.subset.empty()) RETURN_IF_ERROR(ParseReadDataSubset(flags.subset, &opts.check));
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  ProgressLine progress(isatty(STDERR_FILENO));
  auto r = RepairVault(*repo, opts, progress);
  progress.Stop();
  if (!r.ok()) return r.status();
  if (flags.json) {
    Json j;
    j["message_type"] = "repair";
    j["dry_run"] = flags.dry_run;
    j["blocks"] = r->check.blocks;
    j["blocks_to_heal"] = r->blocks_to_heal;
    j["blocks_healed"] = r->blocks_healed;
    j["blocks_unrepairable"] = r->blocks_unrepairable;
    j["fragments_written"] = r->fragments_written;
    j["records_written"] = r->records_written;
    j["written_per_position"] = r->written_per_position;
    j["errors"] = r->errors;
    Json down = Json::array();
    for (const auto& s : r->check.suppliers) {
      if (!s.reachable) down.push_back(s.address);
    }
    j["unreachable"] = down;
    j["seconds"] = RoundSeconds(r->seconds);
    fprintf(ctx.out(), "%s\n", DumpJson(j).c_str());
  } else {
    for (const auto& e : r->errors) fprintf(ctx.out(), "  not repaired: %s\n", e.c_str());
    for (const auto& s : r->check.suppliers) {
      if (s.reachable) continue;
      fprintf(ctx.out(), "  %d  %s  unreachable, not repaired: %s\n", s.position, s.address.c_str(),
              s.error.c_str());
    }
    for (size_t i = 0; i < r->written_per_position.size(); ++i) {
      if (r->written_per_position[i] == 0) continue;
      fprintf(ctx.out(), "  %zu  %s  %llu fragments stored\n", i,
              repo->suppliers().address(i).c_str(),
              (unsigned long long)r->written_per_position[i]);
    }
    fprintf(ctx.out(),
            "repair%s: %llu blocks, %llu to heal, %llu healed, %llu not repairable, %llu "
            "fragments stored, %llu records written, %.1f s\n",
            flags.dry_run ? " (dry run)" : "", (unsigned long long)r->check.blocks,
            (unsigned long long)r->blocks_to_heal, (unsigned long long)r->blocks_healed,
            (unsigned long long)r->blocks_unrepairable, (unsigned long long)r->fragments_written,
            (unsigned long long)r->records_written, r->seconds);
  }
  if (r->blocks_unrepairable > 0) return kDamaged;
  if (!flags.dry_run && r->blocks_healed < r->blocks_to_heal) return kError;
  // A supplier that did not answer could be neither checked nor healed: the
  // vault has less margin than n - k, which a 0 would hide from cron.
  for (const auto& s : r->check.suppliers) {
    if (!s.reachable) return kDegraded;
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupRepair(CLI::App& command) {
  auto flags = std::make_shared<RepairFlags>();
  Describe(command, kIntro, kNotes);
  command.add_flag("--dry-run", flags->dry_run, "report what would be repaired, store nothing");
  command.add_flag("--read-data", flags->read_data,
                   "read and verify every fragment to find the bad ones");
  command
      .add_option("--read-data-subset", flags->subset, "read a part: N% or group N of M (N/M)")
      ->type_name("N%|N/M")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  command.add_flag("--json", flags->json, "print the result as one JSON object");
  return [flags](const CommandContext& ctx) { return Repair(*flags, ctx); };
}

}  // namespace shardkeep::customer

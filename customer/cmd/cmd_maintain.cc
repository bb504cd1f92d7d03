// shardkeep maintain: the nightly job (leases, a sampled check, repair).
#include <unistd.h>

#include "customer/cmd/command.h"
#include "customer/repo/maintainer.h"
#include "customer/ui/progress_line.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "The nightly job, after `backup`: renews every supplier's lease, checks the\n"
    "vault (listings, audits of every supplier, and a seventh of the blocks read\n"
    "and verified, a different seventh each day), and repairs what it finds.\n"
    "deploy/shardkeep-backup.timer runs backup, forget --prune, then maintain\n"
    "every night.";

const char kNotes[] =
    "Exit code: as `repair` (0, 5 damaged, 1 storing failed), and 4 when the\n"
    "vault is still degraded afterwards (a supplier down) or a lease could not\n"
    "be renewed.\n";

absl::StatusOr<ExitCode> Maintain(const CommandContext& ctx) {
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  ProgressLine progress(isatty(STDERR_FILENO));
  auto r = MaintainVault(*repo, progress);
  progress.Stop();
  if (!r.ok()) return r.status();
  PublishVaultToDht(ctx, repo->vault());
  const RepairResult& rep = r->repair;
  fprintf(ctx.out(),
          "maintain: %d leases renewed; check read group %u/7 (%llu blocks read), %s; repair: "
          "%llu to heal, %llu healed, %llu not repairable, %llu fragments stored\n",
          r->leases_renewed, r->read_group, (unsigned long long)rep.check.blocks_read,
          StateName(rep.check.state), (unsigned long long)rep.blocks_to_heal,
          (unsigned long long)rep.blocks_healed, (unsigned long long)rep.blocks_unrepairable,
          (unsigned long long)rep.fragments_written);
  for (const auto& e : rep.errors) fprintf(ctx.out(), "  not repaired: %s\n", e.c_str());
  if (rep.blocks_unrepairable > 0) return kDamaged;
  if (rep.blocks_healed < rep.blocks_to_heal) return kError;
  bool down = false;
  for (const auto& s : rep.check.suppliers) down |= !s.reachable;
  if (down || !r->lease_errors.empty()) return kDegraded;
  return kSuccess;
}

}  // namespace

CommandAction SetupMaintain(CLI::App& command) {
  Describe(command, kIntro, kNotes);
  return [](const CommandContext& ctx) { return Maintain(ctx); };
}

}  // namespace shardkeep::customer

#include "customer/repo/forgetter.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/error_kind.h"
#include "common/hostname.h"
#include "customer/repo/pending_deletes.h"
#include "customer/vault/names.h"

namespace shardkeep::customer {
absl::StatusOr<ForgetResult> ForgetSnapshots(Repository& repo, const ForgetRequest& request,
                                             Progress& progress) {
  if (request.snapshots.empty() && request.policy.empty()) {
    return UsageError(
        "forget needs snapshot IDs or a policy (--keep-last, --keep-daily, ...); nothing to do");
  }
  if (!request.snapshots.empty() && !request.policy.empty()) {
    return UsageError("give snapshot IDs or a --keep-* policy, not both");
  }
  Clock* clock = request.clock != nullptr ? request.clock : RealClock();
  RETURN_IF_ERROR(repo.CheckSuppliers(CommitThreshold(repo.n(), repo.k())));
  std::unique_ptr<VaultLock> lock;
  if (!request.dry_run) {
    ASSIGN_OR_RETURN(lock, VaultLock::Acquire(repo, VaultLock::Kind::kShared, "forget",
                                              request.lock));
  }
  ASSIGN_OR_RETURN(std::vector<vault::v1::Snapshot> snapshots, repo.LoadSnapshots());

  ForgetResult result;
  if (!request.snapshots.empty()) {
    ForgetGroup g;
    g.description = "snapshots given";
    std::set<std::string> ids;
    for (const auto& spec : request.snapshots) {
      ASSIGN_OR_RETURN(vault::v1::Snapshot s, Repository::FindSnapshot(snapshots, spec));
      if (ids.insert(s.id()).second) g.remove.push_back(std::move(s));
    }
    result.groups.push_back(std::move(g));
  } else {
    result.groups =
        ApplyForgetPolicy(snapshots, request.policy, request.group_by, absl::LocalTimeZone());
  }
  if (request.dry_run) return result;

  std::vector<std::string> names;
  for (const auto& g : result.groups) {
    for (const auto& s : g.remove) {
      RETURN_IF_ERROR(lock->Held());
      vault::v1::Forgotten f;
      f.set_snapshot_id(s.id());
      f.set_sequence(s.sequence());
      f.set_time_ns(s.time_ns());
      f.set_forgotten_ms(clock->NowMs());
      f.set_hostname(shardkeep::Hostname());
      // The tombstone first: with it stored, the record is gone for every
      // reader whatever happens to the deletes.
      RETURN_IF_ERROR(
          repo.PutObject(ForgottenObjectName(s.id()), f.SerializeAsString(), /*cache=*/true));
      names.push_back(SnapshotObjectName(s.id()));
      ++result.removed;
    }
  }
  // Records tombstoned earlier that a supplier still lists go too.
  for (const auto& n : repo.forgotten_still_listed()) names.push_back(n);
  for (int pos : repo.DeleteObjects(names)) AddPendingDeletes(repo, pos, {}, names);
  if (request.prune) {
    lock.reset();  // prune takes its own, exclusive
    PruneOptions po = request.prune_options;
    po.lock = request.lock;
    ASSIGN_OR_RETURN(result.prune, PruneVault(repo, po, progress));
    result.pruned = true;
  }
  return result;
}

}  // namespace shardkeep::customer

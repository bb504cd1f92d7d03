// `shardkeep forget`: removes snapshot records, by ID or by a retention
// policy (forget_policy.h). For each, a tombstone (object forgotten/<id>,
// vault.proto Forgotten) is stored first, then the record is deleted at
// every supplier: a supplier that was down keeps the record until the next
// prune, and readers hide it meanwhile; the rollback check counts tombstoned
// snapshots as removed by the owner. The data stays until `prune`.
#ifndef SHARDKEEP_CUSTOMER_REPO_FORGETTER_H_
#define SHARDKEEP_CUSTOMER_REPO_FORGETTER_H_

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "customer/repo/forget_policy.h"
#include "customer/repo/progress.h"
#include "customer/repo/pruner.h"
#include "customer/repo/repository.h"
#include "customer/repo/vault_lock.h"

namespace shardkeep::customer {

struct ForgetRequest {
  std::vector<std::string> snapshots;  // IDs or prefixes; exclusive with a policy
  ForgetPolicy policy;
  GroupBy group_by;
  bool dry_run = false;
  VaultLock::Options lock;
  Clock* clock = nullptr;  // null: RealClock()
  // `forget --prune`: PruneVault right after (with its exclusive lock),
  // if anything was removed.
  bool prune = false;
  PruneOptions prune_options;
};

struct ForgetResult {
  std::vector<ForgetGroup> groups;  // by ID: one group holding the removed ones
  int removed = 0;                  // records removed (0 with dry_run)
  bool pruned = false;
  PruneResult prune;
};

// Takes a shared lock (backups may run meanwhile: they only add). Usage
// error for no IDs and no policy, or both; NotFound for an ID no snapshot
// has.
absl::StatusOr<ForgetResult> ForgetSnapshots(Repository& repo, const ForgetRequest& request,
                                             Progress& progress);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_FORGETTER_H_

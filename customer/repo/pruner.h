// `shardkeep prune`: gives the space of data no snapshot needs back at the
// suppliers (docs/FORMAT.md, "Prune"). Under an exclusive lock
// (vault_lock.h), so no backup is writing meanwhile:
//
//  1. every snapshot's trees are walked: the chunks they use;
//  2. blocks none of whose chunks is used are dropped; blocks mostly unused
//     are repacked (their used chunks go into new blocks through
//     BlockWriter) until the unused share is at most --max-unused;
//  3. the whole index is written as a new epoch (WriteIndexBase) naming only
//     what stays: from then on readers ignore every older piece, so a
//     supplier that keeps an old piece cannot bring a dropped block back;
//  4. the old index pieces, tombstoned snapshot records, the fragments of
//     dropped blocks, and every fragment no index names (left by backups
//     that were killed before a checkpoint) are deleted at every supplier;
//     what a supplier that is down misses is recorded (pending_deletes.h).
//
// Steps 1-2 change nothing at the suppliers but new blocks; a prune stopped
// before 3 leaves only blocks no index names, which the next prune deletes.
// Stopped during 3, the new epoch is incomplete and readers keep the old
// one. Refuses to run when the snapshot history looks held back (a supplier
// hiding snapshots must not make prune delete their data) or a snapshot
// needs a chunk the index lacks.
#ifndef SHARDKEEP_CUSTOMER_REPO_PRUNER_H_
#define SHARDKEEP_CUSTOMER_REPO_PRUNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "customer/repo/progress.h"
#include "customer/repo/repository.h"
#include "customer/repo/vault_lock.h"

namespace shardkeep::customer {

struct PruneOptions {
  // Unused bytes tolerated after the prune, as a share of all stored bytes
  // (restic's --max-unused): 5 keeps blocks up to 5% unused without
  // repacking; 0 repacks every block with anything unused.
  double max_unused_percent = 5;
  bool dry_run = false;
  VaultLock::Options lock;
};

struct PruneResult {
  uint64_t snapshots = 0;
  uint64_t blocks = 0;            // in the index before
  uint64_t blocks_unused = 0;     // dropped: no chunk used
  uint64_t blocks_repacked = 0;   // mostly unused: their used chunks moved
  uint64_t blocks_written = 0;    // new blocks holding the moved chunks
  uint64_t bytes_used = 0;        // stored chunk bytes snapshots use
  uint64_t bytes_unused = 0;      // stored chunk bytes none uses, before
  uint64_t bytes_unused_after = 0;
  uint64_t fragments_deleted = 0; // asked to delete, all positions
  uint64_t orphans = 0;           // fragments no index named (part of the above)
  uint64_t index_pieces_deleted = 0;
  uint64_t used_before = 0, used_after = 0;  // sum of the suppliers' usage (contracts)
  std::vector<int> pending_positions;        // suppliers that missed deletes
};

absl::StatusOr<PruneResult> PruneVault(Repository& repo, const PruneOptions& options,
                                       Progress& progress);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_PRUNER_H_

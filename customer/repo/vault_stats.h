// `shardkeep stats` below the CLI: how big the vault is, at each stage from
// the files to the suppliers' disks.
//
// Every figure comes from what a command loads anyway (snapshot records,
// the index, one GetContract per supplier): no tree is walked and no block
// is read, so stats is as quick as `snapshots`.
#ifndef SHARDKEEP_CUSTOMER_REPO_VAULT_STATS_H_
#define SHARDKEEP_CUSTOMER_REPO_VAULT_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "customer/repo/repository.h"

namespace shardkeep::customer {

struct SupplierUsage {
  int position = 0;
  std::string address;
  bool reachable = false;
  std::string error;         // why the contract could not be read
  uint64_t quota_bytes = 0;  // the contract's (0 if unreachable)
  uint64_t used_bytes = 0;   // as the supplier counts it: fragments and objects
  uint64_t fragments = 0;
  uint64_t objects = 0;
  // What the index says this position holds: the fragment bytes of every
  // block whose record has it (stored_mask); objects are not counted.
  uint64_t indexed_bytes = 0;
  uint64_t indexed_fragments = 0;
};

struct VaultStats {
  uint64_t snapshots = 0;
  // Logical size, from the snapshot records' summaries (the sum of the file
  // sizes each backup saw): what restoring the latest snapshot writes, and
  // the same summed over every snapshot (restic's restore-size mode counts
  // the latter).
  uint64_t latest_logical_bytes = 0;
  uint64_t total_logical_bytes = 0;
  uint64_t files_latest = 0;
  // From the index: unique chunks and blocks, and their sealed bytes (after
  // dedup, compression and encryption: what the vault stores once).
  uint64_t chunks = 0;
  uint64_t blocks = 0, data_blocks = 0, tree_blocks = 0;
  uint64_t stored_bytes = 0;
  // With redundancy: fragment_size times the positions holding each block.
  uint64_t stored_with_redundancy_bytes = 0;
  int n = 0, k = 0;
  std::vector<SupplierUsage> suppliers;  // by position
};

// Needs one supplier answering for the snapshot list and the index
// (kSuppliersUnreachable otherwise); the others are listed as unreachable.
absl::StatusOr<VaultStats> ComputeVaultStats(Repository& repo);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_VAULT_STATS_H_

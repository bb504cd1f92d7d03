// `shardkeep repair` below the CLI: puts back every missing or corrupt
// fragment the check finds, rebuilt from k good ones, at its own position.
//
// For each block with bad fragments at suppliers that answer and at least k
// good ones: k good fragments are downloaded (bounded, hash-checked),
// decoded to the sealed block and encoded again; the code is deterministic,
// so the rebuilt fragments have exactly the hashes the index records (this is
// checked before anything is stored), and the BlockRecord stays valid. They
// are stored with PutFragment (which replaces a corrupt one).
//
// The positions a block is held at are recorded in a repair index piece
// (index/<repair-id>.<n>: BlockRecords without chunks, stored_mask = every
// position now held; docs/FORMAT.md "Repair records"), which VaultIndex
// merges with the original record, so restore asks the healed suppliers too.
// A block whose fragments are all listed right but whose record misses some
// positions (a backup that ran with a supplier down, or a repair interrupted
// before its record was written) gets such a record without any upload.
// Records are written every kRepairRecordsPerPiece blocks and at the end, so
// an interrupted repair keeps what it stored and a second run finishes it;
// a run that finds nothing to do writes nothing (idempotent).
#ifndef SHARDKEEP_CUSTOMER_REPO_REPAIRER_H_
#define SHARDKEEP_CUSTOMER_REPO_REPAIRER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "customer/repo/checker.h"
#include "customer/repo/progress.h"
#include "customer/repo/repository.h"

namespace shardkeep::customer {

inline constexpr size_t kRepairRecordsPerPiece = 1000;

struct RepairOptions {
  bool dry_run = false;  // report what would be done, store nothing
  // How the bad fragments are found (CheckOptions): the listing only, or
  // read-data (finds bit rot in a supplier's files).
  CheckOptions check;
  int workers = 4;
};

struct RepairResult {
  CheckResult check;                  // what the check found before
  uint64_t blocks_to_heal = 0;        // with bad fragments at suppliers that answer
  uint64_t blocks_healed = 0;         // every bad fragment stored again
  uint64_t blocks_unrepairable = 0;   // fewer than k good fragments, or unreadable
  uint64_t fragments_written = 0;
  uint64_t records_written = 0;       // repair records (positions healed or found)
  std::vector<uint64_t> written_per_position;
  std::vector<std::string> errors;    // one per block that could not be healed
  double seconds = 0;
};

// CheckVault, then the repair. Per-block failures are in the result.
absl::StatusOr<RepairResult> RepairVault(Repository& repo, const RepairOptions& options,
                                         Progress& progress);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_REPAIRER_H_

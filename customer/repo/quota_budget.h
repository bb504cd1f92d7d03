// What a backup may still store at each supplier before its quota is full,
// so that it stops before uploading a block that cannot fit, instead of
// finding out from a supplier's RESOURCE_EXHAUSTED halfway through a block
// (or committing blocks degraded because one supplier is full).
//
// Made from the contracts read at the start of the backup (quota and usage
// as each supplier counts them, Repository::Contracts()). Every block
// charges each position what the supplier will charge for its fragment
// (max(size, 4 KiB) + the key: docs/PROTOCOL.md, "Quota charge") plus an
// estimate of its share of the index pieces; a fixed reserve stays free for
// the final index piece and the snapshot record. Other writers to the same
// contract (another machine's backup) are not seen: the supplier's own
// check remains the last word.
//
// Thread-safe.
#ifndef SHARDKEEP_CUSTOMER_REPO_QUOTA_BUDGET_H_
#define SHARDKEEP_CUSTOMER_REPO_QUOTA_BUDGET_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "customer/repo/repository.h"

namespace shardkeep::customer {

class QuotaBudget {
 public:
  struct Position {
    std::string address;
    bool known = false;  // false: the contract could not be read; not limited here
    uint64_t quota_bytes = 0;
    uint64_t used_bytes = 0;
  };

  // Kept free at every position for the last index piece and the snapshot
  // record (both far smaller in practice; objects are charged in full at
  // every supplier).
  static constexpr uint64_t kReserveBytes = 256 << 10;

  // `needed_bytes`: the vault config's, for the message's suggestion.
  QuotaBudget(std::vector<Position> positions, uint64_t needed_bytes, int k);
  // From every supplier's contract (an unreadable one is not limited).
  static QuotaBudget FromContracts(Repository& repo,
                                   const std::vector<absl::StatusOr<v1::Contract>>& contracts);

  // What one block with fragments of `fragment_bytes` and `chunks` chunks
  // costs each position.
  static uint64_t BlockCharge(uint64_t fragment_bytes, size_t chunks, int n);

  // Charges a block to every position (but those in `skip_mask`, e.g. marked
  // down) if it fits at all of them. Otherwise charges nothing and returns
  // ResourceExhausted marked ErrorKind::kQuotaExceeded naming the first
  // supplier without room, its quota, its usage and what the block needs,
  // and saying to run `suppliers resize` or `forget --prune`.
  absl::Status Charge(uint64_t fragment_bytes, size_t chunks, uint64_t skip_mask = 0);

  // Bytes charged so far at `position`.
  uint64_t charged(int position) const;

 private:
  mutable std::mutex mu_;
  std::vector<Position> positions_;
  std::vector<uint64_t> charged_;  // guarded by mu_
  uint64_t needed_bytes_;
  int k_;
};

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_QUOTA_BUDGET_H_

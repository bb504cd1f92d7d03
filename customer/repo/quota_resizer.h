// `shardkeep suppliers resize` below the CLI: every supplier is asked to
// resize this vault's contract to a new quota, and the vault config records
// what each granted.
//
// The quota asked of each supplier is ceil(needed / k), as at init: any k
// fragments rebuild a block, so each supplier holds about 1/k of the vault.
// RequestContract on an existing contract resizes it (docs/PROTOCOL.md); a
// supplier may refuse (RESOURCE_EXHAUSTED: its capacity; FAILED_PRECONDITION:
// a shrink below what it holds), and then keeps the quota it had.
#ifndef SHARDKEEP_CUSTOMER_REPO_QUOTA_RESIZER_H_
#define SHARDKEEP_CUSTOMER_REPO_QUOTA_RESIZER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "customer/repo/repository.h"

namespace shardkeep::customer {

struct QuotaChange {
  int position = 0;
  std::string address;
  bool reachable = false;
  bool granted = false;
  uint64_t previous_bytes = 0;  // the quota before (0 if its contract could not be read)
  uint64_t asked_bytes = 0;
  uint64_t quota_bytes = 0;  // the quota now: asked_bytes if granted, else previous_bytes
  std::string error;         // the supplier's refusal, or why it was not reached
};

struct ResizeResult {
  uint64_t needed_bytes = 0;
  uint64_t per_supplier_bytes = 0;  // ceil(needed / k)
  std::vector<QuotaChange> suppliers;
  bool config_written = false;  // some quota changed: new config generation stored
  int refused = 0, unreachable = 0;
};

// Asks every supplier that answers for a quota of ceil(needed_bytes / k).
// Then, if any quota changed, writes a new vault config (generation + 1)
// with each supplier's quota as it now stands, and needed_bytes only if
// every supplier granted it, to every supplier that answers and to the
// config dir (as `suppliers replace` does). A refusal or an unreachable
// supplier is not an error here: it is in the result, and the caller
// decides. UsageError for needed_bytes 0; the config's storage errors.
absl::StatusOr<ResizeResult> ResizeQuotas(Repository& repo, uint64_t needed_bytes);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_QUOTA_RESIZER_H_

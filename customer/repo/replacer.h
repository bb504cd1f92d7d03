// `shardkeep suppliers replace` below the CLI: fires the supplier at one
// position and hires another for it.
//
//  1. the new supplier: Info (its supplier ID), a contract for the position
//     (the quota of the old one, or ceil(needed / k));
//  2. every metadata object (config, key record, snapshots, index pieces) is
//     copied to it from the others (the sealed copies as stored; each sealed
//     one must open under the vault's key);
//  3. every block's fragment for that position is rebuilt from k good ones
//     of the other positions (decode, encode: the same bytes, so the index
//     stays true) and stored on it: k fragments in and one out per block;
//  4. the vault config names the new supplier at that position: saved in the
//     config dir and stored on every supplier (object "config");
//  5. the old supplier's contract is cancelled when it answers.
// Interrupted, it can be run again with the same arguments: fragments the
// new supplier lists with the right size and hash are skipped (neither
// rebuilt nor sent), objects already stored are answered "already present"
// at once. Until step 4 the vault still names the old supplier.
#ifndef SHARDKEEP_CUSTOMER_REPO_REPLACER_H_
#define SHARDKEEP_CUSTOMER_REPO_REPLACER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "customer/net/supplier_client.h"
#include "customer/repo/progress.h"
#include "customer/repo/repository.h"

namespace shardkeep::customer {

struct ReplaceResult {
  int position = 0;
  std::string old_address, new_address;
  uint64_t objects_copied = 0;
  uint64_t fragments_written = 0;
  uint64_t fragment_bytes = 0;
  uint64_t fragments_fetched = 0;  // from the other positions
  // Already listed by the new supplier with the right size and hash (a
  // replace run again after an interruption): not fetched, not sent.
  uint64_t fragments_present = 0;
  bool old_cancelled = false;
  std::string cancel_error;        // why not, if it answered but refused
  double seconds = 0;
};

// `which` is a position (0..n-1) or an address of the vault's config.
// REQUIRES: nothing loaded yet (it loads the index itself). Errors: usage
// (kUsage) for an unknown position/address or a new address already in the
// vault; kSuppliersUnreachable when fewer than k of the others answer;
// DataLoss naming the blocks with fewer than k good fragments elsewhere
// (the config is then not changed).
absl::StatusOr<ReplaceResult> ReplaceSupplier(Repository& repo, const std::string& which,
                                              const std::string& new_address,
                                              const SupplierConnector& connector,
                                              Progress& progress);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_REPLACER_H_

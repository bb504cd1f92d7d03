// A supplier that moved (docs/DISCOVERY.md, "Address change"): a
// SupplierClient wrapper that, when a call to the stored address cannot
// connect (UNAVAILABLE) and the client is pinned to a TLS key, looks that
// key's identity up in the DHT; if a verified offer of the same key names
// another address, it connects there (pinned to the same key, so only the
// genuine supplier can answer), retries the call once, and reports the move.
// A vault's config is then rewritten by RecordMoves after the command.
//
// Threading: calls may come from many threads (SupplierSet's pools); the
// inner client is swapped under a mutex, and the DHT is looked up at most
// once per client.
#ifndef SHARDKEEP_CUSTOMER_DISCOVERY_RELOCATING_CLIENT_H_
#define SHARDKEEP_CUSTOMER_DISCOVERY_RELOCATING_CLIENT_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "customer/net/supplier_client.h"

namespace shardkeep::customer {

struct SupplierMove {
  std::string fingerprint;  // the pinned key (32 bytes)
  std::string old_address, new_address;
};

// The moves seen by the clients of one command (shared, thread-safe).
class MoveLog {
 public:
  void Add(SupplierMove move);
  std::vector<SupplierMove> moves() const;

 private:
  mutable std::mutex mu_;
  std::vector<SupplierMove> moves_;
};

// `base`, whose clients follow a pinned supplier to its new address through
// the DHT joined via `bootstrap` (joined on the first lookup only).
SupplierConnector RelocatingConnector(SupplierConnector base, std::vector<std::string> bootstrap,
                                      std::shared_ptr<MoveLog> log);

// Rewrites <config_dir>/config with each move's new address at the position
// pinned to its key and the old address, and the generation incremented.
// Returns the number of entries changed (0: nothing written). The sealed
// copies on the suppliers are not rewritten here (that needs the vault's
// key): they are at the next `suppliers replace` or `key passwd`; until
// then a recovery follows the move through the DHT the same way.
absl::StatusOr<int> RecordMoves(const std::string& config_dir,
                                const std::vector<SupplierMove>& moves);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_DISCOVERY_RELOCATING_CLIENT_H_

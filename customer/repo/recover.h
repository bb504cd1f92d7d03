// RecoverVault: `recover`'s algorithm. After the disk is lost, the user has
// the vault ID, the address of at least one supplier and the passphrase (or
// the paper key); this rebuilds a working config dir and cache dir from the
// suppliers (docs/SECURITY.md, "Recovery").
//
// Steps (nothing is written to the config dir before the last one):
//  1. Check the request (usage errors): a vault ID, 1..64 distinct HOST:PORT
//     addresses, no vault in the config dir unless `overwrite`.
//  2. The key: with the passphrase, ask the named suppliers in order for the
//     key records under the vault ID (unauthenticated; every candidate, as a
//     squatter may have added its own), skip malformed or out-of-bounds ones
//     (naming the supplier), and open them with one key derivation per
//     distinct salt and parameters, until one opens. A supplier whose record
//     does not open while another's does is named. None opens: wrong
//     passphrase (kWrongPassphrase). With the paper key, no record is needed.
//  3. The config: from the named suppliers, now authenticated with the
//     vault's identity; sealed, so an altered copy does not open (named);
//     the highest generation wins. A passphrase that opens a record older
//     than the config names (changed by `key passwd`) is refused
//     (kWrongPassphrase).
//  4. Every supplier of the config: renew the lease (GetContract), make sure
//     it holds the current key record (an altered or old one is replaced,
//     naming the supplier), load the index pieces and snapshot records into
//     the cache, and check the snapshot history for rollback.
//  5. With the paper key: a new key record under the new passphrase, the
//     config naming it, on the suppliers. Then the config dir is written.
#ifndef SHARDKEEP_CUSTOMER_REPO_RECOVER_H_
#define SHARDKEEP_CUSTOMER_REPO_RECOVER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "customer/net/supplier_client.h"
#include "customer/net/supplier_set.h"
#include "customer/vault/keys.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

struct RecoverRequest {
  std::string vault_id;                         // 16 bytes
  std::vector<std::string> supplier_addresses;  // as the user named them, tried in order
  std::string config_dir;
  std::string cache_dir;
  bool overwrite = false;  // replace a vault already in config_dir
  // Asked once, when the first usable key record is in hand.
  std::function<absl::StatusOr<std::string>()> passphrase;
  // Non-empty: recover with this master key (the paper key) instead; then
  // `new_passphrase` is asked for the new key record.
  std::string master_key;
  std::function<absl::StatusOr<std::string>()> new_passphrase;
  KdfParams kdf;  // for the new key record (paper key)
  // Progress ("asking 10.0.0.1:7700 for the key record") and warnings
  // (each naming a supplier or a snapshot); either may be empty.
  std::function<void(const std::string&)> step;
  std::function<void(const std::string&)> warn;
  SupplierSet::Options options;
};

struct RecoveredVault {
  vault::v1::VaultConfig config;
  std::string key_from;        // the supplier whose key record opened (empty: paper key)
  int suppliers_reachable = 0;
  int64_t safe_until_ms = 0;   // the earliest lease end among them (0: unknown)
  size_t blocks = 0;
  size_t snapshots = 0;
  vault::v1::Snapshot latest;  // empty id if none
  std::vector<std::string> problems;  // the warnings, also sent to `warn`
};

absl::StatusOr<RecoveredVault> RecoverVault(const RecoverRequest& request,
                                            const SupplierConnector& connector);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_RECOVER_H_

// The vault's key record on the suppliers and in the config dir: replacing
// it under a new passphrase (`key passwd`, and `recover --key-file`, which
// has no passphrase to keep). The master key does not change, so nothing is
// re-encrypted (docs/SECURITY.md, "Changing the passphrase").
#ifndef SHARDKEEP_CUSTOMER_REPO_KEY_RECORDS_H_
#define SHARDKEEP_CUSTOMER_REPO_KEY_RECORDS_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "customer/repo/repository.h"
#include "customer/vault/keys.h"

namespace shardkeep::customer {

struct ChangedKeyRecord {
  vault::v1::KeyRecord record;
  // Suppliers that did not take the new record (down): they get it at the
  // next command that reaches them (Repository::PushPendingKeyRecords).
  std::vector<std::string> pending;
};

// Wraps the vault's master key under `new_passphrase` into a new key record
// and makes it current: the vault config (generation + 1, the record's hash)
// sealed on at least CommitThreshold suppliers, the record on every supplier
// that is up, then the config dir. From then on recover refuses the old
// record even where a supplier still holds it. REQUIRES: CheckSuppliers ran.
// kSuppliersUnreachable if too few suppliers take the config (nothing local
// changes then).
// What ChangeKeyRecord does on the suppliers: `config` (naming `record`'s
// hash) sealed on at least CommitThreshold suppliers, then `record` on every
// supplier that is up. The positions that did not take the record (to be
// remembered in the seen state's key_record_pending). Error, with nothing
// sent but possibly the config, if too few took the config.
absl::StatusOr<std::vector<uint32_t>> PublishKeyRecord(Repository& repo,
                                                       const vault::v1::KeyRecord& record,
                                                       const vault::v1::VaultConfig& config);

// The config naming `record` as current: generation + 1, the record's hash.
vault::v1::VaultConfig ConfigForKeyRecord(const vault::v1::VaultConfig& config,
                                          const vault::v1::KeyRecord& record);

absl::StatusOr<ChangedKeyRecord> ChangeKeyRecord(Repository& repo,
                                                 std::string_view new_passphrase,
                                                 const KdfParams& kdf);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_KEY_RECORDS_H_

// Metadata objects (the vault config, snapshot records, index pieces), sealed
// under the metadata key before they go to suppliers (docs/FORMAT.md,
// "Objects"). The object's name is bound into the associated data, so a
// supplier cannot pass one object off as another.
//
//   sealed = "SKO1" || nonce (12) || AES-256-GCM(metadata key, nonce, aad, body)
//   aad    = "shardkeep/v1/object" || 0x00 || vault_id (16) || name
//   body   = flags (1 byte; bit 0: zstd) || uint64 LE plaintext length || data
#ifndef SHARDKEEP_CUSTOMER_VAULT_OBJECTS_H_
#define SHARDKEEP_CUSTOMER_VAULT_OBJECTS_H_

#include <string>
#include <string_view>

#include "common/status.h"
#include "customer/vault/names.h"  // object names

namespace shardkeep::customer {

// Refuses plaintexts over this size (a bound for OpenObject's allocation).
inline constexpr size_t kMaxObjectPlaintext = size_t{256} << 20;

absl::StatusOr<std::string> SealObject(std::string_view metadata_key, std::string_view vault_id,
                                       std::string_view name, std::string_view plaintext);

// DataLoss naming the object if it is malformed or does not authenticate as
// `name` of this vault.
absl::StatusOr<std::string> OpenObject(std::string_view metadata_key, std::string_view vault_id,
                                       std::string_view name, std::string_view sealed);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_VAULT_OBJECTS_H_

// The vault's keys: the master key, the subkeys HKDF derives from it, and
// the key record that wraps the master key under the passphrase
// (docs/FORMAT.md, "Keys").
#ifndef SHARDKEEP_CUSTOMER_VAULT_KEYS_H_
#define SHARDKEEP_CUSTOMER_VAULT_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

inline constexpr size_t kVaultIdSize = 16;
inline constexpr size_t kMasterKeySize = 32;
inline constexpr size_t kKeyRecordSaltSize = 32;

// The keys a vault works with, all derived from the master key and the vault
// ID. Each key has one purpose, so a leak of one (say, the identity key
// through a signing bug) tells nothing about the others.
struct VaultKeys {
  std::string block_key;        // AES-256-GCM key for blocks
  std::string chunk_id_key;     // HMAC-SHA256 key for chunk IDs
  std::string metadata_key;     // AES-256-GCM key for objects (config, snapshots, index)
  std::string identity_seed;    // Ed25519 private key: the customer's identity at suppliers
  std::string identity_public;  // Ed25519 public key of identity_seed
};

// HKDF-SHA256(ikm = master, salt = vault_id, info = "shardkeep/v1/<purpose>").
// REQUIRES: master is 32 bytes, vault_id 16 bytes.
VaultKeys DeriveKeys(std::string_view master, std::string_view vault_id);

// scrypt cost. 2^16 x 8 x 1 takes ~64 MiB and ~0.2 s here: paid once per
// command, and it is what stands between a stolen key record and the data.
struct ScryptParams {
  uint64_t n = uint64_t{1} << 16;
  uint32_t r = 8;
  uint32_t p = 1;
};

// Wraps `master` under scrypt(passphrase) into a new key record with a fresh
// salt and nonce. `customer_key` is the identity public key (stored so a
// supplier can answer GetKeyRecord; checked again after unwrapping).
absl::StatusOr<vault::v1::KeyRecord> WrapMasterKey(std::string_view master,
                                                   std::string_view vault_id,
                                                   std::string_view passphrase,
                                                   const ScryptParams& params,
                                                   std::string_view customer_key);

// The master key in `record`. A wrong passphrase (or a tampered record) is
// PermissionDenied marked with exit code kWrongPassphrase; a malformed record
// is DataLoss.
absl::StatusOr<std::string> UnwrapMasterKey(const vault::v1::KeyRecord& record,
                                            std::string_view passphrase);

// The associated data that binds a wrapped master key to its vault and
// parameters (docs/FORMAT.md, "Key record").
std::string KeyRecordAad(const vault::v1::KeyRecord& record);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_VAULT_KEYS_H_

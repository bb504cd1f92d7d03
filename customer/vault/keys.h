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

// Key derivation for a new key record: Argon2id (docs/SECURITY.md says why
// and what a guess costs). m_cost_kib and lanes are fixed; t_cost == 0 asks
// WrapMasterKey to calibrate the passes so that one derivation takes about
// kKdfTargetMs on this machine (at least 3 passes, at most 10).
//
// 64 MiB, RFC 9106's second recommended setting (t = 3, 64 MiB), rather than
// the 256 MiB of 0.2: every command derives the key once, so the KDF's
// memory is the floor of every command's peak memory (it made backup and
// restore of the kernel tree peak at 272 MB, against restic's 115/146 MB);
// more passes at a quarter of the memory keep about the same cost per guess.
struct KdfParams {
  uint32_t t_cost = 0;
  uint32_t m_cost_kib = 64 * 1024;  // 64 MiB
  uint32_t lanes = 2;
  // 1 MiB, one pass: for tests only (the format is the same at any cost).
  static KdfParams CheapForTests() { return KdfParams{1, 1024, 1}; }
};
inline constexpr int kKdfTargetMs = 600;

// The passes that make one derivation with `params` take about target_ms
// here (at least 3, at most 10): measures one pass (~0.1-0.2 s at 64 MiB).
uint32_t CalibrateKdfPasses(const KdfParams& params, int target_ms);

// scrypt cost of version 1 records (read, never written any more).
struct ScryptParams {
  uint64_t n = uint64_t{1} << 16;
  uint32_t r = 8;
  uint32_t p = 1;
};

// Checks a record's derivation parameters against the reader's bounds
// before any memory is taken: version 1 (scrypt) at most 1 GiB of memory
// (128 N r) and N r p <= 2^24; version 2 (Argon2id) at most 1 GiB, 16 passes,
// 8 lanes, 4 GiB x passes. DataLoss naming the parameter otherwise.
absl::Status CheckKdfBounds(const vault::v1::KeyRecord& record);

// CheckKdfBounds, and the fields' sizes (vault ID, salt of at least 8 bytes,
// nonce, wrapped key): what a record needs before any derivation.
absl::Status CheckKeyRecord(const vault::v1::KeyRecord& record);

// The key-encryption key `record`'s parameters derive from `passphrase`.
absl::StatusOr<std::string> DeriveKek(const vault::v1::KeyRecord& record,
                                      std::string_view passphrase);

// Wraps `master` under Argon2id(passphrase) into a new version 2 key record
// with a fresh salt and nonce. `customer_key` is the identity public key
// (stored so a supplier can answer GetKeyRecord; checked again after
// unwrapping).
absl::StatusOr<vault::v1::KeyRecord> WrapMasterKey(std::string_view master,
                                                   std::string_view vault_id,
                                                   std::string_view passphrase,
                                                   const KdfParams& params,
                                                   std::string_view customer_key);

// The master key in `record`. A wrong passphrase (or a tampered record) is
// PermissionDenied marked with exit code kWrongPassphrase; a malformed
// record, or one outside the bounds of CheckKdfBounds, is DataLoss.
absl::StatusOr<std::string> UnwrapMasterKey(const vault::v1::KeyRecord& record,
                                            std::string_view passphrase);

// The same with the key-encryption key already derived (recover tries one
// derivation against several copies of a record).
absl::StatusOr<std::string> UnwrapMasterKeyWithKek(const vault::v1::KeyRecord& record,
                                                   std::string_view kek);

// True if `record` belongs to `master`: its customer key is the identity
// that master derives (how a paper key picks its record among candidates).
bool RecordMatchesMaster(const vault::v1::KeyRecord& record, std::string_view master);

// The associated data that binds a wrapped master key to its vault and
// parameters (docs/FORMAT.md, "Key record").
std::string KeyRecordAad(const vault::v1::KeyRecord& record);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_VAULT_KEYS_H_

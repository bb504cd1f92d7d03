// A vault as the customer machine holds it: the config dir with the vault's
// configuration and key record, the unlocked keys, and the cache dir
// (docs/FORMAT.md, "Config dir" and "Cache dir"). No network here: the
// suppliers are reached through customer/net/supplier_set.h.
//
// One vault per config dir:
//   <config-dir>/config   VaultConfig (binary protobuf), mode 0600
//   <config-dir>/key      KeyRecord (binary protobuf), mode 0600
//   <config-dir>/seen     SeenState: the newest snapshot seen, key records
//                         still to push (not a cache: rollback detection)
//   <cache-dir>/<vault-id-hex>/...  caches, rebuildable from the suppliers
#ifndef SHARDKEEP_CUSTOMER_VAULT_VAULT_H_
#define SHARDKEEP_CUSTOMER_VAULT_VAULT_H_

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "customer/vault/keys.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

class Vault {
 public:
  // True if config_dir holds a vault's config or key file.
  static bool Exists(const std::string& config_dir);

  // Writes a new vault's files into config_dir (created 0700 if missing).
  // AlreadyExists naming the dir if a vault is there. Files are written
  // atomically (temporary name, fsync, rename).
  static absl::StatusOr<std::unique_ptr<Vault>> Create(const std::string& config_dir,
                                                       const std::string& cache_dir,
                                                       const vault::v1::VaultConfig& config,
                                                       const vault::v1::KeyRecord& key_record,
                                                       std::string_view master);

  // An unlocked vault in memory; nothing is written until Save (recover
  // fetches everything before it writes the config dir).
  static std::unique_ptr<Vault> FromParts(const std::string& config_dir,
                                          const std::string& cache_dir,
                                          const vault::v1::VaultConfig& config,
                                          const vault::v1::KeyRecord& key_record,
                                          std::string_view master);

  // Writes the key record and config into the config dir (created 0700).
  // AlreadyExists naming the dir if a vault is there and !overwrite.
  absl::Status Save(bool overwrite);

  // Loads the vault of config_dir and unlocks it. kNotInitialized (exit 10)
  // naming the dir if there is none; kWrongPassphrase (exit 12).
  static absl::StatusOr<std::unique_ptr<Vault>> Open(const std::string& config_dir,
                                                     const std::string& cache_dir,
                                                     std::string_view passphrase);

  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

  const vault::v1::VaultConfig& config() const { return config_; }
  const vault::v1::KeyRecord& key_record() const { return key_record_; }
  const VaultKeys& keys() const { return keys_; }
  const std::string& vault_id() const { return config_.vault_id(); }
  std::string vault_id_hex() const;
  const std::string& config_dir() const { return config_dir_; }
  // The cache dir given at open ("" for none).
  const std::string& cache_dir() const { return cache_dir_; }
  // <cache-dir>/<vault-id-hex>; created on first use by its users.
  std::string cache_path() const;

  // Metadata objects under this vault's metadata key (customer/objects.h).
  absl::StatusOr<std::string> SealObject(std::string_view name, std::string_view plaintext) const;
  absl::StatusOr<std::string> OpenObject(std::string_view name, std::string_view sealed) const;

  // Rewrites <config-dir>/config (e.g. after a supplier change).
  absl::Status SaveConfig(const vault::v1::VaultConfig& config);
  // Rewrites <config-dir>/key (key passwd).
  absl::Status SaveKeyRecord(const vault::v1::KeyRecord& record);

  // <config-dir>/seen; empty if missing or unreadable.
  vault::v1::SeenState LoadSeen() const;
  absl::Status SaveSeen(const vault::v1::SeenState& seen) const;

  // The master key (key export, key passwd). Never logged or stored
  // unwrapped.
  const std::string& master_key() const { return master_; }

 private:
  Vault() = default;
  std::string config_dir_;
  std::string cache_dir_;
  vault::v1::VaultConfig config_;
  vault::v1::KeyRecord key_record_;
  VaultKeys keys_;
  std::string master_;
};

// Checks a config's internal consistency (n, k, positions, sizes).
// DataLoss describing the first problem.
absl::Status ValidateConfig(const vault::v1::VaultConfig& config);

// Writes `data` to `path` atomically with `mode`: temporary file in the same
// dir, fsync, rename, fsync of the dir. Errors name the path.
absl::Status WriteFileAtomically(const std::string& path, std::string_view data, int mode);
// The whole file; NotFound / other errors name the path.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);
// mkdir -p with `mode` for the dirs it creates.
absl::Status MakeDirs(const std::string& path, int mode);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_VAULT_VAULT_H_

#include "customer/repo/key_records.h"

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "customer/vault/names.h"

namespace shardkeep::customer {

vault::v1::VaultConfig ConfigForKeyRecord(const vault::v1::VaultConfig& config,
                                          const vault::v1::KeyRecord& record) {
  vault::v1::VaultConfig out = config;
  out.set_generation(config.generation() + 1);
  out.set_key_record_sha256(crypto::Sha256(record.SerializeAsString()));
  return out;
}

absl::StatusOr<std::vector<uint32_t>> PublishKeyRecord(Repository& repo,
                                                       const vault::v1::KeyRecord& record,
                                                       const vault::v1::VaultConfig& config) {
  // The config first: once it names the new record, an old one that opens
  // is known to be old.
  RETURN_IF_ERROR(repo.PutObject(kConfigObject, config.SerializeAsString(), /*cache=*/false));
  const std::string record_bytes = record.SerializeAsString();
  SupplierSet& set = repo.suppliers();
  std::vector<uint32_t> pending;
  for (int i = 0; i < set.n(); ++i) {
    absl::Status s = set.IsDown(i) ? absl::UnavailableError("down")
                                   : set.at(i)->PutObject(kKeysObject, record_bytes,
                                                          repo.vault().vault_id());
    if (!s.ok()) pending.push_back(i);
  }
  return pending;
}

absl::StatusOr<ChangedKeyRecord> ChangeKeyRecord(Repository& repo,
                                                 std::string_view new_passphrase,
                                                 const KdfParams& kdf) {
  Vault& vault = repo.mutable_vault();
  ChangedKeyRecord out;
  ASSIGN_OR_RETURN(out.record, WrapMasterKey(vault.master_key(), vault.vault_id(), new_passphrase,
                                             kdf, vault.keys().identity_public));
  const vault::v1::VaultConfig config = ConfigForKeyRecord(vault.config(), out.record);
  ASSIGN_OR_RETURN(std::vector<uint32_t> pending, PublishKeyRecord(repo, out.record, config));
  vault::v1::SeenState seen = vault.LoadSeen();
  seen.clear_key_record_pending();
  for (uint32_t pos : pending) {
    seen.add_key_record_pending(pos);
    out.pending.push_back(repo.suppliers().address(pos));
  }
  RETURN_IF_ERROR(vault.SaveKeyRecord(out.record));
  RETURN_IF_ERROR(vault.SaveConfig(config));
  RETURN_IF_ERROR(vault.SaveSeen(seen));
  return out;
}

}  // namespace shardkeep::customer

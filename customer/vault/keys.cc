#include "customer/vault/keys.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "customer/vault/wire.h"

namespace shardkeep::customer {
namespace {

std::string Derive(std::string_view master, std::string_view vault_id, std::string_view purpose) {
  return crypto::Hkdf(master, vault_id, absl::StrCat("shardkeep/v1/", std::string(purpose)), 32);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

VaultKeys DeriveKeys(std::string_view master, std::string_view vault_id) {
  VaultKeys keys;
  keys.block_key = Derive(master, vault_id, "block");
  keys.chunk_id_key = Derive(master, vault_id, "chunk-id");
  keys.metadata_key = Derive(master, vault_id, "metadata");
  keys.identity_seed = Derive(master, vault_id, "identity-ed25519");
  keys.identity_public = crypto::Ed25519PublicKey(keys.identity_seed);
  return keys;
}

std::string KeyRecordAad(const vault::v1::KeyRecord& record) {
  std::string aad = "shardkeep/v1/key-record";
  aad.push_back('\0');
  PutU32(&aad, record.version());
  PutBytes(&aad, record.vault_id());
  PutU64(&aad, record.scrypt_n());
  PutU32(&aad, record.scrypt_r());
  PutU32(&aad, record.scrypt_p());
  PutBytes(&aad, record.salt());
  PutBytes(&aad, record.customer_key());
  return aad;
}

absl::StatusOr<vault::v1::KeyRecord> WrapMasterKey(std::string_view master,
                                                   std::string_view vault_id,
                                                   std::string_view passphrase,
                                                   const ScryptParams& params,
                                                   std::string_view customer_key) {
  if (master.size() != kMasterKeySize || vault_id.size() != kVaultIdSize) {
    return absl::InvalidArgumentError("master key must be 32 bytes and vault ID 16 bytes");
  }
  vault::v1::KeyRecord record;
  record.set_version(1);
  record.set_vault_id(std::string(vault_id));
  record.set_scrypt_n(params.n);
  record.set_scrypt_r(params.r);
  record.set_scrypt_p(params.p);
  record.set_salt(crypto::RandomBytes(kKeyRecordSaltSize));
  record.set_nonce(crypto::RandomBytes(crypto::kAeadNonceSize));
  record.set_created_ms(NowMs());
  record.set_customer_key(std::string(customer_key));
  ASSIGN_OR_RETURN(std::string kek, crypto::Scrypt(passphrase, record.salt(), params.n, params.r,
                                                   params.p, crypto::kAeadKeySize));
  std::string wrapped;
  RETURN_IF_ERROR(crypto::AeadSeal(kek, record.nonce(), KeyRecordAad(record), master, &wrapped));
  record.set_wrapped_master_key(wrapped);
  return record;
}

absl::StatusOr<std::string> UnwrapMasterKey(const vault::v1::KeyRecord& record,
                                            std::string_view passphrase) {
  if (record.version() != 1) {
    return absl::DataLossError(
        absl::StrCat("key record has unsupported version ", record.version()));
  }
  if (record.vault_id().size() != kVaultIdSize || record.salt().empty() ||
      record.nonce().size() != crypto::kAeadNonceSize ||
      record.wrapped_master_key().size() != crypto::AeadSealedSize(kMasterKeySize)) {
    return absl::DataLossError("key record is malformed");
  }
  auto kek = crypto::Scrypt(passphrase, record.salt(), record.scrypt_n(), record.scrypt_r(),
                            record.scrypt_p(), crypto::kAeadKeySize);
  if (!kek.ok()) {
    return absl::DataLossError(
        absl::StrCat("key record has unusable scrypt parameters: ", kek.status().message()));
  }
  std::string master;
  absl::Status s = crypto::AeadOpen(*kek, record.nonce(), KeyRecordAad(record),
                                    record.wrapped_master_key(), &master);
  if (!s.ok()) {
    return WithKind(absl::PermissionDeniedError("wrong passphrase (the key record does not "
                                                    "open with it)"),
                        ErrorKind::kWrongPassphrase);
  }
  if (!record.customer_key().empty() &&
      DeriveKeys(master, record.vault_id()).identity_public != record.customer_key()) {
    return absl::DataLossError("key record's identity does not match its master key");
  }
  return master;
}

}  // namespace shardkeep::customer

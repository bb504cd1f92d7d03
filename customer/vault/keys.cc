#include "customer/vault/keys.h"

#include <algorithm>
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
  if (record.version() >= 2) {
    PutU32(&aad, record.argon2_t_cost());
    PutU32(&aad, record.argon2_m_cost_kib());
    PutU32(&aad, record.argon2_lanes());
  }
  return aad;
}

uint32_t CalibrateKdfPasses(const KdfParams& params, int target_ms) {
  const std::string salt(kKeyRecordSaltSize, '\0');
  const auto start = std::chrono::steady_clock::now();
  auto kek = crypto::Argon2id("calibration", salt, 1, params.m_cost_kib, params.lanes,
                              crypto::kAeadKeySize);
  const double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  if (!kek.ok() || ms <= 0) return 3;
  // One pass costs about `ms`; a derivation of t passes about t x ms.
  const double passes = target_ms / ms;
  return static_cast<uint32_t>(std::clamp(passes + 0.5, 3.0, 10.0));
}

absl::Status CheckKdfBounds(const vault::v1::KeyRecord& r) {
  auto bad = [](const std::string& why) {
    return absl::DataLossError(absl::StrCat("key record: ", why));
  };
  if (r.version() == 1) {
    const uint64_t n = r.scrypt_n(), rr = r.scrypt_r(), p = r.scrypt_p();
    if (n < 2 || (n & (n - 1)) != 0 || n > (uint64_t{1} << 20) || rr < 1 || rr > 32 || p < 1 ||
        p > 16 || 128 * n * rr > (uint64_t{1} << 30) || n * rr * p > (uint64_t{1} << 24)) {
      return bad(absl::StrCat("scrypt N=", n, " r=", rr, " p=", p,
                              " is outside what a reader accepts (at most 1 GiB, N*r*p <= 2^24)"));
    }
    return absl::OkStatus();
  }
  if (r.version() == 2) {
    const uint64_t t = r.argon2_t_cost(), m = r.argon2_m_cost_kib(), l = r.argon2_lanes();
    if (t < 1 || t > 16 || l < 1 || l > 8 || m < 8 * l || m > (uint64_t{1} << 20) ||
        m * t > (uint64_t{4} << 20)) {
      return bad(absl::StrCat("argon2id t=", t, " m=", m, " KiB lanes=", l,
                              " is outside what a reader accepts (at most 1 GiB, 16 passes, "
                              "8 lanes)"));
    }
    return absl::OkStatus();
  }
  return bad(absl::StrCat("unsupported version ", r.version()));
}

absl::StatusOr<std::string> DeriveKek(const vault::v1::KeyRecord& record,
                                      std::string_view passphrase) {
  RETURN_IF_ERROR(CheckKdfBounds(record));
  absl::StatusOr<std::string> kek =
      record.version() == 1
          ? crypto::Scrypt(passphrase, record.salt(), record.scrypt_n(), record.scrypt_r(),
                           record.scrypt_p(), crypto::kAeadKeySize)
          : crypto::Argon2id(passphrase, record.salt(), record.argon2_t_cost(),
                             record.argon2_m_cost_kib(), record.argon2_lanes(),
                             crypto::kAeadKeySize);
  if (!kek.ok()) {
    return absl::DataLossError(
        absl::StrCat("key record has unusable key derivation parameters: ", kek.status().message()));
  }
  return kek;
}

absl::StatusOr<vault::v1::KeyRecord> WrapMasterKey(std::string_view master,
                                                   std::string_view vault_id,
                                                   std::string_view passphrase,
                                                   const KdfParams& params,
                                                   std::string_view customer_key) {
  if (master.size() != kMasterKeySize || vault_id.size() != kVaultIdSize) {
    return absl::InvalidArgumentError("master key must be 32 bytes and vault ID 16 bytes");
  }
  vault::v1::KeyRecord record;
  record.set_version(2);
  record.set_vault_id(std::string(vault_id));
  record.set_argon2_t_cost(params.t_cost != 0 ? params.t_cost
                                               : CalibrateKdfPasses(params, kKdfTargetMs));
  record.set_argon2_m_cost_kib(params.m_cost_kib);
  record.set_argon2_lanes(params.lanes);
  record.set_salt(crypto::RandomBytes(kKeyRecordSaltSize));
  record.set_nonce(crypto::RandomBytes(crypto::kAeadNonceSize));
  record.set_created_ms(NowMs());
  record.set_customer_key(std::string(customer_key));
  ASSIGN_OR_RETURN(std::string kek, DeriveKek(record, passphrase));
  std::string wrapped;
  RETURN_IF_ERROR(crypto::AeadSeal(kek, record.nonce(), KeyRecordAad(record), master, &wrapped));
  record.set_wrapped_master_key(wrapped);
  return record;
}

absl::Status CheckKeyRecord(const vault::v1::KeyRecord& record) {
  RETURN_IF_ERROR(CheckKdfBounds(record));
  if (record.vault_id().size() != kVaultIdSize || record.salt().size() < 8 ||
      record.nonce().size() != crypto::kAeadNonceSize ||
      record.wrapped_master_key().size() != crypto::AeadSealedSize(kMasterKeySize)) {
    return absl::DataLossError("key record is malformed");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> UnwrapMasterKeyWithKek(const vault::v1::KeyRecord& record,
                                                   std::string_view kek) {
  RETURN_IF_ERROR(CheckKeyRecord(record));
  std::string master;
  absl::Status s = crypto::AeadOpen(kek, record.nonce(), KeyRecordAad(record),
                                    record.wrapped_master_key(), &master);
  if (!s.ok()) {
    return WithKind(absl::PermissionDeniedError("wrong passphrase (the key record does not "
                                                "open with it)"),
                    ErrorKind::kWrongPassphrase);
  }
  if (!record.customer_key().empty() && !RecordMatchesMaster(record, master)) {
    return absl::DataLossError("key record's identity does not match its master key");
  }
  return master;
}

absl::StatusOr<std::string> UnwrapMasterKey(const vault::v1::KeyRecord& record,
                                            std::string_view passphrase) {
  RETURN_IF_ERROR(CheckKeyRecord(record));
  ASSIGN_OR_RETURN(std::string kek, DeriveKek(record, passphrase));
  return UnwrapMasterKeyWithKek(record, kek);
}

bool RecordMatchesMaster(const vault::v1::KeyRecord& record, std::string_view master) {
  return master.size() == kMasterKeySize && record.vault_id().size() == kVaultIdSize &&
         DeriveKeys(master, record.vault_id()).identity_public == record.customer_key();
}

}  // namespace shardkeep::customer

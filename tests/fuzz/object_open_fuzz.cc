// Fuzzes customer::OpenObject: the metadata objects (config, snapshot
// records, index pieces) come back from untrusted suppliers.
//
// Input: mode byte, name byte (picks the object name), then the rest.
//   even mode: the rest is sealed bytes as a supplier returns them. They must
//     be refused (DataLoss) unless genuine, never crash; whatever opens does so
//     only under its own name, vault and key.
//   odd mode: the rest is an object *body* (flags, declared length, data) that
//     the harness seals itself under the metadata key, as a keyholder could:
//     a malformed body must be refused, a well-formed one must open to exactly
//     its declared plaintext.
// Both modes also check the round trip SealObject -> OpenObject.
#include <cstdint>
#include <string>

#include "common/crypto.h"
#include "customer/vault/objects.h"
#include "customer/vault/wire.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using shardkeep::fuzz::Input;
using shardkeep::fuzz::kMetadataKey;
using shardkeep::fuzz::kOtherKey;
using shardkeep::fuzz::kOtherVaultId;
using shardkeep::fuzz::kVaultId;
namespace customer = shardkeep::customer;
namespace crypto = shardkeep::crypto;

std::string ObjectName(uint8_t b) {
  switch (b % 4) {
    case 0:
      return customer::kConfigObject;
    case 1:
      return std::string(customer::kSnapshotPrefix) + std::string(32, 'a');
    case 2:
      return std::string(customer::kIndexPrefix) + std::string(32, 'a') + ".0";
    default:
      return std::string(customer::kIndexPrefix) + std::string(32, 'a') + ".1";
  }
}

// docs/FORMAT.md, "Objects": "shardkeep/v1/object" || 0x00 || vault_id || name.
std::string ObjectAad(const std::string& vault_id, const std::string& name) {
  std::string aad = "shardkeep/v1/object";
  aad.push_back('\0');
  return aad + vault_id + name;
}

void SealedLayer(const std::string& name, std::string_view sealed) {
  auto opened = customer::OpenObject(kMetadataKey, kVaultId, name, sealed);
  if (opened.ok()) {
    FUZZ_CHECK(opened->size() <= customer::kMaxObjectPlaintext);
    // The name, the vault and the key are all bound by the AEAD.
    FUZZ_CHECK(!customer::OpenObject(kMetadataKey, kVaultId, name + "x", sealed).ok());
    FUZZ_CHECK(!customer::OpenObject(kMetadataKey, kOtherVaultId, name, sealed).ok());
    FUZZ_CHECK(!customer::OpenObject(kOtherKey, kVaultId, name, sealed).ok());
  } else {
    FUZZ_CHECK(absl::IsDataLoss(opened.status()));
  }
}

void BodyLayer(const std::string& name, std::string_view body) {
  const std::string nonce(crypto::kAeadNonceSize, 'n');
  std::string ct;
  FUZZ_CHECK(crypto::AeadSeal(kMetadataKey, nonce, ObjectAad(kVaultId, name), body, &ct).ok());
  const std::string sealed = "SKO1" + nonce + ct;
  auto opened = customer::OpenObject(kMetadataKey, kVaultId, name, sealed);
  const bool has_header = body.size() >= 9;
  const uint8_t flags = has_header ? static_cast<uint8_t>(body[0]) : 0xff;
  const uint64_t declared = has_header ? customer::GetU64(body.data() + 1) : 0;
  if (opened.ok()) {
    FUZZ_CHECK(has_header && (flags == 0 || flags == 1));
    FUZZ_CHECK(declared <= customer::kMaxObjectPlaintext);
    FUZZ_CHECK(opened->size() == declared);
    if (flags == 0) FUZZ_CHECK(*opened == body.substr(9));
  } else {
    FUZZ_CHECK(absl::IsDataLoss(opened.status()));
  }
  // A well-formed raw body always opens (this also pins the AAD to the format doc).
  if (has_header && flags == 0 && declared == body.size() - 9) FUZZ_CHECK(opened.ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const uint8_t mode = in.Byte();
  const std::string name = ObjectName(in.Byte());
  const std::string_view rest = in.Rest();
  if (mode % 2 == 0) {
    SealedLayer(name, rest);
  } else {
    BodyLayer(name, rest);
  }
  // Round trip: what we seal opens back to the same bytes, under its name only.
  auto sealed = customer::SealObject(kMetadataKey, kVaultId, name, rest);
  FUZZ_CHECK(sealed.ok());
  auto back = customer::OpenObject(kMetadataKey, kVaultId, name, *sealed);
  FUZZ_CHECK(back.ok() && *back == rest);
  FUZZ_CHECK(!customer::OpenObject(kMetadataKey, kVaultId, name + "/", *sealed).ok());
  return 0;
}

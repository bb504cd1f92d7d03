#include "customer/vault/objects.h"

#include "absl/strings/str_cat.h"
#include "common/compress.h"
#include "common/crypto.h"
#include "customer/vault/wire.h"

namespace shardkeep::customer {
namespace {

constexpr std::string_view kMagic = "SKO1";

std::string ObjectAad(std::string_view vault_id, std::string_view name) {
  std::string aad = "shardkeep/v1/object";
  aad.push_back('\0');
  aad.append(vault_id.data(), vault_id.size());
  aad.append(name.data(), name.size());
  return aad;
}

}  // namespace

absl::StatusOr<std::string> SealObject(std::string_view metadata_key, std::string_view vault_id,
                                       std::string_view name, std::string_view plaintext) {
  if (plaintext.size() > kMaxObjectPlaintext) {
    return absl::InvalidArgumentError(
        absl::StrCat("object ", std::string(name), " is too large (", plaintext.size(), " bytes)"));
  }
  std::string body;
  std::string compressed;
  bool zstd = compress::CompressIfSmaller(plaintext, 3, &compressed);
  body.push_back(zstd ? 1 : 0);
  PutU64(&body, plaintext.size());
  if (zstd) {
    body.append(compressed);
  } else {
    body.append(plaintext.data(), plaintext.size());
  }
  std::string nonce = crypto::RandomBytes(crypto::kAeadNonceSize);
  std::string ct;
  RETURN_IF_ERROR(crypto::AeadSeal(metadata_key, nonce, ObjectAad(vault_id, name), body, &ct));
  std::string out;
  out.reserve(kMagic.size() + nonce.size() + ct.size());
  out.append(kMagic);
  out.append(nonce);
  out.append(ct);
  return out;
}

absl::StatusOr<std::string> OpenObject(std::string_view metadata_key, std::string_view vault_id,
                                       std::string_view name, std::string_view sealed) {
  auto bad = [&](std::string_view why) {
    return absl::DataLossError(absl::StrCat("object ", std::string(name), ": ", std::string(why)));
  };
  if (sealed.size() < kMagic.size() + crypto::kAeadNonceSize + crypto::kAeadTagSize ||
      sealed.substr(0, kMagic.size()) != kMagic) {
    return bad("not a sealed object");
  }
  std::string body;
  absl::Status s = crypto::AeadOpen(
      metadata_key, sealed.substr(kMagic.size(), crypto::kAeadNonceSize), ObjectAad(vault_id, name),
      sealed.substr(kMagic.size() + crypto::kAeadNonceSize), &body);
  if (!s.ok()) return bad("does not authenticate (wrong vault, or altered)");
  if (body.size() < 9) return bad("body too short");
  uint8_t flags = static_cast<uint8_t>(body[0]);
  uint64_t length = GetU64(body.data() + 1);
  if (length > kMaxObjectPlaintext) return bad("declared length too large");
  std::string_view data = std::string_view(body).substr(9);
  if (flags == 0) {
    if (data.size() != length) return bad("length mismatch");
    return std::string(data);
  }
  if (flags != 1) return bad("unknown flags");
  std::string out;
  s = compress::Decompress(data, length, &out);
  if (!s.ok()) return bad(std::string(s.message()));
  return out;
}

}  // namespace shardkeep::customer

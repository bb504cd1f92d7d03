#include "common/offer.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "nlohmann/json.hpp"

namespace shardkeep::offer {
namespace {

using Json = nlohmann::json;
using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("offer: ", std::string(what)));
}

// Ed25519/Ed448 sign the message itself; EC and RSA keys a SHA-256 digest.
const EVP_MD* DigestFor(EVP_PKEY* key) {
  const int id = EVP_PKEY_base_id(key);
  return (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? nullptr : EVP_sha256();
}

}  // namespace

std::string IdentityKey(std::string_view fingerprint) {
  return absl::StrCat("shardkeep/supplier/v1/", crypto::ToHex(fingerprint));
}

absl::StatusOr<std::string> SignBytes(std::string_view private_key_pem, std::string_view data,
                                      std::string* public_key_der) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())),
      BIO_free);
  PKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) return Bad("the private key is not PEM");
  unsigned char* der = nullptr;
  const int der_len = i2d_PUBKEY(key.get(), &der);
  if (der_len <= 0) return Bad("cannot encode the public key");
  public_key_der->assign(reinterpret_cast<char*>(der), static_cast<size_t>(der_len));
  OPENSSL_free(der);
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t sig_len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, DigestFor(key.get()), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Bad("signing failed");
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Bad("signing failed");
  }
  sig.resize(sig_len);
  return sig;
}

bool VerifyBytes(std::string_view public_key_der, std::string_view data,
                 std::string_view signature) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(public_key_der.data());
  PKey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(public_key_der.size())), EVP_PKEY_free);
  if (!key || p != reinterpret_cast<const unsigned char*>(public_key_der.data()) +
                       public_key_der.size()) {
    return false;
  }
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return EVP_DigestVerifyInit(ctx.get(), nullptr, DigestFor(key.get()), nullptr, key.get()) ==
             1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

absl::StatusOr<std::string> SignOffer(Offer offer, std::string_view private_key_pem) {
  if (offer.addresses.empty() || offer.addresses.size() > kMaxAddresses) {
    return Bad(absl::StrCat("1 to ", kMaxAddresses, " addresses, got ", offer.addresses.size()));
  }
  std::string key_der;
  // Sign a throwaway first to learn the public key (and so the fingerprint).
  ASSIGN_OR_RETURN(std::string unused, SignBytes(private_key_pem, "", &key_der));
  (void)unused;
  offer.fingerprint = crypto::Sha256(key_der);
  Json j = {{"v", 1},
            {"fingerprint", crypto::ToHex(offer.fingerprint)},
            {"supplier_id", crypto::ToHex(offer.supplier_id)},
            {"addresses", offer.addresses},
            {"free_bytes", offer.free_bytes},
            {"max_quota_bytes", offer.max_quota_bytes},
            {"lease_ms", offer.lease_ms},
            {"grace_ms", offer.grace_ms},
            {"version", offer.version},
            {"invite_required", offer.invite_required},
            {"published_ms", offer.published_ms}};
  const std::string text = j.dump();
  ASSIGN_OR_RETURN(std::string sig,
                   SignBytes(private_key_pem, std::string(kOfferSignContext) + text, &key_der));
  std::string wire =
      Json{{"offer", text}, {"key", crypto::ToHex(key_der)}, {"sig", crypto::ToHex(sig)}}.dump();
  if (wire.size() > kMaxOfferBytes) {
    return Bad(absl::StrCat("signed offer is ", wire.size(), " bytes, more than ",
                            kMaxOfferBytes));
  }
  return wire;
}

absl::StatusOr<Offer> VerifyOffer(std::string_view wire) {
  if (wire.size() > kMaxOfferBytes) return Bad("too large");
  Json env = Json::parse(wire.begin(), wire.end(), nullptr, /*allow_exceptions=*/false);
  if (!env.is_object() || !env["offer"].is_string() || !env["key"].is_string() ||
      !env["sig"].is_string()) {
    return Bad("not an offer envelope");
  }
  const std::string text = env["offer"].get<std::string>();
  auto key_der = crypto::FromHex(env["key"].get<std::string>());
  auto sig = crypto::FromHex(env["sig"].get<std::string>());
  if (!key_der.ok() || !sig.ok()) return Bad("key or signature is not hex");
  if (!VerifyBytes(*key_der, std::string(kOfferSignContext) + text, *sig)) {
    return Bad("bad signature");
  }
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("v", 0) != 1) return Bad("not a version 1 offer");
  Offer o;
  try {
    auto fp = crypto::FromHex(j.at("fingerprint").get<std::string>());
    auto id = crypto::FromHex(j.at("supplier_id").get<std::string>());
    if (!fp.ok() || !id.ok()) return Bad("fingerprint or supplier_id is not hex");
    o.fingerprint = *fp;
    o.supplier_id = *id;
    o.addresses = j.at("addresses").get<std::vector<std::string>>();
    o.free_bytes = j.at("free_bytes").get<uint64_t>();
    o.max_quota_bytes = j.at("max_quota_bytes").get<uint64_t>();
    o.lease_ms = j.at("lease_ms").get<int64_t>();
    o.grace_ms = j.at("grace_ms").get<int64_t>();
    o.version = j.at("version").get<std::string>();
    o.invite_required = j.at("invite_required").get<bool>();
    o.published_ms = j.at("published_ms").get<int64_t>();
  } catch (const std::exception& e) {
    return Bad(absl::StrCat("malformed: ", e.what()));
  }
  // The claimed identity must be the signing key: an impostor may copy a
  // supplier's fingerprint into its offer but cannot sign with its key.
  if (o.fingerprint != crypto::Sha256(*key_der)) {
    return Bad("fingerprint is not the signing key's");
  }
  if (o.supplier_id.size() != 16) return Bad("supplier_id is not 16 bytes");
  if (o.addresses.empty() || o.addresses.size() > kMaxAddresses) return Bad("address count");
  for (const std::string& a : o.addresses) {
    if (a.empty() || a.size() > 255) return Bad("address length");
  }
  return o;
}

}  // namespace shardkeep::offer

#include "common/offer.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/crypto.h"
#include "nlohmann/json.hpp"

namespace shardkeep::offer {
namespace {

std::string NewKeyPem() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, len);
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

Offer SampleOffer() {
  Offer o;
  o.supplier_id = std::string(16, '\x07');
  o.addresses = {"127.0.0.1:7700"};
  o.free_bytes = 1 << 30;
  o.lease_ms = 90;
  o.version = "shardkeep-supplier 0.1.0";
  o.published_ms = 1234;
  return o;
}

TEST(OfferTest, SignedOfferVerifiesAndNamesTheSigningKey) {
  const std::string pem = NewKeyPem();
  auto wire = SignOffer(SampleOffer(), pem);
  ASSERT_TRUE(wire.ok()) << wire.status();
  auto got = VerifyOffer(*wire);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->addresses, std::vector<std::string>{"127.0.0.1:7700"});
  EXPECT_EQ(got->free_bytes, uint64_t{1} << 30);
  EXPECT_EQ(got->published_ms, 1234);
  std::string der;
  ASSERT_TRUE(SignBytes(pem, "x", &der).ok());
  EXPECT_EQ(got->fingerprint, crypto::Sha256(der));
}

TEST(OfferTest, TamperedOfferIsRefused) {
  auto wire = SignOffer(SampleOffer(), NewKeyPem());
  ASSERT_TRUE(wire.ok());
  nlohmann::json env = nlohmann::json::parse(*wire);
  std::string text = env["offer"];
  text.replace(text.find("7700"), 4, "7701");
  env["offer"] = text;
  auto got = VerifyOffer(env.dump());
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("bad signature"), std::string::npos);
}

TEST(OfferTest, ImpostorClaimingAnotherFingerprintIsRefused) {
  // The impostor signs correctly with its own key but claims the victim's
  // fingerprint in the offer text.
  const std::string victim_pem = NewKeyPem(), impostor_pem = NewKeyPem();
  std::string victim_der;
  ASSERT_TRUE(SignBytes(victim_pem, "x", &victim_der).ok());
  auto wire = SignOffer(SampleOffer(), impostor_pem);
  nlohmann::json env = nlohmann::json::parse(*wire);
  nlohmann::json body = nlohmann::json::parse(env["offer"].get<std::string>());
  body["fingerprint"] = crypto::ToHex(crypto::Sha256(victim_der));
  const std::string text = body.dump();
  std::string der;
  auto sig = SignBytes(impostor_pem, std::string(kOfferSignContext) + text, &der);
  env["offer"] = text;
  env["sig"] = crypto::ToHex(*sig);
  auto got = VerifyOffer(env.dump());
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("not the signing key"), std::string::npos);
}

TEST(OfferTest, GarbageAndOversizedAreRefused) {
  EXPECT_FALSE(VerifyOffer("").ok());
  EXPECT_FALSE(VerifyOffer("{\"offer\":1}").ok());
  EXPECT_FALSE(VerifyOffer(std::string(kMaxOfferBytes + 1, '{')).ok());
  Offer o = SampleOffer();
  o.addresses.clear();
  EXPECT_FALSE(SignOffer(o, NewKeyPem()).ok());
}

}  // namespace
}  // namespace shardkeep::offer

// A supplier's signed offer, as published in the DHT (docs/DISCOVERY.md).
//
// Wire form (one DHT value, at most kMaxOfferBytes): a JSON envelope
//   {"offer": "<the offer's JSON text>", "key": "<hex DER SubjectPublicKeyInfo>",
//    "sig": "<hex ECDSA/EdDSA signature>"}
// The signature is made with the supplier's TLS private key over
// kOfferSignContext + the offer text, so the signer is the very key
// customers pin (its SHA-256 is the TLS fingerprint, common/tls_fingerprint.h):
// an offer claiming a fingerprint verifies only if signed by that key. The
// offer text is parsed only after the signature verified.
#ifndef SHARDKEEP_COMMON_OFFER_H_
#define SHARDKEEP_COMMON_OFFER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shardkeep::offer {

inline constexpr size_t kMaxOfferBytes = 4096;
inline constexpr size_t kMaxAddresses = 4;
inline constexpr char kOfferSignContext[] = "shardkeep offer v1\n";

// The DHT keys (hashed with SHA-1 by OpenDHT). Every offer goes under
// kOffersKey (the market) and under IdentityKey(fingerprint) (so a customer
// finds a pinned supplier that moved).
inline constexpr char kOffersKey[] = "shardkeep/offers/v1";
std::string IdentityKey(std::string_view fingerprint);  // 32 raw bytes in

struct Offer {
  std::string fingerprint;              // 32 bytes: SHA-256 of the signing key (DER)
  std::string supplier_id;              // 16 bytes (Info's supplier_id)
  std::vector<std::string> addresses;   // HOST:PORT, 1..kMaxAddresses
  uint64_t free_bytes = 0;              // capacity not yet granted
  uint64_t max_quota_bytes = 0;         // largest quota for one customer (0: no limit)
  int64_t lease_ms = 0;
  int64_t grace_ms = 0;
  std::string version;                  // "shardkeep-supplier 0.1.0"
  bool invite_required = false;
  int64_t published_ms = 0;             // the supplier's clock; newest wins per identity
};

// Signs `offer` with the PEM private key (the supplier's TLS key); fills
// offer.fingerprint from it. InvalidArgument if the key does not parse or
// the result exceeds kMaxOfferBytes.
absl::StatusOr<std::string> SignOffer(Offer offer, std::string_view private_key_pem);

// Verifies and parses one DHT value. Any error (size, JSON, key, signature,
// fingerprint, field ranges) is InvalidArgument saying what; such a value
// is to be ignored.
absl::StatusOr<Offer> VerifyOffer(std::string_view wire);

// Signs / verifies arbitrary bytes with the same key kind (used by tests to
// forge; exposed for the offer's own code).
absl::StatusOr<std::string> SignBytes(std::string_view private_key_pem, std::string_view data,
                                      std::string* public_key_der);
bool VerifyBytes(std::string_view public_key_der, std::string_view data,
                 std::string_view signature);

}  // namespace shardkeep::offer

#endif  // SHARDKEEP_COMMON_OFFER_H_

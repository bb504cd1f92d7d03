// A TLS peer's identity as ShardKeep pins it: SHA-256 of the DER
// SubjectPublicKeyInfo of its certificate (the public key, not the
// certificate: a supplier may renew its self-signed certificate with the same
// key and stay the same supplier). Used by the supplier to log its identity
// and by the customer to pin it at init and check it on every connection
// (docs/NETWORK.md, "TLS and pinned suppliers").
#ifndef SHARDKEEP_COMMON_TLS_FINGERPRINT_H_
#define SHARDKEEP_COMMON_TLS_FINGERPRINT_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace shardkeep::tls {

// 32 bytes: SHA-256 of the public key of the first certificate in `cert_pem`.
// InvalidArgument if it does not parse.
absl::StatusOr<std::string> PublicKeyFingerprint(std::string_view cert_pem);

// "sha256:" and 64 lowercase hex digits; what users see and compare.
std::string FormatFingerprint(std::string_view fingerprint);

}  // namespace shardkeep::tls

#endif  // SHARDKEEP_COMMON_TLS_FINGERPRINT_H_

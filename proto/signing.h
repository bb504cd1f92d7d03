// Request signing between a customer and a supplier (docs/PROTOCOL.md,
// "Signing"). Both sides link this library: the customer signs with Sign(),
// the supplier checks with VerifyRequest(). It is stateless: freshness of the
// timestamp and uniqueness of the nonce are the supplier's policy
// (supplier/replay_guard.h), not this file's.
//
// Signing bytes, exactly:
//   "shardkeep-v1-request" 0x00
//   method          the full gRPC method name, e.g. "/shardkeep.v1.Supplier/PutFragment"
//   0x00
//   supplier_id     16 bytes (InfoResponse.supplier_id)
//   timestamp_ms    8 bytes, big-endian two's complement
//   nonce           16 bytes as sent (Auth.nonce)
//   content_sha256  32 bytes: SHA-256 of the request message serialised
//                   deterministically with its `auth` field cleared (for
//                   PutFragment: the FragmentHeader message)
// signature = Ed25519(customer seed, signing bytes); customer_key is the
// matching public key.
#ifndef SHARDKEEP_PROTO_SIGNING_H_
#define SHARDKEEP_PROTO_SIGNING_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "google/protobuf/message.h"
#include "proto/supplier.pb.h"

namespace shardkeep::signing {

inline constexpr char kContext[] = "shardkeep-v1-request";
inline constexpr size_t kNonceSize = 16;     // what Sign() sends
inline constexpr size_t kMinNonceSize = 16;  // what a supplier accepts
inline constexpr size_t kMaxNonceSize = 64;
inline constexpr size_t kSupplierIdSize = 16;

// Full gRPC method names: the `method` of the signing bytes.
namespace method {
inline constexpr char kInfo[] = "/shardkeep.v1.Supplier/Info";
inline constexpr char kRequestContract[] = "/shardkeep.v1.Supplier/RequestContract";
inline constexpr char kGetContract[] = "/shardkeep.v1.Supplier/GetContract";
inline constexpr char kRenewContract[] = "/shardkeep.v1.Supplier/RenewContract";
inline constexpr char kCancelContract[] = "/shardkeep.v1.Supplier/CancelContract";
inline constexpr char kPutFragment[] = "/shardkeep.v1.Supplier/PutFragment";
inline constexpr char kGetFragment[] = "/shardkeep.v1.Supplier/GetFragment";
inline constexpr char kListFragments[] = "/shardkeep.v1.Supplier/ListFragments";
inline constexpr char kDeleteFragments[] = "/shardkeep.v1.Supplier/DeleteFragments";
inline constexpr char kAuditFragment[] = "/shardkeep.v1.Supplier/AuditFragment";
inline constexpr char kAuditPiece[] = "/shardkeep.v1.Supplier/AuditPiece";
inline constexpr char kPutObject[] = "/shardkeep.v1.Supplier/PutObject";
inline constexpr char kGetObject[] = "/shardkeep.v1.Supplier/GetObject";
inline constexpr char kListObjects[] = "/shardkeep.v1.Supplier/ListObjects";
inline constexpr char kDeleteObjects[] = "/shardkeep.v1.Supplier/DeleteObjects";
inline constexpr char kGetKeyRecord[] = "/shardkeep.v1.Supplier/GetKeyRecord";
}  // namespace method

// The signing bytes above.
std::string SigningBytes(std::string_view method, std::string_view supplier_id,
                         int64_t timestamp_ms, std::string_view nonce,
                         std::string_view content_sha256);

// content_sha256 of a request: SHA-256 of its deterministic serialisation
// without its `auth` field (field 1 of every authenticated request). For a
// message without an `auth` field 1, the whole message. Does not modify or
// copy the request.
std::string ContentSha256(const google::protobuf::Message& request);

// Milliseconds since the Unix epoch on this machine's clock.
int64_t NowMs();

// Fills `auth` for `request` (whose auth must be... anything: it is not
// hashed). `seed` is the customer's 32-byte Ed25519 seed (aborts otherwise).
void SignAuth(std::string_view method, std::string_view supplier_id, std::string_view seed,
              const google::protobuf::Message& request, int64_t timestamp_ms,
              std::string_view nonce, shardkeep::v1::Auth* auth);

// Signs a request in place: sets req->auth with a fresh random nonce and the
// given timestamp (default: now). Works for every request type with an
// `auth` field, and for FragmentHeader (PutFragment signs its header).
//   signing::Sign(signing::method::kGetFragment, supplier_id, seed, &request);
template <typename Req>
void Sign(std::string_view method, std::string_view supplier_id, std::string_view seed, Req* req,
          int64_t timestamp_ms = NowMs());
// As Sign, with a given nonce (tests; deterministic signatures).
template <typename Req>
void SignWithNonce(std::string_view method, std::string_view supplier_id, std::string_view seed,
                   Req* req, int64_t timestamp_ms, std::string_view nonce) {
  SignAuth(method, supplier_id, seed, *req, timestamp_ms, nonce, req->mutable_auth());
}

// Checks the signature of `auth` over `request` for this supplier. Returns the
// customer's public key (its identity) or UNAUTHENTICATED naming what is
// wrong: no auth, customer_key not 32 bytes, signature not 64 bytes, nonce not
// 16..64 bytes, or a signature that does not verify (wrong key, supplier,
// method, timestamp, nonce or content). Timestamp freshness and nonce reuse
// are NOT checked here.
absl::StatusOr<std::string> VerifyAuth(std::string_view method, std::string_view supplier_id,
                                       const google::protobuf::Message& request,
                                       const shardkeep::v1::Auth& auth);
template <typename Req>
absl::StatusOr<std::string> VerifyRequest(std::string_view method, std::string_view supplier_id,
                                          const Req& req) {
  if (!req.has_auth()) return absl::UnauthenticatedError("request carries no auth");
  return VerifyAuth(method, supplier_id, req, req.auth());
}

// ---- implementation ----
std::string NewNonce();

template <typename Req>
void Sign(std::string_view method, std::string_view supplier_id, std::string_view seed, Req* req,
          int64_t timestamp_ms) {
  SignAuth(method, supplier_id, seed, *req, timestamp_ms, NewNonce(), req->mutable_auth());
}

}  // namespace shardkeep::signing

#endif  // SHARDKEEP_PROTO_SIGNING_H_

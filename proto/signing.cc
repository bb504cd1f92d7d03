#include "proto/signing.h"

#include <chrono>

#include "absl/strings/str_format.h"
#include "common/crypto.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace shardkeep::signing {
namespace {

// Length of the leading encoded `auth` field (tag 0x0A = field 1, length-
// delimited) in a deterministic serialisation, or 0 if it does not start with
// one. Deterministic serialisation writes known fields in field-number order,
// so when the message has an auth it comes first, and dropping these bytes
// gives exactly the serialisation of the message with auth cleared.
size_t LeadingAuthLength(const std::string& bytes) {
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != 0x0A) return 0;
  uint64_t len = 0;
  size_t i = 1;
  for (int shift = 0; i < bytes.size() && shift < 64; shift += 7) {
    uint8_t b = static_cast<uint8_t>(bytes[i++]);
    len |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return i + len <= bytes.size() ? i + len : 0;
  }
  return 0;
}

bool HasAuthField(const google::protobuf::Message& m) {
  const google::protobuf::FieldDescriptor* f = m.GetDescriptor()->FindFieldByNumber(1);
  return f != nullptr && f->name() == "auth" &&
         f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
         f->message_type()->full_name() == "shardkeep.v1.Auth";
}

}  // namespace

std::string SigningBytes(std::string_view method, std::string_view supplier_id,
                         int64_t timestamp_ms, std::string_view nonce,
                         std::string_view content_sha256) {
  std::string out;
  out.reserve(sizeof(kContext) + method.size() + 1 + supplier_id.size() + 8 + nonce.size() +
              content_sha256.size());
  out.append(kContext, sizeof(kContext));  // includes the terminating 0x00
  out.append(method.data(), method.size());
  out.push_back('\0');
  out.append(supplier_id.data(), supplier_id.size());
  uint64_t ts = static_cast<uint64_t>(timestamp_ms);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(ts >> shift));
  out.append(nonce.data(), nonce.size());
  out.append(content_sha256.data(), content_sha256.size());
  return out;
}

std::string ContentSha256(const google::protobuf::Message& request) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream sos(&bytes);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&cos);
  }
  size_t skip = HasAuthField(request) ? LeadingAuthLength(bytes) : 0;
  return crypto::Sha256(std::string_view(bytes).substr(skip));
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewNonce() { return crypto::RandomBytes(kNonceSize); }

void SignAuth(std::string_view method, std::string_view supplier_id, std::string_view seed,
              const google::protobuf::Message& request, int64_t timestamp_ms,
              std::string_view nonce, shardkeep::v1::Auth* auth) {
  // auth may be a field of request: compute the content hash before touching it.
  std::string content = ContentSha256(request);
  std::string message = SigningBytes(method, supplier_id, timestamp_ms, nonce, content);
  auth->set_customer_key(crypto::Ed25519PublicKey(seed));
  auth->set_timestamp_ms(timestamp_ms);
  auth->set_nonce(std::string(nonce));
  auth->set_signature(crypto::Ed25519Sign(seed, message));
}

absl::StatusOr<std::string> VerifyAuth(std::string_view method, std::string_view supplier_id,
                                       const google::protobuf::Message& request,
                                       const shardkeep::v1::Auth& auth) {
  if (auth.customer_key().size() != crypto::kEd25519PublicKeySize) {
    return absl::UnauthenticatedError(absl::StrFormat("auth.customer_key must be %d bytes, got %d",
                                                      crypto::kEd25519PublicKeySize,
                                                      auth.customer_key().size()));
  }
  if (auth.signature().size() != crypto::kEd25519SignatureSize) {
    return absl::UnauthenticatedError(absl::StrFormat("auth.signature must be %d bytes, got %d",
                                                      crypto::kEd25519SignatureSize,
                                                      auth.signature().size()));
  }
  if (auth.nonce().size() < kMinNonceSize || auth.nonce().size() > kMaxNonceSize) {
    return absl::UnauthenticatedError(absl::StrFormat("auth.nonce must be %d..%d bytes, got %d",
                                                      kMinNonceSize, kMaxNonceSize,
                                                      auth.nonce().size()));
  }
  std::string message =
      SigningBytes(method, supplier_id, auth.timestamp_ms(), auth.nonce(), ContentSha256(request));
  if (!crypto::Ed25519Verify(auth.customer_key(), message, auth.signature())) {
    return absl::UnauthenticatedError(
        "signature does not verify (wrong key, supplier, method, timestamp, nonce or content)");
  }
  return auth.customer_key();
}

}  // namespace shardkeep::signing

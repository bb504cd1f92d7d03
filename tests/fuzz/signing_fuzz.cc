// Fuzzes request authentication (proto/signing.h) as the supplier runs it on
// requests from untrusted customers: random Auth fields, random bodies,
// mutations of genuinely signed requests.
//
// Input: type byte (fuzz_requests.h), method byte (0: the type's own method,
// else another one), then the serialised request (as gRPC would parse it).
// Properties:
//   - ContentSha256 (which skips the leading auth field without copying)
//     equals the SHA-256 of the deterministic serialisation of a copy with
//     auth cleared;
//   - VerifyAuth accepts only what the key holder signed: if it accepts,
//     the customer key is one of the two whose seeds the harness holds, and
//     signing the same request, method, time and nonce with that seed gives
//     the very same signature (no forgery, no malleated signature);
//   - a request signed here verifies, and stops verifying under another
//     method, another supplier, another timestamp, or with one unknown field
//     added to its content.
#include <cstdint>
#include <memory>
#include <string>

#include "common/crypto.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/unknown_field_set.h"
#include "proto/signing.h"
#include "tests/fuzz/fuzz_requests.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using shardkeep::fuzz::Input;
namespace crypto = shardkeep::crypto;
namespace signing = shardkeep::signing;
namespace fuzz = shardkeep::fuzz;
using google::protobuf::Message;

std::string DeterministicBytes(const Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream sos(&out);
  google::protobuf::io::CodedOutputStream cos(&sos);
  cos.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&cos);
  cos.Trim();
  return out;
}

const std::string& PublicKey(const std::string& seed) {
  static const std::string kCustomer = crypto::Ed25519PublicKey(fuzz::kCustomerSeed);
  static const std::string kOther = crypto::Ed25519PublicKey(fuzz::kOtherSeed);
  return seed == fuzz::kCustomerSeed ? kCustomer : kOther;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& types = fuzz::AuthRequestTypes();
  Input in(data, size);
  const size_t type = in.Byte() % types.size();
  const uint8_t method_choice = in.Byte();
  const std::string method =
      method_choice == 0 ? types[type].method : types[method_choice % types.size()].method;
  const std::string_view body = in.Rest();
  std::unique_ptr<Message> req = types[type].make();
  if (!req->ParseFromArray(body.data(), static_cast<int>(body.size()))) return 0;

  // The content hash skips exactly the auth field.
  {
    std::unique_ptr<Message> copy(req->New());
    copy->CopyFrom(*req);
    copy->GetReflection()->ClearField(copy.get(), copy->GetDescriptor()->FindFieldByNumber(1));
    FUZZ_CHECK(signing::ContentSha256(*req) == crypto::Sha256(DeterministicBytes(*copy)));
  }

  // Whatever verifies was signed by a seed we hold, and is that seed's one signature.
  if (fuzz::HasAuth(*req)) {
    const shardkeep::v1::Auth& auth = fuzz::GetAuth(*req);
    auto who = signing::VerifyAuth(method, fuzz::kSupplierId, *req, auth);
    if (who.ok()) {
      FUZZ_CHECK(*who == auth.customer_key());
      const bool ours = auth.customer_key() == PublicKey(fuzz::kCustomerSeed);
      FUZZ_CHECK(ours || auth.customer_key() == PublicKey(fuzz::kOtherSeed));
      shardkeep::v1::Auth again;
      signing::SignAuth(method, fuzz::kSupplierId, ours ? fuzz::kCustomerSeed : fuzz::kOtherSeed,
                        *req, auth.timestamp_ms(), auth.nonce(), &again);
      FUZZ_CHECK(again.signature() == auth.signature());
    } else {
      FUZZ_CHECK(absl::IsUnauthenticated(who.status()));
    }
  }

  // Sign it ourselves: verifies exactly where it should.
  const int64_t ts = fuzz::HasAuth(*req) ? fuzz::GetAuth(*req).timestamp_ms() : fuzz::kNowMs;
  const std::string nonce(signing::kNonceSize, static_cast<char>(size));
  signing::SignAuth(method, fuzz::kSupplierId, fuzz::kCustomerSeed, *req, ts, nonce,
                    fuzz::MutableAuth(req.get()));
  const shardkeep::v1::Auth auth = fuzz::GetAuth(*req);
  auto who = signing::VerifyAuth(method, fuzz::kSupplierId, *req, auth);
  FUZZ_CHECK(who.ok() && *who == PublicKey(fuzz::kCustomerSeed));
  const std::string other_method = method == signing::method::kGetObject
                                       ? signing::method::kPutObject
                                       : signing::method::kGetObject;
  FUZZ_CHECK(!signing::VerifyAuth(other_method, fuzz::kSupplierId, *req, auth).ok());
  FUZZ_CHECK(!signing::VerifyAuth(method, std::string(16, 'T'), *req, auth).ok());
  shardkeep::v1::Auth moved = auth;
  moved.set_timestamp_ms(ts + 1);
  FUZZ_CHECK(!signing::VerifyAuth(method, fuzz::kSupplierId, *req, moved).ok());
  req->GetReflection()->MutableUnknownFields(req.get())->AddVarint(1000, 1);
  FUZZ_CHECK(!signing::VerifyAuth(method, fuzz::kSupplierId, *req, auth).ok());
  return 0;
}

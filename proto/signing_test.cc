#include "proto/signing.h"

#include "common/crypto.h"
#include "gtest/gtest.h"

namespace shardkeep::signing {
namespace {

using shardkeep::v1::FragmentHeader;
using shardkeep::v1::GetFragmentRequest;
using shardkeep::v1::PutObjectRequest;

const std::string kSeed(32, '\x07');
const std::string kSupplier(16, '\x42');

TEST(SigningBytes, LayoutIsExactlyAsDocumented) {
  std::string sha(32, '\xEE');
  std::string nonce(16, '\x11');
  std::string b = SigningBytes("/m", kSupplier, 0x0102030405060708LL, nonce, sha);
  std::string expect = std::string("shardkeep-v1-request\0/m\0", 24) + kSupplier +
                       std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8) + nonce + sha;
  EXPECT_EQ(b, expect);
  // Negative timestamps are two's complement.
  EXPECT_EQ(SigningBytes("/m", kSupplier, -1, nonce, sha).substr(24 + 16, 8),
            std::string(8, '\xff'));
}

TEST(ContentSha256, IgnoresAuthAndEqualsAClearedCopy) {
  PutObjectRequest req;
  req.set_name("snapshots/1");
  req.set_data(std::string(300, 'd'));
  std::string before = ContentSha256(req);
  Sign(method::kPutObject, kSupplier, kSeed, &req);
  ASSERT_TRUE(req.has_auth());
  EXPECT_EQ(ContentSha256(req), before);
  PutObjectRequest cleared = req;
  cleared.clear_auth();
  std::string bytes;
  ASSERT_TRUE(cleared.SerializeToString(&bytes));
  EXPECT_EQ(ContentSha256(req), crypto::Sha256(bytes));
  req.set_name("snapshots/2");
  EXPECT_NE(ContentSha256(req), before);
}

TEST(Verify, AcceptsASignedRequestAndReturnsTheCustomerKey) {
  GetFragmentRequest req;
  req.set_key("block-7.f3");
  Sign(method::kGetFragment, kSupplier, kSeed, &req);
  auto who = VerifyRequest(method::kGetFragment, kSupplier, req);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, crypto::Ed25519PublicKey(kSeed));
  EXPECT_EQ(req.auth().nonce().size(), kNonceSize);
}

TEST(Verify, RefusesEveryTamperedPart) {
  FragmentHeader h;
  h.set_key("k");
  h.set_size(4096);
  h.set_sha256(std::string(32, 'h'));
  Sign(method::kPutFragment, kSupplier, kSeed, &h);
  ASSERT_TRUE(VerifyRequest(method::kPutFragment, kSupplier, h).ok());
  auto refused = [&](const FragmentHeader& x, std::string_view m = method::kPutFragment,
                     std::string_view s = kSupplier) {
    auto r = VerifyRequest(m, s, x);
    return !r.ok() && r.status().code() == absl::StatusCode::kUnauthenticated;
  };
  EXPECT_TRUE(refused(h, method::kGetFragment));
  EXPECT_TRUE(refused(h, method::kPutFragment, std::string(16, '\x43')));
  FragmentHeader t = h;
  t.set_size(4097);
  EXPECT_TRUE(refused(t));
  t = h;
  t.set_key("k2");
  EXPECT_TRUE(refused(t));
  t = h;
  t.mutable_auth()->set_timestamp_ms(h.auth().timestamp_ms() + 1);
  EXPECT_TRUE(refused(t));
  t = h;
  (*t.mutable_auth()->mutable_nonce())[0] ^= 1;
  EXPECT_TRUE(refused(t));
  t = h;
  (*t.mutable_auth()->mutable_signature())[5] ^= 1;
  EXPECT_TRUE(refused(t));
  t = h;
  t.mutable_auth()->set_customer_key(crypto::Ed25519PublicKey(std::string(32, '\x08')));
  EXPECT_TRUE(refused(t));
  t = h;
  t.mutable_auth()->set_customer_key("short");
  EXPECT_TRUE(refused(t));
  t = h;
  t.mutable_auth()->set_customer_key(std::string(32, '\xff'));  // not a curve point
  EXPECT_TRUE(refused(t));
  t = h;
  t.mutable_auth()->set_nonce("x");
  EXPECT_TRUE(refused(t));
  t = h;
  t.clear_auth();
  EXPECT_TRUE(refused(t));
}

}  // namespace
}  // namespace shardkeep::signing

// MemSupplier against the daemon's rules (docs/PROTOCOL.md, supplier/store.h):
// contracts and capacity, quota, hash checks, cancel, listing, key-record
// claims, and a stopped supplier.
#include "customer/net/mem_supplier_client.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/crypto.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

constexpr char kAddr[] = "mem-a:7700";

std::string Sha(std::string_view d) { return crypto::Sha256(d); }

std::vector<std::string> Names(const std::vector<v1::ObjectInfo>& list) {
  std::vector<std::string> out;
  for (const auto& o : list) out.push_back(o.name());
  return out;
}

class MemSupplierTest : public ::testing::Test {
 protected:
  MemSupplierTest()
      : supplier_(kAddr, 10000),
        seed_(crypto::RandomBytes(32)),
        client_(&supplier_, seed_),
        other_(&supplier_, crypto::RandomBytes(32)) {}

  MemSupplier supplier_;
  std::string seed_;
  MemSupplierClient client_;
  MemSupplierClient other_;  // a second customer
};

TEST_F(MemSupplierTest, InfoDescribesTheSupplier) {
  auto info = client_.Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->supplier_id(), supplier_.supplier_id());
  EXPECT_EQ(info->supplier_id().size(), 16u);
  EXPECT_EQ(info->capacity_bytes(), 10000u);
  EXPECT_EQ(info->max_object_bytes(), protocol::kMaxObjectBytes);
  EXPECT_EQ(client_.customer_key(), crypto::Ed25519PublicKey(seed_));
}

TEST_F(MemSupplierTest, ContractsShareTheCapacity) {
  auto c = client_.RequestContract(6000, 0, 4);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->quota_bytes(), 6000u);
  EXPECT_EQ(c->customer_key(), client_.customer_key());
  // 4000 left: a second customer asking 5000 is refused, naming the numbers.
  auto refused = other_.RequestContract(5000, 0, 4);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
  std::string msg(refused.status().message());
  EXPECT_TRUE(absl::StartsWith(msg, kAddr)) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "capacity 10000 bytes")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "free 4000 bytes")) << msg;
  EXPECT_TRUE(other_.RequestContract(4000, 0, 4).ok());
  // Resizing counts this contract's own quota as free.
  EXPECT_TRUE(client_.RequestContract(6000, 0, 4).ok());
  EXPECT_EQ(client_.RequestContract(6001, 0, 4).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(client_.RequestContract(100, 0, 4).ok());
  auto info = client_.Info();
  EXPECT_EQ(info->granted_bytes(), 4100u);
  EXPECT_EQ(info->customers(), 2u);
  // Contract fields are checked as the daemon checks them.
  EXPECT_EQ(client_.RequestContract(0, 0, 4).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_.RequestContract(10, 4, 4).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_.RequestContract(10, 0, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(MemSupplierTest, CallsWithoutContractAreRefusedAsByTheDaemon) {
  EXPECT_EQ(client_.GetContract().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_.PutFragment("f", "x", Sha("x")).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client_.GetFragment("f").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client_.PutObject("o", "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client_.GetObject("o").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client_.ListObjects("").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client_.CancelContract().code(), absl::StatusCode::kPermissionDenied);
  // No identity: only the unauthenticated calls work.
  MemSupplierClient anonymous(&supplier_, "");
  EXPECT_TRUE(anonymous.Info().ok());
  EXPECT_EQ(anonymous.RequestContract(10, 0, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(anonymous.GetKeyRecord("v").status().code(), absl::StatusCode::kNotFound);
  // Signed for another supplier ID: the signature would not verify.
  MemSupplierClient misdirected(&supplier_, seed_, std::string(16, 'x'));
  EXPECT_EQ(misdirected.RequestContract(10, 0, 1).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(MemSupplierTest, QuotaRefusedAtTheLimit) {
  ASSERT_TRUE(client_.RequestContract(1000, 0, 1).ok());
  std::string a(600, 'a'), b(400, 'b'), c(1, 'c');
  ASSERT_TRUE(client_.PutFragment("a", a, Sha(a)).ok());
  ASSERT_TRUE(client_.PutObject("snapshots/b", b).ok());  // objects share the quota
  EXPECT_EQ(supplier_.UsedBytes(client_.customer_key()), 1000u);
  absl::Status s = client_.PutFragment("c", c, Sha(c));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "quota is 1000 bytes")) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), kAddr)) << s;
  EXPECT_EQ(client_.PutObject("d", c).code(), absl::StatusCode::kResourceExhausted);
  // Replacing an object counts only its growth; re-putting the same fragment
  // charges nothing.
  EXPECT_TRUE(client_.PutObject("snapshots/b", std::string(400, 'B')).ok());
  EXPECT_TRUE(client_.PutFragment("a", a, Sha(a)).ok());
  // Shrinking below the usage is refused.
  EXPECT_EQ(client_.RequestContract(999, 0, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto contract = client_.GetContract();
  ASSERT_TRUE(contract.ok());
  EXPECT_EQ(contract->used_bytes(), 1000u);
  EXPECT_EQ(contract->fragments(), 1u);
  EXPECT_EQ(contract->objects(), 1u);
}

TEST_F(MemSupplierTest, HashMismatchRefusedAndNothingStored) {
  ASSERT_TRUE(client_.RequestContract(1000, 0, 1).ok());
  absl::Status s = client_.PutFragment("f", "data", Sha("other"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "SHA-256")) << s;
  EXPECT_EQ(client_.PutFragment("f", "data", "short").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(supplier_.FragmentCount(client_.customer_key()), 0);
  EXPECT_EQ(client_.GetFragment("f").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(supplier_.UsedBytes(client_.customer_key()), 0u);
  // Bad keys are refused as the daemon refuses them.
  EXPECT_EQ(client_.PutFragment("a/b", "d", Sha("d")).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(MemSupplierTest, FragmentsRoundTripPerCustomer) {
  ASSERT_TRUE(client_.RequestContract(1000, 0, 1).ok());
  ASSERT_TRUE(other_.RequestContract(1000, 0, 1).ok());
  ASSERT_TRUE(client_.PutFragment("k", "mine", Sha("mine")).ok());
  ASSERT_TRUE(other_.PutFragment("k", "theirs", Sha("theirs")).ok());
  EXPECT_EQ(*client_.GetFragment("k"), "mine");
  EXPECT_EQ(*other_.GetFragment("k"), "theirs");
  // Overwriting with other bytes replaces them and their usage.
  ASSERT_TRUE(client_.PutFragment("k", "mine2", Sha("mine2")).ok());
  EXPECT_EQ(*client_.GetFragment("k"), "mine2");
  EXPECT_EQ(supplier_.UsedBytes(client_.customer_key()), 5u);
  EXPECT_EQ(supplier_.FragmentCount(client_.customer_key()), 1);
  auto missing = client_.GetFragment("nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StartsWith(missing.status().message(), std::string(kAddr) + ": GetFragment"))
      << missing.status();
  EXPECT_EQ(supplier_.BytesReceived(), 4u + 6u + 5u);
  EXPECT_EQ(supplier_.BytesSent(), 4u + 6u + 5u);
}

TEST_F(MemSupplierTest, CancelDeletesTheCustomersData) {
  ASSERT_TRUE(client_.RequestContract(1000, 0, 1).ok());
  ASSERT_TRUE(other_.RequestContract(1000, 0, 1).ok());
  ASSERT_TRUE(client_.PutFragment("f", "x", Sha("x")).ok());
  ASSERT_TRUE(client_.PutObject("keys", "record", "vault-1").ok());
  ASSERT_TRUE(other_.PutFragment("f", "y", Sha("y")).ok());
  ASSERT_TRUE(client_.CancelContract().ok());
  EXPECT_EQ(supplier_.FragmentCount(client_.customer_key()), 0);
  EXPECT_EQ(client_.GetContract().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_.GetKeyRecord("vault-1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_.Info()->granted_bytes(), 1000u);
  // A new contract starts empty; the other customer is untouched.
  ASSERT_TRUE(client_.RequestContract(1000, 0, 1).ok());
  EXPECT_EQ(client_.GetFragment("f").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_.GetObject("keys").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*other_.GetFragment("f"), "y");
  // The released vault ID can be claimed by someone else.
  EXPECT_TRUE(other_.PutObject("keys", "theirs", "vault-1").ok());
}

TEST_F(MemSupplierTest, ListingIsSortedAndByPrefix) {
  ASSERT_TRUE(client_.RequestContract(1000, 0, 1).ok());
  for (const char* n : {"snapshots/b", "index/1", "snapshots/a", "snapshotsX", "snapshots/c/1"}) {
    ASSERT_TRUE(client_.PutObject(n, n).ok()) << n;
  }
  auto list = client_.ListObjects("snapshots/");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(Names(*list),
            (std::vector<std::string>{"snapshots/a", "snapshots/b", "snapshots/c/1"}));
  EXPECT_EQ((*list)[0].size(), std::string("snapshots/a").size());
  auto all = client_.ListObjects("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Names(*all), (std::vector<std::string>{"index/1", "snapshots/a", "snapshots/b",
                                                   "snapshots/c/1", "snapshotsX"}));
  EXPECT_TRUE(client_.ListObjects("zzz")->empty());
  // Another customer sees none of them.
  ASSERT_TRUE(other_.RequestContract(1000, 0, 1).ok());
  EXPECT_TRUE(other_.ListObjects("")->empty());
}

TEST_F(MemSupplierTest, ObjectLimits) {
  MemSupplier big("mem-big:1", 4ULL << 20);
  MemSupplierClient c(&big, seed_);
  ASSERT_TRUE(c.RequestContract(4ULL << 20, 0, 1).ok());
  EXPECT_TRUE(c.PutObject("o", std::string(protocol::kMaxObjectBytes, 'x')).ok());
  EXPECT_EQ(c.PutObject("o", std::string(protocol::kMaxObjectBytes + 1, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.PutObject("bad name", "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.PutObject("other", "x", "vault").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.GetObject("absent").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MemSupplierTest, KeyRecordClaims) {
  ASSERT_TRUE(client_.RequestContract(1000, 0, 1).ok());
  ASSERT_TRUE(other_.RequestContract(1000, 0, 1).ok());
  EXPECT_EQ(client_.GetKeyRecord("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_.GetKeyRecord(std::string(65, 'v')).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A claim is per (vault ID, customer): a second claimant adds a candidate
  // after the first and replaces nothing.
  ASSERT_TRUE(client_.PutObject("keys", "record-1", "vault-A").ok());
  ASSERT_TRUE(other_.PutObject("keys", "forged", "vault-A").ok());
  auto all = supplier_.GetKeyRecord("vault-A");
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->candidates_size(), 2);
  EXPECT_EQ(all->candidates(0).data(), "record-1");
  EXPECT_EQ(all->candidates(1).data(), "forged");
  EXPECT_EQ(all->candidates(1).customer_key(), other_.customer_key());
  ASSERT_TRUE(other_.CancelContract().ok());
  ASSERT_TRUE(other_.RequestContract(1000, 0, 1).ok());
  // Readable without identity: every candidate, oldest claim first.
  MemSupplierClient anonymous(&supplier_, "");
  auto rec = anonymous.GetKeyRecord("vault-A");
  ASSERT_TRUE(rec.ok()) << rec.status();
  ASSERT_EQ(rec->candidates_size(), 1);
  EXPECT_EQ(rec->candidates(0).data(), "record-1");
  EXPECT_EQ(rec->candidates(0).customer_key(), client_.customer_key());
  EXPECT_EQ(supplier_.GetKeyRecord("vault-A")->candidates_size(), 1);
  // The key record object is small.
  EXPECT_EQ(client_.PutObject("keys", std::string(protocol::kMaxKeyRecordBytes + 1, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
  // Updating "keys" without a vault ID keeps the claim.
  ASSERT_TRUE(client_.PutObject("keys", "record-2").ok());
  EXPECT_EQ(anonymous.GetKeyRecord("vault-A")->candidates(0).data(), "record-2");
  // Claiming a new ID releases the old one.
  ASSERT_TRUE(client_.PutObject("keys", "record-3", "vault-B").ok());
  EXPECT_EQ(anonymous.GetKeyRecord("vault-A").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(anonymous.GetKeyRecord("vault-B")->candidates(0).data(), "record-3");
  EXPECT_TRUE(other_.PutObject("keys", "theirs", "vault-A").ok());
  EXPECT_EQ(anonymous.GetKeyRecord("vault-A")->candidates(0).customer_key(), other_.customer_key());
}

TEST_F(MemSupplierTest, StoppedSupplierIsUnavailableAndKeepsItsData) {
  ASSERT_TRUE(client_.RequestContract(1000, 0, 1).ok());
  ASSERT_TRUE(client_.PutFragment("f", "x", Sha("x")).ok());
  supplier_.Stop();
  EXPECT_TRUE(supplier_.stopped());
  for (absl::Status s : {client_.Info().status(), client_.GetFragment("f").status(),
                         client_.PutObject("o", "x"), client_.ListObjects("").status(),
                         client_.GetKeyRecord("v").status(), client_.GetContract().status()}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_TRUE(absl::StartsWith(s.message(), std::string(kAddr) + ": ")) << s;
  }
  supplier_.Start();
  EXPECT_EQ(*client_.GetFragment("f"), "x");
}

TEST(MemConnectorTest, ConnectsByAddress) {
  MemSupplier a("mem-a:1", 1000), b("mem-b:1", 1000);
  SupplierConnector connect = MemConnector({{"mem-a:1", &a}, {"mem-b:1", &b}});
  std::string seed = crypto::RandomBytes(32);
  auto ca = connect("mem-a:1", seed, "");
  ASSERT_TRUE(ca.ok()) << ca.status();
  EXPECT_EQ((*ca)->address(), "mem-a:1");
  EXPECT_EQ((*ca)->Info()->supplier_id(), a.supplier_id());
  auto cb = connect("mem-b:1", seed, b.supplier_id());
  ASSERT_TRUE(cb.ok());
  EXPECT_TRUE((*cb)->RequestContract(10, 1, 2).ok());
  // An address nobody serves connects (as gRPC does) but never answers.
  auto nowhere = connect("mem-c:1", seed, "");
  ASSERT_TRUE(nowhere.ok());
  absl::Status s = (*nowhere)->Info().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(s.message(), "mem-c:1")) << s;
  EXPECT_EQ(connect("", seed, "").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shardkeep::customer

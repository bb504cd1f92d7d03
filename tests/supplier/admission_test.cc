// Admission policy against real supplier processes (issue 11): contracts are
// no longer free to any key that asks.
#include <cstdio>
#include <fstream>
#include <string>

#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/signing.h"
#include "tests/supplier/test_util.h"

namespace shardkeep::testing {
namespace {

using ::testing::HasSubstr;
namespace m = signing::method;

// RequestContract with an invitation, signed as `c`.
absl::Status RequestWithInvite(SupplierClient& c, uint64_t bytes, const std::string& invite) {
  v1::ContractRequest req;
  req.set_needed_bytes(bytes);
  req.set_supplier_count(1);
  req.set_invite(invite);
  c.Sign(m::kRequestContract, &req);
  v1::ContractResponse resp;
  return FromGrpc(c.stub()->RequestContract(c.Context().get(), req, &resp));
}

std::string RunInvite(const SupplierCluster& cluster, int i) {
  auto bin = SupplierCluster::FindSupplierBinary();
  EXPECT_TRUE(bin.ok()) << bin.status();
  FILE* p = popen((*bin + " invite --data-dir " + cluster.DataDir(i) + " --valid 1h").c_str(), "r");
  std::string out;
  char buf[256];
  while (p != nullptr && fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  EXPECT_EQ(p == nullptr ? -1 : pclose(p), 0);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST(SupplierAdmission, InvitationsAndTheAllowList) {
  SupplierClusterOptions o;
  auto probe = StartCluster(1);  // for its base dir only
  ASSERT_TRUE(probe);
  const std::string allow = probe->base_dir() + "/allowed";
  std::ofstream(allow) << "# friends\n"
                       << crypto::ToHex(crypto::Ed25519PublicKey(Seed('w'))) << "\n";
  o.extra_flags = {"--admission=invite", "--allow-customers=" + allow};
  auto cluster = StartCluster(1, o);
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  auto b = Connect(*cluster, 0, 'b');
  auto w = Connect(*cluster, 0, 'w');
  ASSERT_TRUE(a && b && w);
  absl::Status s = a->RequestContract(1 << 20).status();
  EXPECT_EQ(Code(s), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("only with an invitation"));
  // An allow-listed key needs none.
  EXPECT_TRUE(w->RequestContract(1 << 20).ok());
  // The operator issues one while the daemon runs.
  const std::string token = RunInvite(*cluster, 0);
  ASSERT_THAT(token, HasSubstr("ski1-"));
  std::string forged = token;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(Code(RequestWithInvite(*a, 1 << 20, forged)), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(RequestWithInvite(*a, 1 << 20, token).ok());
  // One invitation, one contract.
  s = RequestWithInvite(*b, 1 << 20, token);
  EXPECT_EQ(Code(s), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("already used"));
  // Existing contracts resize without one; the restart keeps the token used.
  EXPECT_TRUE(a->RequestContract(2 << 20).ok());
  ASSERT_TRUE(cluster->Restart(0).ok());
  b = Connect(*cluster, 0, 'b');
  EXPECT_EQ(Code(RequestWithInvite(*b, 1 << 20, token)), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(RequestWithInvite(*b, 1 << 20, RunInvite(*cluster, 0)).ok());
}

TEST(SupplierAdmission, RateAndCapsOnNewContracts) {
  auto cluster = StartCluster(1, {.extra_flags = {"--new-contracts-per-hour=3", "--max-customers=3",
                                                  "--max-quota-per-customer=2MiB"}});
  ASSERT_TRUE(cluster);
  // No automatic retry of UNAVAILABLE: it would resend the same nonce.
  SupplierClientOptions no_retry;
  no_retry.retry_unavailable = false;
  std::vector<std::unique_ptr<SupplierClient>> c;
  for (char who : {'a', 'b', 'c', 'd'}) {
    c.push_back(
        std::move(SupplierClient::Connect(cluster->Address(0), Seed(who), no_retry)).value());
  }
  auto big = c[0]->RequestContract(3 << 20);
  EXPECT_EQ(Code(big), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(big.status().message()), HasSubstr("at most 2.00 MiB to one customer"));
  ASSERT_TRUE(c[0]->RequestContract(1 << 20).ok());
  ASSERT_TRUE(c[1]->RequestContract(1 << 20).ok());
  // The request refused above (by the quota cap, after admission) used up
  // one of the 3 an hour: the third new customer is refused.
  auto third = c[2]->RequestContract(1 << 20);
  EXPECT_EQ(Code(third), absl::StatusCode::kUnavailable) << third.status();
  EXPECT_THAT(std::string(third.status().message()), HasSubstr("at most 3 an hour"));
  // Existing customers are not limited.
  EXPECT_TRUE(c[0]->RequestContract(2 << 20).ok());
  // A restart refills the rate; the cap on customers then stops the fourth.
  ASSERT_TRUE(cluster->Restart(0).ok());
  for (auto& x : c) x = nullptr;
  for (char who : {'a', 'b', 'c', 'd'}) c.push_back(Connect(*cluster, 0, who));
  ASSERT_TRUE(c[6]->RequestContract(1 << 20).ok());
  auto fourth = c[7]->RequestContract(1 << 20);
  EXPECT_EQ(Code(fourth), absl::StatusCode::kResourceExhausted) << fourth.status();
  EXPECT_THAT(std::string(fourth.status().message()), HasSubstr("3 customers, its limit"));
}

}  // namespace
}  // namespace shardkeep::testing

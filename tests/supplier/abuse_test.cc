// A supplier under hostile callers (issue 11), against real supplier
// processes: what one caller does must not lock out the others.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/signing.h"
#include "tests/supplier/test_util.h"

namespace shardkeep::testing {
namespace {

using ::testing::HasSubstr;
namespace m = signing::method;

std::string ThrowAwaySeed(int i) {
  std::string seed(32, 'T');
  std::memcpy(&seed[0], &i, sizeof(i));
  return seed;
}

// Before the fix, a request's nonce was recorded before the contract check,
// in one table for everyone: signing GetContract with throw-away keys filled
// it and every customer got UNAVAILABLE.
TEST(SupplierAbuse, NonceFloodWithThrowAwayKeysDoesNotLockOutCustomers) {
  auto cluster = StartCluster(
      1, {.extra_flags = {"--max-nonces=600", "--max-nonces-new-customers=100",
                          "--max-nonces-per-customer=300"}});
  ASSERT_TRUE(cluster);
  auto honest = Connect(*cluster, 0, 'h');
  auto greedy = Connect(*cluster, 0, 'g');
  ASSERT_TRUE(honest && greedy);
  ASSERT_TRUE(honest->RequestContract(1 << 20).ok());
  ASSERT_TRUE(greedy->RequestContract(1 << 20).ok());

  // 900 GetContract and 150 RequestContract (for more than the capacity),
  // each signed by a new key, from 2 threads: more than --max-nonces.
  std::atomic<int> not_found{0}, exhausted{0}, unavailable{0}, other{0};
  auto flood = [&](int first, int count) {
    for (int i = first; i < first + count; ++i) {
      grpc::ClientContext ctx;
      v1::ContractResponse resp;
      grpc::Status st;
      if (i % 7 == 0) {
        v1::ContractRequest req;
        req.set_needed_bytes(1ULL << 50);
        req.set_supplier_count(1);
        signing::Sign(m::kRequestContract, honest->supplier_id(), ThrowAwaySeed(i), &req);
        st = honest->stub()->RequestContract(&ctx, req, &resp);
      } else {
        v1::GetContractRequest req;
        signing::Sign(m::kGetContract, honest->supplier_id(), ThrowAwaySeed(i), &req);
        st = honest->stub()->GetContract(&ctx, req, &resp);
      }
      switch (st.error_code()) {
        case grpc::StatusCode::NOT_FOUND: ++not_found; break;
        case grpc::StatusCode::RESOURCE_EXHAUSTED: ++exhausted; break;
        case grpc::StatusCode::UNAVAILABLE: ++unavailable; break;
        default: ++other;
      }
    }
  };
  const auto start = std::chrono::steady_clock::now();
  std::thread t1(flood, 0, 525), t2(flood, 525, 525);
  t1.join();
  t2.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "flood: 1050 signed calls in %.2f s (%.0f/s)\n", secs, 1050 / secs);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(not_found.load(), 900);  // refused before any state
  // The newcomers' pool (of which honest's and greedy's RequestContract took
  // 2), then UNAVAILABLE for newcomers only.
  EXPECT_EQ(exhausted.load(), 98);
  EXPECT_EQ(unavailable.load(), 52);

  // Customers with a contract are served as before.
  auto c = honest->GetContract();
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(honest->PutFragment("f", RandomData(1000, 1)).ok());

  // One customer exhausting its own bound stops only itself.
  int refused = 0;
  for (int i = 0; i < 350; ++i) {
    absl::Status s = greedy->ListObjects().status();
    if (absl::IsUnavailable(s)) {
      ++refused;
      EXPECT_THAT(std::string(s.message()), HasSubstr("too many requests in the replay window"));
    } else {
      ASSERT_TRUE(s.ok()) << s;
    }
  }
  EXPECT_EQ(refused, 350 - 299);  // 1 of its 300 went to RequestContract
  EXPECT_TRUE(honest->ListObjects().ok());
  EXPECT_TRUE(honest->GetFragment("f").ok());
}

}  // namespace
}  // namespace shardkeep::testing

#include "customer/repo/quota_budget.h"

#include "common/error_kind.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

QuotaBudget::Position Pos(const std::string& address, uint64_t quota, uint64_t used) {
  QuotaBudget::Position p;
  p.address = address;
  p.known = true;
  p.quota_bytes = quota;
  p.used_bytes = used;
  return p;
}

TEST(QuotaBudget, ChargesUntilTheFullestSupplierHasNoRoom) {
  const uint64_t mib = 1 << 20;
  // Position 1 starts with 2 MiB used: it fills first.
  QuotaBudget b({Pos("a:1", 8 * mib, 0), Pos("b:2", 8 * mib, 2 * mib)}, 16 * mib, 2);
  const uint64_t cost = QuotaBudget::BlockCharge(mib, 10, 2);
  EXPECT_GT(cost, mib);
  int fitted = 0;
  absl::Status s;
  while ((s = b.Charge(mib, 10)).ok()) ++fitted;
  // (8 - 2 MiB - reserve) / cost blocks fit at position 1.
  EXPECT_EQ(fitted, static_cast<int>((6 * mib - QuotaBudget::kReserveBytes) / cost));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(KindOf(s), ErrorKind::kQuotaExceeded);
  EXPECT_NE(s.message().find("supplier b:2 (position 1)"), std::string::npos) << s;
  EXPECT_NE(s.message().find("quota 8.00 MiB"), std::string::npos) << s;
  EXPECT_NE(s.message().find("suppliers resize --needed 32MiB"), std::string::npos) << s;
  EXPECT_NE(s.message().find("forget"), std::string::npos) << s;
  // A refused block charges nobody.
  EXPECT_EQ(b.charged(0), fitted * cost);
  EXPECT_EQ(b.charged(1), fitted * cost);
}

TEST(QuotaBudget, DownAndUnknownPositionsAreNotLimited) {
  QuotaBudget::Position unknown;
  unknown.address = "c:3";
  QuotaBudget b({Pos("a:1", 1 << 20, 0), Pos("b:2", 300 << 10, 0), unknown}, 0, 2);
  // Position 1 is too small for a 100 KiB fragment plus the reserve...
  EXPECT_FALSE(b.Charge(100 << 10, 1).ok());
  // ...unless it is down (no fragment goes there).
  EXPECT_TRUE(b.Charge(100 << 10, 1, /*skip_mask=*/2).ok());
  EXPECT_EQ(b.charged(1), 0u);
  EXPECT_GT(b.charged(2), 0u);
}

TEST(QuotaBudget, HostileNumbersDoNotWrap) {
  // Usage above the quota, and a quota near 2^64: neither fits a block by
  // wrapping around, and the message stays sane.
  QuotaBudget over({Pos("a:1", 1 << 20, ~uint64_t{0})}, 0, 2);
  EXPECT_FALSE(over.Charge(4096, 1).ok());
  QuotaBudget huge({Pos("a:1", ~uint64_t{0}, ~uint64_t{0} - 1000)}, 0, 2);
  absl::Status s = huge.Charge(1 << 20, 1);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--needed 1073741824MiB"), std::string::npos) << s;
}

TEST(QuotaBudget, SmallFragmentsCostTheMinimumItemCharge) {
  EXPECT_GE(QuotaBudget::BlockCharge(10, 1, 3), 4096u);
}

}  // namespace
}  // namespace shardkeep::customer

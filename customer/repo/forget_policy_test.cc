#include "customer/repo/forget_policy.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

// A snapshot at `civil` (UTC) on host `host`, paths {"/home"}.
vault::v1::Snapshot Snap(absl::CivilSecond civil, const std::string& host = "h",
                         std::vector<std::string> tags = {}) {
  static int next = 0;
  vault::v1::Snapshot s;
  s.set_id(std::string(15, '\0') + static_cast<char>(++next));
  s.set_time_ns(absl::ToUnixNanos(absl::FromCivil(civil, absl::UTCTimeZone())));
  s.set_hostname(host);
  s.add_paths("/home");
  for (auto& t : tags) s.add_tags(t);
  return s;
}

std::set<int64_t> KeptTimes(const std::vector<ForgetGroup>& groups) {
  std::set<int64_t> out;
  for (const auto& g : groups) {
    for (const auto& s : g.keep) out.insert(s.time_ns());
  }
  return out;
}

int64_t T(absl::CivilSecond c) {
  return absl::ToUnixNanos(absl::FromCivil(c, absl::UTCTimeZone()));
}

TEST(ForgetPolicyTest, KeepLastKeepsTheNewest) {
  std::vector<vault::v1::Snapshot> s;
  for (int d = 1; d <= 5; ++d) s.push_back(Snap(absl::CivilSecond(2026, 1, d, 3, 0, 0)));
  ForgetPolicy p;
  p.last = 2;
  auto g = ApplyForgetPolicy(s, p, GroupBy{}, absl::UTCTimeZone());
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].keep.size(), 2u);
  EXPECT_EQ(g[0].remove.size(), 3u);
  EXPECT_EQ(KeptTimes(g), (std::set<int64_t>{T(absl::CivilSecond(2026, 1, 5, 3, 0, 0)),
                                             T(absl::CivilSecond(2026, 1, 4, 3, 0, 0))}));
}

TEST(ForgetPolicyTest, DailyKeepsTheNewestOfEachDay) {
  std::vector<vault::v1::Snapshot> s;
  for (int d = 1; d <= 4; ++d) {
    s.push_back(Snap(absl::CivilSecond(2026, 1, d, 1, 0, 0)));
    s.push_back(Snap(absl::CivilSecond(2026, 1, d, 23, 0, 0)));
  }
  ForgetPolicy p;
  p.daily = 3;
  auto g = ApplyForgetPolicy(s, p, GroupBy{}, absl::UTCTimeZone());
  EXPECT_EQ(KeptTimes(g), (std::set<int64_t>{T(absl::CivilSecond(2026, 1, 4, 23, 0, 0)),
                                             T(absl::CivilSecond(2026, 1, 3, 23, 0, 0)),
                                             T(absl::CivilSecond(2026, 1, 2, 23, 0, 0))}));
}

// ISO weeks: 2026-01-04 is a Sunday (week 1 of 2026 started Monday
// 2025-12-29), 2026-01-05 a Monday (week 2).
TEST(ForgetPolicyTest, WeeklyUsesIsoWeeks) {
  std::vector<vault::v1::Snapshot> s = {
      Snap(absl::CivilSecond(2025, 12, 29, 12, 0, 0)),  // Monday, 2026-W01
      Snap(absl::CivilSecond(2026, 1, 4, 12, 0, 0)),    // Sunday, 2026-W01
      Snap(absl::CivilSecond(2026, 1, 5, 12, 0, 0)),    // Monday, 2026-W02
  };
  ForgetPolicy p;
  p.weekly = 5;
  auto g = ApplyForgetPolicy(s, p, GroupBy{}, absl::UTCTimeZone());
  EXPECT_EQ(KeptTimes(g), (std::set<int64_t>{T(absl::CivilSecond(2026, 1, 4, 12, 0, 0)),
                                             T(absl::CivilSecond(2026, 1, 5, 12, 0, 0))}));
}

TEST(ForgetPolicyTest, RulesCombineAndMonthlyYearly) {
  std::vector<vault::v1::Snapshot> s;
  for (int m = 1; m <= 12; ++m) s.push_back(Snap(absl::CivilSecond(2025, m, 15, 0, 0, 0)));
  s.push_back(Snap(absl::CivilSecond(2024, 6, 1, 0, 0, 0)));
  ForgetPolicy p;
  p.monthly = 3;
  p.yearly = 2;
  auto g = ApplyForgetPolicy(s, p, GroupBy{}, absl::UTCTimeZone());
  // Dec, Nov, Oct 2025 (monthly; Dec also yearly 2025) and 2024 (yearly).
  EXPECT_EQ(KeptTimes(g), (std::set<int64_t>{T(absl::CivilSecond(2025, 12, 15, 0, 0, 0)),
                                             T(absl::CivilSecond(2025, 11, 15, 0, 0, 0)),
                                             T(absl::CivilSecond(2025, 10, 15, 0, 0, 0)),
                                             T(absl::CivilSecond(2024, 6, 1, 0, 0, 0))}));
}

TEST(ForgetPolicyTest, WithinTagAndUnlimited) {
  std::vector<vault::v1::Snapshot> s = {
      Snap(absl::CivilSecond(2026, 1, 10, 0, 0, 0)),
      Snap(absl::CivilSecond(2026, 1, 8, 0, 0, 0)),
      Snap(absl::CivilSecond(2026, 1, 1, 0, 0, 0), "h", {"keep"}),
      Snap(absl::CivilSecond(2025, 12, 1, 0, 0, 0)),
  };
  ForgetPolicy p;
  p.within_ns = int64_t{3} * 24 * 3600 * 1000000000;
  p.keep_tags = {"keep"};
  auto g = ApplyForgetPolicy(s, p, GroupBy{}, absl::UTCTimeZone());
  EXPECT_EQ(KeptTimes(g), (std::set<int64_t>{T(absl::CivilSecond(2026, 1, 10, 0, 0, 0)),
                                             T(absl::CivilSecond(2026, 1, 8, 0, 0, 0)),
                                             T(absl::CivilSecond(2026, 1, 1, 0, 0, 0))}));
  ForgetPolicy all;
  all.daily = -1;
  g = ApplyForgetPolicy(s, all, GroupBy{}, absl::UTCTimeZone());
  EXPECT_EQ(KeptTimes(g).size(), 4u);
}

TEST(ForgetPolicyTest, GroupsByHostUnlessTold) {
  std::vector<vault::v1::Snapshot> s = {
      Snap(absl::CivilSecond(2026, 1, 1, 0, 0, 0), "a"),
      Snap(absl::CivilSecond(2026, 1, 2, 0, 0, 0), "a"),
      Snap(absl::CivilSecond(2026, 1, 3, 0, 0, 0), "b"),
  };
  ForgetPolicy p;
  p.last = 1;
  auto g = ApplyForgetPolicy(s, p, GroupBy{}, absl::UTCTimeZone());
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(KeptTimes(g).size(), 2u);  // the newest of a, and b
  GroupBy none;
  none.host = none.paths = false;
  g = ApplyForgetPolicy(s, p, none, absl::UTCTimeZone());
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(KeptTimes(g), (std::set<int64_t>{T(absl::CivilSecond(2026, 1, 3, 0, 0, 0))}));
}

}  // namespace
}  // namespace shardkeep::customer

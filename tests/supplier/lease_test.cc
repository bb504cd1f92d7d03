// Leases and the reaper against a real supplier process whose clock is moved
// with the harness's test clock (issue 8: leases must not eat a backup, and
// the reaper must not trust a clock that jumped).
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/supplier/test_util.h"

namespace shardkeep::testing {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kDay = 24LL * 3600 * 1000;

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

TEST(SupplierLease, SixtyDaysOfSilenceKeepTheDataAndA400DayJumpReapsNothingUntilConfirmed) {
  // Default --lease and --grace; a fast reaper that trusts a jump after 2 s.
  auto cluster = StartCluster(1, {.extra_flags = {"--reap-interval=100ms", "--reaper-confirm=2s"}});
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');  // renews at day 60
  auto b = Connect(*cluster, 0, 'b');  // stays silent
  ASSERT_TRUE(a && b);
  const std::string data = RandomData(100000, 7);
  for (auto* c : {a.get(), b.get()}) {
    ASSERT_TRUE(c->RequestContract(1 << 20).ok());
    ASSERT_TRUE(c->PutFragment("f", data).ok());
    ASSERT_TRUE(c->PutObject("keys", "record", "vault-" + c->customer_key().substr(0, 1)).ok());
  }
  auto log = [&] { return cluster->LogTail(0, 200000); };
  ASSERT_TRUE(WaitFor([&] { return Count(log(), "reaper: first clock reading") == 1; }));

  // Day 60 after the last backup: the supplier's clock is moved; the reaper
  // holds the jump, then trusts it, and nothing is reaped (the old defaults,
  // 30 d + 7 d, would have deleted both customers here).
  ASSERT_TRUE(cluster->SetClockOffsetMs(0, 60 * kDay).ok());
  ASSERT_TRUE(WaitFor([&] { return Count(log(), "ahead of the last reading") == 1; }));
  ASSERT_TRUE(WaitFor([&] { return Count(log(), "trusting it from now on") == 1; }, 15000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few trusted runs
  auto info = a->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->customers(), 2u);
  const uint64_t kUsed = 2 * ((data.size() + 1) + (4096 + 4));  // "f"; "keys" (min 4 KiB)
  EXPECT_EQ(info->used_bytes(), kUsed);
  // a comes back: GetContract renews the lease (90 days from the supplier's now).
  a->set_clock_offset_ms(60 * kDay);
  auto contract = a->GetContract();
  ASSERT_TRUE(contract.ok()) << contract.status();
  EXPECT_GE(contract->lease_expires_ms(), info->now_ms() + 89 * kDay);
  auto f = a->GetFragment("f");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*f, data);

  // Day 460: a sudden 400-day jump. b's lease (day 90 + 7 grace) and a's (day
  // 150 + 7) both look long expired, but for the hold nothing is reaped.
  ASSERT_TRUE(cluster->SetClockOffsetMs(0, 460 * kDay).ok());
  ASSERT_TRUE(WaitFor([&] { return Count(log(), "ahead of the last reading") == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // ~10 reaper runs
  info = a->Info();
  EXPECT_EQ(info->customers(), 2u);
  EXPECT_EQ(info->used_bytes(), kUsed);
  EXPECT_EQ(Count(log(), "reaped contract"), 0) << log();
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), 2);
  // Once the new time held for --reaper-confirm, the reaper acts (at most 10%
  // of the customers per run, at least one): both go, one run at a time.
  ASSERT_TRUE(WaitFor([&] { return a->Info()->customers() == 0; }, 15000)) << log();
  EXPECT_EQ(Count(log(), "reaped contract"), 2);
  EXPECT_THAT(log(), HasSubstr("more left for later runs (at most 1 per run)"));
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), 0);
}

TEST(SupplierLease, EveryAuthenticatedCallRenews) {
  // Lease 10 d + grace 1 d; the reaper may see steps of 10.5 d without holding.
  auto cluster =
      StartCluster(1, {.extra_flags = {"--lease=10d", "--grace=1d", "--reap-interval=50ms",
                                       "--reaper-max-jump=30d"}});
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->RequestContract(1 << 20).ok());
  ASSERT_TRUE(a->PutFragment("f", "x").ok());
  ASSERT_TRUE(a->PutObject("o", "y").ok());
  // Each call comes 10.5 days after the previous one: past the lease, inside
  // the grace. Had a call not renewed, the next step (21 days after the last
  // renewal) would be past lease + grace and the reaper would delete a.
  const std::vector<std::pair<const char*, std::function<absl::Status()>>> calls = {
      {"GetContract", [&] { return a->GetContract().status(); }},
      {"RenewContract", [&] { return a->RenewContract().status(); }},
      {"GetFragment", [&] { return a->GetFragment("f").status(); }},
      {"ListFragments", [&] { return a->ListFragments().status(); }},
      {"AuditFragment", [&] { return a->AuditFragment("f", std::string(16, 'n')).status(); }},
      {"GetObject", [&] { return a->GetObject("o").status(); }},
      {"ListObjects", [&] { return a->ListObjects().status(); }},
      {"PutObject", [&] { return a->PutObject("o", "z").status(); }},
      {"DeleteObjects", [&] { return a->DeleteObjects({"absent"}).status(); }},
      {"DeleteFragments", [&] { return a->DeleteFragments({"absent"}).status(); }},
      {"PutFragment", [&] { return a->PutFragment("f", "x").status(); }},  // already present
  };
  int64_t offset = 0;
  for (const auto& [name, call] : calls) {
    offset += 10 * kDay + kDay / 2;
    ASSERT_TRUE(cluster->SetClockOffsetMs(0, offset).ok());
    a->set_clock_offset_ms(offset);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // several reaper runs
    ASSERT_EQ(a->Info()->customers(), 1u) << "reaped before " << name;
    absl::Status s = call();
    ASSERT_TRUE(s.ok()) << name << ": " << s;
  }
  // And silence is still reaped: 11 days after the last call.
  offset += 11 * kDay + 1000;
  ASSERT_TRUE(cluster->SetClockOffsetMs(0, offset).ok());
  EXPECT_TRUE(WaitFor([&] { return a->Info()->customers() == 0; }));
}

}  // namespace
}  // namespace shardkeep::testing

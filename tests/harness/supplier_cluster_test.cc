// The harness does what its header promises: other teams' tests rely on it.
#include "tests/harness/supplier_cluster.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <set>

#include "gtest/gtest.h"
#include "tests/harness/supplier_client.h"

namespace shardkeep::testing {
namespace {

const std::string kSeed(32, 's');

TEST(SupplierCluster, StartsDistinctSuppliersAndStopsThemInTheDestructor) {
  std::vector<pid_t> pids;
  std::string base;
  {
    auto c = SupplierCluster::Start(3, {.capacity_bytes = 12345678});
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_EQ((*c)->size(), 3);
    std::set<std::string> ids, addrs;
    for (int i = 0; i < 3; ++i) {
      auto client = SupplierClient::Connect((*c)->Address(i), kSeed);
      ASSERT_TRUE(client.ok()) << client.status();
      auto info = (*client)->Info();
      EXPECT_EQ(info->capacity_bytes(), 12345678u);
      ids.insert(info->supplier_id());
      addrs.insert((*c)->Address(i));
      pids.push_back((*c)->Pid(i));
      EXPECT_TRUE(std::filesystem::exists((*c)->DataDir(i) + "/db"));
    }
    EXPECT_EQ(ids.size(), 3u);
    EXPECT_EQ(addrs.size(), 3u);
    EXPECT_EQ((*c)->AddressList(),
              (*c)->Address(0) + "," + (*c)->Address(1) + "," + (*c)->Address(2));
    base = (*c)->base_dir();
  }
  for (pid_t p : pids) EXPECT_NE(kill(p, 0), 0) << "pid " << p << " still alive";
  EXPECT_FALSE(std::filesystem::exists(base));
}

TEST(SupplierCluster, KillRestartPauseResumeWipe) {
  auto c = SupplierCluster::Start(1);
  ASSERT_TRUE(c.ok()) << c.status();
  SupplierCluster& cluster = **c;
  auto client = SupplierClient::Connect(cluster.Address(0), kSeed);
  ASSERT_TRUE(client.ok());
  const std::string id = (*client)->supplier_id();
  ASSERT_TRUE((*client)->RequestContract(1 << 20).ok());
  ASSERT_TRUE((*client)->PutFragment("f", "data").ok());
  const int port = cluster.Port(0);

  // Kill + Restart: same data, same port, same identity.
  ASSERT_TRUE(cluster.Kill(0).ok());
  EXPECT_FALSE(cluster.IsRunning(0));
  ASSERT_TRUE(cluster.Restart(0).ok()) << cluster.LogTail(0);
  EXPECT_EQ(cluster.Port(0), port);
  auto again = SupplierClient::Connect(cluster.Address(0), kSeed);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->supplier_id(), id);
  EXPECT_EQ(*(*again)->GetFragment("f"), "data");

  // Pause: calls time out instead of failing fast; Resume: served again.
  ASSERT_TRUE(cluster.Pause(0).ok());
  SupplierClientOptions quick;
  quick.deadline_ms = 300;
  quick.retry_unavailable = false;
  auto t0 = std::chrono::steady_clock::now();
  auto hung = SupplierClient::Connect(cluster.Address(0), kSeed, quick);
  EXPECT_EQ(hung.status().code(), absl::StatusCode::kDeadlineExceeded) << hung.status();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
  ASSERT_TRUE(cluster.Resume(0).ok());
  EXPECT_TRUE((*again)->Info().ok());

  // Wipe: stopped with no data; Restart brings back an empty supplier with a new ID.
  ASSERT_TRUE(cluster.Wipe(0).ok());
  EXPECT_FALSE(cluster.IsRunning(0));
  EXPECT_FALSE(std::filesystem::exists(cluster.DataDir(0)));
  ASSERT_TRUE(cluster.Restart(0).ok());
  auto fresh = SupplierClient::Connect(cluster.Address(0), kSeed);
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE((*fresh)->supplier_id(), id);
  EXPECT_EQ((*fresh)->Info()->customers(), 0u);

  // Stop is a clean exit.
  EXPECT_TRUE(cluster.Stop(0).ok());
  EXPECT_NE(cluster.LogTail(0).find("stopped cleanly"), std::string::npos);
}

TEST(SupplierCluster, ClockOffsetMovesTheSuppliersClock) {
  auto c = SupplierCluster::Start(2);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->SetClockOffsetMs(1, 3600 * 1000).ok());
  auto c0 = SupplierClient::Connect((*c)->Address(0), kSeed);
  auto c1 = SupplierClient::Connect((*c)->Address(1), kSeed);
  ASSERT_TRUE(c0.ok() && c1.ok());
  int64_t skew = (*c1)->Info()->now_ms() - (*c0)->Info()->now_ms();
  EXPECT_NEAR(static_cast<double>(skew), 3600e3, 5000);
  // A client that does not follow the clock is refused; one that does is served.
  EXPECT_EQ((*c1)->RequestContract(1000).status().code(), absl::StatusCode::kUnauthenticated);
  (*c1)->set_clock_offset_ms((*c)->ClockOffsetMs(1));
  EXPECT_TRUE((*c1)->RequestContract(1000).ok());
  ASSERT_TRUE((*c)->AdvanceClocksMs(1000).ok());
  EXPECT_EQ((*c)->ClockOffsetMs(0), 1000);
  EXPECT_EQ((*c)->ClockOffsetMs(1), 3601000);
}

TEST(SupplierCluster, ReportsAMissingBinary) {
  auto c = SupplierCluster::Start(1, {.binary = "/nonexistent/shardkeep-supplier"});
  EXPECT_FALSE(c.ok());
}

}  // namespace
}  // namespace shardkeep::testing

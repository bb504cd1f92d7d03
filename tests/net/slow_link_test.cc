// Slow and stalling links, with real supplier processes and the real CLI,
// in a private network namespace whose loopback is shaped with tc tbf
// (tests/harness/link_emulator.h). Issue 12: deadlines by progress.
//
//   - A 4 Mbit/s uplink: each fragment upload takes longer than the old
//     fixed deadline (30 s + 1 s per 10 MiB), and must still complete; the
//     restore comes back byte for byte. Before the stall watchdog this
//     backup failed with "Deadline Exceeded" on every supplier.
//   - A supplier paused mid-backup (SIGSTOP: its connections stay open,
//     nothing moves) is cut off within the stall timeout and the backup
//     completes on the others.
//
// SHARDKEEP_LONG_NET_TESTS=1 adds the issue's full reproduction (40 MiB at
// 4 Mbit/s, about 3 minutes).
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/link_emulator.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;
using testing::SupplierClusterOptions;
using Clock = std::chrono::steady_clock;

bool g_private_network = false;
std::string g_why_not;

std::unique_ptr<SupplierCluster> StartCluster(int n) {
  SupplierClusterOptions o;
  o.capacity_bytes = 4ULL << 30;
  auto c = SupplierCluster::Start(n, o);
  if (!c.ok()) {
    ADD_FAILURE() << c.status();
    return nullptr;
  }
  return std::move(*c);
}

// A directory with one file of `mib` MiB of random bytes.
std::string RandomTree(int mib) {
  std::string dir = TempDir("src");
  RunResult r = RunCommand(
      {"/bin/bash", "-c",
       absl::StrCat("head -c ", mib, "M /dev/urandom > ", dir, "/random.bin")},
      {});
  EXPECT_EQ(r.code, 0) << r.Describe();
  return dir;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

class SlowLink : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!g_private_network) GTEST_SKIP() << "no private network namespace: " << g_why_not;
  }
  void TearDown() override {
    if (g_private_network) {
      EXPECT_TRUE(testing::ShapeLoopback(0).ok());
    }
  }

  // Init on 4 suppliers (2 data + 2 parity), back up `mib` MiB of random
  // data at `kbit`, restore it, compare. Returns the backup's duration.
  void BackupRestoreAt(int kbit, int mib) {
    auto cluster = StartCluster(4);
    ASSERT_NE(cluster, nullptr);
    Customer c;
    RunResult init = c.Sk({"init", "--suppliers", cluster->AddressList(), "--needed", "1GiB"});
    ASSERT_EQ(init.code, 0) << init.Describe();
    std::string src = RandomTree(mib);
    ASSERT_TRUE(testing::ShapeLoopback(kbit).ok());

    auto t0 = Clock::now();
    RunResult b = c.Sk({"backup", "--json", src});
    double backup_s = Seconds(Clock::now() - t0);
    ASSERT_EQ(b.code, 0) << b.Describe();
    // n/k = 2: twice the data crosses the link. Check the link really was
    // the bottleneck (else this test proves nothing about slow links).
    double floor_s = 2.0 * mib * 1048576 * 8 / (kbit * 1000.0);
    EXPECT_GT(backup_s, 0.8 * floor_s) << "the link was not the bottleneck";
    // The old deadline was 30 s per fragment; this backup must outlast it.
    if (floor_s > 30) {
      EXPECT_GT(backup_s, 30.0);
    }
    std::cerr << "backup of " << mib << " MiB at " << kbit << " kbit/s: " << backup_s
              << " s (link floor " << floor_s << " s)\n";

    std::string target = TempDir("restore");
    t0 = Clock::now();
    RunResult r = c.Sk({"restore", "latest", "--target", target});
    double restore_s = Seconds(Clock::now() - t0);
    ASSERT_EQ(r.code, 0) << r.Describe();
    std::cerr << "restore: " << restore_s << " s\n";
    RunResult cmp = RunCommand({"cmp", src + "/random.bin", target + src + "/random.bin"}, {});
    EXPECT_EQ(cmp.code, 0) << cmp.Describe();
  }
};

// 8 MiB: one 8 MiB block, four 4 MiB fragments sharing 4 Mbit/s: each
// upload takes ~34 s, beyond the old fixed 30 s deadline.
TEST_F(SlowLink, BackupAndRestoreAt4Mbit) { BackupRestoreAt(4000, 8); }

// The issue's reproduction: 40 MiB at 4 Mbit/s (~3 min): opt-in.
TEST_F(SlowLink, IssueReproduction40MiBAt4Mbit) {
  if (Env("SHARDKEEP_LONG_NET_TESTS").empty()) GTEST_SKIP() << "set SHARDKEEP_LONG_NET_TESTS=1";
  BackupRestoreAt(4000, 40);
}

// A supplier that stops moving bytes mid-upload (paused: its socket stays
// open, the kernel stops acknowledging once its buffers fill) is cut off
// after the stall timeout, named in the output, and the backup completes on
// the other three (commit rule: k + 1).
TEST_F(SlowLink, PausedSupplierIsCutOffAfterStallTimeout) {
  auto cluster = StartCluster(4);
  ASSERT_NE(cluster, nullptr);
  Customer c;
  ASSERT_EQ(c.Sk({"init", "--suppliers", cluster->AddressList(), "--needed", "1GiB"}).code, 0);
  std::string src = RandomTree(24);
  // 40 Mbit/s: the backup takes ~10 s, time enough to pause a supplier in it.
  ASSERT_TRUE(testing::ShapeLoopback(40000).ok());
  std::thread pauser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2000));
    EXPECT_TRUE(cluster->Pause(3).ok());
  });
  auto t0 = Clock::now();
  RunResult b = c.Sk({"--stall-timeout", "3s", "backup", "--json", src});
  double took = Seconds(Clock::now() - t0);
  pauser.join();
  EXPECT_TRUE(cluster->Resume(3).ok());
  ASSERT_EQ(b.code, 0) << b.Describe();
  EXPECT_NE(b.err.find(cluster->Address(3)), std::string::npos) << b.Describe();
  EXPECT_NE(b.err.find("no data moved"), std::string::npos) << b.Describe();
  // Bounded: the link time (~10 s) plus the stall timeout, with slack.
  EXPECT_LT(took, 40.0);
  std::cerr << "backup with a paused supplier: " << took << " s\n";

  std::string target = TempDir("restore");
  RunResult r = c.Sk({"restore", "latest", "--target", target});
  ASSERT_EQ(r.code, 0) << r.Describe();
  EXPECT_EQ(RunCommand({"cmp", src + "/random.bin", target + src + "/random.bin"}, {}).code, 0);
}

}  // namespace
}  // namespace shardkeep::cli_test

int main(int argc, char** argv) {
  // Before any thread: the namespace is per thread until threads inherit it.
  absl::Status s = shardkeep::testing::EnterPrivateNetwork();
  shardkeep::cli_test::g_private_network = s.ok();
  shardkeep::cli_test::g_why_not = std::string(s.message());
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

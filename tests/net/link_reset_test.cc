// Connections that drop and suppliers that vanish, with real supplier
// processes and the real CLI, each supplier behind a LinkProxy
// (tests/harness/link_proxy.py) that resets every connection periodically or
// black-holes it. Issue 12: retries and stall detection.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/link_emulator.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::LinkProxy;
using testing::LinkProxyOptions;
using testing::SupplierCluster;
using testing::SupplierClusterOptions;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string RandomTree(int mib) {
  std::string dir = TempDir("src");
  RunResult r = RunCommand(
      {"/bin/bash", "-c", absl::StrCat("head -c ", mib, "M /dev/urandom > ", dir, "/random.bin")},
      {});
  EXPECT_EQ(r.code, 0) << r.Describe();
  return dir;
}

// n suppliers, each behind its own proxy.
struct ProxiedCluster {
  std::unique_ptr<SupplierCluster> cluster;
  std::vector<std::unique_ptr<LinkProxy>> proxies;

  std::string AddressList() const {
    std::vector<std::string> a;
    for (const auto& p : proxies) a.push_back(p->Address());
    return absl::StrJoin(a, ",");
  }
};

ProxiedCluster Start(int n, LinkProxyOptions options) {
  ProxiedCluster pc;
  auto c = SupplierCluster::Start(n, SupplierClusterOptions{});
  if (!c.ok()) {
    ADD_FAILURE() << c.status();
    return pc;
  }
  pc.cluster = std::move(*c);
  for (int i = 0; i < n; ++i) {
    auto p = LinkProxy::Start(pc.cluster->Address(i), TempDir("proxy"), options);
    if (!p.ok()) {
      ADD_FAILURE() << p.status();
      return ProxiedCluster{};
    }
    pc.proxies.push_back(std::move(*p));
  }
  return pc;
}

// Every connection to every supplier is reset every 4 s (the issue's "drops
// every minute", compressed: 1 MiB blocks so a fragment takes well under a
// second, and under a loaded machine's suite still a fraction of the period:
// at 2 s a busy run once failed one fragment 5 times in a row).
// Uploads and downloads cut off mid-stream are retried, re-signed, and the
// backup and the restore complete with every supplier still up.
TEST(LinkResets, BackupAndRestoreSurviveResetsEvery4s) {
  LinkProxyOptions o;
  o.rate_kbit = 8000;  // per supplier and direction
  o.reset_every_s = 4;
  ProxiedCluster pc = Start(4, o);
  ASSERT_EQ(pc.proxies.size(), 4u);
  Customer c;
  RunResult init = c.Sk({"init", "--suppliers", pc.AddressList(), "--needed", "1GiB",
                         "--block-size", "1MiB"});
  ASSERT_EQ(init.code, 0) << init.Describe();
  std::string src = RandomTree(12);

  auto t0 = Clock::now();
  RunResult b = c.Sk({"backup", "--json", src});
  double backup_s = Seconds(Clock::now() - t0);
  ASSERT_EQ(b.code, 0) << b.Describe();
  int resets = 0;
  for (const auto& p : pc.proxies) resets += p->Resets();
  std::cerr << "backup: " << backup_s << " s, " << resets << " connection resets\n";
  EXPECT_GE(resets, 4) << "the link did not drop often enough to prove anything";
  // Every supplier kept every block: none was marked down by a reset.
  EXPECT_EQ(b.err.find("marked down"), std::string::npos) << b.Describe();
  EXPECT_EQ(b.err.find("stored on only"), std::string::npos) << b.Describe();

  std::string target = TempDir("restore");
  RunResult r = c.Sk({"restore", "latest", "--target", target});
  ASSERT_EQ(r.code, 0) << r.Describe();
  EXPECT_EQ(RunCommand({"cmp", src + "/random.bin", target + src + "/random.bin"}, {}).code, 0);
}

// A supplier whose packets vanish mid-backup (nothing refused, nothing
// answered) is cut off after the stall timeout and the backup completes on
// the other three.
TEST(LinkResets, BlackHoledSupplierIsCutOffAfterStallTimeout) {
  LinkProxyOptions o;
  o.rate_kbit = 16000;
  ProxiedCluster pc = Start(4, o);
  ASSERT_EQ(pc.proxies.size(), 4u);
  Customer c;
  ASSERT_EQ(c.Sk({"init", "--suppliers", pc.AddressList(), "--needed", "1GiB"}).code, 0);
  std::string src = RandomTree(24);
  std::thread holer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    pc.proxies[1]->SetBlackholed(true);
  });
  auto t0 = Clock::now();
  RunResult b = c.Sk({"--stall-timeout", "3s", "backup", "--json", src});
  double took = Seconds(Clock::now() - t0);
  holer.join();
  pc.proxies[1]->SetBlackholed(false);
  ASSERT_EQ(b.code, 0) << b.Describe();
  EXPECT_NE(b.err.find(pc.proxies[1]->Address()), std::string::npos) << b.Describe();
  EXPECT_NE(b.err.find("no data moved"), std::string::npos) << b.Describe();
  EXPECT_LT(took, 40.0);
  std::cerr << "backup with a black-holed supplier: " << took << " s\n";
}

}  // namespace
}  // namespace shardkeep::cli_test

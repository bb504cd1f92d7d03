// The laptop's network changes in the middle of a first backup (issue 12:
// Wi-Fi to wired, a new local address). Real suppliers and the real CLI,
// in a network namespace of the test's own; every supplier is reached
// through one LinkProxy (tests/harness/link_proxy.py), the customer's link,
// whose connections to the suppliers leave from the customer's address
// 10.77.0.1. Part-way through the backup the link goes silent (packets
// vanish, as when Wi-Fi drops), then every connection dies, the address
// 10.77.0.1 is removed and 10.77.0.2 added, and the link comes back on the
// same addresses the customer knows but from the new local address. The
// backup must complete (exit 0), through new connections, and restore
// byte-identical.
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/link_emulator.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::LinkProxy;
using testing::LinkProxyOptions;
using testing::SupplierCluster;
using Clock = std::chrono::steady_clock;

bool g_private_network = false;
std::string g_why_not;

RunResult Shell(const std::string& cmd) { return RunCommand({"/bin/bash", "-c", cmd}, {}); }

TEST(NetworkChange, BackupCompletesWhenTheLocalAddressChanges) {
  if (!g_private_network) GTEST_SKIP() << "no private network namespace: " << g_why_not;
  ASSERT_EQ(Shell("ip addr add 10.77.0.1/32 dev lo").code, 0);

  auto started = SupplierCluster::Start(4);
  ASSERT_TRUE(started.ok()) << started.status();
  auto& cluster = *started;
  LinkProxyOptions o;
  o.rate_kbit = 40000;  // 5 MB/s up: 24 MiB (48 MiB sent at n/k = 2) takes ~10 s
  o.source_address = "10.77.0.1";
  const std::string dir1 = TempDir("link-wifi");
  auto wifi = LinkProxy::StartShared(cluster->Addresses(), dir1, o);
  ASSERT_TRUE(wifi.ok()) << wifi.status();
  const std::vector<int> ports = (*wifi)->Ports();
  Customer c;
  RunResult init = c.Sk({"init", "--suppliers", (*wifi)->AddressList(), "--needed", "1GiB"});
  ASSERT_EQ(init.code, 0) << init.Describe();
  const std::string src = TempDir("src");
  ASSERT_EQ(Shell("head -c 24M /dev/urandom > " + src + "/random.bin").code, 0);

  // The backup runs in a thread; this one changes the network (a proxy
  // dies with the thread that started it: PR_SET_PDEATHSIG).
  RunResult b;
  double took = 0;
  std::thread backup([&] {
    auto t0 = Clock::now();
    b = c.Sk({"--stall-timeout", "10s", "backup", "--json", src});
    took = std::chrono::duration<double>(Clock::now() - t0).count();
  });
  std::string change_error;
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  (*wifi)->SetBlackholed(true);  // Wi-Fi gone: silence
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  wifi->reset();  // every connection dies with the old link
  RunResult swap = Shell("ip addr del 10.77.0.1/32 dev lo && ip addr add 10.77.0.2/32 dev lo");
  if (swap.code != 0) change_error = swap.Describe();
  LinkProxyOptions w = o;
  w.source_address = "10.77.0.2";
  w.listen_ports = ports;
  auto wired = LinkProxy::StartShared(cluster->Addresses(), TempDir("link-wired"), w);
  if (!wired.ok()) change_error = wired.status().ToString();
  backup.join();
  ASSERT_EQ(change_error, "");
  std::cerr << "backup across a network change: " << took << " s\n" << b.err;
  ASSERT_EQ(b.code, 0) << b.Describe();
  EXPECT_EQ(JsonField(b.out, "files_new"), "1") << b.out;
  // The backup went on through the new link (new connections, new address).
  EXPECT_GT((*wired)->Connections(), 0);
  // The old address is gone: nothing can still be using it.
  EXPECT_NE(Shell("ip addr show dev lo | grep -q 10.77.0.1").code, 0);

  const std::string target = TempDir("restore");
  RunResult r = c.Sk({"restore", "latest", "--target", target});
  ASSERT_EQ(r.code, 0) << r.Describe();
  EXPECT_EQ(RunCommand({"cmp", src + "/random.bin", target + src + "/random.bin"}, {}).code, 0);
  // Nothing was left degraded: every supplier got its fragments.
  RunResult check = c.Sk({"check"});
  EXPECT_EQ(check.code, 0) << check.Describe();
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

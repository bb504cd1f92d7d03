// TLS by default with pinned suppliers (issue 12), with real supplier
// processes and the real CLI:
//   - suppliers make their own key on first start; init pins each one and
//     shows the fingerprint the supplier logs (and `init --json` lists it);
//   - plaintext needs --insecure-plaintext on both sides;
//   - a supplier whose key changed is refused, naming it and both
//     fingerprints, and the backup goes on without it.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;
using testing::SupplierClusterOptions;

std::unique_ptr<SupplierCluster> StartCluster(int n, std::vector<std::string> flags = {}) {
  SupplierClusterOptions o;
  o.extra_flags = std::move(flags);
  auto c = SupplierCluster::Start(n, o);
  if (!c.ok()) {
    ADD_FAILURE() << c.status();
    return nullptr;
  }
  return std::move(*c);
}

// The fingerprint supplier i logged at its last start ("sha256:<hex>").
std::string LoggedFingerprint(const SupplierCluster& cluster, int i) {
  std::string log = ReadFile(cluster.LogPath(i));
  size_t at = log.rfind("fingerprint sha256:");
  if (at == std::string::npos) return "";
  return log.substr(at + 12, 7 + 64);
}

std::string SmallTree() {
  std::string dir = TempDir("src");
  WriteFile(dir + "/a.txt", "over TLS\n");
  return dir;
}

TEST(Tls, OnByDefaultAndInitPinsEachSupplier) {
  auto cluster = StartCluster(3);
  ASSERT_NE(cluster, nullptr);
  Customer c;
  RunResult init = c.Sk({"init", "--suppliers", cluster->AddressList(), "--needed", "64MiB"});
  ASSERT_EQ(init.code, 0) << init.Describe();
  // A second customer's `init --json` names the same pins.
  Customer d;
  RunResult json = d.Sk({"init", "--suppliers", cluster->AddressList(), "--needed", "64MiB", "--json"});
  ASSERT_EQ(json.code, 0) << json.Describe();
  for (int i = 0; i < 3; ++i) {
    std::string fp = LoggedFingerprint(*cluster, i);
    ASSERT_EQ(fp.size(), 71u) << cluster->LogTail(i);
    EXPECT_NE(init.out.find("TLS key pinned: " + fp), std::string::npos) << init.out;
    EXPECT_NE(json.out.find("\"address\":\"" + cluster->Address(i) +
                            "\",\"supplier_id\":\"" ),
              std::string::npos)
        << json.out;
    EXPECT_NE(json.out.find("\"tls_fingerprint\":\"" + fp + "\""), std::string::npos) << json.out;
  }
  std::string src = SmallTree();
  ASSERT_EQ(c.Sk({"backup", src}).code, 0);
  std::string target = TempDir("restore");
  RunResult r = c.Sk({"restore", "latest", "--target", target});
  ASSERT_EQ(r.code, 0) << r.Describe();
  EXPECT_EQ(ReadFile(target + src + "/a.txt"), "over TLS\n");
  // The identity survives a restart: same key, no refusal.
  ASSERT_TRUE(cluster->Restart(1).ok());
  EXPECT_EQ(c.Sk({"snapshots"}).code, 0);
}

// Plaintext only when both sides ask for it.
TEST(Tls, PlaintextNeedsTheFlagOnBothSides) {
  auto plain = StartCluster(2, {"--insecure-plaintext"});
  ASSERT_NE(plain, nullptr);
  EXPECT_NE(ReadFile(plain->LogPath(0)).find("plaintext (--insecure-plaintext)"),
            std::string::npos);
  // A TLS customer cannot talk to a plaintext supplier...
  Customer c;
  RunResult tls_to_plain = c.Sk({"init", "--suppliers", plain->AddressList(), "--needed", "64MiB"});
  EXPECT_NE(tls_to_plain.code, 0) << tls_to_plain.Describe();
  // ...nor a plaintext customer to a TLS supplier.
  auto tls = StartCluster(2);
  ASSERT_NE(tls, nullptr);
  Customer d;
  RunResult plain_to_tls = d.Sk(
      {"--insecure-plaintext", "init", "--suppliers", tls->AddressList(), "--needed", "64MiB"});
  EXPECT_NE(plain_to_tls.code, 0) << plain_to_tls.Describe();
  // Both sides plaintext: works, and init says nothing is pinned.
  Customer e;
  RunResult both = e.Sk(
      {"--insecure-plaintext", "init", "--suppliers", plain->AddressList(), "--needed", "64MiB"});
  ASSERT_EQ(both.code, 0) << both.Describe();
  EXPECT_NE(both.out.find("TLS key pinned: none (plaintext)"), std::string::npos) << both.out;
  std::string src = SmallTree();
  RunResult b = RunCommand({Runfile("customer/shardkeep"), "backup", src},
                           {{"SHARDKEEP_CONFIG_DIR", e.config},
                            {"SHARDKEEP_CACHE_DIR", e.cache},
                            {"SHARDKEEP_PASSWORD", e.password},
                            {"SHARDKEEP_INSECURE_PLAINTEXT", "1"}});
  EXPECT_EQ(b.code, 0) << b.Describe();
}

// A supplier that comes back with another key (its identity files lost, or
// another machine at its address) is refused by every later command.
TEST(Tls, SupplierWhoseKeyChangedIsRefused) {
  auto cluster = StartCluster(4);
  ASSERT_NE(cluster, nullptr);
  Customer c;
  ASSERT_EQ(c.Sk({"init", "--suppliers", cluster->AddressList(), "--needed", "64MiB"}).code, 0);
  const std::string old_fp = LoggedFingerprint(*cluster, 2);
  ASSERT_EQ(old_fp.size(), 71u);
  ASSERT_TRUE(cluster->Stop(2).ok());
  ASSERT_EQ(RunCommand({"rm", cluster->DataDir(2) + "/tls-key.pem",
                        cluster->DataDir(2) + "/tls-cert.pem"},
                       {})
                .code,
            0);
  const std::string address = cluster->Address(2);
  ASSERT_TRUE(cluster->Restart(2).ok());
  ASSERT_EQ(cluster->Address(2), address) << "the supplier must come back on its port";
  const std::string new_fp = LoggedFingerprint(*cluster, 2);
  ASSERT_NE(old_fp, new_fp);

  std::string src = SmallTree();
  RunResult b = c.Sk({"backup", src});
  // Three of four suppliers suffice (k + 1): the backup is made without it.
  EXPECT_EQ(b.code, 0) << b.Describe();
  EXPECT_NE(b.err.find(cluster->Address(2)), std::string::npos) << b.Describe();
  EXPECT_NE(b.err.find("refusing the supplier"), std::string::npos) << b.Describe();
  EXPECT_NE(b.err.find(old_fp), std::string::npos) << b.Describe();
  EXPECT_NE(b.err.find(new_fp), std::string::npos) << b.Describe();
}

}  // namespace
}  // namespace shardkeep::cli_test

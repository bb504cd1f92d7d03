// A supplier that admits new customers only by invitation: `init` without
// the token is refused naming the supplier; `init --invite ADDRESS=TOKEN`
// (the token from `shardkeep-supplier invite`) is let in. Real processes.
#include <cstdio>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;

std::string Invite(const SupplierCluster& cluster, int i) {
  auto bin = SupplierCluster::FindSupplierBinary();
  EXPECT_TRUE(bin.ok()) << bin.status();
  RunResult r = RunCommand({*bin, "invite", "--data-dir", cluster.DataDir(i), "--valid", "1h"}, {});
  EXPECT_EQ(r.code, 0) << r.Describe();
  std::string token = r.out;
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  return token;
}

TEST(Invite, InitPresentsTheInvitation) {
  testing::SupplierClusterOptions o;
  o.extra_flags = {"--admission=invite"};
  auto c = SupplierCluster::Start(2, o);
  ASSERT_TRUE(c.ok()) << c.status();
  auto& cluster = **c;
  Customer ann;
  RunResult refused = ann.Sk({"init", "--suppliers", cluster.AddressList(), "--needed", "64MiB"});
  EXPECT_NE(refused.code, 0) << refused.Describe();
  EXPECT_NE(refused.err.find(cluster.Address(0)), std::string::npos) << refused.err;

  const std::string t0 = Invite(cluster, 0), t1 = Invite(cluster, 1);
  ASSERT_FALSE(t0.empty());
  RunResult bad = ann.Sk({"init", "--suppliers", cluster.AddressList(), "--invite", "nonsense"});
  EXPECT_EQ(bad.code, 2) << bad.Describe();
  RunResult ok = ann.Sk({"init", "--suppliers", cluster.AddressList(), "--needed", "64MiB",
                         "--invite", cluster.Address(0) + "=" + t0, "--invite",
                         cluster.Address(1) + "=" + t1});
  EXPECT_EQ(ok.code, 0) << ok.Describe();
}

}  // namespace
}  // namespace shardkeep::cli_test

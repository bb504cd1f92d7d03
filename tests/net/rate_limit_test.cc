// --limit-upload / --limit-download (issue 12) with the real CLI and real
// suppliers on loopback: the limit holds for all suppliers together.
#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

TEST(RateLimit, UploadAndDownloadLimitsHoldAcrossSuppliers) {
  auto cluster = SupplierCluster::Start(4);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  Customer c;
  ASSERT_EQ(c.Sk({"init", "--suppliers", (*cluster)->AddressList(), "--needed", "1GiB"}).code, 0);
  std::string src = TempDir("src");
  ASSERT_EQ(RunCommand({"/bin/bash", "-c", "head -c 4M /dev/urandom > " + src + "/r.bin"}, {}).code,
            0);

  // 4 MiB of data, 8 MiB with parity, at 8 Mbit/s (1 MB/s) for the four
  // suppliers together: at least ~8 s (unlimited on loopback: well under 2 s).
  auto t0 = Clock::now();
  RunResult b = c.Sk({"--limit-upload", "8Mbit", "backup", src});
  double up_s = Seconds(Clock::now() - t0);
  ASSERT_EQ(b.code, 0) << b.Describe();
  const double floor_up = 2.0 * 4 * 1048576 / 1e6;
  EXPECT_GT(up_s, 0.85 * floor_up) << "the upload limit did not hold";
  EXPECT_LT(up_s, 2.0 * floor_up + 5) << "far slower than the limit";

  // Restore reads k = 2 fragments of the block, 4 MiB, at 2 MB/s (env).
  std::string target = TempDir("restore");
  t0 = Clock::now();
  RunResult r = RunCommand({Runfile("customer/shardkeep"), "restore", "latest", "--target", target},
                           {{"SHARDKEEP_CONFIG_DIR", c.config},
                            {"SHARDKEEP_CACHE_DIR", c.cache},
                            {"SHARDKEEP_PASSWORD", c.password},
                            {"SHARDKEEP_LIMIT_DOWNLOAD", "2MB"}});
  double down_s = Seconds(Clock::now() - t0);
  ASSERT_EQ(r.code, 0) << r.Describe();
  const double floor_down = 4.0 * 1048576 / 2e6;
  EXPECT_GT(down_s, 0.85 * floor_down) << "the download limit did not hold";
  EXPECT_EQ(RunCommand({"cmp", src + "/r.bin", target + src + "/r.bin"}, {}).code, 0);
  std::cerr << "upload " << up_s << " s (floor " << floor_up << "), download " << down_s
            << " s (floor " << floor_down << ")\n";

  // A rate that does not parse is a usage error naming the flag.
  RunResult bad = c.Sk({"--limit-upload", "fast", "snapshots"});
  EXPECT_EQ(bad.code, 2) << bad.Describe();
  EXPECT_NE(bad.err.find("--limit-upload"), std::string::npos) << bad.Describe();
}

}  // namespace
}  // namespace shardkeep::cli_test

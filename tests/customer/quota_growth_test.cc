// Quota that grows with the vault, through the real CLI against real
// supplier processes: `suppliers resize` asks every supplier for a new quota
// and records it in the vault config (here and on the suppliers: `recover`
// finds it); a refusal names the supplier, what was asked and what it still
// grants. A backup that would run past a quota stops before the block that
// cannot fit (exit 14, saying to resize or prune), saves no snapshot, and
// after a resize the next backup finishes the job.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "proto/vault.pb.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using nlohmann::json;
using testing::SupplierCluster;
using testing::SupplierClusterOptions;

constexpr uint64_t kMiB = 1 << 20;

std::unique_ptr<SupplierCluster> StartCluster(int n, uint64_t capacity) {
  SupplierClusterOptions o;
  o.capacity_bytes = capacity;
  auto c = SupplierCluster::Start(n, o);
  if (!c.ok()) {
    ADD_FAILURE() << c.status();
    return nullptr;
  }
  return std::move(*c);
}

vault::v1::VaultConfig LocalConfig(const Customer& c) {
  vault::v1::VaultConfig config;
  EXPECT_TRUE(config.ParseFromString(ReadFile(c.config + "/config"))) << c.config;
  return config;
}

json StatsJson(const Customer& c) {
  RunResult r = c.Sk({"stats", "--json"});
  EXPECT_EQ(r.code, 0) << r.Describe();
  return json::parse(r.out, nullptr, false);
}

TEST(QuotaGrowth, ResizeGrowsEveryQuotaAndRecordsIt) {
  auto cluster = StartCluster(3, 64 * kMiB);
  ASSERT_NE(cluster, nullptr);
  Customer ann;
  RunResult init =
      ann.Sk({"init", "--suppliers", cluster->AddressList(), "--needed", "8MiB", "--json"});
  ASSERT_EQ(init.code, 0) << init.Describe();
  const std::string vault_id = JsonField(init.out, "vault_id");
  const uint64_t generation = LocalConfig(ann).generation();

  RunResult grow = ann.Sk({"suppliers", "resize", "--needed", "40MiB"});
  ASSERT_EQ(grow.code, 0) << grow.Describe();
  EXPECT_NE(grow.out.find("quota 20.00 MiB (was 4.00 MiB)"), std::string::npos) << grow.out;
  vault::v1::VaultConfig config = LocalConfig(ann);
  EXPECT_EQ(config.needed_bytes(), 40 * kMiB);
  EXPECT_EQ(config.generation(), generation + 1);
  for (const auto& s : config.suppliers()) EXPECT_EQ(s.quota_bytes(), 20 * kMiB);
  json stats = StatsJson(ann);
  for (const json& u : stats["suppliers"]) EXPECT_EQ(u["quota_bytes"], 20 * kMiB) << u;

  // More than any supplier holds (100 MiB each of 64): every one refuses,
  // named with what was asked and what it still grants; nothing changes.
  RunResult big = ann.Sk({"suppliers", "resize", "--needed", "200MiB"});
  EXPECT_EQ(big.code, 1) << big.Describe();
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(big.err.find(absl::StrCat("supplier ", cluster->Address(i), " (position ", i,
                                        ") refused a quota of 100.00 MiB")),
              std::string::npos)
        << big.err;
  }
  EXPECT_NE(big.err.find("it still grants 20.00 MiB"), std::string::npos) << big.err;
  EXPECT_NE(big.err.find("capacity"), std::string::npos) << big.err;  // the supplier's reason
  EXPECT_EQ(LocalConfig(ann).generation(), generation + 1);
  EXPECT_EQ(LocalConfig(ann).needed_bytes(), 40 * kMiB);

  // The new config is on the suppliers: a machine that lost its disk gets
  // it back from any one of them.
  Customer lost = ann;
  lost.config = TempDir("config");
  lost.cache = TempDir("cache");
  RunResult rec = lost.Sk({"recover", "--vault", vault_id, "--supplier", cluster->Address(1)});
  ASSERT_EQ(rec.code, 0) << rec.Describe();
  EXPECT_EQ(LocalConfig(lost).needed_bytes(), 40 * kMiB);
  EXPECT_EQ(LocalConfig(lost).generation(), generation + 1);

  // JSON, and a second identical resize changes nothing.
  RunResult again = ann.Sk({"suppliers", "resize", "--needed", "40MiB", "--json"});
  ASSERT_EQ(again.code, 0) << again.Describe();
  json j = json::parse(again.out, nullptr, false);
  EXPECT_EQ(j["config_written"], false) << again.out;
  EXPECT_EQ(j["suppliers"][0]["granted"], true) << again.out;
  EXPECT_EQ(LocalConfig(ann).generation(), generation + 1);
  EXPECT_EQ(ann.Sk({"suppliers", "resize", "--needed", "lots"}).code, 2);
}

TEST(QuotaGrowth, BackupStopsBeforeTheQuotaThenFinishesAfterResize) {
  auto cluster = StartCluster(3, 64 * kMiB);
  ASSERT_NE(cluster, nullptr);
  Customer ann;
  // 2 MiB at each supplier (k = 2); chunks of about 1 MiB make the blocks.
  RunResult init = ann.Sk(
      {"init", "--suppliers", cluster->AddressList(), "--needed", "4MiB", "--block-size", "64KiB"});
  ASSERT_EQ(init.code, 0) << init.Describe();

  // 6 MiB that does not compress: 3 MiB at each supplier.
  const std::string src = TempDir("src");
  RunResult mk =
      RunCommand({"/bin/bash", "-c", "head -c 6291456 /dev/urandom > " + src + "/random.bin"}, {});
  ASSERT_EQ(mk.code, 0) << mk.Describe();

  RunResult full = ann.Sk({"backup", src});
  EXPECT_EQ(full.code, 14) << full.Describe();
  EXPECT_NE(full.err.find("has no room for the next block"), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("quota 2.00 MiB"), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("shardkeep suppliers resize --needed"), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("--prune"), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("blocks stored before it are recorded"), std::string::npos) << full.err;

  // No snapshot, half-stored or otherwise; no supplier past its quota; the
  // blocks that fit are there.
  json stats = StatsJson(ann);
  EXPECT_EQ(stats["snapshots"], 0) << stats;
  EXPECT_GE(stats["blocks"].get<uint64_t>(), 1u) << stats;
  for (const json& u : stats["suppliers"]) {
    EXPECT_LE(u["used_bytes"].get<uint64_t>(), 2 * kMiB) << u;
    EXPECT_GT(u["used_bytes"].get<uint64_t>(), kMiB) << u;  // it did fill up
  }

  RunResult grow = ann.Sk({"suppliers", "resize", "--needed", "16MiB"});
  ASSERT_EQ(grow.code, 0) << grow.Describe();
  RunResult done = ann.Sk({"backup", "--json", src});
  ASSERT_EQ(done.code, 0) << done.Describe();
  // The blocks stored before the stop were reused: under 6 MiB new.
  EXPECT_LT(std::stoull(JsonField(done.out, "bytes_new_raw")), 5 * kMiB) << done.out;

  const std::string target = TempDir("restore");
  RunResult res = ann.Sk({"restore", "latest", "--target", target});
  ASSERT_EQ(res.code, 0) << res.Describe();
  EXPECT_TRUE(ReadFile(target + src + "/random.bin") == ReadFile(src + "/random.bin"));
}

}  // namespace
}  // namespace shardkeep::cli_test

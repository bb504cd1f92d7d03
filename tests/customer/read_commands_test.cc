// The read-only commands a user asks about a vault: `diff`, `find` and
// `stats`, through the real `shardkeep` binary against real supplier
// processes (tests/harness), on two snapshots with known differences.
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using nlohmann::json;
using testing::SupplierCluster;
using testing::SupplierClusterOptions;

// Every line of `text` parsed as JSON (fails the test on a bad line).
std::vector<json> JsonLines(const std::string& text) {
  std::vector<json> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << line;
    out.push_back(j);
  }
  return out;
}

class ReadCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SupplierClusterOptions o;
    o.capacity_bytes = 1ULL << 30;
    auto c = SupplierCluster::Start(3, o);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    RunResult init = ann_.Sk({"init", "--suppliers", cluster_->AddressList(), "--needed", "64MiB"});
    ASSERT_EQ(init.code, 0) << init.Describe();

    // First snapshot: a.txt, b.txt, sub/c.odt, sub/d.odt.
    src_ = TempDir("src");
    ASSERT_EQ(mkdir((src_ + "/sub").c_str(), 0755), 0);
    WriteFile(src_ + "/a.txt", "alpha\n");
    WriteFile(src_ + "/b.txt", "bravo\n");
    WriteFile(src_ + "/sub/c.odt", std::string(100000, 'c'));
    WriteFile(src_ + "/sub/d.odt", std::string(3000, 'd'));
    id1_ = Backup();

    // Second: a.txt's content changes, b.txt only its mode, d.odt goes,
    // e.odt and new/f.txt come.
    WriteFile(src_ + "/a.txt", "alpha, changed\n");
    ASSERT_EQ(chmod((src_ + "/b.txt").c_str(), 0600), 0);
    ASSERT_EQ(unlink((src_ + "/sub/d.odt").c_str()), 0);
    WriteFile(src_ + "/sub/e.odt", std::string(5000, 'e'));
    ASSERT_EQ(mkdir((src_ + "/new").c_str(), 0755), 0);
    WriteFile(src_ + "/new/f.txt", "foxtrot\n");
    id2_ = Backup();
  }

  std::string Backup() {
    RunResult r = ann_.Sk({"backup", "--json", src_});
    EXPECT_EQ(r.code, 0) << r.Describe();
    return JsonField(r.out, "snapshot_id");
  }

  std::unique_ptr<SupplierCluster> cluster_;
  Customer ann_;
  std::string src_, id1_, id2_;
};

TEST_F(ReadCommandsTest, DiffNamesEveryKindOfChange) {
  ASSERT_EQ(id1_.size(), 32u);
  RunResult r = ann_.Sk({"diff", id1_.substr(0, 8), "latest"});
  ASSERT_EQ(r.code, 0) << r.Describe();
  EXPECT_NE(r.out.find("M  " + src_ + "/a.txt\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("U  " + src_ + "/b.txt\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-  " + src_ + "/sub/d.odt\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+  " + src_ + "/sub/e.odt\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+  " + src_ + "/new\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+  " + src_ + "/new/f.txt\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("/sub/c.odt"), std::string::npos) << r.out;  // unchanged
  EXPECT_NE(r.out.find("3 added, 1 removed, 1 modified"), std::string::npos) << r.out;

  RunResult j = ann_.Sk({"diff", "--json", id1_, id2_});
  ASSERT_EQ(j.code, 0) << j.Describe();
  std::vector<json> lines = JsonLines(j.out);
  ASSERT_FALSE(lines.empty());
  const json& stats = lines.back();
  EXPECT_EQ(stats["message_type"], "statistics");
  EXPECT_EQ(stats["source_snapshot"], id1_);
  EXPECT_EQ(stats["target_snapshot"], id2_);
  EXPECT_EQ(stats["added"], 3);
  EXPECT_EQ(stats["removed"], 1);
  EXPECT_EQ(stats["modified"], 1);
  EXPECT_EQ(stats["bytes_added"], 5000 + 8);
  EXPECT_EQ(stats["bytes_removed"], 3000);
  bool saw_removed = false;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["message_type"], "change");
    if (lines[i]["path"] == src_ + "/sub/d.odt") {
      saw_removed = true;
      EXPECT_EQ(lines[i]["modifier"], "-");
      EXPECT_EQ(lines[i]["type"], "file");
    }
  }
  EXPECT_TRUE(saw_removed) << j.out;

  // A snapshot compared with itself: nothing; an unknown one: named, exit 1.
  RunResult same = ann_.Sk({"diff", id2_, "latest"});
  ASSERT_EQ(same.code, 0) << same.Describe();
  EXPECT_NE(same.out.find("0 added, 0 removed, 0 modified, 0 metadata only"), std::string::npos)
      << same.out;
  RunResult bad = ann_.Sk({"diff", "ffffffff", "latest"});
  EXPECT_EQ(bad.code, 1) << bad.Describe();
  EXPECT_NE(bad.err.find("ffffffff"), std::string::npos) << bad.Describe();
  EXPECT_EQ(ann_.Sk({"diff", "latest"}).code, 2);
}

TEST_F(ReadCommandsTest, FindByNameByPathAndBySnapshot) {
  RunResult r = ann_.Sk({"find", "*.odt"});
  ASSERT_EQ(r.code, 0) << r.Describe();
  // c.odt in both, d.odt in the first, e.odt in the second.
  EXPECT_NE(r.out.find("4 matches in 2 of 2 snapshots"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(id1_.substr(0, 8) + "  file"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(src_ + "/sub/d.odt"), std::string::npos) << r.out;

  RunResult latest = ann_.Sk({"find", "--snapshot", "latest", "--json", "*.odt"});
  ASSERT_EQ(latest.code, 0) << latest.Describe();
  std::vector<json> lines = JsonLines(latest.out);
  ASSERT_EQ(lines.size(), 2u) << latest.out;
  EXPECT_EQ(lines[0]["snapshot_id"], id2_);
  EXPECT_EQ(lines[0]["path"], src_ + "/sub/c.odt");
  EXPECT_EQ(lines[0]["size"], 100000);
  EXPECT_EQ(lines[0]["type"], "file");
  EXPECT_EQ(lines[1]["path"], src_ + "/sub/e.odt");

  // A full-path pattern: * stays within one directory.
  RunResult path = ann_.Sk({"find", src_ + "/*.txt"});
  ASSERT_EQ(path.code, 0) << path.Describe();
  EXPECT_NE(path.out.find("4 matches in 2 of 2 snapshots"), std::string::npos) << path.out;
  EXPECT_EQ(path.out.find("/new/f.txt"), std::string::npos) << path.out;

  RunResult none = ann_.Sk({"find", "-i", "NO-SUCH-*"});
  ASSERT_EQ(none.code, 0) << none.Describe();
  EXPECT_NE(none.out.find("0 matches in 0 of 2 snapshots"), std::string::npos) << none.out;
  RunResult upper = ann_.Sk({"find", "-i", "*.ODT", "--snapshot", id1_.substr(0, 6)});
  EXPECT_NE(upper.out.find("2 matches in 1 of 1 snapshots"), std::string::npos) << upper.Describe();
}

TEST_F(ReadCommandsTest, StatsAddsUp) {
  RunResult r = ann_.Sk({"stats", "--json"});
  ASSERT_EQ(r.code, 0) << r.Describe();
  json s = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(s.is_discarded()) << r.out;
  EXPECT_EQ(s["snapshots"], 2);
  EXPECT_EQ(s["n"], 3);
  EXPECT_EQ(s["k"], 2);
  const uint64_t latest = 15 + 6 + 100000 + 5000 + 8;
  EXPECT_EQ(s["latest_logical_bytes"], latest);
  EXPECT_EQ(s["total_logical_bytes"], latest + 6 + 6 + 100000 + 3000);
  const uint64_t stored = s["stored_bytes"];
  const uint64_t redundant = s["stored_with_redundancy_bytes"];
  EXPECT_GT(stored, 0u);
  // Runs of one letter compress to almost nothing.
  EXPECT_LT(stored, 50000u);
  // n/k = 1.5, plus the padding of fragments to equal size.
  EXPECT_GE(redundant, stored * 3 / 2);
  EXPECT_LE(redundant, stored * 3 / 2 + 3 * 64 * s["blocks"].get<uint64_t>());
  ASSERT_EQ(s["suppliers"].size(), 3u);
  uint64_t indexed = 0;
  for (const json& u : s["suppliers"]) {
    EXPECT_EQ(u["reachable"], true) << u;
    EXPECT_EQ(u["quota_bytes"], 32ULL << 20) << u;  // ceil(64 MiB / k)
    EXPECT_GE(u["used_bytes"].get<uint64_t>(), u["indexed_bytes"].get<uint64_t>()) << u;
    EXPECT_EQ(u["indexed_fragments"], s["blocks"]) << u;
    indexed += u["indexed_bytes"].get<uint64_t>();
  }
  EXPECT_EQ(indexed, redundant);

  // One supplier down: still answered, that one named unreachable.
  ASSERT_TRUE(cluster_->Kill(1).ok());
  RunResult text = ann_.Sk({"stats"});
  ASSERT_EQ(text.code, 0) << text.Describe();
  EXPECT_NE(text.out.find("snapshots:                2"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("unreachable: " + cluster_->Address(1)), std::string::npos) << text.out;
}

}  // namespace
}  // namespace shardkeep::cli_test

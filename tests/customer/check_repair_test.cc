// `check` (and `repair`) through the real CLI against real supplier
// processes: flipped bytes in a supplier's fragment files, a killed
// supplier, a backup with a supplier down.
#include <sys/stat.h>

#include <random>
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

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::unique_ptr<SupplierCluster> StartCluster(int n) {
  SupplierClusterOptions o;
  o.capacity_bytes = 1ULL << 30;
  auto c = SupplierCluster::Start(n, o);
  if (!c.ok()) {
    ADD_FAILURE() << c.status();
    return nullptr;
  }
  return std::move(*c);
}

// Flips one byte in every 4 KiB of every fragment file of supplier `i` (so
// every audit piece is hit); returns how many files.
int FlipFragments(const SupplierCluster& cluster, int i) {
  RunResult flip = Shell(
      absl::StrCat("set -e; n=0; for f in $(find ", cluster.DataDir(i), "/fragments -type f); do ",
                   "python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,\"rb\").read()); "
                   "b[::4096]=bytes(x^1 for x in b[::4096]); open(p,\"wb\").write(b)' $f; n=$((n+1)); done; echo $n"));
  EXPECT_EQ(flip.code, 0) << flip.Describe();
  return flip.code == 0 ? std::stoi(flip.out) : 0;
}

class CheckRepairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = StartCluster(4);
    ASSERT_NE(cluster_, nullptr);
    RunResult init = c_.Sk({"init", "--suppliers", cluster_->AddressList(), "--needed", "256MiB",
                            "--block-size", "64KiB"});
    ASSERT_EQ(init.code, 0) << init.Describe();
    src_ = TempDir("src");
    a_ = RandomBytes(300 << 10, 1);
    WriteFile(src_ + "/a.bin", a_);
    WriteFile(src_ + "/small.txt", "small\n");
  }
  void Backup() {
    RunResult r = c_.Sk({"backup", src_});
    ASSERT_EQ(r.code, 0) << r.Describe();
  }
  void ExpectRestores() {
    std::string t = TempDir("restore");
    RunResult r = c_.Sk({"restore", "latest", "--target", t});
    EXPECT_EQ(r.code, 0) << r.Describe();
    EXPECT_TRUE(ReadFile(t + src_ + "/a.bin") == a_);
  }

  std::unique_ptr<SupplierCluster> cluster_;
  Customer c_;
  std::string src_, a_;
};

TEST_F(CheckRepairTest, CheckFindsFlippedBytesAndLostSuppliers) {
  Backup();
  RunResult healthy = c_.Sk({"check"});
  ASSERT_EQ(healthy.code, 0) << healthy.Describe();
  EXPECT_NE(healthy.out.find("healthy (survives 2 more supplier losses)"), std::string::npos)
      << healthy.out;

  ASSERT_GT(FlipFragments(*cluster_, 0), 0);
  // The listing carries the hashes declared at upload; the audits (one
  // random piece of each sampled fragment, here all 3) show it.
  RunResult audit = c_.Sk({"check", "--json"});
  EXPECT_EQ(audit.code, 4) << audit.Describe();
  EXPECT_NE(audit.out.find("\"audited\":0,\"audit_failed\":3}"), std::string::npos) << audit.out;
  EXPECT_NE(audit.err.find(absl::StrCat("supplier ", cluster_->Address(0), " failed an audit")),
            std::string::npos)
      << audit.err;
  RunResult history = Shell("cat $(find '" + c_.cache + "' -name audit-history)");
  EXPECT_NE(history.out.find(absl::StrCat(" 0 ", cluster_->Address(0), " audited=0 failed=3")),
            std::string::npos)
      << history.Describe();
  RunResult read = c_.Sk({"check", "--read-data", "--json"});
  EXPECT_EQ(read.code, 4) << read.Describe();
  EXPECT_EQ(JsonField(read.out, "state"), "degraded") << read.out;
  EXPECT_NE(read.out.find(absl::StrCat("\"address\":\"", cluster_->Address(0),
                                       "\",\"reachable\":true,\"expected\":")),
            std::string::npos);
  EXPECT_EQ(JsonField(read.out, "blocks_damaged"), "0") << read.out;
  ExpectRestores();

  // repair --read-data rewrites the rotten fragments; a second check is clean.
  RunResult fix = c_.Sk({"repair", "--read-data", "--json"});
  EXPECT_EQ(fix.code, 0) << fix.Describe();
  EXPECT_NE(JsonField(fix.out, "fragments_written"), "0") << fix.out;
  EXPECT_EQ(JsonField(fix.out, "blocks_healed"), JsonField(fix.out, "blocks_to_heal")) << fix.out;
  RunResult clean = c_.Sk({"check", "--read-data"});
  EXPECT_EQ(clean.code, 0) << clean.Describe();
  RunResult again = c_.Sk({"repair", "--read-data", "--json"});
  EXPECT_EQ(again.code, 0) << again.Describe();
  EXPECT_EQ(JsonField(again.out, "fragments_written"), "0") << again.out;
  ExpectRestores();

  // A killed supplier: unreachable, one loss of margin.
  ASSERT_TRUE(cluster_->Kill(1).ok());
  RunResult down = c_.Sk({"check", "--read-data"});
  EXPECT_EQ(down.code, 4) << down.Describe();
  EXPECT_NE(down.out.find(absl::StrCat("1  ", cluster_->Address(1), "  unreachable")),
            std::string::npos)
      << down.out;
  EXPECT_NE(down.out.find("degraded: survives 1 more supplier losses, not 2"), std::string::npos)
      << down.out;
  // Fewer than k answering: 13.
  ASSERT_TRUE(cluster_->Kill(2).ok());
  ASSERT_TRUE(cluster_->Kill(3).ok());
  EXPECT_EQ(c_.Sk({"check"}).code, 13);
  EXPECT_EQ(c_.Sk({"check", "--read-data", "--read-data-subset", "1/2"}).code, 2);
  EXPECT_EQ(c_.Sk({"check", "--read-data-subset", "0%"}).code, 2);
}

TEST_F(CheckRepairTest, CheckNamesFilesThatCannotComeBack) {
  Backup();
  // A file backed up with supplier 3 down is on 0, 1, 2 only; losing 0 and 1
  // leaves it one fragment short.
  ASSERT_TRUE(cluster_->Kill(3).ok());
  WriteFile(src_ + "/late.bin", RandomBytes(200 << 10, 2));
  Backup();
  ASSERT_TRUE(cluster_->Restart(3).ok());
  ASSERT_TRUE(cluster_->Wipe(0).ok());
  ASSERT_TRUE(cluster_->Restart(0).ok());  // back, empty, another supplier ID: refused
  ASSERT_TRUE(cluster_->Kill(1).ok());
  RunResult r = c_.Sk({"check"});
  EXPECT_EQ(r.code, 5) << r.Describe();
  EXPECT_NE(r.out.find("lost: " + src_ + "/late.bin"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("lost: " + src_ + "/a.bin"), std::string::npos) << r.out;
}

// The case: a backup with one supplier down, the supplier back,
// repair, check clean; then the healed supplier stands in for two lost ones.
TEST_F(CheckRepairTest, BackupWithASupplierDownThenRepairThenCheckIsClean) {
  ASSERT_TRUE(cluster_->Kill(3).ok());
  Backup();
  ASSERT_TRUE(cluster_->Restart(3).ok());
  RunResult before = c_.Sk({"check"});
  EXPECT_EQ(before.code, 4) << before.Describe();

  RunResult dry = c_.Sk({"repair", "--dry-run", "--json"});
  EXPECT_EQ(dry.code, 0) << dry.Describe();
  EXPECT_EQ(JsonField(dry.out, "fragments_written"), "0") << dry.out;
  EXPECT_EQ(c_.Sk({"check"}).code, 4);

  RunResult fix = c_.Sk({"repair"});
  EXPECT_EQ(fix.code, 0) << fix.Describe();
  EXPECT_NE(fix.out.find(absl::StrCat("3  ", cluster_->Address(3))), std::string::npos) << fix.out;
  // maintain then finds nothing to heal and renews the 4 leases.
  RunResult maintain = c_.Sk({"maintain"});
  EXPECT_EQ(maintain.code, 0) << maintain.Describe();
  EXPECT_NE(maintain.out.find("maintain: 4 leases renewed"), std::string::npos) << maintain.out;
  EXPECT_NE(maintain.out.find("0 to heal"), std::string::npos) << maintain.out;
  RunResult after = c_.Sk({"check", "--read-data"});
  EXPECT_EQ(after.code, 0) << after.Describe();

  // 0 and 1 gone: every block comes back from 2 and the healed 3.
  ASSERT_TRUE(cluster_->Kill(0).ok());
  ASSERT_TRUE(cluster_->Kill(1).ok());
  ExpectRestores();
}

// status and suppliers list: all well, then a supplier down needs attention.
TEST_F(CheckRepairTest, StatusAndSuppliersList) {
  Backup();
  RunResult ok = c_.Sk({"status"});
  EXPECT_EQ(ok.code, 0) << ok.Describe();
  EXPECT_NE(ok.out.find("survives 2 of 2 supplier losses"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("all is well"), std::string::npos) << ok.out;
  RunResult list = c_.Sk({"suppliers", "list", "--json"});
  EXPECT_EQ(list.code, 0) << list.Describe();
  EXPECT_NE(list.out.find(absl::StrCat("\"address\":\"", cluster_->Address(3), "\"")),
            std::string::npos)
      << list.out;
  EXPECT_NE(JsonField(list.out, "quota_bytes"), "0") << list.out;
  EXPECT_NE(JsonField(list.out, "last_audit"), "") << list.out;  // status audited
  EXPECT_EQ(JsonField(list.out, "health"), "ok") << list.out;

  ASSERT_TRUE(cluster_->Kill(2).ok());
  RunResult down = c_.Sk({"status", "--json"});
  EXPECT_EQ(down.code, 4) << down.Describe();
  EXPECT_NE(down.out.find(absl::StrCat("supplier ", cluster_->Address(2), " (position 2) does not answer")),
            std::string::npos)
      << down.out;
  RunResult list2 = c_.Sk({"suppliers", "list"});
  EXPECT_EQ(list2.code, 4) << list2.Describe();
  EXPECT_NE(list2.out.find("unreachable"), std::string::npos) << list2.out;
}

}  // namespace
}  // namespace shardkeep::cli_test

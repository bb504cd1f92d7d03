// What a second backup stores (issue 10's tests), through the real CLI and
// real suppliers with the default chunker (1 MiB average chunks): nothing
// for an unchanged tree, about one file for one edited file among many, a
// few chunks for a 100 MiB file with one byte inserted at its start, and
// still nothing new when the cache dir was deleted in between.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;

uint64_t Num(const std::string& json, const std::string& key) {
  std::string v = JsonField(json, key);
  return v.empty() ? ~uint64_t{0} : std::stoull(v);
}

class DedupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SupplierClusterOptions o;
    o.capacity_bytes = 2ULL << 30;
    auto c = SupplierCluster::Start(4, o);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    RunResult init = c_.Sk({"init", "--suppliers", cluster_->AddressList(), "--needed", "1GiB"});
    ASSERT_EQ(init.code, 0) << init.Describe();
    src_ = TempDir("src");
  }
  std::string Backup() {
    RunResult r = c_.Sk({"backup", "--json", src_});
    EXPECT_EQ(r.code, 0) << r.Describe();
    return r.out;
  }
  void ExpectRestores() {
    std::string target = TempDir("restore");
    RunResult r = c_.Sk({"restore", "latest", "--target", target});
    ASSERT_EQ(r.code, 0) << r.Describe();
    EXPECT_EQ(Shell("diff -r '" + src_ + "' '" + target + src_ + "'").code, 0);
  }

  std::unique_ptr<SupplierCluster> cluster_;
  Customer c_;
  std::string src_;
};

TEST_F(DedupTest, SecondBackupsStoreOnlyWhatChanged) {
  // 200 files of 100 kB, one of 100 MB.
  ASSERT_EQ(Shell("cd '" + src_ + "' && mkdir many && for i in $(seq 1 200); do "
                  "head -c 100000 /dev/urandom > many/f$i; done && "
                  "head -c 100000000 /dev/urandom > big")
                .code,
            0);
  const std::string first = Backup();
  ASSERT_GT(Num(first, "bytes_stored"), 100000000u) << first;

  // Unchanged: no file read, no data. (The directories above src_ hold the
  // suppliers' data dirs and the cache, so their mtimes moved: their small
  // trees, a tree block of about 1 kB, are new; nothing else.)
  std::string s = Backup();
  EXPECT_EQ(Num(s, "bytes_read"), 0u) << s;
  EXPECT_LE(Num(s, "blocks"), 1u) << s;
  EXPECT_LT(Num(s, "bytes_new_raw"), 16384u) << s;

  // The cache dir deleted: the index and the parent's trees come from the
  // suppliers; still nothing new.
  ASSERT_EQ(Shell("rm -rf '" + c_.cache + "'").code, 0);
  s = Backup();
  EXPECT_EQ(Num(s, "bytes_read"), 0u) << s;
  EXPECT_LT(Num(s, "bytes_new_raw"), 16384u) << s;

  // One small file edited: about that file (plus the trees above it).
  ASSERT_EQ(Shell("head -c 100000 /dev/urandom > '" + src_ + "/many/f17'").code, 0);
  s = Backup();
  EXPECT_EQ(Num(s, "files_changed"), 1u) << s;
  EXPECT_LT(Num(s, "bytes_new_raw"), 300000u) << s;

  // One byte inserted at the start of the 100 MB file: content-defined
  // chunks realign after the first; a few chunks (1 MiB average) are new.
  ASSERT_EQ(Shell("cd '" + src_ + "' && { printf x; cat big; } > big.new && mv big.new big").code,
            0);
  s = Backup();
  EXPECT_EQ(Num(s, "files_changed"), 1u) << s;
  EXPECT_LT(Num(s, "bytes_new_raw"), 8000000u) << s;
  ExpectRestores();
}

}  // namespace
}  // namespace shardkeep::cli_test

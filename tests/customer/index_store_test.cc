// The local index store (docs/FORMAT.md, "Local index store") through the
// real CLI and real suppliers: it is caught up with what another machine
// wrote, rebuilt (not trusted) when a prune elsewhere deleted blocks it
// still names, rebuilt when damaged, and not shared by two commands at once.
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;

class IndexStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SupplierClusterOptions o;
    o.capacity_bytes = 1ULL << 30;
    auto c = SupplierCluster::Start(4, o);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    RunResult init = a_.Sk({"init", "--suppliers", cluster_->AddressList(), "--needed", "512MiB"});
    ASSERT_EQ(init.code, 0) << init.Describe();
    // Machine B: the same vault (config), its own cache.
    b_ = a_;
    b_.cache = TempDir("cache-b");
  }
  // The store of `c` (one vault: one <cache>/<vault-id>/index.db).
  static std::string StoreDir(const Customer& c) {
    return Shell("ls -d '" + c.cache + "'/*/index.db 2>/dev/null").out;
  }
  void Random(const std::string& dir, const std::string& name, int mb) {
    ASSERT_EQ(Shell("mkdir -p '" + dir + "' && head -c " + std::to_string(mb << 20) +
                    " /dev/urandom > '" + dir + "/" + name + "'")
                  .code,
              0);
  }
  // Restores snapshot `spec` as `c` and compares `dir` with the original.
  void ExpectRestores(const Customer& c, const std::string& spec, const std::string& dir) {
    std::string target = TempDir("restore");
    RunResult r = c.Sk({"restore", spec, "--target", target});
    ASSERT_EQ(r.code, 0) << r.Describe();
    EXPECT_EQ(Shell("diff -r '" + dir + "' '" + target + dir + "'").code, 0) << dir;
  }

  std::unique_ptr<SupplierCluster> cluster_;
  Customer a_, b_;
};

TEST_F(IndexStoreTest, CaughtUpWithAnotherMachineAndRebuiltAfterItsPrune) {
  const std::string src_a = TempDir("src-a"), src_b = TempDir("src-b");
  Random(src_a, "x", 6);
  RunResult first = a_.Sk({"backup", "--json", src_a});
  ASSERT_EQ(first.code, 0) << first.Describe();
  const std::string first_id = JsonField(first.out, "snapshot_id");
  ASSERT_EQ(first_id.size(), 32u) << first.out;
  ASSERT_FALSE(StoreDir(a_).empty()) << "no index store under " << a_.cache;

  // B backs up other data: A's next command finds B's pieces and restores
  // B's snapshot through its own (caught up) store.
  Random(src_b, "y", 3);
  RunResult rb = b_.Sk({"backup", src_b});
  ASSERT_EQ(rb.code, 0) << rb.Describe();
  ExpectRestores(a_, "latest", src_b);

  // B forgets A's snapshot and prunes: x's blocks are deleted at every
  // supplier, and the index is a new epoch. A's store still names them; A
  // must not trust it: backing up x again stores x again, and it restores,
  // also on a third machine with no cache at all.
  RunResult f = b_.Sk({"forget", first_id, "--prune"});
  ASSERT_EQ(f.code, 0) << f.Describe();
  RunResult again = a_.Sk({"backup", "--json", src_a});
  ASSERT_EQ(again.code, 0) << again.Describe();
  EXPECT_GE(JsonNumber(again.out, "bytes_stored"), 6u << 20) << again.out;
  ExpectRestores(a_, "latest", src_a);
  Customer c = a_;
  c.cache = TempDir("cache-c");
  ExpectRestores(c, "latest", src_a);
  // A backup right after stores nothing new: the rebuilt store knows x.
  RunResult unchanged = a_.Sk({"backup", "--json", src_a});
  ASSERT_EQ(unchanged.code, 0) << unchanged.Describe();
  EXPECT_EQ(JsonNumber(unchanged.out, "bytes_read"), 0u) << unchanged.out;
  EXPECT_LT(JsonNumber(unchanged.out, "bytes_new_raw"), 16384u) << unchanged.out;
}

TEST_F(IndexStoreTest, DamagedStoreIsRebuilt) {
  const std::string src = TempDir("src");
  Random(src, "x", 3);
  RunResult b = a_.Sk({"backup", src});
  ASSERT_EQ(b.code, 0) << b.Describe();
  std::string store = StoreDir(a_);
  ASSERT_FALSE(store.empty());
  store.pop_back();  // ls's newline
  // Every file of the database overwritten with junk.
  ASSERT_EQ(Shell("for f in '" + store + "'/*; do head -c 4096 /dev/urandom > \"$f\"; done").code, 0);
  std::string target = TempDir("restore");
  RunResult r = a_.Sk({"restore", "latest", "--target", target});
  ASSERT_EQ(r.code, 0) << r.Describe();
  EXPECT_NE(r.err.find("local index"), std::string::npos) << r.err;
  EXPECT_EQ(Shell("diff -r '" + src + "' '" + target + src + "'").code, 0);
  // And the next backup deduplicates against the rebuilt store.
  RunResult s = a_.Sk({"backup", "--json", src});
  ASSERT_EQ(s.code, 0) << s.Describe();
  EXPECT_EQ(JsonNumber(s.out, "bytes_read"), 0u) << s.out;
}

TEST_F(IndexStoreTest, TwoCommandsAtOnceDoNotShareTheStore) {
  const std::string src = TempDir("src");
  Random(src, "x", 2);
  RunResult b = a_.Sk({"backup", src});
  ASSERT_EQ(b.code, 0) << b.Describe();
  // A slow backup (upload limited) holds the store...
  const std::string big = TempDir("big");
  Random(big, "y", 12);
  const std::string out = TempDir("out") + "/backup.out";
  pid_t slow = SpawnSk(a_, {"backup", "--limit-upload", "1MiB", big}, out);
  ASSERT_GT(slow, 0);
  // Once it has the store open (its LOCK file among its open files).
  bool open = false;
  for (int i = 0; i < 600 && !open; ++i) {
    open = Shell(absl::StrCat("ls -l /proc/", slow, "/fd 2>/dev/null | grep -q index.db/LOCK")).code == 0;
    if (!open) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(open) << ReadFile(out);
  // ...while a restore from the same cache dir reads the pieces instead.
  std::string target = TempDir("restore");
  RunResult r = a_.Sk({"restore", "latest", "--target", target});
  const bool still_running = kill(slow, 0) == 0 && ReadFile(out).find("snapshot") == std::string::npos;
  ASSERT_EQ(r.code, 0) << r.Describe();
  EXPECT_EQ(Shell("diff -r '" + src + "' '" + target + src + "'").code, 0);
  ASSERT_TRUE(still_running) << "the slow backup ended before the restore did: " << ReadFile(out);
  EXPECT_NE(r.err.find("in use by another command"), std::string::npos) << r.err;
  EXPECT_EQ(WaitExit(slow), 0) << ReadFile(out);
  ExpectRestores(a_, "latest", big);
}

}  // namespace
}  // namespace shardkeep::cli_test

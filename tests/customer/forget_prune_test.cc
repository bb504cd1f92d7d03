// forget and prune through the real CLI against real suppliers (issue 10):
// the space of forgotten snapshots comes back at every supplier, kept
// snapshots restore byte for byte, leftovers of a killed backup are found,
// the lock keeps prune and backups apart, two backups can run at once, and a
// supplier that is down during prune gets its deletions later.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;

uint64_t Num(const std::string& json, const std::string& key) {
  std::string v = JsonField(json, key);
  return v.empty() ? 0 : std::stoull(v);
}

// Waits until the background backup has stored an index checkpoint (so it
// holds its lock and has blocks at the suppliers); false if it ended first.
bool WaitForCheckpoint(const Customer& c, pid_t pid, int before) {
  for (int i = 0; i < 1200; ++i) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    if (CachedIndexPieces(c) > before) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

class ForgetPruneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SupplierClusterOptions o;
    o.capacity_bytes = 2ULL << 30;
    auto c = SupplierCluster::Start(4, o);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    RunResult init = c_.Sk({"init", "--suppliers", cluster_->AddressList(), "--needed", "1GiB",
                            "--block-size", "256KiB"});
    ASSERT_EQ(init.code, 0) << init.Describe();
    src_ = TempDir("src");
  }

  void Random(const std::string& name, int mb) {
    ASSERT_EQ(Shell(absl::StrCat("head -c ", mb * 1000000, " /dev/urandom > '", src_, "/", name,
                                 "'"))
                  .code,
              0);
  }

  void Backup() {
    RunResult r = c_.Sk({"backup", "--json", src_});
    ASSERT_EQ(r.code, 0) << r.Describe();
  }

  void ExpectRestores(const std::string& snapshot = "latest") {
    std::string target = TempDir("restore");
    RunResult r = c_.Sk({"restore", snapshot, "--target", target});
    ASSERT_EQ(r.code, 0) << r.Describe();
    EXPECT_EQ(Shell("diff -r '" + src_ + "' '" + target + src_ + "'").code, 0);
  }

  // The suppliers' usage summed, as `suppliers list --json` reports it.
  uint64_t UsedBytes() {
    RunResult r = c_.Sk({"suppliers", "list", "--json"});
    EXPECT_EQ(r.code, 0) << r.Describe();
    uint64_t sum = 0;
    for (size_t at = 0; (at = r.out.find("\"used_bytes\":", at)) != std::string::npos;) {
      at += 13;
      sum += std::stoull(r.out.substr(at));
    }
    return sum;
  }

  int Snapshots() {
    RunResult r = c_.Sk({"snapshots", "--json"});
    EXPECT_EQ(r.code, 0) << r.Describe();
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
    int n = 0;
    for (size_t at = 0; (at = r.out.find("\"id\"", at)) != std::string::npos; ++at) ++n;
    return n;
  }

  std::unique_ptr<SupplierCluster> cluster_;
  Customer c_;
  std::string src_;
};

TEST_F(ForgetPruneTest, ForgetAndPruneFreeSpaceAndKeepTheRestRestorable) {
  Random("a", 4);
  Backup();
  Random("a", 4);  // replaced: the first a is only in snapshot 1
  Random("b", 2);
  Backup();
  Random("b", 2);
  Backup();
  ASSERT_EQ(Snapshots(), 3);

  RunResult dry = c_.Sk({"forget", "--keep-last", "1", "--dry-run", "--json"});
  ASSERT_EQ(dry.code, 0) << dry.Describe();
  EXPECT_EQ(Snapshots(), 3);

  RunResult f = c_.Sk({"forget", "--keep-last", "1"});
  ASSERT_EQ(f.code, 0) << f.Describe();
  EXPECT_NE(f.out.find("2 snapshots removed"), std::string::npos) << f.out;
  // No rollback warning: the tombstones say the owner removed them.
  EXPECT_EQ(Snapshots(), 1);

  RunResult p = c_.Sk({"prune", "--json"});
  ASSERT_EQ(p.code, 0) << p.Describe();
  // Snapshot 1's a (4 MB) and snapshot 2's b (2 MB), stored twice over
  // (n/k = 2): at least 10 MB must come back.
  EXPECT_GT(Num(p.out, "blocks_unused"), 0u) << p.out;
  EXPECT_GT(Num(p.out, "supplier_usage_before"), Num(p.out, "supplier_usage_after") + 10000000)
      << p.out;
  ExpectRestores();

  // The vault goes on: a new backup dedups against what stayed, a second
  // prune has nothing to do, and the history check stays quiet.
  Random("c", 1);
  Backup();
  EXPECT_EQ(Snapshots(), 2);
  RunResult again = c_.Sk({"prune", "--json"});
  ASSERT_EQ(again.code, 0) << again.Describe();
  EXPECT_EQ(Num(again.out, "blocks_unused"), 0u) << again.out;
  EXPECT_EQ(Num(again.out, "fragments_deleted"), 0u) << again.out;
  ExpectRestores();

  // The cache deleted: everything is read back from the new index epoch.
  ASSERT_EQ(Shell("rm -rf '" + c_.cache + "'").code, 0);
  ExpectRestores();
  RunResult check = c_.Sk({"check"});
  EXPECT_EQ(check.code, 0) << check.Describe();
}

// A backup killed after a checkpoint leaves blocks no snapshot uses and
// fragments no index names; prune (the killed one's lock is dead: its
// process is gone) deletes them, and the next backup still works.
TEST_F(ForgetPruneTest, PruneRemovesWhatAKilledBackupLeft) {
  for (int i = 0; i < 6; ++i) Random(absl::StrCat("f", i), 8);
  const std::string out = TempDir("out") + "/backup.out";
  pid_t pid = SpawnSk(c_, {"backup", src_}, out);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitForCheckpoint(c_, pid, 0)) << ReadFile(out);
  kill(pid, SIGKILL);
  WaitExit(pid);

  RunResult p = c_.Sk({"prune", "--json"});
  ASSERT_EQ(p.code, 0) << p.Describe();
  EXPECT_GT(Num(p.out, "blocks_unused"), 0u) << p.out;
  EXPECT_GT(Num(p.out, "supplier_usage_before"), Num(p.out, "supplier_usage_after")) << p.out;
  Backup();
  ExpectRestores();
}

// Prune and backups exclude each other: while a backup runs, prune stops
// with exit 11 naming it; two backups at once both finish and restore.
TEST_F(ForgetPruneTest, LockKeepsPruneAwayFromRunningBackups) {
  for (int i = 0; i < 6; ++i) Random(absl::StrCat("f", i), 8);
  std::string other = TempDir("other");
  ASSERT_EQ(Shell("head -c 20000000 /dev/urandom > '" + other + "/x'").code, 0);
  const std::string out1 = TempDir("out") + "/b1.out", out2 = TempDir("out") + "/b2.out";
  pid_t b1 = SpawnSk(c_, {"backup", src_}, out1);
  pid_t b2 = SpawnSk(c_, {"backup", other}, out2);
  ASSERT_GT(b1, 0);
  ASSERT_GT(b2, 0);
  ASSERT_TRUE(WaitForCheckpoint(c_, b1, 0)) << ReadFile(out1);
  RunResult p = c_.Sk({"prune"});
  EXPECT_EQ(p.code, 11) << p.Describe();
  EXPECT_NE(p.err.find("locked by backup on host"), std::string::npos) << p.err;
  EXPECT_EQ(WaitExit(b1), 0) << ReadFile(out1);
  EXPECT_EQ(WaitExit(b2), 0) << ReadFile(out2);
  EXPECT_EQ(Snapshots(), 2);
  RunResult p2 = c_.Sk({"prune", "--json"});
  ASSERT_EQ(p2.code, 0) << p2.Describe();
  // Both snapshots restore: src_'s and other's, whichever finished last.
  RunResult snaps = c_.Sk({"snapshots", "--json"});
  ASSERT_EQ(snaps.code, 0) << snaps.Describe();
  int restored = 0;
  for (size_t at = 0; (at = snaps.out.find("\"id\":\"", at)) != std::string::npos;) {
    at += 6;
    const std::string id = snaps.out.substr(at, 32);
    std::string target = TempDir("restore");
    RunResult r = c_.Sk({"restore", id, "--target", target});
    ASSERT_EQ(r.code, 0) << r.Describe();
    const std::string dir = Shell("test -d '" + target + other + "'").code == 0 ? other : src_;
    EXPECT_EQ(Shell("diff -r '" + dir + "' '" + target + dir + "'").code, 0) << dir;
    ++restored;
  }
  EXPECT_EQ(restored, 2);
}

// A supplier down during prune: its deletions are recorded, and the next
// prune, with it back, does them (its usage falls then).
TEST_F(ForgetPruneTest, SupplierDownDuringPruneGetsItsDeletionsLater) {
  Random("a", 4);
  Backup();
  Random("a", 4);
  Backup();
  RunResult f = c_.Sk({"forget", "--keep-last", "1"});
  ASSERT_EQ(f.code, 0) << f.Describe();
  ASSERT_TRUE(cluster_->Stop(3).ok());
  RunResult p = c_.Sk({"prune", "--json"});
  ASSERT_EQ(p.code, 0) << p.Describe();
  EXPECT_NE(p.out.find("\"pending_positions\":[3]"), std::string::npos) << p.out;
  ASSERT_TRUE(cluster_->Restart(3).ok());
  const uint64_t before = UsedBytes();
  RunResult p2 = c_.Sk({"prune", "--json"});
  ASSERT_EQ(p2.code, 0) << p2.Describe();
  EXPECT_NE(p2.out.find("\"pending_positions\":[]"), std::string::npos) << p2.out;
  // Position 3's usage fell by at least its share of the forgotten 4 MB
  // (the recorded deletions run first thing in the next prune).
  EXPECT_GT(before, UsedBytes() + 1500000) << p2.out;
  EXPECT_EQ(Snapshots(), 1);
  ExpectRestores();
}

}  // namespace
}  // namespace shardkeep::cli_test

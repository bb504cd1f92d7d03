// A first backup that is stopped (kill -9, Ctrl-C) keeps what it stored: the
// blocks committed before it are recorded in index checkpoints, and the next
// backup reuses them (issue 10, resumable backup). The real `shardkeep`
// binary against real suppliers; the test waits for a checkpoint to exist
// in the customer's cache (index pieces are cached as they are stored)
// before it stops the backup, so it does not depend on timing.
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
#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;

// Starts `shardkeep backup --json PATH` in the background as `c`.
pid_t StartBackup(const Customer& c, const std::string& path, const std::string& out_file) {
  return SpawnSk(c, {"backup", "--json", path}, out_file);
}

// Waits until a checkpoint is in the cache (or the backup ended); true if
// the backup is still running.
bool WaitForCheckpoint(const Customer& c, pid_t pid) {
  for (int i = 0; i < 600; ++i) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    if (CachedIndexPieces(c) > 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SupplierClusterOptions o;
    o.capacity_bytes = 2ULL << 30;
    auto c = SupplierCluster::Start(4, o);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    // Small blocks: a checkpoint (8 blocks) comes after 2 MiB.
    RunResult init = c_.Sk({"init", "--suppliers", cluster_->AddressList(), "--needed", "1GiB",
                            "--block-size", "256KiB"});
    ASSERT_EQ(init.code, 0) << init.Describe();
    src_ = TempDir("src");
    RunResult mk = Shell(absl::StrCat("for i in $(seq 1 12); do head -c 8000000 /dev/urandom > '",
                                      src_, "'/f$i; done"));
    ASSERT_EQ(mk.code, 0) << mk.Describe();
  }

  // Backs up src_ to the end; the JSON summary.
  std::string FinishBackup() {
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

// kill -9 after the first checkpoint: the next backup sends less than the
// whole, and the snapshot it makes restores byte for byte. No snapshot was
// made by the killed run.
TEST_F(ResumeTest, KillNineThenBackupAgainReusesCheckpointedBlocks) {
  const std::string out = TempDir("out") + "/backup.out";
  pid_t pid = StartBackup(c_, src_, out);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitForCheckpoint(c_, pid)) << "the backup ended before its first checkpoint";
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  RunResult snaps = c_.Sk({"snapshots", "--json"});
  ASSERT_EQ(snaps.code, 0) << snaps.Describe();
  EXPECT_EQ(snaps.out, "[]\n");

  const std::string json = FinishBackup();
  const uint64_t stored = std::stoull(JsonField(json, "bytes_stored"));
  // 96 MB of random data in all; what the killed run recorded is not sent
  // again.
  EXPECT_LT(stored, 96000000u) << json;
  EXPECT_GT(stored, 0u) << json;
  ExpectRestores();
}

// Ctrl-C: exit 130, a message saying what was kept, and the next backup
// reuses it.
TEST_F(ResumeTest, CtrlCStopsCleanlyAndSaysWhatWasKept) {
  const std::string out = TempDir("out") + "/backup.out";
  pid_t pid = StartBackup(c_, src_, out);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitForCheckpoint(c_, pid)) << "the backup ended before its first checkpoint";
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  const std::string said = ReadFile(out);
  EXPECT_NE(said.find("interrupted"), std::string::npos) << said;
  EXPECT_NE(said.find("recorded in the index"), std::string::npos) << said;

  const std::string json = FinishBackup();
  EXPECT_LT(std::stoull(JsonField(json, "bytes_stored")), 96000000u) << json;
  ExpectRestores();
}

}  // namespace
}  // namespace shardkeep::cli_test

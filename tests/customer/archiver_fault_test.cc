// The archiver and restorer in-process, over real suppliers reached through
// FaultInjectingSupplierClient (customer/net/fault_injecting_supplier_client.h):
// suppliers that start failing in the middle of a backup.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "customer/archive/archiver.h"
#include "customer/net/fault_injecting_supplier_client.h"
#include "customer/net/grpc_supplier_client.h"
#include "customer/repo/progress.h"
#include "customer/repo/repository.h"
#include "customer/restore/restorer.h"
#include "customer/vault/vault.h"
#include "gtest/gtest.h"
#include "tests/harness/supplier_cluster.h"

extern char** environ;

namespace shardkeep::customer {
namespace {

std::string Env(const char* n) { return getenv(n) ? getenv(n) : ""; }

std::string TempDir(const std::string& what) {
  std::string root = Env("TEST_TMPDIR").empty() ? "/tmp" : Env("TEST_TMPDIR");
  std::string t = root + "/" + what + "-XXXXXX";
  if (mkdtemp(t.data()) == nullptr) abort();
  return t;
}

int Spawn(std::vector<std::string> argv) {
  std::vector<char*> a;
  for (auto& s : argv) a.push_back(s.data());
  a.push_back(nullptr);
  pid_t pid;
  if (posix_spawn(&pid, a[0], nullptr, nullptr, a.data(), environ) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class ArchiverFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = testing::SupplierCluster::Start(4);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    config_ = TempDir("config");
    cache_ = TempDir("cache");
    setenv("SHARDKEEP_PASSWORD", "pw", 1);
    setenv("SHARDKEEP_INSECURE_TEST_KDF", "1", 1);
    setenv("SHARDKEEP_CONFIG_DIR", config_.c_str(), 1);
    setenv("SHARDKEEP_CACHE_DIR", cache_.c_str(), 1);
    std::string bin = Env("TEST_SRCDIR") + "/shardkeep/customer/shardkeep";
    // Small blocks, so a backup of a few MiB makes many of them.
    ASSERT_EQ(Spawn({bin, "init", "--suppliers", cluster_->AddressList(), "--needed", "1GiB",
                     "--block-size", "256KiB", "--allow-weak-passphrase"}),
              0);
    src_ = TempDir("src");
    for (int i = 0; i < 16; ++i) {
      std::ofstream f(src_ + "/f" + std::to_string(i), std::ios::binary);
      f << crypto::RandomBytes(200 << 10);
    }
  }

  // A repository whose client for position p fails fragment puts after
  // fail_after[p] of them went through (-1: never), as a supplier that dies
  // or fills up mid-backup.
  std::unique_ptr<Repository> Open(std::vector<int> fail_after) {
    auto vault = Vault::Open(config_, cache_, "pw");
    EXPECT_TRUE(vault.ok()) << vault.status();
    SupplierConnector connector =
        WrapConnector(DefaultConnector(), [fail_after](int position, const std::string&) {
          auto faults = std::make_shared<SupplierFaults>();
          if (position < static_cast<int>(fail_after.size()) && fail_after[position] >= 0) {
            faults->Fail(SupplierMethod::kPutFragment,
                         absl::UnavailableError("injected: supplier went away"),
                         fail_after[position]);
          }
          return faults;
        });
    auto repo = Repository::Open(std::move(*vault), connector);
    EXPECT_TRUE(repo.ok()) << repo.status();
    EXPECT_TRUE((*repo)->CheckSuppliers(4).ok());
    EXPECT_TRUE((*repo)->LoadIndex().ok());
    return std::move(*repo);
  }

  std::unique_ptr<testing::SupplierCluster> cluster_;
  std::string config_, cache_, src_;
};

// One supplier fails mid-backup: the blocks after that are committed on 3 of
// 4 (degraded, with a warning); the snapshot restores bit for bit.
TEST_F(ArchiverFaultTest, OneSupplierFailingMidBackupGivesDegradedBlocks) {
  auto repo = Open({-1, 3, -1, -1});
  BackupOptions opts;
  opts.paths = {src_};
  Progress progress;
  auto result = RunBackup(*repo, opts, progress);
  ASSERT_TRUE(result.ok()) << result.status();
  const auto& sum = result->snapshot.summary();
  EXPECT_GE(sum.blocks(), 12u);
  EXPECT_GT(sum.blocks_degraded(), 0u);
  EXPECT_LT(sum.blocks_degraded(), sum.blocks());
  EXPECT_GT(result->warnings, 0);
  // One warning for the missing supplier, not one per degraded block.
  if (sum.blocks_degraded() > 1) {
    EXPECT_LT(static_cast<uint64_t>(result->warnings), sum.blocks_degraded());
  }
  EXPECT_TRUE(repo->suppliers().IsDown(1));

  // A fresh repository (no failures) restores it, including degraded blocks.
  auto fresh = Open({-1, -1, -1, -1});
  auto snaps = fresh->LoadSnapshots();
  ASSERT_TRUE(snaps.ok());
  ASSERT_EQ(snaps->size(), 1u);
  RestoreOptions ropts;
  ropts.target = TempDir("restore");
  auto r = RunRestore(*fresh, snaps->front(), ropts, progress);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->errors, 0u);
  EXPECT_EQ(r->files, 16u);
  EXPECT_EQ(Spawn({"/usr/bin/diff", "-r", src_, ropts.target + src_}), 0);
}

// Two of four suppliers failing is below the commit threshold (3): the backup
// stops with an error naming them, and no snapshot is recorded.
TEST_F(ArchiverFaultTest, TooManySuppliersFailingStopsTheBackup) {
  auto repo = Open({-1, 2, -1, 5});
  BackupOptions opts;
  opts.paths = {src_};
  Progress progress;
  auto result = RunBackup(*repo, opts, progress);
  ASSERT_FALSE(result.ok());
  std::string msg(result.status().message());
  EXPECT_NE(msg.find(cluster_->Address(1)), std::string::npos) << msg;
  EXPECT_NE(msg.find(cluster_->Address(3)), std::string::npos) << msg;
  EXPECT_NE(msg.find("3 needed"), std::string::npos) << msg;
  auto fresh = Open({-1, -1, -1, -1});
  auto snaps = fresh->LoadSnapshots();
  ASSERT_TRUE(snaps.ok());
  EXPECT_TRUE(snaps->empty());
}

}  // namespace
}  // namespace shardkeep::customer

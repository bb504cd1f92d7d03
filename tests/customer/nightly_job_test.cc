// The nightly job of the systemd user unit (deploy/shardkeep-nightly.sh) with
// the real `shardkeep` against real suppliers: backup with the excludes of
// the settings file, then forget with the keep policy and --prune, then
// maintain; a full quota still runs forget --prune; another backup failure
// skips forget. A wrapper around the real binary records each invocation.
#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;
using testing::SupplierClusterOptions;

class NightlyJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SupplierClusterOptions o;
    o.capacity_bytes = 256ULL << 20;
    auto c = SupplierCluster::Start(3, o);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    // Logs its arguments, one invocation a line, then runs the real CLI.
    dir_ = TempDir("nightly");
    log_ = dir_ + "/calls";
    wrapper_ = dir_ + "/shardkeep";
    WriteFile(wrapper_, absl::StrCat("#!/bin/sh\necho \"$*\" >> ", log_, "\nexec ",
                                     Runfile("customer/shardkeep"), " \"$@\"\n"));
    ASSERT_EQ(chmod(wrapper_.c_str(), 0755), 0);
    // `forget` is another change's; until it is in the binary the job's
    // forget step exits 2 (unknown command) and the job reports that.
    forget_exists_ = ann_.Sk({"help", "forget"}).code == 0;
  }

  // Runs the job as the unit would, with the settings in `settings`.
  RunResult Nightly(const Customer& c, std::map<std::string, std::string> settings) {
    settings["SHARDKEEP_BIN"] = wrapper_;
    settings["SHARDKEEP_CONFIG_DIR"] = c.config;
    settings["SHARDKEEP_CACHE_DIR"] = c.cache;
    settings["SHARDKEEP_PASSWORD"] = c.password;
    settings["SHARDKEEP_PASSWORD_FILE"] = "";
    settings["SHARDKEEP_INSECURE_TEST_KDF"] = "1";
    WriteFile(log_, "");
    return RunCommand({"/bin/sh", Runfile("deploy/shardkeep-nightly.sh")}, settings);
  }

  std::unique_ptr<SupplierCluster> cluster_;
  Customer ann_;
  std::string dir_, log_, wrapper_;
  bool forget_exists_ = false;
};

TEST_F(NightlyJobTest, BackupThenForgetPruneThenMaintain) {
  ASSERT_EQ(ann_.Sk({"init", "--suppliers", cluster_->AddressList(), "--needed", "64MiB"}).code, 0);
  const std::string src = TempDir("home");
  WriteFile(src + "/keep.txt", "kept\n");
  WriteFile(src + "/scratch.tmp", "left out\n");

  RunResult r = Nightly(ann_, {{"SHARDKEEP_BACKUP_PATHS", src},
                               {"SHARDKEEP_BACKUP_EXCLUDES", "*.tmp *.bak"},
                               {"SHARDKEEP_BACKUP_FLAGS", "--tag nightly"}});
  const std::string calls = ReadFile(log_);
  EXPECT_EQ(calls, absl::StrCat("backup --exclude *.tmp --exclude *.bak --tag nightly ", src,
                                "\n"
                                "forget --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --prune\n"
                                "maintain\n"))
      << r.Describe();
  EXPECT_EQ(r.code, forget_exists_ ? 0 : 2) << r.Describe();
  EXPECT_NE(r.err.find("shardkeep-nightly: backup exited 0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("shardkeep-nightly: maintain exited 0"), std::string::npos) << r.err;

  RunResult ls = ann_.Sk({"ls", "latest", src});
  ASSERT_EQ(ls.code, 0) << ls.Describe();
  EXPECT_NE(ls.out.find(src + "/keep.txt"), std::string::npos) << ls.out;
  EXPECT_EQ(ls.out.find("scratch.tmp"), std::string::npos) << ls.out;
  EXPECT_NE(ann_.Sk({"snapshots"}).out.find("nightly"), std::string::npos);

  // Another policy, without prune, from the settings.
  r = Nightly(ann_, {{"SHARDKEEP_BACKUP_PATHS", src},
                     {"SHARDKEEP_KEEP", "--keep-last 3"},
                     {"SHARDKEEP_PRUNE", "0"},
                     {"SHARDKEEP_MAINTAIN", "0"}});
  EXPECT_EQ(ReadFile(log_), absl::StrCat("backup ", src, "\nforget --keep-last 3\n"))
      << r.Describe();

  // A backup that fails for another reason (wrong passphrase, exit 12)
  // deletes nothing: forget is skipped; maintain still runs.
  Customer wrong = ann_;
  wrong.password = "not the passphrase";
  r = Nightly(wrong, {{"SHARDKEEP_BACKUP_PATHS", src}});
  EXPECT_EQ(r.code, 12) << r.Describe();
  EXPECT_EQ(ReadFile(log_), absl::StrCat("backup ", src, "\nmaintain\n")) << r.Describe();
  EXPECT_NE(r.err.find("forget skipped: the backup failed (exit 12)"), std::string::npos) << r.err;

  // Nothing to back up: a usage error before anything runs.
  r = Nightly(ann_, {});
  EXPECT_EQ(r.code, 2) << r.Describe();
  EXPECT_EQ(ReadFile(log_), "");
}

TEST_F(NightlyJobTest, FullQuotaStillForgetsAndPrunes) {
  ASSERT_EQ(ann_.Sk({"init", "--suppliers", cluster_->AddressList(), "--needed", "4MiB"}).code, 0);
  const std::string src = TempDir("home");
  RunResult mk =
      RunCommand({"/bin/bash", "-c", "head -c 6291456 /dev/urandom > " + src + "/random.bin"}, {});
  ASSERT_EQ(mk.code, 0) << mk.Describe();
  RunResult r = Nightly(ann_, {{"SHARDKEEP_BACKUP_PATHS", src}});
  EXPECT_EQ(r.code, 14) << r.Describe();  // the backup's: the first failure
  EXPECT_EQ(ReadFile(log_),
            absl::StrCat("backup ", src,
                         "\nforget --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --prune\n"
                         "maintain\n"))
      << r.Describe();
  EXPECT_NE(r.err.find("suppliers resize"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace shardkeep::cli_test

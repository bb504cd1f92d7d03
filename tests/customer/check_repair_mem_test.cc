// CheckVault and RepairVault over in-memory suppliers (a real backup by
// RunBackup first): healthy, a stopped supplier (degraded), fragments
// replaced at a supplier (corrupt in the listing), too many of them (damaged,
// naming the files), bit rot only a download shows (--read-data), read-data
// subsets; repair of a backup made with a supplier down and of replaced
// fragments, idempotent, dry run.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>

#include "common/crypto.h"
#include "customer/archive/archiver.h"
#include "customer/net/fault_injecting_supplier_client.h"
#include "customer/repo/checker.h"
#include "customer/repo/mem_vault_for_test.h"
#include "customer/repo/progress.h"
#include "customer/repo/repairer.h"
#include "customer/vault/names.h"
#include "gtest/gtest.h"
#include "proto/limits.h"

namespace shardkeep::customer {
namespace {

using M = SupplierMethod;
using State = SnapshotCheck::State;
using testing::MakeTempDir;
using testing::MemVault;
using testing::WriteFile;

class CheckMemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mv = MemVault::Create();  // n = 4, k = 2, 64 KiB blocks
    ASSERT_TRUE(mv.ok()) << mv.status();
    mv_ = std::move(*mv);
    src_ = MakeTempDir("src");
    ASSERT_EQ(mkdir((src_ + "/sub").c_str(), 0755), 0);
    WriteFile(src_ + "/big.bin", crypto::RandomBytes(300 << 10));
    WriteFile(src_ + "/sub/small.txt", "small\n");
    auto repo = mv_->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    BackupOptions opts;
    opts.paths = {src_};
    opts.hostname = "h";
    auto r = RunBackup(**repo, opts, progress_);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  void TearDown() override {
    for (int i = 0; i < mv_->n(); ++i) mv_->faults(i).ClearAll();
  }

  absl::StatusOr<CheckResult> Check(CheckOptions opts = {}, int min_reachable = -1) {
    repo_.reset();
    auto repo = mv_->Open(min_reachable);
    if (!repo.ok()) return repo.status();
    repo_ = std::move(*repo);
    return CheckVault(*repo_, opts, progress_);
  }

  // Replaces the fragment of every data block at `position` with other bytes
  // (of the same size, declared with their own hash): what a supplier that
  // lost or swapped data would list.
  void ReplaceDataFragments(int position) {
    auto repo = mv_->Open();
    ASSERT_TRUE(repo.ok());
    for (uint32_t b = 0; b < (*repo)->index().block_count(); ++b) {
      const auto& rec = (*repo)->index().block(b);
      if (rec.kind() != vault::v1::BLOCK_KIND_DATA) continue;
      std::string junk = crypto::RandomBytes(rec.fragment_size());
      ASSERT_TRUE((*repo)->suppliers().at(position)->PutFragment(
          FragmentKey(rec.block_id(), position), junk, crypto::Sha256(junk)).ok());
    }
  }

  std::unique_ptr<MemVault> mv_;
  std::unique_ptr<Repository> repo_;
  std::string src_;
  Progress progress_;
};

TEST_F(CheckMemTest, HealthyVault) {
  auto r = Check();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, State::kHealthy);
  ASSERT_EQ(r->snapshots.size(), 1u);
  EXPECT_EQ(r->snapshots[0].state, State::kHealthy);
  EXPECT_EQ(r->snapshots[0].margin, 2);
  EXPECT_GT(r->blocks, 4u);
  EXPECT_EQ(r->blocks_read, 0u);
  for (const auto& s : r->suppliers) {
    EXPECT_TRUE(s.reachable);
    EXPECT_EQ(s.expected, r->blocks);
    EXPECT_EQ(s.ok, r->blocks);
    EXPECT_EQ(s.missing + s.corrupt + s.extra, 0u);
  }
  // --read-data reads and verifies every block, and finds nothing.
  CheckOptions all;
  all.read_data = CheckOptions::ReadData::kAll;
  r = Check(all);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, State::kHealthy);
  EXPECT_EQ(r->blocks_read, r->blocks);
  EXPECT_EQ(r->suppliers[0].read, r->blocks);
}

TEST_F(CheckMemTest, StoppedSupplierDegrades) {
  mv_->supplier(3).Stop();
  auto r = Check({}, 2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, State::kDegraded);
  EXPECT_EQ(r->snapshots[0].margin, 1);
  EXPECT_FALSE(r->suppliers[3].reachable);
  EXPECT_NE(r->suppliers[3].error.find(mv_->address(3)), std::string::npos);
  EXPECT_EQ(r->blocks_degraded, r->blocks);
  mv_->supplier(3).Start();
}

TEST_F(CheckMemTest, ReplacedFragmentsAreCorruptAndTooManyDamageNamingTheFiles) {
  ReplaceDataFragments(1);
  auto r = Check();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, State::kDegraded);
  EXPECT_GT(r->suppliers[1].corrupt, 0u);
  EXPECT_EQ(r->suppliers[0].corrupt, 0u);

  ReplaceDataFragments(2);
  ReplaceDataFragments(3);
  r = Check();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, State::kDamaged);
  ASSERT_EQ(r->snapshots.size(), 1u);
  EXPECT_EQ(r->snapshots[0].state, State::kDamaged);
  // The files with content are named; the tree blocks are fine, so no
  // directory is.
  std::vector<std::string> want = {src_ + "/big.bin", src_ + "/sub/small.txt"};
  EXPECT_EQ(r->snapshots[0].damaged_files, want);
}

TEST_F(CheckMemTest, BitRotIsFoundOnlyByReadingTheData) {
  mv_->faults(0).Corrupt(M::kGetFragment);
  auto r = Check();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, State::kHealthy);  // the listing cannot tell

  CheckOptions all;
  all.read_data = CheckOptions::ReadData::kAll;
  r = Check(all);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, State::kDegraded);
  EXPECT_EQ(r->suppliers[0].corrupt, r->blocks);
  EXPECT_EQ(r->suppliers[1].corrupt, 0u);
  EXPECT_EQ(r->blocks_damaged, 0u);  // the others decode and verify
  EXPECT_EQ(r->snapshots[0].margin, 1);
}

TEST_F(CheckMemTest, ReadDataSubsetsCoverEveryBlockOnce) {
  uint64_t read = 0, blocks = 0;
  for (const char* arg : {"1/3", "2/3", "3/3"}) {
    CheckOptions o;
    ASSERT_TRUE(ParseReadDataSubset(arg, &o).ok());
    auto r = Check(o);
    ASSERT_TRUE(r.ok()) << r.status();
    read += r->blocks_read;
    blocks = r->blocks;
  }
  EXPECT_EQ(read, blocks);
  CheckOptions o;
  ASSERT_TRUE(ParseReadDataSubset("100%", &o).ok());
  auto r = Check(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->blocks_read, r->blocks);
  for (const char* bad : {"0%", "101%", "0/3", "4/3", "x", "1/", "%"}) {
    CheckOptions b;
    EXPECT_FALSE(ParseReadDataSubset(bad, &b).ok()) << bad;
  }
}

// Audits: every supplier answers for a random piece of sampled fragments;
// one that sends wrong bytes fails them; transfer stays a piece per audit.
TEST_F(CheckMemTest, AuditsCatchASupplierThatDoesNotHoldItsData) {
  auto r = Check();
  ASSERT_TRUE(r.ok());
  const uint64_t sampled = std::min<uint64_t>(16, r->blocks);
  for (const auto& s : r->suppliers) {
    EXPECT_EQ(s.audited, sampled);
    EXPECT_EQ(s.audit_failed, 0u);
  }
  mv_->faults(2).Corrupt(M::kAuditPiece);
  const uint64_t sent_before = mv_->supplier(2).BytesSent();
  r = Check();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, State::kDegraded);
  EXPECT_EQ(r->suppliers[2].audit_failed, sampled);
  EXPECT_EQ(r->suppliers[2].corrupt, sampled);
  EXPECT_EQ(r->suppliers[1].audit_failed, 0u);
  // One piece (at most kAuditPieceBytes) per audit, nothing else of size.
  EXPECT_LE(mv_->supplier(2).BytesSent() - sent_before, sampled * protocol::kAuditPieceBytes);
  // --read-data does not audit (it reads everything anyway).
  CheckOptions all;
  all.read_data = CheckOptions::ReadData::kAll;
  r = Check(all);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->suppliers[2].audited + r->suppliers[2].audit_failed, 0u);
}

absl::StatusOr<RepairResult> Repair(Repository& repo, bool dry_run = false) {
  RepairOptions o;
  o.dry_run = dry_run;
  Progress p;
  return RepairVault(repo, o, p);
}

TEST_F(CheckMemTest, RepairHealsABackupMadeWithASupplierDown) {
  // A second backup with position 3 failing every upload: its blocks are
  // committed on 0, 1, 2 only.
  WriteFile(src_ + "/late.bin", crypto::RandomBytes(200 << 10));
  {
    mv_->faults(3).Fail(M::kPutFragment, absl::UnavailableError("down"));
    auto repo = mv_->Open();
    ASSERT_TRUE(repo.ok());
    BackupOptions opts;
    opts.paths = {src_};
    opts.hostname = "h";
    auto r = RunBackup(**repo, opts, progress_);
    ASSERT_TRUE(r.ok()) << r.status();
    mv_->faults(3).ClearAll();
  }
  auto before = Check();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->state, State::kDegraded);
  const uint64_t degraded = before->suppliers[3].missing;
  ASSERT_GT(degraded, 0u);

  // Dry run: nothing stored.
  auto dry = Repair(*repo_, true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->blocks_to_heal, degraded);
  EXPECT_EQ(dry->fragments_written, 0u);
  EXPECT_EQ(dry->records_written, 0u);

  auto fixed = Repair(*repo_);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->blocks_healed, degraded);
  EXPECT_EQ(fixed->fragments_written, degraded);
  EXPECT_EQ(fixed->written_per_position[3], degraded);
  EXPECT_EQ(fixed->written_per_position[0], 0u);
  EXPECT_EQ(fixed->records_written, degraded);
  EXPECT_TRUE(fixed->errors.empty());

  auto after = Check();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state, State::kHealthy);
  // Idempotent: nothing left to do, nothing written.
  auto again = Repair(*repo_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->blocks_to_heal, 0u);
  EXPECT_EQ(again->fragments_written, 0u);
  EXPECT_EQ(again->records_written, 0u);

  // The repair records reach the index: with 0 and 1 gone every block reads
  // from 2 and 3 (before, the late blocks were recorded at 0, 1, 2 only).
  mv_->supplier(0).Stop();
  mv_->supplier(1).Stop();
  repo_.reset();
  auto repo = mv_->Open(2);
  ASSERT_TRUE(repo.ok()) << repo.status();
  for (uint32_t b = 0; b < (*repo)->index().block_count(); ++b) {
    auto plain = (*repo)->LoadBlock(b);
    EXPECT_TRUE(plain.ok()) << b << ": " << plain.status();
  }
  mv_->supplier(0).Start();
  mv_->supplier(1).Start();
}

TEST_F(CheckMemTest, RepairReplacesCorruptFragments) {
  ReplaceDataFragments(1);
  auto before = Check();
  ASSERT_TRUE(before.ok());
  const uint64_t corrupt = before->suppliers[1].corrupt;
  ASSERT_GT(corrupt, 0u);
  auto fixed = Repair(*repo_);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->fragments_written, corrupt);
  EXPECT_EQ(fixed->records_written, 0u);  // the records already name position 1
  CheckOptions all;
  all.read_data = CheckOptions::ReadData::kAll;
  auto after = Check(all);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state, State::kHealthy);
  EXPECT_EQ(after->suppliers[1].corrupt, 0u);
}

TEST_F(CheckMemTest, TooDamagedBlocksAreReportedNotTouched) {
  ReplaceDataFragments(1);
  ReplaceDataFragments(2);
  ReplaceDataFragments(3);
  auto r = Check();
  ASSERT_TRUE(r.ok());
  auto fixed = Repair(*repo_);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_GT(fixed->blocks_unrepairable, 0u);
  EXPECT_EQ(fixed->blocks_unrepairable, fixed->blocks_to_heal);
  EXPECT_EQ(fixed->fragments_written, 0u);
  EXPECT_EQ(fixed->errors.size(), fixed->blocks_unrepairable);
}

}  // namespace
}  // namespace shardkeep::customer

// Prune over in-memory suppliers, for what the process-level test cannot
// stage exactly: a supplier down during prune keeps the old index pieces
// (and the blocks' fragments), comes back, and must not bring a pruned block
// back into the index (index epochs, docs/FORMAT.md); an unfinished prune's
// pieces are not loaded.
#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "common/crypto.h"
#include "customer/archive/archiver.h"
#include "customer/repo/block_writer.h"
#include "customer/repo/forgetter.h"
#include "customer/repo/mem_vault_for_test.h"
#include "customer/repo/progress.h"
#include "customer/repo/pruner.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

using testing::MakeTempDir;
using testing::MemVault;
using testing::WriteFile;

class PruneMemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mv = MemVault::Create();  // n = 4, k = 2, 64 KiB blocks
    ASSERT_TRUE(mv.ok()) << mv.status();
    mv_ = std::move(*mv);
    src_ = MakeTempDir("src");
  }
  void Backup() {
    auto repo = mv_->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    BackupOptions opts;
    opts.paths = {src_};
    opts.hostname = "h";
    auto r = RunBackup(**repo, opts, progress_);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  std::unique_ptr<MemVault> mv_;
  std::string src_;
  Progress progress_;
};

TEST_F(PruneMemTest, OldPiecesOfASupplierThatWasDownDoNotComeBack) {
  WriteFile(src_ + "/f", crypto::RandomBytes(400 << 10));
  Backup();
  const std::string second = crypto::RandomBytes(200 << 10);
  WriteFile(src_ + "/f", second);
  Backup();

  size_t blocks_after = 0;
  mv_->supplier(3).Stop();  // down during forget and prune
  {
    auto repo = mv_->Open(3);
    ASSERT_TRUE(repo.ok()) << repo.status();
    ForgetRequest req;
    req.policy.last = 1;
    auto f = ForgetSnapshots(**repo, req, progress_);
    ASSERT_TRUE(f.ok()) << f.status();
    ASSERT_EQ(f->removed, 1);
  }
  {
    auto repo = mv_->Open(3);
    ASSERT_TRUE(repo.ok()) << repo.status();
    PruneOptions po;
    auto p = PruneVault(**repo, po, progress_);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_GT(p->blocks_unused, 0u);
    ASSERT_EQ(p->pending_positions, std::vector<int>{3});
    blocks_after = p->blocks - p->blocks_unused - p->blocks_repacked + p->blocks_written;
  }
  mv_->supplier(3).Start();
  // Position 3 still lists the old pieces; the next command loads the new
  // epoch only.
  auto repo = mv_->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  EXPECT_EQ((*repo)->index_epoch(), 1u);
  EXPECT_FALSE((*repo)->stale_index_pieces().empty());
  EXPECT_EQ((*repo)->index().block_count(), blocks_after);
  auto snaps = (*repo)->LoadSnapshots();
  ASSERT_TRUE(snaps.ok()) << snaps.status();
  EXPECT_EQ(snaps->size(), 1u);  // the record position 3 kept is tombstoned
  EXPECT_EQ((*repo)->forgotten_still_listed().size(), 1u);
  EXPECT_TRUE((*repo)->history().problems.empty());
}

// An index larger than one piece: prune stores the new epoch's pieces
// several at once; the next command loads all of them as one complete epoch.
TEST(PruneMemTestSmallObjects, AnEpochOfSeveralPiecesIsComplete) {
  testing::MemVaultOptions o;
  o.supplier.max_object_bytes = 64 << 10;  // index pieces of ~60 KiB
  auto mv = MemVault::Create(o);
  ASSERT_TRUE(mv.ok()) << mv.status();
  const std::string src = MakeTempDir("src");
  WriteFile(src + "/f", crypto::RandomBytes(16 << 20));  // 256 blocks, ~1,000 chunks
  Progress progress;
  size_t blocks = 0;
  {
    auto repo = (*mv)->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    BackupOptions opts;
    opts.paths = {src};
    opts.hostname = "h";
    ASSERT_TRUE(RunBackup(**repo, opts, progress).ok());
  }
  {
    auto repo = (*mv)->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    blocks = (*repo)->index().block_count();
    auto p = PruneVault(**repo, PruneOptions{}, progress);
    ASSERT_TRUE(p.ok()) << p.status();
  }
  auto repo = (*mv)->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  EXPECT_EQ((*repo)->index_epoch(), 1u);
  EXPECT_GE((*repo)->index_pieces().size(), 2u);
  EXPECT_EQ((*repo)->index().block_count(), blocks);
  EXPECT_TRUE((*repo)->stale_index_pieces().empty());
}

// A prune that stopped while writing its new epoch: the pieces it wrote
// (fewer than the base count they declare) are ignored.
TEST_F(PruneMemTest, AnUnfinishedEpochIsIgnored) {
  WriteFile(src_ + "/f", crypto::RandomBytes(300 << 10));
  Backup();
  auto repo = mv_->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  const size_t blocks = (*repo)->index().block_count();
  ASSERT_GT(blocks, 0u);
  // Epoch 1 claiming 2 base pieces, of which only piece 0 (empty) exists.
  vault::v1::IndexPiece piece;
  piece.set_version(1);
  piece.set_epoch(1);
  piece.set_base_pieces(2);
  ASSERT_TRUE((*repo)
                  ->PutObject(IndexPieceName(std::string(16, '\x77'), 0),
                              piece.SerializeAsString(), false)
                  .ok());
  auto again = mv_->Open();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->index_epoch(), 0u);
  EXPECT_EQ((*again)->highest_index_epoch(), 1u);
  EXPECT_EQ((*again)->index().block_count(), blocks);
  EXPECT_EQ((*again)->stale_index_pieces().size(), 1u);
}

}  // namespace
}  // namespace shardkeep::customer

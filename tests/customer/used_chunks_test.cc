// CollectUsedChunks (prune's scan of the snapshots' trees, block by block)
// against a depth-first TreeWalker over the same snapshots: the same chunks,
// every distinct tree read once, fewer block openings than trees; and a
// tree it cannot read stops it naming the snapshot.
#include "customer/repo/used_chunks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "customer/archive/archiver.h"
#include "customer/repo/mem_vault_for_test.h"
#include "customer/repo/progress.h"
#include "customer/repo/tree_walker.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

using testing::MakeTempDir;
using testing::MemVault;
using testing::WriteFile;

TEST(UsedChunksTest, SameChunksAsAWalkEachTreeReadOnce) {
  auto mv = MemVault::Create();  // 64 KiB blocks: the trees fill several
  ASSERT_TRUE(mv.ok()) << mv.status();
  const std::string src = MakeTempDir("src");
  // 4 x 6 x 5 directories three deep, a small file in each leaf: the trees
  // of one level lie in several blocks.
  std::vector<std::string> leaves;
  for (int a = 0; a < 4; ++a) {
    const std::string da = absl::StrCat(src, "/a", a);
    ASSERT_EQ(mkdir(da.c_str(), 0755), 0);
    for (int b = 0; b < 6; ++b) {
      const std::string db = absl::StrCat(da, "/b", b);
      ASSERT_EQ(mkdir(db.c_str(), 0755), 0);
      for (int c = 0; c < 5; ++c) {
        const std::string dc = absl::StrCat(db, "/c-with-a-long-name-to-make-trees-big-", c);
        ASSERT_EQ(mkdir(dc.c_str(), 0755), 0);
        for (int f = 0; f < 8; ++f) {
          WriteFile(absl::StrCat(dc, "/file-with-a-long-name-", f), crypto::RandomBytes(64));
        }
        leaves.push_back(dc);
      }
    }
  }
  Progress progress;
  auto backup = [&] {
    auto repo = (*mv)->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    BackupOptions opts;
    opts.paths = {src};
    opts.hostname = "h";
    auto r = RunBackup(**repo, opts, progress);
    ASSERT_TRUE(r.ok()) << r.status();
  };
  backup();
  for (int round = 1; round <= 3; ++round) {  // each round changes a few leaves
    for (size_t i = round; i < leaves.size(); i += 17) {
      WriteFile(leaves[i] + "/file-with-a-long-name-0", crypto::RandomBytes(64));
    }
    backup();
  }

  auto repo = (*mv)->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  auto snaps = (*repo)->LoadSnapshots();
  ASSERT_TRUE(snaps.ok()) << snaps.status();
  ASSERT_EQ(snaps->size(), 4u);

  // The reference: a depth-first walk of every snapshot.
  std::set<std::string> walked, walked_trees;
  size_t tree_blocks = 0;
  for (size_t b = 0; b < (*repo)->index().block_count(); ++b) {
    if ((*repo)->index().block(b).kind() == vault::v1::BLOCK_KIND_TREE) ++tree_blocks;
  }
  for (const auto& snap : *snaps) {
    for (const auto& r : snap.root()) walked.insert(r.id());
    TreeWalker w(**repo);
    std::string root_key;
    for (const auto& r : snap.root()) root_key += r.id();
    walked_trees.insert(root_key);
    ASSERT_TRUE(w.Walk(
                     snap.root(),
                     [&](const TreeWalker::Path&, const vault::v1::TreeNode& node) {
                       for (const auto& c : node.content()) walked.insert(c.id());
                       std::string key;
                       for (const auto& r : node.subtree()) {
                         walked.insert(r.id());
                         key += r.id();
                       }
                       if (node.type() == vault::v1::NODE_TYPE_DIR) walked_trees.insert(key);
                       return TreeWalker::Next::kDescend;
                     },
                     [](const TreeWalker::Path&, const absl::Status& e) { return e; })
                    .ok());
  }

  std::set<std::string> used;
  UsedChunksStats stats;
  ASSERT_TRUE(CollectUsedChunks(
                  **repo, *snaps, [&](std::string_view id) { used.insert(std::string(id)); },
                  &stats)
                  .ok());
  EXPECT_EQ(used, walked);
  EXPECT_EQ(stats.trees, walked_trees.size());
  ASSERT_GT(tree_blocks, 3u) << "the test needs trees spread over blocks";
  // Each opening reads many trees: far fewer than one per tree.
  EXPECT_LT(stats.block_opens * 4, stats.trees) << stats.block_opens << " openings";
}

TEST(UsedChunksTest, AnUnreadableTreeStopsNamingTheSnapshot) {
  auto mv = MemVault::Create();
  ASSERT_TRUE(mv.ok()) << mv.status();
  auto repo = (*mv)->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  vault::v1::Snapshot snap;
  snap.set_id(std::string(32, '\xab'));
  auto* root = snap.add_root();
  root->set_id(std::string(32, '\x01'));  // no such chunk
  root->set_length(10);
  int calls = 0;
  absl::Status s = CollectUsedChunks(**repo, {snap}, [&](std::string_view) { ++calls; });
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_NE(s.message().find("snapshot abababab"), std::string::npos) << s;
  EXPECT_NE(s.message().find("not in the vault index"), std::string::npos) << s;
  EXPECT_EQ(calls, 1);  // the root chunk was still reported as used
}

}  // namespace
}  // namespace shardkeep::customer

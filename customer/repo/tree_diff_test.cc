#include "customer/repo/tree_diff.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace shardkeep::customer {
namespace {

// Trees kept in a map by a one-chunk "ID"; a loader that counts its loads.
struct FakeTrees {
  std::map<std::string, vault::v1::Tree> trees;
  int loads = 0;
  TreeWalker::TreeLoader Loader() {
    return [this](const TreeWalker::ChunkRefs& refs) -> absl::StatusOr<vault::v1::Tree> {
      ++loads;
      auto it = trees.find(refs.empty() ? "" : refs[0].id());
      if (it == trees.end()) return absl::NotFoundError("no tree");
      return it->second;
    };
  }
};

vault::v1::TreeNode File(const std::string& name, const std::string& chunk, uint32_t mode = 0644) {
  vault::v1::TreeNode n;
  n.set_name(name);
  n.set_type(vault::v1::NODE_TYPE_FILE);
  n.set_mode(mode);
  n.set_size(chunk.size());
  auto* c = n.add_content();
  c->set_id(chunk);
  return n;
}

vault::v1::TreeNode Dir(const std::string& name, const std::string& tree_id) {
  vault::v1::TreeNode n;
  n.set_name(name);
  n.set_type(vault::v1::NODE_TYPE_DIR);
  n.set_mode(0755);
  n.add_subtree()->set_id(tree_id);
  return n;
}

TreeWalker::ChunkRefs Refs(const std::string& id) {
  TreeWalker::ChunkRefs r;
  r.Add()->set_id(id);
  return r;
}

TEST(TreeDiff, ReportsEachKindOfChangeAndSkipsIdenticalSubtrees) {
  FakeTrees t;
  // Shared, unchanged subtree "same" under both roots: never loaded.
  t.trees["same"].add_nodes()->CopyFrom(File("x", "cx"));
  // Old root: a, b (dir with b1), keep (same), meta, typ.
  auto& old_b = t.trees["old-b"];
  *old_b.add_nodes() = File("b1", "c1");
  auto& r1 = t.trees["root1"];
  *r1.add_nodes() = File("a", "ca");
  *r1.add_nodes() = Dir("b", "old-b");
  *r1.add_nodes() = Dir("keep", "same");
  *r1.add_nodes() = File("meta", "cm", 0644);
  *r1.add_nodes() = File("typ", "ct");
  // New root: a changed, b gone, c new, keep same, meta chmod, typ a dir.
  auto& new_typ = t.trees["typ-dir"];
  (void)new_typ;
  auto& r2 = t.trees["root2"];
  *r2.add_nodes() = File("a", "ca2");
  *r2.add_nodes() = File("c", "cc");
  *r2.add_nodes() = Dir("keep", "same");
  *r2.add_nodes() = File("meta", "cm", 0600);
  *r2.add_nodes() = Dir("typ", "typ-dir");

  std::vector<std::string> lines;
  auto counts = DiffTrees(t.Loader(), Refs("root1"), Refs("root2"),
                          [&](const std::string& path, Change c, const vault::v1::TreeNode&) {
                            lines.push_back(std::string(ChangeLetter(c)) + " " + path);
                          });
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(lines, (std::vector<std::string>{"M /a", "- /b", "- /b/b1", "+ /c", "U /meta",
                                             "T /typ"}));
  EXPECT_EQ(counts->added, 1u);
  EXPECT_EQ(counts->removed, 2u);
  EXPECT_EQ(counts->modified, 1u);
  EXPECT_EQ(counts->metadata, 1u);
  EXPECT_EQ(counts->type, 1u);
  EXPECT_EQ(t.loads, 3);  // root1, root2, old-b: "same" was never read
}

TEST(TreeDiff, SameRootIsEmptyAndASelfContainingTreeStops) {
  FakeTrees t;
  t.trees["r"].add_nodes()->CopyFrom(File("f", "c"));
  auto same = DiffTrees(t.Loader(), Refs("r"), Refs("r"),
                        [](const std::string&, Change, const vault::v1::TreeNode&) {});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->added + same->removed + same->modified, 0u);
  EXPECT_EQ(t.loads, 0);
  // A directory whose subtree is the root itself, added on one side: the
  // walk ends at the depth limit with an error instead of looping.
  *t.trees["loop"].add_nodes() = Dir("d", "loop");
  auto looped = DiffTrees(t.Loader(), Refs("r"), Refs("loop"),
                          [](const std::string&, Change, const vault::v1::TreeNode&) {});
  EXPECT_FALSE(looped.ok());
}

}  // namespace
}  // namespace shardkeep::customer

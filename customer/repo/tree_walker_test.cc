#include "customer/repo/tree_walker.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

using vault::v1::NodeType;
using vault::v1::Tree;
using Refs = TreeWalker::ChunkRefs;

// Trees by a one-chunk reference "t:<name>"; a fake of Repository::LoadTree.
class Trees {
 public:
  // Adds tree `id` holding `nodes` (name, subtree id or "" for a file).
  void Add(const std::string& id, const std::vector<std::pair<std::string, std::string>>& nodes) {
    Tree t;
    for (const auto& [name, sub] : nodes) {
      auto* n = t.add_nodes();
      n->set_name(name);
      if (sub.empty()) {
        n->set_type(vault::v1::NODE_TYPE_FILE);
      } else {
        n->set_type(vault::v1::NODE_TYPE_DIR);
        n->add_subtree()->set_id("t:" + sub);
      }
    }
    trees_["t:" + id] = t;
  }
  static Refs Ref(const std::string& id) {
    Refs r;
    r.Add()->set_id("t:" + id);
    return r;
  }
  TreeWalker::TreeLoader Loader() {
    return [this](const Refs& refs) -> absl::StatusOr<Tree> {
      loads_++;
      auto it = trees_.find(refs.Get(0).id());
      if (it == trees_.end()) return absl::DataLossError("chunk missing");
      return it->second;
    };
  }
  int loads_ = 0;

 private:
  std::map<std::string, Tree> trees_;
};

struct Recorder {
  std::vector<std::string> visited;
  std::vector<std::string> errors;
  TreeWalker::Visitor Visitor() {
    return [this](const TreeWalker::Path& p, const vault::v1::TreeNode&) {
      visited.push_back("/" + absl::StrJoin(p, "/"));
      return TreeWalker::Next::kDescend;
    };
  }
  TreeWalker::OnTreeError GoOn() {
    return [this](const TreeWalker::Path&, const absl::Status& s) {
      errors.push_back(std::string(s.message()));
      return absl::OkStatus();
    };
  }
};

TEST(TreeWalkerTest, VisitsDepthFirstPreOrder) {
  Trees t;
  t.Add("root", {{"a", "A"}, {"b", ""}, {"c", "C"}});
  t.Add("A", {{"x", ""}, {"y", "Y"}});
  t.Add("Y", {{"z", ""}});
  t.Add("C", {});
  Recorder r;
  TreeWalker w(t.Loader(), TreeWalker::Options());
  ASSERT_TRUE(w.Walk(Trees::Ref("root"), r.Visitor(), r.GoOn()).ok());
  EXPECT_EQ(r.visited,
            (std::vector<std::string>{"/a", "/a/x", "/a/y", "/a/y/z", "/b", "/c"}));
  EXPECT_TRUE(r.errors.empty());
}

TEST(TreeWalkerTest, SkipDoesNotDescend) {
  Trees t;
  t.Add("root", {{"a", "A"}, {"b", "B"}});
  t.Add("A", {{"x", ""}});
  t.Add("B", {{"y", ""}});
  std::vector<std::string> seen;
  TreeWalker w(t.Loader(), TreeWalker::Options());
  auto visit = [&](const TreeWalker::Path& p, const vault::v1::TreeNode& n) {
    seen.push_back(absl::StrJoin(p, "/"));
    return n.name() == "a" ? TreeWalker::Next::kSkip : TreeWalker::Next::kDescend;
  };
  ASSERT_TRUE(w.Walk(Trees::Ref("root"), visit, Recorder().GoOn()).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "b/y"}));
  EXPECT_EQ(t.loads_, 2);  // root and B: A was never loaded
}

TEST(TreeWalkerTest, RefusesATreeThatContainsItselfAtOnce) {
  Trees t;
  // loop/ holds itself twice: without the guard the work doubles per level.
  t.Add("root", {{"loop", "L"}, {"after", ""}});
  t.Add("L", {{"again", "L"}, {"twice", "L"}, {"f", ""}});
  Recorder r;
  TreeWalker w(t.Loader(), TreeWalker::Options());
  ASSERT_TRUE(w.Walk(Trees::Ref("root"), r.Visitor(), r.GoOn()).ok());
  EXPECT_EQ(r.visited, (std::vector<std::string>{"/loop", "/loop/again", "/loop/twice",
                                                 "/loop/f", "/after"}));
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_NE(r.errors[0].find("/loop/again: its tree is the tree of a directory above it"),
            std::string::npos)
      << r.errors[0];
  EXPECT_EQ(t.loads_, 2);
}

TEST(TreeWalkerTest, RefusesTooDeep) {
  Trees t;
  const int kLevels = 40;
  for (int i = 0; i < kLevels; ++i) t.Add("d" + std::to_string(i), {{"d", "d" + std::to_string(i + 1)}});
  t.Add("d" + std::to_string(kLevels), {});
  Recorder r;
  TreeWalker::Options shallow;
  shallow.max_depth = 10;
  TreeWalker w(t.Loader(), shallow);
  ASSERT_TRUE(w.Walk(Trees::Ref("d0"), r.Visitor(), r.GoOn()).ok());
  EXPECT_EQ(r.visited.size(), 11u);  // /d ... 11 levels, then refused
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("nested deeper than 10 levels"), std::string::npos) << r.errors[0];
}

TEST(TreeWalkerTest, AnErrorCallbackThatStopsStopsTheWalk) {
  Trees t;
  t.Add("root", {{"a", "missing"}, {"b", ""}});
  std::vector<std::string> seen;
  TreeWalker w(t.Loader(), TreeWalker::Options());
  auto visit = [&](const TreeWalker::Path& p, const vault::v1::TreeNode&) {
    seen.push_back(absl::StrJoin(p, "/"));
    return TreeWalker::Next::kDescend;
  };
  auto stop = [](const TreeWalker::Path&, const absl::Status& s) { return s; };
  absl::Status s = w.Walk(Trees::Ref("root"), visit, stop);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_NE(s.message().find("cannot read the tree of /a: chunk missing"), std::string::npos)
      << s;
  EXPECT_EQ(seen, (std::vector<std::string>{"a"}));  // b was never reached
}

TEST(TreeWalkerTest, AVisitorErrorStopsTheWalk) {
  Trees t;
  t.Add("root", {{"a", ""}, {"b", ""}});
  TreeWalker w(t.Loader(), TreeWalker::Options());
  int calls = 0;
  auto visit = [&](const TreeWalker::Path&,
                   const vault::v1::TreeNode&) -> absl::StatusOr<TreeWalker::Next> {
    ++calls;
    return absl::CancelledError("enough");
  };
  EXPECT_TRUE(absl::IsCancelled(w.Walk(Trees::Ref("root"), visit, Recorder().GoOn())));
  EXPECT_EQ(calls, 1);
}

TEST(TreeWalkerTest, SkipSeenSubtreesWalksEachTreeOnce) {
  Trees t;
  // Two identical directories share one tree (dedup): ls shows both, a
  // check needs it once.
  t.Add("root", {{"a", "S"}, {"b", "S"}});
  t.Add("S", {{"f", ""}});
  Recorder all;
  TreeWalker every(t.Loader(), TreeWalker::Options());
  ASSERT_TRUE(every.Walk(Trees::Ref("root"), all.Visitor(), all.GoOn()).ok());
  EXPECT_EQ(all.visited, (std::vector<std::string>{"/a", "/a/f", "/b", "/b/f"}));
  Recorder once;
  TreeWalker::Options once_each;
  once_each.skip_seen_subtrees = true;
  TreeWalker dedup(t.Loader(), once_each);
  ASSERT_TRUE(dedup.Walk(Trees::Ref("root"), once.Visitor(), once.GoOn()).ok());
  EXPECT_EQ(once.visited, (std::vector<std::string>{"/a", "/a/f", "/b"}));
}

TEST(TreeWalkerTest, SkipSeenSubtreesRemembersEarlierWalks) {
  Trees t;
  // Two snapshots: the second changed only /b; /a's tree is shared.
  t.Add("root1", {{"a", "A"}, {"b", "B1"}});
  t.Add("root2", {{"a", "A"}, {"b", "B2"}});
  t.Add("A", {{"x", ""}});
  t.Add("B1", {{"y", ""}});
  t.Add("B2", {{"z", ""}});
  TreeWalker::Options once_each;
  once_each.skip_seen_subtrees = true;
  TreeWalker w(t.Loader(), once_each);
  Recorder first, second, again;
  ASSERT_TRUE(w.Walk(Trees::Ref("root1"), first.Visitor(), first.GoOn()).ok());
  EXPECT_EQ(first.visited, (std::vector<std::string>{"/a", "/a/x", "/b", "/b/y"}));
  EXPECT_EQ(t.loads_, 3);
  ASSERT_TRUE(w.Walk(Trees::Ref("root2"), second.Visitor(), second.GoOn()).ok());
  EXPECT_EQ(second.visited, (std::vector<std::string>{"/a", "/b", "/b/z"}));
  EXPECT_EQ(t.loads_, 5);  // root2 and B2 only
  // A root walked before is not loaded again at all.
  ASSERT_TRUE(w.Walk(Trees::Ref("root1"), again.Visitor(), again.GoOn()).ok());
  EXPECT_TRUE(again.visited.empty());
  EXPECT_EQ(t.loads_, 5);
  // Without the option every walk loads everything.
  TreeWalker every(t.Loader(), TreeWalker::Options());
  Recorder all;
  ASSERT_TRUE(every.Walk(Trees::Ref("root2"), all.Visitor(), all.GoOn()).ok());
  ASSERT_TRUE(every.Walk(Trees::Ref("root2"), all.Visitor(), all.GoOn()).ok());
  EXPECT_EQ(t.loads_, 11);
}

TEST(TreeWalkerTest, VisitUnderListsOnlyBelowThePath) {
  Trees t;
  t.Add("root", {{"home", "H"}, {"etc", "E"}});
  t.Add("H", {{"ann", "A"}, {"bob", "B"}});
  t.Add("A", {{"notes", ""}});
  t.Add("B", {{"x", ""}});
  t.Add("E", {{"passwd", ""}});
  TreeWalker w(t.Loader(), TreeWalker::Options());
  std::vector<std::string> seen;
  auto collect = [&](const std::string& p, const vault::v1::TreeNode&) { seen.push_back(p); };
  auto n = VisitUnder(w, Trees::Ref("root"), {"home", "ann"}, collect);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(seen, (std::vector<std::string>{"/home/ann", "/home/ann/notes"}));
  EXPECT_EQ(t.loads_, 3);  // root, home, ann: not etc, not bob
  seen.clear();
  n = VisitUnder(w, Trees::Ref("root"), {}, collect);
  EXPECT_EQ(*n, 7u);
  n = VisitUnder(w, Trees::Ref("root"), {"home", "carol"}, collect);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  // A broken tree fails the listing.
  t.Add("root2", {{"gone", "nowhere"}});
  EXPECT_TRUE(absl::IsDataLoss(VisitUnder(w, Trees::Ref("root2"), {}, collect).status()));
}

}  // namespace
}  // namespace shardkeep::customer

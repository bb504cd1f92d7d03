// One walk over a snapshot's trees, for every command that reads them: ls
// and restore now; stats, diff, find, check and mount later (as restic's
// internal/walker serves all of its commands).
//
// Order: depth first, pre-order. A node is visited, then, if it is a
// directory and the visitor says kDescend, everything below it, before its
// next sibling. Paths are component lists below the snapshot root.
//
// Guards, in this one place, against trees that are wrong by bug or forgery
// (tree chunks come from the vault's keyholder, but restore must survive a
// forged vault all the same):
//  - a directory whose tree is the tree of a directory above it (a tree that
//    contains itself) is refused at once: an honest tree cannot, its chunk
//    IDs would be hashes of themselves;
//  - nesting deeper than Options::max_depth is refused (the walk recurses
//    once per level, and no real path is that deep);
//  - with Options::skip_seen_subtrees, a subtree walked once by this walker,
//    in this Walk or an earlier one, is not walked again (for commands that
//    need each tree once, such as prune, check or stats: snapshots of one
//    vault share most of their trees, and restic's walker skips them the
//    same way; ls and restore show every path, so they leave it off).
// A refused or unreadable tree goes to the OnTreeError callback, which
// decides whether the walk goes on.
//
// Not thread-safe: one walk at a time per walker.
#ifndef SHARDKEEP_CUSTOMER_REPO_TREE_WALKER_H_
#define SHARDKEEP_CUSTOMER_REPO_TREE_WALKER_H_

#include <cstddef>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "customer/repo/repository.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

// 1024 levels are deeper than real trees go, and the recursion stays within
// an 8 MiB stack even under ASan.
inline constexpr size_t kMaxTreeDepth = 1024;

class TreeWalker {
 public:
  using Path = std::vector<std::string>;
  using ChunkRefs = google::protobuf::RepeatedPtrField<vault::v1::ChunkRef>;
  // What to do after visiting a node. kDescend walks a directory's subtree
  // (it means nothing for other nodes); kSkip does not.
  enum class Next { kDescend, kSkip };
  // Called for every node; `path` ends with the node's name. An error stops
  // the walk and is returned by Walk.
  using Visitor = std::function<absl::StatusOr<Next>(const Path& path,
                                                     const vault::v1::TreeNode& node)>;
  // Called when the tree of directory `dir` ({} for the root) is not walked:
  // it cannot be loaded, it contains itself, or it is too deep. `error`
  // names the directory and the reason. Return OK to go on with the rest of
  // the walk, or an error to stop it (Walk returns that error).
  using OnTreeError = std::function<absl::Status(const Path& dir, const absl::Status& error)>;
  // Loads the tree stored as `refs` (Repository::LoadTree, or a fake).
  using TreeLoader = std::function<absl::StatusOr<vault::v1::Tree>(const ChunkRefs& refs)>;

  struct Options {
    size_t max_depth = kMaxTreeDepth;
    bool skip_seen_subtrees = false;
  };

  // Walks trees of `repo` (which must outlive the walker).
  explicit TreeWalker(Repository& repo);
  TreeWalker(Repository& repo, Options options);
  TreeWalker(TreeLoader loader, Options options);

  // Walks the tree stored as `root`. OK if the visitor and the error
  // callback never stopped it.
  absl::Status Walk(const ChunkRefs& root, const Visitor& visit, const OnTreeError& on_error);

 private:
  absl::Status WalkTree(const ChunkRefs& refs, Path* dir);

  TreeLoader load_;
  Options options_;
  const Visitor* visit_ = nullptr;
  const OnTreeError* on_error_ = nullptr;
  // Chunk IDs of the trees of the directories being walked, outermost first.
  std::vector<std::string> open_trees_;
  // skip_seen_subtrees only: every tree walked by any Walk of this walker.
  std::unordered_set<std::string> seen_trees_;
};

// Visits, in walk order, every node at or below the path `under` (components
// below the root; {} for everything) with its absolute path ("/a/b"), and
// returns how many it visited (0: `under` is not in the tree). Only the
// directories on the way to `under` are read above it. A tree that cannot
// be walked (unreadable, contains itself, too deep) stops the walk with its
// error (what `ls` wants: a listing is complete or fails).
absl::StatusOr<uint64_t> VisitUnder(
    TreeWalker& walker, const TreeWalker::ChunkRefs& root, const TreeWalker::Path& under,
    const std::function<void(const std::string& path, const vault::v1::TreeNode& node)>& visit);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_TREE_WALKER_H_

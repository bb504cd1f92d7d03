// What changed between two snapshots (`shardkeep diff`), as restic's diff
// reports it: added, removed, content modified, metadata only, type changed.
//
// The two trees are walked side by side, sorted by name; a directory whose
// subtree is stored as the same chunks on both sides is identical and is not
// read (an unchanged home directory costs a handful of tree loads). As in
// TreeWalker, nesting deeper than kMaxTreeDepth is refused, so a forged tree
// that contains itself ends there with an error instead of looping.
#ifndef SHARDKEEP_CUSTOMER_REPO_TREE_DIFF_H_
#define SHARDKEEP_CUSTOMER_REPO_TREE_DIFF_H_

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "customer/repo/tree_walker.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

enum class Change {
  kAdded,     // only in the second snapshot
  kRemoved,   // only in the first
  kModified,  // a file whose content differs (size or chunks)
  kMetadata,  // same content, other mode, owner, times or xattrs
  kType,      // another kind of node under the same path
};

// "+", "-", "M", "U", "T" (restic's letters).
const char* ChangeLetter(Change c);

struct DiffCounts {
  uint64_t added = 0, removed = 0, modified = 0, metadata = 0, type = 0;
};

// Calls `report` for every changed path (absolute, "/a/b") in walk order:
// below an added or removed directory, every node is reported as added or
// removed too. `load` loads a tree (Repository::LoadTree).
absl::StatusOr<DiffCounts> DiffTrees(
    const TreeWalker::TreeLoader& load, const TreeWalker::ChunkRefs& first,
    const TreeWalker::ChunkRefs& second,
    const std::function<void(const std::string& path, Change change,
                             const vault::v1::TreeNode& node)>& report);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_TREE_DIFF_H_

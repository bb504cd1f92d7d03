// `shardkeep diff` below the CLI: two snapshots of the vault, opened by the
// names the user gives them, compared with DiffTrees (tree_diff.h).
#ifndef SHARDKEEP_CUSTOMER_REPO_SNAPSHOT_DIFF_H_
#define SHARDKEEP_CUSTOMER_REPO_SNAPSHOT_DIFF_H_

#include <functional>
#include <string>

#include "common/status.h"
#include "customer/repo/repository.h"
#include "customer/repo/tree_diff.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

struct SnapshotDiff {
  vault::v1::Snapshot first, second;
  DiffCounts counts;
  // Sum of the sizes of the files only in the second (added) and only in the
  // first (removed) snapshot; modified files count in neither.
  uint64_t bytes_added = 0, bytes_removed = 0;
};

// Opens the snapshots `first_spec` and `second_spec` (an ID, an unambiguous
// prefix, or "latest"; Repository::FindSnapshot) with k suppliers answering,
// and calls `report` for every changed path in walk order (see DiffTrees;
// for a removed path `node` is the old node, otherwise the new one).
// NotFound naming a spec that matches no snapshot; kSuppliersUnreachable
// below k suppliers; the walk's error if a tree cannot be read.
absl::StatusOr<SnapshotDiff> DiffSnapshots(
    Repository& repo, const std::string& first_spec, const std::string& second_spec,
    const std::function<void(const std::string& path, Change change,
                             const vault::v1::TreeNode& node)>& report);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_SNAPSHOT_DIFF_H_

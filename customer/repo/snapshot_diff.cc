#include "customer/repo/snapshot_diff.h"

#include <vector>

namespace shardkeep::customer {

absl::StatusOr<SnapshotDiff> DiffSnapshots(
    Repository& repo, const std::string& first_spec, const std::string& second_spec,
    const std::function<void(const std::string& path, Change change,
                             const vault::v1::TreeNode& node)>& report) {
  RETURN_IF_ERROR(repo.CheckSuppliers(repo.k()));
  RETURN_IF_ERROR(repo.LoadIndex());
  ASSIGN_OR_RETURN(std::vector<vault::v1::Snapshot> snapshots, repo.LoadSnapshots());
  SnapshotDiff d;
  ASSIGN_OR_RETURN(d.first, Repository::FindSnapshot(snapshots, first_spec));
  ASSIGN_OR_RETURN(d.second, Repository::FindSnapshot(snapshots, second_spec));
  TreeWalker::TreeLoader load = [&repo](const TreeWalker::ChunkRefs& refs) {
    return repo.LoadTree(refs);
  };
  ASSIGN_OR_RETURN(d.counts,
                   DiffTrees(load, d.first.root(), d.second.root(),
                             [&](const std::string& path, Change c, const vault::v1::TreeNode& n) {
                               if (n.type() == vault::v1::NODE_TYPE_FILE) {
                                 if (c == Change::kAdded) d.bytes_added += n.size();
                                 if (c == Change::kRemoved) d.bytes_removed += n.size();
                               }
                               report(path, c, n);
                             }));
  return d;
}

}  // namespace shardkeep::customer

#include "customer/repo/finder.h"

#include <fnmatch.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/error_kind.h"
#include "customer/repo/tree_walker.h"

namespace shardkeep::customer {

bool PathMatches(const std::string& pattern, const std::string& path, const std::string& name,
                 bool ignore_case) {
  const int flags = ignore_case ? FNM_CASEFOLD : 0;
  return fnmatch(pattern.c_str(), name.c_str(), flags) == 0 ||
         fnmatch(pattern.c_str(), path.c_str(), flags | FNM_PATHNAME) == 0;
}

absl::StatusOr<FindResult> FindInSnapshots(
    Repository& repo, const FindOptions& options,
    const std::function<void(const vault::v1::Snapshot& snapshot, const std::string& path,
                             const vault::v1::TreeNode& node)>& found) {
  if (options.patterns.empty()) return UsageError("find: no pattern");
  RETURN_IF_ERROR(repo.CheckSuppliers(repo.k()));
  RETURN_IF_ERROR(repo.LoadIndex());
  ASSIGN_OR_RETURN(std::vector<vault::v1::Snapshot> all, repo.LoadSnapshots());

  std::vector<vault::v1::Snapshot> chosen;
  if (options.snapshots.empty()) {
    chosen = all;
  } else {
    // In vault order, each once, however often or in whatever order named.
    std::set<std::string> ids;
    for (const std::string& spec : options.snapshots) {
      ASSIGN_OR_RETURN(vault::v1::Snapshot s, Repository::FindSnapshot(all, spec));
      ids.insert(s.id());
    }
    for (const auto& s : all) {
      if (ids.count(s.id())) chosen.push_back(s);
    }
  }

  FindResult r;
  TreeWalker walker(repo);
  for (const vault::v1::Snapshot& snap : chosen) {
    r.snapshots_searched++;
    uint64_t before = r.matches;
    RETURN_IF_ERROR(walker.Walk(
        snap.root(),
        [&](const TreeWalker::Path& path, const vault::v1::TreeNode& node) {
          const std::string full = "/" + absl::StrJoin(path, "/");
          for (const std::string& p : options.patterns) {
            if (PathMatches(p, full, node.name(), options.ignore_case)) {
              found(snap, full, node);
              r.matches++;
              break;
            }
          }
          return TreeWalker::Next::kDescend;
        },
        [](const TreeWalker::Path&, const absl::Status& error) { return error; }));
    if (r.matches > before) r.snapshots_matching++;
  }
  return r;
}

}  // namespace shardkeep::customer

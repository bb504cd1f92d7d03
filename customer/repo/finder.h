// `shardkeep find` below the CLI: which snapshots hold a path matching a
// pattern, as restic find answers it.
//
// A pattern is a shell glob (fnmatch(3)). It matches a node if it matches
// the node's name ("*.jpg" finds every JPEG at any depth) or its absolute
// path in the snapshot ("/home/*/docs/*.odt"; there `*` does not cross a
// `/`). Every snapshot is walked in full with TreeWalker: a match deep down
// needs no directory above it to match.
#ifndef SHARDKEEP_CUSTOMER_REPO_FINDER_H_
#define SHARDKEEP_CUSTOMER_REPO_FINDER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "customer/repo/repository.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

struct FindOptions {
  std::vector<std::string> patterns;   // a node matching any of them is reported
  std::vector<std::string> snapshots;  // IDs, prefixes or "latest"; empty: every snapshot
  bool ignore_case = false;
};

struct FindResult {
  uint64_t snapshots_searched = 0;
  uint64_t snapshots_matching = 0;  // snapshots with at least one match
  uint64_t matches = 0;
};

// True if `pattern` matches the node named `name` at absolute path `path`.
bool PathMatches(const std::string& pattern, const std::string& path, const std::string& name,
                 bool ignore_case);

// Walks the chosen snapshots, oldest first, and calls `found` for every
// matching node with its snapshot and absolute path ("/a/b"). Needs k
// suppliers (kSuppliersUnreachable). NotFound naming a snapshot spec that
// matches none; UsageError for no pattern. A tree that cannot be read stops
// the search with its error (a search that skipped a directory could say
// "not found" wrongly).
absl::StatusOr<FindResult> FindInSnapshots(
    Repository& repo, const FindOptions& options,
    const std::function<void(const vault::v1::Snapshot& snapshot, const std::string& path,
                             const vault::v1::TreeNode& node)>& found);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_FINDER_H_

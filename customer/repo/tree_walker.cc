#include "customer/repo/tree_walker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "customer/fs/fs.h"

namespace shardkeep::customer {
namespace {

std::string Shown(const TreeWalker::Path& p, size_t max_components) {
  if (p.size() <= max_components) return fs::PrintablePath("/" + absl::StrJoin(p, "/"));
  return fs::PrintablePath(
             "/" + absl::StrJoin(p.begin(), p.begin() + static_cast<long>(max_components), "/")) +
         "/...";
}

}  // namespace

TreeWalker::TreeWalker(Repository& repo) : TreeWalker(repo, Options()) {}

TreeWalker::TreeWalker(Repository& repo, Options options)
    : load_([&repo](const ChunkRefs& refs) { return repo.LoadTree(refs); }),
      options_(options) {}

TreeWalker::TreeWalker(TreeLoader loader, Options options)
    : load_(std::move(loader)), options_(options) {}

absl::Status TreeWalker::Walk(const ChunkRefs& root, const Visitor& visit,
                              const OnTreeError& on_error) {
  visit_ = &visit;
  on_error_ = &on_error;
  open_trees_.clear();
  Path dir;
  absl::Status s = WalkTree(root, &dir);
  visit_ = nullptr;
  on_error_ = nullptr;
  return s;
}

absl::Status TreeWalker::WalkTree(const ChunkRefs& refs, Path* dir) {
  if (dir->size() > options_.max_depth) {
    return (*on_error_)(
        *dir, absl::DataLossError(absl::StrCat(
                  "refusing directories nested deeper than ", options_.max_depth,
                  " levels (a tree that contains itself?) below ", Shown(*dir, 8))));
  }
  std::string tree_key;
  for (const auto& r : refs) tree_key += r.id();
  if (std::find(open_trees_.begin(), open_trees_.end(), tree_key) != open_trees_.end()) {
    return (*on_error_)(*dir, absl::DataLossError(absl::StrCat(
                                  "refusing ", Shown(*dir, 64),
                                  ": its tree is the tree of a directory above it (a tree "
                                  "that contains itself)")));
  }
  if (options_.skip_seen_subtrees && !seen_trees_.insert(tree_key).second) {
    return absl::OkStatus();
  }
  auto tree = load_(refs);
  if (!tree.ok()) {
    return (*on_error_)(*dir, absl::Status(tree.status().code(),
                                           absl::StrCat("cannot read the tree of ",
                                                        Shown(*dir, 64), ": ",
                                                        tree.status().message())));
  }
  open_trees_.push_back(std::move(tree_key));
  absl::Status result;
  for (const vault::v1::TreeNode& node : tree->nodes()) {
    dir->push_back(node.name());
    auto next = (*visit_)(*dir, node);
    if (!next.ok()) {
      result = next.status();
    } else if (*next == Next::kDescend && node.type() == vault::v1::NODE_TYPE_DIR) {
      result = WalkTree(node.subtree(), dir);
    }
    dir->pop_back();
    if (!result.ok()) break;
  }
  open_trees_.pop_back();
  return result;
}

absl::StatusOr<uint64_t> VisitUnder(
    TreeWalker& walker, const TreeWalker::ChunkRefs& root, const TreeWalker::Path& under,
    const std::function<void(const std::string& path, const vault::v1::TreeNode& node)>& visit) {
  uint64_t visited = 0;
  RETURN_IF_ERROR(walker.Walk(
      root,
      [&](const TreeWalker::Path& path, const vault::v1::TreeNode& node) {
        const size_t depth = path.size() - 1;
        // Above `under`: only the component on the way down.
        if (depth < under.size() && node.name() != under[depth]) return TreeWalker::Next::kSkip;
        if (depth + 1 >= under.size()) {
          visit("/" + absl::StrJoin(path, "/"), node);
          visited++;
        }
        return TreeWalker::Next::kDescend;
      },
      [](const TreeWalker::Path&, const absl::Status& error) { return error; }));
  return visited;
}

}  // namespace shardkeep::customer

#include "customer/repo/tree_diff.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace shardkeep::customer {
namespace {

using Refs = TreeWalker::ChunkRefs;
using Report = std::function<void(const std::string&, Change, const vault::v1::TreeNode&)>;

std::string RefsKey(const Refs& refs) {
  std::string key;
  for (const auto& r : refs) key += r.id();
  return key;
}

bool SameRefs(const Refs& a, const Refs& b) {
  if (a.size() != b.size()) return false;
  for (int i = 0; i < a.size(); ++i) {
    if (a[i].id() != b[i].id() || a[i].length() != b[i].length()) return false;
  }
  return true;
}

bool SameContent(const vault::v1::TreeNode& a, const vault::v1::TreeNode& b) {
  if (a.size() != b.size() || a.content_size() != b.content_size()) return false;
  for (int i = 0; i < a.content_size(); ++i) {
    if (a.content(i).id() != b.content(i).id() || a.content(i).offset() != b.content(i).offset()) {
      return false;
    }
  }
  return a.symlink_target() == b.symlink_target() && a.rdev() == b.rdev();
}

bool SameMetadata(const vault::v1::TreeNode& a, const vault::v1::TreeNode& b) {
  if (a.mode() != b.mode() || a.uid() != b.uid() || a.gid() != b.gid() ||
      a.mtime_ns() != b.mtime_ns() || a.xattrs_size() != b.xattrs_size()) {
    return false;
  }
  for (int i = 0; i < a.xattrs_size(); ++i) {
    if (a.xattrs(i).name() != b.xattrs(i).name() || a.xattrs(i).value() != b.xattrs(i).value()) {
      return false;
    }
  }
  return true;
}

class Differ {
 public:
  Differ(const TreeWalker::TreeLoader& load, const Report& report)
      : load_(load), report_(report) {}

  absl::Status Compare(const Refs* a, const Refs* b, const std::string& dir, size_t depth) {
    if (depth > kMaxTreeDepth) {
      return absl::DataLossError(absl::StrCat(dir.empty() ? "/" : dir, ": trees nested deeper than ",
                                              kMaxTreeDepth, " levels"));
    }
    if (a != nullptr && b != nullptr &&
        !compared_.insert({RefsKey(*a), RefsKey(*b) + "\n" + dir}).second) {
      return absl::OkStatus();
    }
    vault::v1::Tree ta, tb;
    if (a != nullptr) {
      ASSIGN_OR_RETURN(ta, load_(*a));
    }
    if (b != nullptr) {
      ASSIGN_OR_RETURN(tb, load_(*b));
    }
    int i = 0, j = 0;
    while (i < ta.nodes_size() || j < tb.nodes_size()) {
      const vault::v1::TreeNode* na = i < ta.nodes_size() ? &ta.nodes(i) : nullptr;
      const vault::v1::TreeNode* nb = j < tb.nodes_size() ? &tb.nodes(j) : nullptr;
      int order = na == nullptr ? 1 : nb == nullptr ? -1 : na->name().compare(nb->name());
      if (order < 0) {
        RETURN_IF_ERROR(Whole(*na, dir, Change::kRemoved, depth));
        ++i;
      } else if (order > 0) {
        RETURN_IF_ERROR(Whole(*nb, dir, Change::kAdded, depth));
        ++j;
      } else {
        RETURN_IF_ERROR(Pair(*na, *nb, dir, depth));
        ++i;
        ++j;
      }
    }
    return absl::OkStatus();
  }

  DiffCounts counts;

 private:
  void Emit(const std::string& path, Change c, const vault::v1::TreeNode& node) {
    switch (c) {
      case Change::kAdded: ++counts.added; break;
      case Change::kRemoved: ++counts.removed; break;
      case Change::kModified: ++counts.modified; break;
      case Change::kMetadata: ++counts.metadata; break;
      case Change::kType: ++counts.type; break;
    }
    report_(path, c, node);
  }

  // A node only on one side, and (a directory) everything below it.
  absl::Status Whole(const vault::v1::TreeNode& n, const std::string& dir, Change c,
                     size_t depth) {
    const std::string path = absl::StrCat(dir, "/", n.name());
    Emit(path, c, n);
    if (n.type() != vault::v1::NODE_TYPE_DIR || n.subtree_size() == 0) return absl::OkStatus();
    if (depth + 1 > kMaxTreeDepth) {
      return absl::DataLossError(absl::StrCat(path, ": trees nested deeper than ", kMaxTreeDepth,
                                              " levels"));
    }
    if (!whole_.insert({RefsKey(n.subtree()), path}).second) return absl::OkStatus();
    ASSIGN_OR_RETURN(vault::v1::Tree t, load_(n.subtree()));
    for (const auto& child : t.nodes()) RETURN_IF_ERROR(Whole(child, path, c, depth + 1));
    return absl::OkStatus();
  }

  absl::Status Pair(const vault::v1::TreeNode& a, const vault::v1::TreeNode& b,
                    const std::string& dir, size_t depth) {
    const std::string path = absl::StrCat(dir, "/", a.name());
    if (a.type() != b.type()) {
      Emit(path, Change::kType, b);
      return absl::OkStatus();
    }
    if (a.type() == vault::v1::NODE_TYPE_DIR) {
      if (!SameMetadata(a, b)) Emit(path, Change::kMetadata, b);
      if (SameRefs(a.subtree(), b.subtree())) return absl::OkStatus();
      return Compare(&a.subtree(), &b.subtree(), path, depth + 1);
    }
    if (!SameContent(a, b)) {
      Emit(path, Change::kModified, b);
    } else if (!SameMetadata(a, b)) {
      Emit(path, Change::kMetadata, b);
    }
    return absl::OkStatus();
  }

  const TreeWalker::TreeLoader& load_;
  const Report& report_;
  std::set<std::pair<std::string, std::string>> compared_;
  std::set<std::pair<std::string, std::string>> whole_;
};

}  // namespace

const char* ChangeLetter(Change c) {
  switch (c) {
    case Change::kAdded: return "+";
    case Change::kRemoved: return "-";
    case Change::kModified: return "M";
    case Change::kMetadata: return "U";
    case Change::kType: return "T";
  }
  return "?";
}

absl::StatusOr<DiffCounts> DiffTrees(const TreeWalker::TreeLoader& load, const Refs& first,
                                     const Refs& second, const Report& report) {
  Differ d(load, report);
  if (!SameRefs(first, second)) RETURN_IF_ERROR(d.Compare(&first, &second, "", 0));
  return d.counts;
}

}  // namespace shardkeep::customer

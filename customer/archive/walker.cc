// The walker stage: lists the paths depth-first, reuses the parent snapshot's
// chunk lists for unchanged files, queues the others for reading and every
// directory (post-order) for the tree builder.
#include "customer/archive/archiver_internal.h"

#include "absl/strings/str_cat.h"
#include "customer/repo/tree_node.h"

namespace shardkeep::customer::archive_internal {

namespace {

const TreeNode* FindChild(const vault::v1::Tree& tree, const std::string& name) {
  const auto& nodes = tree.nodes();
  auto it = std::lower_bound(nodes.begin(), nodes.end(), name,
                             [](const TreeNode& n, const std::string& v) { return n.name() < v; });
  if (it != nodes.end() && it->name() == name) return &*it;
  return nullptr;
}

bool Unchanged(const TreeNode& parent, const fs::Node& node) {
  return parent.type() == vault::v1::NODE_TYPE_FILE && parent.size() == node.size &&
         parent.mtime_ns() == node.mtime_ns && parent.ctime_ns() == node.ctime_ns &&
         parent.inode() == node.inode && parent.dev() == node.dev;
}


}  // namespace

bool Archiver::LoadParentTree(const google::protobuf::RepeatedPtrField<ChunkRef>& refs,
                              const std::string& path, vault::v1::Tree* out) {
  auto t = repo_.LoadTree(refs);
  if (!t.ok()) {
    Warn(absl::StrCat("cannot read the parent snapshot's tree of ", fs::PrintablePath(path),
                      " (its files are read again): ", t.status().message()));
    return false;
  }
  *out = std::move(*t);
  return true;
}

void Archiver::WalkerMain(const PathTrie& trie) {
  const google::protobuf::RepeatedPtrField<ChunkRef>* parent_root =
      opts_.parent ? &opts_.parent->root() : nullptr;
  if (trie.leaf) {
    // Backing up "/" itself.
    auto node = fs::Lstat("/");
    if (!node.ok()) {
      Fail(node.status());
    } else {
      TreeNode synthetic;
      synthetic.set_type(vault::v1::NODE_TYPE_DIR);
      if (parent_root) *synthetic.mutable_subtree() = *parent_root;
      root_ = WalkDir("/", parent_root ? &synthetic : nullptr, node->dev);
    }
  } else {
    root_ = WalkVirtual("/", trie, parent_root);
  }
  tree_q_.Close();
  read_q_.Close();
}

std::unique_ptr<DirState> Archiver::WalkVirtual(
    const std::string& path, const PathTrie& trie,
    const google::protobuf::RepeatedPtrField<ChunkRef>* parent) {
  auto d = std::make_unique<DirState>();
  vault::v1::Tree parent_tree;
  bool have_parent = parent != nullptr && LoadParentTree(*parent, path, &parent_tree);
  for (const auto& [name, sub] : trie.children) {
    if (aborted()) break;
    std::string child = JoinPath(path, name);
    auto node = fs::Lstat(child);
    if (!node.ok()) {
      FileError(
          absl::StrCat("cannot back up ", fs::PrintablePath(child), ": ", node.status().message()));
      continue;
    }
    const TreeNode* pn = have_parent ? FindChild(parent_tree, name) : nullptr;
    const uint64_t dev = node->dev;
    if (sub.leaf) {
      AddNode(d.get(), child, std::move(*node), pn, nullptr, dev);
    } else {
      if (node->type != fs::NodeType::kDir) {
        // A symlink on the way to a backup path (/home -> /usr/home): stored
        // as the directory the path goes through.
        node->type = fs::NodeType::kDir;
        node->mode = 0755;
        node->symlink_target.clear();
      }
      AddNode(d.get(), child, std::move(*node), pn, &sub, dev);
    }
  }
  tree_q_.Push(d.get(), d->entries.size() + 1);
  return d;
}

std::unique_ptr<DirState> Archiver::WalkDir(const std::string& path, const TreeNode* parent,
                                            uint64_t dev) {
  auto d = std::make_unique<DirState>();
  vault::v1::Tree parent_tree;
  bool have_parent = parent != nullptr && parent->type() == vault::v1::NODE_TYPE_DIR &&
                     LoadParentTree(parent->subtree(), path, &parent_tree);
  auto names = fs::ListDir(path);
  if (!names.ok()) {
    if (absl::IsNotFound(names.status())) {
      Warn(absl::StrCat("directory vanished while read: ", names.status().message()));
    } else {
      FileError(
          absl::StrCat("cannot list ", fs::PrintablePath(path), ": ", names.status().message()));
    }
  } else {
    for (const auto& name : *names) {
      if (aborted()) break;
      std::string child = JoinPath(path, name);
      if (!excluder_.empty() && excluder_.Excluded(child)) continue;
      auto node = fs::Lstat(child);
      if (!node.ok()) {
        if (absl::IsNotFound(node.status())) {
          Warn(absl::StrCat("vanished before it was read: ", fs::PrintablePath(child)));
        } else {
          FileError(absl::StrCat("cannot read ", fs::PrintablePath(child), ": ",
                                 node.status().message()));
        }
        continue;
      }
      const TreeNode* pn = have_parent ? FindChild(parent_tree, name) : nullptr;
      AddNode(d.get(), child, std::move(*node), pn, nullptr, dev);
    }
  }
  tree_q_.Push(d.get(), d->entries.size() + 1);
  return d;
}

void Archiver::AddNode(DirState* dir, const std::string& path, fs::Node node,
                       const TreeNode* parent, const PathTrie* virt, uint64_t dev) {
  Entry e;
  switch (node.type) {
    case fs::NodeType::kSocket:
      Warn(absl::StrCat("socket skipped: ", fs::PrintablePath(path)));
      return;
    case fs::NodeType::kFile: {
      e.node = NodeToTree(node);
      if (parent != nullptr && Unchanged(*parent, node)) {
        *e.node.mutable_content() = parent->content();
        files_unchanged_++;
        bytes_total_ += node.size;
        progress_.files++;
        progress_.bytes += node.size;
      } else {
        auto task = std::make_shared<FileTask>();
        task->is_new = parent == nullptr || parent->type() != vault::v1::NODE_TYPE_FILE;
        task->node = std::move(node);
        e.file = task;
        if (!read_q_.Push(task)) return;
      }
      break;
    }
    case fs::NodeType::kDir: {
      e.node = NodeToTree(node);
      e.is_dir = true;
      dirs_++;
      if (virt != nullptr) {
        const google::protobuf::RepeatedPtrField<ChunkRef>* p =
            parent != nullptr && parent->type() == vault::v1::NODE_TYPE_DIR ? &parent->subtree()
                                                                            : nullptr;
        e.subdir = WalkVirtual(path, *virt, p);
      } else if (opts_.one_file_system && node.dev != dev) {
        // A mount point: kept as an empty directory, as restic does.
      } else {
        e.subdir = WalkDir(path, parent, dev);
      }
      break;
    }
    default:
      e.node = NodeToTree(node);
      others_++;
      break;
  }
  dir->entries.push_back(std::move(e));
}


}  // namespace shardkeep::customer::archive_internal

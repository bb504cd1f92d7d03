// fs_tree_copy SRC DST: copies a tree using only the customer/fs layer, the
// way backup reads and restore writes (Lstat/ListDir/FileReader extents on
// one side, RestoreTarget on the other), so compare.sh can check the layer's
// fidelity on its own, before the archiver and the network are involved.
// Sockets are skipped with a warning on stderr, as backup does.
#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "customer/fs/fs.h"

namespace shardkeep::fs {
namespace {

class TreeCopy {
 public:
  explicit TreeCopy(RestoreTarget* target) : target_(target) {}

  absl::Status CopyDir(const std::string& dir, const RestoreTarget::Path& path) {
    ASSIGN_OR_RETURN(Node node, Lstat(dir));
    RETURN_IF_ERROR(target_->MakeDir(path));
    ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
    for (const std::string& name : names) {
      RestoreTarget::Path child = path;
      child.push_back(name);
      RETURN_IF_ERROR(CopyEntry(dir + "/" + name, child));
    }
    return target_->ApplyMetadata(path, node);  // after its contents: mtime last
  }

 private:
  absl::Status CopyEntry(const std::string& src, const RestoreTarget::Path& path) {
    ASSIGN_OR_RETURN(Node node, Lstat(src));
    switch (node.type) {
      case NodeType::kDir:
        return CopyDir(src, path);
      case NodeType::kSocket:
        fprintf(stderr, "warning: %s is a socket, skipped\n", PrintablePath(src).c_str());
        return absl::OkStatus();
      case NodeType::kSymlink:
        RETURN_IF_ERROR(target_->MakeSymlink(path, node.symlink_target));
        break;
      case NodeType::kFile:
        if (node.nlink > 1) {
          auto [it, first] = links_.emplace(std::make_pair(node.dev, node.inode), path);
          if (!first) return target_->MakeHardlink(path, it->second);
        }
        RETURN_IF_ERROR(CopyFile(node, path));
        break;
      default:
        if (node.nlink > 1) {
          auto [it, first] = links_.emplace(std::make_pair(node.dev, node.inode), path);
          if (!first) return target_->MakeHardlink(path, it->second);
        }
        RETURN_IF_ERROR(target_->MakeSpecial(path, node));
    }
    return target_->ApplyMetadata(path, node);
  }

  absl::Status CopyFile(const Node& node, const RestoreTarget::Path& path) {
    ASSIGN_OR_RETURN(std::unique_ptr<FileReader> reader, FileReader::Open(node));
    ASSIGN_OR_RETURN(std::unique_ptr<FileWriter> writer, target_->CreateFile(path));
    std::string buf(1 << 20, '\0');
    for (const Extent& e : reader->DataExtents()) {
      for (uint64_t off = e.offset; off < e.offset + e.length;) {
        size_t want =
            static_cast<size_t>(std::min<uint64_t>(buf.size(), e.offset + e.length - off));
        ASSIGN_OR_RETURN(size_t n, reader->ReadAt(off, buf.data(), want));
        if (n == 0) break;
        RETURN_IF_ERROR(writer->WriteAt(off, std::string_view(buf.data(), n)));
        off += n;
      }
    }
    RETURN_IF_ERROR(reader->CheckUnchanged());
    return writer->Finish(node.size);
  }

  RestoreTarget* target_;
  std::map<std::pair<uint64_t, uint64_t>, RestoreTarget::Path> links_;
};

}  // namespace
}  // namespace shardkeep::fs

int main(int argc, char** argv) {
  using namespace shardkeep::fs;
  if (argc != 3) {
    fprintf(stderr, "usage: %s SRC DST\n", argv[0]);
    return 2;
  }
  absl::StatusOr<std::unique_ptr<RestoreTarget>> target = RestoreTarget::Open(argv[2]);
  if (!target.ok()) {
    fprintf(stderr, "%s\n", target.status().ToString().c_str());
    return 1;
  }
  TreeCopy copy(target->get());
  absl::Status st = copy.CopyDir(argv[1], {});
  if (!st.ok()) {
    fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}

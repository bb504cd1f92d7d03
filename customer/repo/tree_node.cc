#include "customer/repo/tree_node.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace shardkeep::customer {

vault::v1::TreeNode NodeToTree(const fs::Node& n) {
  vault::v1::TreeNode t;
  t.set_name(n.name);
  switch (n.type) {
    case fs::NodeType::kFile:
      t.set_type(vault::v1::NODE_TYPE_FILE);
      break;
    case fs::NodeType::kDir:
      t.set_type(vault::v1::NODE_TYPE_DIR);
      break;
    case fs::NodeType::kSymlink:
      t.set_type(vault::v1::NODE_TYPE_SYMLINK);
      break;
    case fs::NodeType::kFifo:
      t.set_type(vault::v1::NODE_TYPE_FIFO);
      break;
    case fs::NodeType::kCharDev:
      t.set_type(vault::v1::NODE_TYPE_CHAR_DEV);
      break;
    case fs::NodeType::kBlockDev:
      t.set_type(vault::v1::NODE_TYPE_BLOCK_DEV);
      break;
    case fs::NodeType::kSocket:
      break;
  }
  t.set_mode(n.mode);
  t.set_uid(n.uid);
  t.set_gid(n.gid);
  t.set_user(n.user);
  t.set_group(n.group);
  t.set_mtime_ns(n.mtime_ns);
  t.set_ctime_ns(n.ctime_ns);
  if (n.type == fs::NodeType::kFile) t.set_size(n.size);
  t.set_symlink_target(n.symlink_target);
  t.set_dev(n.dev);
  t.set_inode(n.inode);
  t.set_nlink(n.nlink);
  t.set_rdev(n.rdev);
  for (const auto& x : n.xattrs) {
    auto* px = t.add_xattrs();
    px->set_name(x.name);
    px->set_value(x.value);
  }
  return t;
}

fs::Node TreeToNode(const vault::v1::TreeNode& t, const std::string& path) {
  fs::Node n;
  n.name = t.name();
  n.path = path;
  switch (t.type()) {
    case vault::v1::NODE_TYPE_DIR:
      n.type = fs::NodeType::kDir;
      break;
    case vault::v1::NODE_TYPE_SYMLINK:
      n.type = fs::NodeType::kSymlink;
      break;
    case vault::v1::NODE_TYPE_FIFO:
      n.type = fs::NodeType::kFifo;
      break;
    case vault::v1::NODE_TYPE_CHAR_DEV:
      n.type = fs::NodeType::kCharDev;
      break;
    case vault::v1::NODE_TYPE_BLOCK_DEV:
      n.type = fs::NodeType::kBlockDev;
      break;
    default:
      n.type = fs::NodeType::kFile;
      break;
  }
  n.mode = t.mode();
  n.uid = t.uid();
  n.gid = t.gid();
  n.user = t.user();
  n.group = t.group();
  n.mtime_ns = t.mtime_ns();
  n.ctime_ns = t.ctime_ns();
  n.size = t.size();
  n.symlink_target = t.symlink_target();
  n.dev = t.dev();
  n.inode = t.inode();
  n.nlink = t.nlink();
  n.rdev = t.rdev();
  for (const auto& x : t.xattrs()) n.xattrs.push_back(fs::Xattr{x.name(), x.value()});
  return n;
}

std::string SerializeTree(const vault::v1::Tree& tree) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream sos(&out);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    tree.SerializeToCodedStream(&cos);
  }
  return out;
}

char TypeLetter(vault::v1::NodeType type) {
  switch (type) {
    case vault::v1::NODE_TYPE_DIR:
      return 'd';
    case vault::v1::NODE_TYPE_SYMLINK:
      return 'l';
    case vault::v1::NODE_TYPE_FIFO:
      return 'p';
    case vault::v1::NODE_TYPE_CHAR_DEV:
      return 'c';
    case vault::v1::NODE_TYPE_BLOCK_DEV:
      return 'b';
    default:
      return '-';
  }
}

}  // namespace shardkeep::customer

// A file-system node as the archiver sees it: full metadata of one path.
#ifndef SHARDKEEP_CUSTOMER_FS_NODE_H_
#define SHARDKEEP_CUSTOMER_FS_NODE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace shardkeep::fs {

enum class NodeType { kFile, kDir, kSymlink, kFifo, kCharDev, kBlockDev, kSocket };

struct Xattr {
  std::string name;   // e.g. "user.comment"
  std::string value;  // raw bytes
};

// A region of a regular file that holds data; the rest are holes.
struct Extent {
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct Node {
  std::string name;  // last path component, raw bytes (may be non-UTF-8)
  std::string path;  // absolute path, raw bytes
  NodeType type = NodeType::kFile;
  uint32_t mode = 0;  // permission bits incl. setuid/setgid/sticky (st_mode & 07777)
  uint32_t uid = 0, gid = 0;
  std::string user, group;  // names, when resolvable (informational; restore uses numbers)
  int64_t mtime_ns = 0, ctime_ns = 0;
  uint64_t size = 0;           // st_size for files, 0 otherwise
  std::string symlink_target;  // raw bytes, never followed
  uint64_t dev = 0, inode = 0, nlink = 0;
  uint64_t rdev = 0;          // device number for char/block devices
  std::vector<Xattr> xattrs;  // user.* (and others readable), sorted by name
};

}  // namespace shardkeep::fs

#endif  // SHARDKEEP_CUSTOMER_FS_NODE_H_

#include "customer/ui/format.h"

#include "customer/repo/tree_node.h"

namespace shardkeep::customer {

std::string ModeString(const vault::v1::TreeNode& node) {
  std::string s(1, TypeLetter(node.type()));
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s.push_back((node.mode() >> (8 - i)) & 1 ? rwx[i] : '-');
  if (node.mode() & 04000) s[3] = (s[3] == 'x') ? 's' : 'S';
  if (node.mode() & 02000) s[6] = (s[6] == 'x') ? 's' : 'S';
  if (node.mode() & 01000) s[9] = (s[9] == 'x') ? 't' : 'T';
  return s;
}

const char* TypeName(vault::v1::NodeType type) {
  switch (type) {
    case vault::v1::NODE_TYPE_DIR:
      return "dir";
    case vault::v1::NODE_TYPE_SYMLINK:
      return "symlink";
    case vault::v1::NODE_TYPE_FIFO:
      return "fifo";
    case vault::v1::NODE_TYPE_CHAR_DEV:
      return "chardev";
    case vault::v1::NODE_TYPE_BLOCK_DEV:
      return "blockdev";
    default:
      return "file";
  }
}

std::string FormatLocalTime(int64_t ns, absl::TimeZone tz) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixNanos(ns), tz);
}

std::string FormatIsoTime(int64_t ns, absl::TimeZone tz) {
  // %E9S: seconds with exactly nine decimals; %Ez: "+01:00", not "+0100".
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E9S%Ez", absl::FromUnixNanos(ns), tz);
}

}  // namespace shardkeep::customer

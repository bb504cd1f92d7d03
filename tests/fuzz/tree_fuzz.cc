// Fuzzes directory trees: a Tree is parsed from tree chunks (opened blocks)
// and restore turns its nodes into files (customer/tree_node.h,
// customer/fs/fs.h). A keyholder, or a bug, can put anything in a tree:
// names "..", "/", "a/b", "" or with NUL bytes, symlinks to "../outside" and
// entries below them, huge sizes and offsets, hard links to anything.
//
// Input: a serialised Tree. Properties:
//   - SerializeTree is deterministic: parse(SerializeTree(t)) serialises to
//     the same bytes (identical directories give identical chunk IDs);
//   - TreeToNode keeps the metadata restore needs;
//   - IsSafeName accepts exactly the names docs/FORMAT.md allows (not empty,
//     ".", "..", no '/' or NUL);
//   - restoring the nodes through fs::RestoreTarget (the way the restorer
//     does: directories, symlinks, FIFOs, files with their content offsets and
//     size, hard links, then metadata) never creates or changes anything
//     outside the target: a sibling directory with a sentinel file stays as it
//     was, and the sentinel gets no extra link.
// A node's path is the previous node's path plus its name when the previous
// node was a directory or a symlink (so trees nest and go "through"
// symlinks), else the target root plus its name. Device nodes are not made
// (as root they would be real devices on this machine); everything else is.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "customer/fs/fs.h"
#include "customer/repo/tree_node.h"
#include "proto/vault.pb.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

namespace customer = shardkeep::customer;
namespace fs = shardkeep::fs;
namespace vault = shardkeep::vault::v1;

using shardkeep::fuzz::RemoveTree;

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  FUZZ_CHECK(d != nullptr);
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      out.push_back(e->d_name);
    }
  }
  closedir(d);
  return out;
}

bool SpecSafeName(const std::string& n) {
  return !n.empty() && n != "." && n != ".." && n.find('/') == std::string::npos &&
         n.find('\0') == std::string::npos;
}

struct Scratch {
  std::string root, target, outside, sentinel;
  struct stat outside_st, sentinel_st;
};

const Scratch& GetScratch() {
  static const Scratch& s = *[] {  // never destroyed: the atexit cleanup uses it
    auto* p = new Scratch;
    Scratch& s = *p;
    s.root = shardkeep::fuzz::MakeScratchDir("tree-fuzz");
    s.target = s.root + "/target";
    s.outside = s.root + "/outside";
    s.sentinel = s.outside + "/sentinel";
    FUZZ_CHECK(mkdir(s.outside.c_str(), 0755) == 0);
    int fd = open(s.sentinel.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    FUZZ_CHECK(fd >= 0 && write(fd, "sentinel", 8) == 8 && close(fd) == 0);
    FUZZ_CHECK(lstat(s.sentinel.c_str(), &s.sentinel_st) == 0);
    FUZZ_CHECK(lstat(s.outside.c_str(), &s.outside_st) == 0);
    std::atexit([] { RemoveTree(GetScratch().root); });
    return p;
  }();
  return s;
}

void CheckOutsideUntouched(const Scratch& s) {
  std::vector<std::string> top = List(s.root);
  for (const auto& n : top) FUZZ_CHECK(n == "target" || n == "outside");
  std::vector<std::string> out = List(s.outside);
  FUZZ_CHECK(out.size() == 1 && out[0] == "sentinel");
  struct stat st;
  FUZZ_CHECK(lstat(s.outside.c_str(), &st) == 0 && st.st_mode == s.outside_st.st_mode);
  FUZZ_CHECK(st.st_uid == s.outside_st.st_uid && st.st_gid == s.outside_st.st_gid);
  FUZZ_CHECK(lstat(s.sentinel.c_str(), &st) == 0);
  FUZZ_CHECK(S_ISREG(st.st_mode) && st.st_ino == s.sentinel_st.st_ino);
  FUZZ_CHECK(st.st_nlink == 1 && st.st_size == 8 && st.st_mode == s.sentinel_st.st_mode);
  FUZZ_CHECK(st.st_uid == s.sentinel_st.st_uid && st.st_gid == s.sentinel_st.st_gid);
  FUZZ_CHECK(st.st_mtim.tv_sec == s.sentinel_st.st_mtim.tv_sec &&
             st.st_mtim.tv_nsec == s.sentinel_st.st_mtim.tv_nsec);
}

void Restore(const vault::Tree& tree) {
  const Scratch& s = GetScratch();
  auto target = fs::RestoreTarget::Open(s.target);
  FUZZ_CHECK(target.ok());
  fs::RestoreTarget::Path prev;
  bool prev_is_parent = false;
  fs::RestoreTarget::Path first_file;
  bool have_file = false;
  std::vector<std::pair<fs::RestoreTarget::Path, fs::Node>> made;
  int count = 0;
  for (const vault::TreeNode& tn : tree.nodes()) {
    if (++count > 48) break;
    fs::RestoreTarget::Path path = prev_is_parent ? prev : fs::RestoreTarget::Path();
    path.push_back(tn.name());
    if (path.size() > 16) path.erase(path.begin(), path.end() - 1);
    const fs::Node node = customer::TreeToNode(tn, "/fuzz");
    absl::Status st;
    switch (tn.type()) {
      case vault::NODE_TYPE_DIR:
        st = (*target)->MakeDir(path);
        break;
      case vault::NODE_TYPE_SYMLINK:
        st = (*target)->MakeSymlink(path, tn.symlink_target());
        break;
      case vault::NODE_TYPE_FIFO:
        st = (*target)->MakeSpecial(path, node);
        break;
      case vault::NODE_TYPE_CHAR_DEV:
      case vault::NODE_TYPE_BLOCK_DEV:
        st = absl::UnimplementedError("devices are not made by this harness");
        break;
      default:
        if (tn.nlink() > 1 && have_file) {
          st = (*target)->MakeHardlink(path, first_file);
          break;
        }
        {
          auto w = (*target)->CreateFile(path);
          st = w.status();
          if (w.ok()) {
            int chunks = 0;
            for (const auto& c : tn.content()) {
              if (++chunks > 4 || !st.ok()) break;
              st = (*w)->WriteAt(c.offset(), std::string(c.length() % 64, 'x'));
            }
            absl::Status fin = (*w)->Finish(tn.size());
            if (st.ok()) st = fin;
          }
          if (st.ok() && !have_file) {
            first_file = path;
            have_file = true;
          }
        }
        break;
    }
    // Whatever the type, an unsafe component is always refused.
    bool safe = true;
    for (const auto& c : path) safe = safe && SpecSafeName(c);
    if (!safe) FUZZ_CHECK(!st.ok());
    if (st.ok()) made.emplace_back(path, node);
    prev = path;
    prev_is_parent = tn.type() == vault::NODE_TYPE_DIR || tn.type() == vault::NODE_TYPE_SYMLINK;
  }
  // Metadata last, deepest first, as the restorer does for directories.
  for (auto it = made.rbegin(); it != made.rend(); ++it) {
    (*target)->ApplyMetadata(it->first, it->second).IgnoreError();
  }
  target->reset();
  CheckOutsideUntouched(s);
  RemoveTree(s.target);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vault::Tree tree;
  if (!tree.ParseFromArray(data, static_cast<int>(size))) return 0;

  const std::string bytes = customer::SerializeTree(tree);
  vault::Tree again;
  FUZZ_CHECK(again.ParseFromString(bytes));
  FUZZ_CHECK(customer::SerializeTree(again) == bytes);
  FUZZ_CHECK(again.nodes_size() == tree.nodes_size());

  for (const vault::TreeNode& tn : tree.nodes()) {
    FUZZ_CHECK(fs::IsSafeName(tn.name()) == SpecSafeName(tn.name()));
    const fs::Node n = customer::TreeToNode(tn, "/p");
    FUZZ_CHECK(n.name == tn.name() && n.path == "/p");
    FUZZ_CHECK(n.mode == tn.mode() && n.uid == tn.uid() && n.gid == tn.gid());
    FUZZ_CHECK(n.size == tn.size() && n.symlink_target == tn.symlink_target());
    FUZZ_CHECK(n.mtime_ns == tn.mtime_ns() && n.rdev == tn.rdev());
    FUZZ_CHECK(n.dev == tn.dev() && n.inode == tn.inode() && n.nlink == tn.nlink());
    FUZZ_CHECK(static_cast<int>(n.xattrs.size()) == tn.xattrs_size());
    const bool dir = n.type == fs::NodeType::kDir;
    FUZZ_CHECK(dir == (tn.type() == vault::NODE_TYPE_DIR));
    FUZZ_CHECK(customer::TypeLetter(tn.type()) != 0);
  }
  Restore(tree);
  return 0;
}

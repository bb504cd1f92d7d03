// RestoreTarget: every node type restored with its metadata, holes kept, and
// no way out of the target.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <map>
#include <thread>

#include "customer/fs/fs.h"
#include "customer/fs/test_util.h"
#include "gtest/gtest.h"

namespace shardkeep::fs {
namespace {

using testing::LstatOrDie;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;
using Path = RestoreTarget::Path;

constexpr uint64_t kMiB = 1 << 20;
const bool kRoot = geteuid() == 0;
// Owners are restored only by a root that may chown (see CanChown).
const bool kOwners = testing::CanChown();

std::unique_ptr<RestoreTarget> OpenTarget(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<RestoreTarget>> t = RestoreTarget::Open(dir);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

Node StatNode(const std::string& path) {
  absl::StatusOr<Node> node = Lstat(path);
  EXPECT_TRUE(node.ok()) << node.status();
  return node.ok() ? *node : Node();
}

void SetMtime(const std::string& path, int64_t sec, long nsec) {
  struct timespec times[2] = {{0, UTIME_OMIT}, {sec, nsec}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// Copies a regular file the way the restorer will: its data extents only.
absl::Status RestoreFile(RestoreTarget* target, const Path& path, const Node& node) {
  ASSIGN_OR_RETURN(std::unique_ptr<FileReader> reader, FileReader::Open(node));
  ASSIGN_OR_RETURN(std::unique_ptr<FileWriter> writer, target->CreateFile(path));
  std::string buf;
  for (const Extent& e : reader->DataExtents()) {
    buf.resize(e.length);
    ASSIGN_OR_RETURN(size_t n, reader->ReadAt(e.offset, buf.data(), buf.size()));
    RETURN_IF_ERROR(writer->WriteAt(e.offset, std::string_view(buf.data(), n)));
  }
  RETURN_IF_ERROR(reader->CheckUnchanged());
  return writer->Finish(node.size);
}

// The user xattrs of a node (other namespaces depend on the host).
std::vector<Xattr> UserXattrs(const Node& node) {
  std::vector<Xattr> out;
  for (const Xattr& x : node.xattrs) {
    if (x.name.rfind("user.", 0) == 0) out.push_back(x);
  }
  return out;
}

bool SameXattrs(const std::vector<Xattr>& a, const std::vector<Xattr>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].value != b[i].value) return false;
  }
  return true;
}

// Asserts that what restore made at `got` matches the source node.
void ExpectSameMetadata(const Node& want, const Node& got, bool owner) {
  SCOPED_TRACE(PrintablePath(want.path));
  EXPECT_EQ(got.type, want.type);
  if (want.type != NodeType::kSymlink) {
    EXPECT_EQ(got.mode, want.mode);
  }
  EXPECT_EQ(got.mtime_ns, want.mtime_ns);
  EXPECT_EQ(got.size, want.size);
  EXPECT_EQ(got.symlink_target, want.symlink_target);
  EXPECT_EQ(got.rdev, want.rdev);
  EXPECT_EQ(got.nlink, want.nlink);
  if (owner) {
    EXPECT_EQ(got.uid, want.uid);
    EXPECT_EQ(got.gid, want.gid);
  }
  EXPECT_TRUE(SameXattrs(UserXattrs(got), UserXattrs(want)));
}

TEST(IsSafeNameTest, Components) {
  EXPECT_TRUE(IsSafeName("a"));
  EXPECT_TRUE(IsSafeName("..."));
  EXPECT_TRUE(IsSafeName(".hidden"));
  EXPECT_TRUE(IsSafeName("\xff\xfe"));
  EXPECT_TRUE(IsSafeName("new\nline"));
  EXPECT_TRUE(IsSafeName("-rf"));
  EXPECT_FALSE(IsSafeName(""));
  EXPECT_FALSE(IsSafeName("."));
  EXPECT_FALSE(IsSafeName(".."));
  EXPECT_FALSE(IsSafeName("/"));
  EXPECT_FALSE(IsSafeName("/etc"));
  EXPECT_FALSE(IsSafeName("a/b"));
  EXPECT_FALSE(IsSafeName(std::string_view("a\0b", 3)));
}

// Builds a source tree of every node type with odd metadata, restores it
// with the calls the restorer makes, and compares node by node.
TEST(RestoreTargetTest, EveryNodeTypeWithMetadataRoundTrips) {
  TempDir src, dst;
  const std::string s = src / "tree";
  ASSERT_EQ(mkdir(s.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((s + "/sub").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((s + "/sub/empty").c_str(), 0700), 0);
  ASSERT_EQ(mkdir((s + "/sticky").c_str(), 0755), 0);
  WriteFile(s + "/plain", "plain text\n");
  WriteFile(s + "/empty", "");
  WriteFile(s + "/\xff\xfe", "not utf-8");
  WriteFile(s + "/new\nline", "newline");
  WriteFile(s + "/-rf", "dash");
  WriteFile(s + "/*?[] x", "globs");
  WriteFile(s + "/suid", "#!/bin/sh\n");
  WriteFile(s + "/sgid", "g");
  WriteFile(s + "/none", "no permissions");
  WriteFile(s + "/sub/h1", "linked");
  ASSERT_EQ(link((s + "/sub/h1").c_str(), (s + "/sub/h2").c_str()), 0);
  ASSERT_EQ(link((s + "/sub/h1").c_str(), (s + "/h3").c_str()), 0);
  ASSERT_EQ(symlink("/no/such/absolute", (s + "/dangling").c_str()), 0);
  ASSERT_EQ(symlink("../plain", (s + "/sub/relative").c_str()), 0);
  ASSERT_EQ(symlink("sub", (s + "/dirlink").c_str()), 0);
  ASSERT_EQ(mkfifo((s + "/fifo").c_str(), 0600), 0);
  const std::string binary("\0\x01\xff", 3);
  ASSERT_EQ(setxattr((s + "/plain").c_str(), "user.comment", "hi", 2, 0), 0);
  ASSERT_EQ(setxattr((s + "/plain").c_str(), "user.bin", binary.data(), binary.size(), 0), 0);
  ASSERT_EQ(setxattr((s + "/sub").c_str(), "user.dir", "d", 1, 0), 0);
  ASSERT_EQ(setxattr((s + "/none").c_str(), "user.ro", "r", 1, 0), 0);
  bool devices = false;
  if (kOwners) {
    devices = mknod((s + "/my-null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0 &&
              mknod((s + "/my-loop").c_str(), S_IFBLK | 0640, makedev(7, 200)) == 0;
    ASSERT_EQ(lchown((s + "/suid").c_str(), 1234, 5678), 0);
    ASSERT_EQ(lchown((s + "/sub").c_str(), 1234, 5678), 0);
    ASSERT_EQ(lchown((s + "/dangling").c_str(), 4321, 8765), 0);
  }
  ASSERT_EQ(chmod((s + "/suid").c_str(), 04755), 0);
  ASSERT_EQ(chmod((s + "/sgid").c_str(), 02755), 0);
  ASSERT_EQ(chmod((s + "/sticky").c_str(), 01777), 0);
  ASSERT_EQ(chmod((s + "/none").c_str(), 0000), 0);
  ASSERT_EQ(chmod((s + "/plain").c_str(), 0777), 0);
  ASSERT_EQ(chmod((s + "/fifo").c_str(), 0640), 0);
  // Times last, deepest first; nanoseconds everywhere, symlinks included.
  int64_t t = 1234567890;
  for (const char* p : {"/plain", "/empty", "/\xff\xfe", "/new\nline", "/-rf", "/*?[] x", "/suid",
                        "/sgid", "/none", "/sub/h1", "/dangling", "/sub/relative", "/dirlink",
                        "/fifo", "/sub/empty", "/sub", "/sticky", ""}) {
    SetMtime(s + p, t++, 123456789);
  }
  if (devices) {
    SetMtime(s + "/my-null", 999, 1);
    SetMtime(s + "/my-loop", 998, 2);
  }
  SetMtime(s, 1600000000, 999999999);

  // Restore: directories first, then entries, metadata of directories last
  // (deepest first), as the restorer does.
  std::unique_ptr<RestoreTarget> target = OpenTarget(dst / "restore/here");
  ASSERT_NE(target, nullptr);
  struct Entry {
    Path path;
    std::string src;
  };
  std::vector<Entry> entries;
  std::vector<Entry> dirs = {{{"tree"}, s},
                             {{"tree", "sub"}, s + "/sub"},
                             {{"tree", "sub", "empty"}, s + "/sub/empty"},
                             {{"tree", "sticky"}, s + "/sticky"}};
  for (const Entry& d : dirs) ASSERT_TRUE(target->MakeDir(d.path).ok());
  std::vector<std::string> names = {"plain",   "empty", "\xff\xfe", "new\nline", "-rf",
                                    "*?[] x",  "suid",  "sgid",     "none",      "dangling",
                                    "dirlink", "fifo",  "h3"};
  if (devices) {
    names.push_back("my-null");
    names.push_back("my-loop");
  }
  for (const std::string& n : names) entries.push_back({{"tree", n}, s + "/" + n});
  entries.push_back({{"tree", "sub", "relative"}, s + "/sub/relative"});
  entries.push_back({{"tree", "sub", "h1"}, s + "/sub/h1"});
  entries.push_back({{"tree", "sub", "h2"}, s + "/sub/h2"});

  std::map<std::pair<uint64_t, uint64_t>, Path> first_link;
  for (const Entry& e : entries) {
    Node node = StatNode(e.src);
    if (node.type == NodeType::kFile && node.nlink > 1) {
      auto [it, fresh] = first_link.emplace(std::make_pair(node.dev, node.inode), e.path);
      if (!fresh) {
        absl::Status st = target->MakeHardlink(e.path, it->second);
        ASSERT_TRUE(st.ok()) << st;
        continue;
      }
    }
    absl::Status st;
    switch (node.type) {
      case NodeType::kFile:
        st = RestoreFile(target.get(), e.path, node);
        break;
      case NodeType::kSymlink:
        st = target->MakeSymlink(e.path, node.symlink_target);
        break;
      default:
        st = target->MakeSpecial(e.path, node);
        break;
    }
    ASSERT_TRUE(st.ok()) << st;
    st = target->ApplyMetadata(e.path, node);
    ASSERT_TRUE(st.ok()) << st;
  }
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    absl::Status st = target->ApplyMetadata(it->path, StatNode(it->src));
    ASSERT_TRUE(st.ok()) << st;
  }

  const std::string d = dst / "restore/here/tree";
  for (const Entry& e : dirs) {
    std::string got = dst / "restore/here";
    for (const std::string& c : e.path) got += "/" + c;
    ExpectSameMetadata(StatNode(e.src), StatNode(got), kOwners);
  }
  for (const Entry& e : entries) {
    std::string got = dst / "restore/here";
    for (const std::string& c : e.path) got += "/" + c;
    ExpectSameMetadata(StatNode(e.src), StatNode(got), kOwners);
    if (S_ISREG(LstatOrDie(got).st_mode)) {
      EXPECT_EQ(ReadFile(got), ReadFile(e.src));
    }
  }
  // Hard links are links again: one inode, three names.
  struct stat h1 = LstatOrDie(d + "/sub/h1"), h2 = LstatOrDie(d + "/sub/h2"),
              h3 = LstatOrDie(d + "/h3");
  EXPECT_EQ(h1.st_nlink, 3u);
  EXPECT_EQ(h1.st_ino, h2.st_ino);
  EXPECT_EQ(h1.st_ino, h3.st_ino);
  // Symlinks point where they pointed and were not followed.
  EXPECT_EQ(StatNode(d + "/dirlink").symlink_target, "sub");
  EXPECT_TRUE(S_ISLNK(LstatOrDie(d + "/dirlink").st_mode));
  if (kOwners) {
    EXPECT_EQ(LstatOrDie(d + "/suid").st_uid, 1234u);
    EXPECT_EQ(LstatOrDie(d + "/suid").st_mode & 07777, 04755u) << "setuid lost to chown";
    if (!devices) std::cerr << "note: device nodes not tested: mknod failed (no CAP_MKNOD)\n";
  } else {
    std::cerr << "note: owners and device nodes not tested: this process cannot chown\n";
  }
}

TEST(RestoreTargetTest, HolesStayHoles) {
  TempDir src, dst;
  const std::string path = src / "sparse";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 32 * kMiB), 0);
  std::string data(256 * 1024, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 4096);
  ASSERT_EQ(pwrite(fd, data.data(), data.size(), 4 * kMiB), static_cast<ssize_t>(data.size()));
  ASSERT_EQ(pwrite(fd, "end", 3, 20 * kMiB), 3);
  ASSERT_EQ(close(fd), 0);
  Node node = StatNode(path);

  std::unique_ptr<RestoreTarget> target = OpenTarget(dst.path());
  ASSERT_NE(target, nullptr);
  absl::Status st = RestoreFile(target.get(), {"sparse"}, node);
  ASSERT_TRUE(st.ok()) << st;
  struct stat a = LstatOrDie(path), b = LstatOrDie(dst / "sparse");
  EXPECT_EQ(b.st_size, a.st_size);
  EXPECT_EQ(b.st_blocks, a.st_blocks) << "allocated 512-byte blocks differ";
  EXPECT_LT(b.st_blocks * 512, 2 * 1024 * 1024) << "holes were filled";
  EXPECT_EQ(ReadFile(dst / "sparse"), ReadFile(path));

  // A file that is all hole: nothing written, size set by Finish.
  absl::StatusOr<std::unique_ptr<FileWriter>> w = target->CreateFile({"hole"});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Finish(64 * kMiB).ok());
  struct stat h = LstatOrDie(dst / "hole");
  EXPECT_EQ(h.st_size, static_cast<off_t>(64 * kMiB));
  EXPECT_EQ(h.st_blocks, 0);
  EXPECT_EQ((*w)->WriteAt(0, "late").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RestoreTargetTest, ConcurrentWritesToOneFile) {
  TempDir dst;
  std::unique_ptr<RestoreTarget> target = OpenTarget(dst.path());
  ASSERT_NE(target, nullptr);
  absl::StatusOr<std::unique_ptr<FileWriter>> w = target->CreateFile({"f"});
  ASSERT_TRUE(w.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string block(65536, static_cast<char>('a' + t));
      for (int i = t; i < 32; i += 4) EXPECT_TRUE((*w)->WriteAt(i * 65536ull, block).ok());
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE((*w)->Finish(32 * 65536).ok());
  std::string got = ReadFile(dst / "f");
  ASSERT_EQ(got.size(), 32u * 65536);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(got[i * 65536 + 100], 'a' + i % 4);
}

TEST(RestoreTargetTest, SymlinkedParentCannotLeadOutside) {
  TempDir dst, outside;
  std::unique_ptr<RestoreTarget> target = OpenTarget(dst / "t");
  ASSERT_NE(target, nullptr);
  // A snapshot holding "evil -> <outside>" and then "evil/x".
  ASSERT_TRUE(target->MakeSymlink({"evil"}, outside.path()).ok());
  absl::StatusOr<std::unique_ptr<FileWriter>> w = target->CreateFile({"evil", "x"});
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition) << w.status();
  EXPECT_NE(w.status().message().find("evil/x"), std::string::npos) << w.status();
  EXPECT_FALSE(target->MakeDir({"evil", "d"}).ok());
  EXPECT_FALSE(target->MakeSymlink({"evil", "l"}, "/etc/passwd").ok());
  Node fifo;
  fifo.type = NodeType::kFifo;
  EXPECT_FALSE(target->MakeSpecial({"evil", "p"}, fifo).ok());
  WriteFile(dst / "t/ok", "ok");
  EXPECT_FALSE(target->MakeHardlink({"evil", "h"}, {"ok"}).ok());
  // Nor through a symlink deeper down, nor from it as the link source.
  ASSERT_TRUE(target->MakeDir({"a"}).ok());
  ASSERT_TRUE(target->MakeSymlink({"a", "b"}, "../../..").ok());
  EXPECT_FALSE(target->CreateFile({"a", "b", "c", "x"}).ok());
  WriteFile(outside / "secret", "secret");
  ASSERT_TRUE(target->MakeSymlink({"s"}, outside / "secret").ok());
  EXPECT_FALSE(target->MakeHardlink({"h"}, {"evil", "secret"}).ok());
  // Linking to a symlink links the symlink itself, not what it points to.
  ASSERT_TRUE(target->MakeHardlink({"h"}, {"s"}).ok());
  EXPECT_TRUE(S_ISLNK(LstatOrDie(dst / "t/h").st_mode));

  // Nothing happened outside.
  absl::StatusOr<std::vector<std::string>> listed = ListDir(outside.path());
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, std::vector<std::string>{"secret"});
  EXPECT_EQ(ReadFile(outside / "secret"), "secret");
}

TEST(RestoreTargetTest, MetadataIsNeverAppliedThroughASymlink) {
  TempDir dst, outside;
  const std::string victim = outside / "victim";
  WriteFile(victim, "v", 0644);
  SetMtime(victim, 1000, 0);
  ASSERT_EQ(setxattr(victim.c_str(), "user.keep", "k", 1, 0), 0);
  struct stat before = LstatOrDie(victim);
  std::unique_ptr<RestoreTarget> target = OpenTarget(dst.path());
  ASSERT_NE(target, nullptr);
  ASSERT_TRUE(target->MakeSymlink({"link"}, victim).ok());

  // Applied as a symlink: only the link changes.
  Node as_link;
  as_link.type = NodeType::kSymlink;
  as_link.mode = 0777;
  as_link.uid = kOwners ? 4321 : geteuid();
  as_link.gid = kOwners ? 4321 : getegid();
  as_link.mtime_ns = 5000000000123LL;
  as_link.xattrs = {{"user.x", "y"}};
  absl::Status st = target->ApplyMetadata({"link"}, as_link);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(StatNode(dst / "link").mtime_ns, 5000000000123LL);
  // A node claiming to be a file where a symlink is: refused.
  Node as_file = as_link;
  as_file.type = NodeType::kFile;
  as_file.mode = 06777;
  st = target->ApplyMetadata({"link"}, as_file);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;

  struct stat after = LstatOrDie(victim);
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_EQ(after.st_uid, before.st_uid);
  EXPECT_EQ(after.st_mtim.tv_sec, 1000);
  char buf[8];
  EXPECT_LT(getxattr(victim.c_str(), "user.x", buf, sizeof(buf)), 0);
}

TEST(RestoreTargetTest, UnsafeNamesAreRefused) {
  TempDir dst;
  std::unique_ptr<RestoreTarget> target = OpenTarget(dst / "t");
  ASSERT_NE(target, nullptr);
  ASSERT_TRUE(target->MakeDir({"d"}).ok());
  for (const Path& bad : std::vector<Path>{{".."},
                                           {"d", ".."},
                                           {"..", "x"},
                                           {"d", "..", "..", "x"},
                                           {"/etc"},
                                           {"/"},
                                           {"d", "a/b"},
                                           {"."},
                                           {""},
                                           {"d", std::string("a\0b", 3)}}) {
    SCOPED_TRACE(target->Describe(bad));
    absl::StatusOr<std::unique_ptr<FileWriter>> w = target->CreateFile(bad);
    EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument) << w.status();
    EXPECT_EQ(target->MakeDir(bad).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(target->MakeSymlink(bad, "x").code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(target->MakeHardlink(bad, {"d"}).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(target->MakeHardlink({"new"}, bad).code(), absl::StatusCode::kInvalidArgument);
    Node n;
    n.type = NodeType::kDir;
    EXPECT_EQ(target->ApplyMetadata(bad, n).code(), absl::StatusCode::kInvalidArgument);
  }
  // Nothing was created next to the target.
  absl::StatusOr<std::vector<std::string>> beside = ListDir(dst.path());
  ASSERT_TRUE(beside.ok());
  EXPECT_EQ(*beside, std::vector<std::string>{"t"});
  absl::StatusOr<std::vector<std::string>> inside = ListDir(dst / "t");
  ASSERT_TRUE(inside.ok());
  EXPECT_EQ(*inside, std::vector<std::string>{"d"});
}

TEST(RestoreTargetTest, ExistingEntriesAreReplaced) {
  TempDir dst, outside;
  std::unique_ptr<RestoreTarget> target = OpenTarget(dst.path());
  ASSERT_NE(target, nullptr);
  // A file hard-linked to something outside: restore makes a new inode.
  WriteFile(outside / "precious", "precious");
  ASSERT_EQ(link((outside / "precious").c_str(), (dst / "f").c_str()), 0);
  absl::StatusOr<std::unique_ptr<FileWriter>> w = target->CreateFile({"f"});
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE((*w)->WriteAt(0, "new").ok());
  ASSERT_TRUE((*w)->Finish(3).ok());
  EXPECT_EQ(ReadFile(dst / "f"), "new");
  EXPECT_EQ(ReadFile(outside / "precious"), "precious");

  // A symlink to a directory where a directory is restored: replaced by a
  // real directory, and files go inside the target.
  ASSERT_EQ(symlink(outside.path().c_str(), (dst / "d").c_str()), 0);
  ASSERT_TRUE(target->MakeDir({"d"}).ok());
  EXPECT_TRUE(S_ISDIR(LstatOrDie(dst / "d").st_mode));
  w = target->CreateFile({"d", "inside"});
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE((*w)->Finish(0).ok());
  EXPECT_EQ(LstatOrDie(dst / "d/inside").st_size, 0);

  // An existing directory is kept by MakeDir.
  ASSERT_TRUE(target->MakeDir({"d"}).ok());
  EXPECT_EQ(ReadFile(dst / "d/inside"), "");
  // A non-empty directory is not replaced by a file; an empty one is.
  EXPECT_EQ(target->MakeSymlink({"d"}, "x").code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(target->MakeDir({"e"}).ok());
  ASSERT_TRUE(target->MakeSymlink({"e"}, "elsewhere").ok());
  EXPECT_TRUE(S_ISLNK(LstatOrDie(dst / "e").st_mode));
  // A FIFO over a file, a file over a FIFO.
  Node fifo;
  fifo.type = NodeType::kFifo;
  ASSERT_TRUE(target->MakeSpecial({"f"}, fifo).ok());
  EXPECT_TRUE(S_ISFIFO(LstatOrDie(dst / "f").st_mode));
  w = target->CreateFile({"f"});
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE((*w)->Finish(0).ok());
  EXPECT_TRUE(S_ISREG(LstatOrDie(dst / "f").st_mode));
}

// A file appears under its real name only complete: until Finish an
// existing file there is untouched, and an abandoned writer leaves neither a
// partial file nor its temporary file behind.
TEST(RestoreTargetTest, FileAppearsOnlyWhenFinished) {
  TempDir dst;
  std::unique_ptr<RestoreTarget> target = OpenTarget(dst.path());
  ASSERT_NE(target, nullptr);
  WriteFile(dst / "old", "previous contents");
  {
    absl::StatusOr<std::unique_ptr<FileWriter>> w = target->CreateFile({"old"});
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->WriteAt(0, "half").ok());
    EXPECT_EQ(ReadFile(dst / "old"), "previous contents");
    absl::StatusOr<std::unique_ptr<FileWriter>> n = target->CreateFile({"new"});
    ASSERT_TRUE(n.ok()) << n.status();
    ASSERT_TRUE((*n)->WriteAt(0, "half").ok());
    struct stat st;
    EXPECT_NE(lstat((dst / "new").c_str(), &st), 0);
    // Both abandoned here (a lost block).
  }
  EXPECT_EQ(ReadFile(dst / "old"), "previous contents");
  absl::StatusOr<std::vector<std::string>> names = ListDir(dst.path());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"old"});

  absl::StatusOr<std::unique_ptr<FileWriter>> w = target->CreateFile({"old"});
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE((*w)->WriteAt(0, "complete").ok());
  EXPECT_EQ(ReadFile(dst / "old"), "previous contents");
  ASSERT_TRUE((*w)->Finish(8).ok());
  EXPECT_EQ(ReadFile(dst / "old"), "complete");
  names = ListDir(dst.path());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"old"});
}

TEST(RestoreTargetTest, CachedDirectoryFdsFollowReplacements) {
  TempDir dst, outside;
  std::unique_ptr<RestoreTarget> target = OpenTarget(dst.path());
  ASSERT_NE(target, nullptr);
  ASSERT_TRUE(target->MakeDir({"d"}).ok());
  absl::StatusOr<std::unique_ptr<FileWriter>> w = target->CreateFile({"d", "f"});  // caches "d"
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Finish(0).ok());
  ASSERT_EQ(unlink((dst / "d/f").c_str()), 0);
  // "d" becomes a symlink to outside: the cached fd of the removed directory
  // must not be used, and nothing may land outside.
  ASSERT_TRUE(target->MakeSymlink({"d"}, outside.path()).ok());
  w = target->CreateFile({"d", "g"});
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition) << w.status();
  EXPECT_EQ(ListDir(outside.path())->size(), 0u);

  // Many directories (more than the fd cache holds) all work.
  for (int i = 0; i < 600; ++i) {
    Path dir = {"many", "d" + std::to_string(i)};
    ASSERT_TRUE(target->MakeDir({"many"}).ok());
    ASSERT_TRUE(target->MakeDir(dir).ok());
    dir.push_back("f");
    absl::StatusOr<std::unique_ptr<FileWriter>> fw = target->CreateFile(dir);
    ASSERT_TRUE(fw.ok()) << fw.status();
    ASSERT_TRUE((*fw)->WriteAt(0, "x").ok());
    ASSERT_TRUE((*fw)->Finish(1).ok());
  }
  EXPECT_EQ(ReadFile(dst / "many/d599/f"), "x");
}

TEST(RestoreTargetTest, ConcurrentRestoreIntoManyDirectories) {
  TempDir dst;
  std::unique_ptr<RestoreTarget> target = OpenTarget(dst.path());
  ASSERT_NE(target, nullptr);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        Path dir = {"top", "d" + std::to_string(i % 10), "t" + std::to_string(t)};
        if (!target->MakeDir({"top"}).ok() || !target->MakeDir({dir[0], dir[1]}).ok() ||
            !target->MakeDir(dir).ok()) {
          ++failures;
          continue;
        }
        dir.push_back("f" + std::to_string(i));
        auto w = target->CreateFile(dir);
        if (!w.ok() || !(*w)->WriteAt(0, dir.back()).ok() ||
            !(*w)->Finish(dir.back().size()).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ReadFile(dst / "top/d3/t2/f53"), "f53");
}

TEST(RestoreTargetTest, SocketsAreNeverRestored) {
  TempDir dst;
  std::unique_ptr<RestoreTarget> target = OpenTarget(dst.path());
  ASSERT_NE(target, nullptr);
  Node sock;
  sock.type = NodeType::kSocket;
  EXPECT_EQ(target->MakeSpecial({"s"}, sock).code(), absl::StatusCode::kInvalidArgument);
  Node file;
  file.type = NodeType::kFile;
  EXPECT_EQ(target->MakeSpecial({"s"}, file).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ListDir(dst.path())->size(), 0u);
}

TEST(RestoreTargetTest, TargetRootMetadata) {
  TempDir dst;
  std::unique_ptr<RestoreTarget> target = OpenTarget(dst / "root");
  ASSERT_NE(target, nullptr);
  EXPECT_TRUE(target->MakeDir({}).ok());
  Node node;
  node.type = NodeType::kDir;
  node.mode = 0750;
  node.mtime_ns = 1234567890123456789LL;
  node.uid = geteuid();
  node.gid = getegid();
  node.xattrs = {{"user.root", "r"}};
  absl::Status st = target->ApplyMetadata({}, node);
  ASSERT_TRUE(st.ok()) << st;
  Node got = StatNode(dst / "root");
  EXPECT_EQ(got.mode, 0750u);
  EXPECT_EQ(got.mtime_ns, 1234567890123456789LL);
  EXPECT_TRUE(SameXattrs(UserXattrs(got), node.xattrs));
  EXPECT_EQ(target->CreateFile({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(target->Describe({}), ".");
  EXPECT_EQ(target->Describe({"home", "a\nb", "\xff"}), "home/a\\nb/\\xff");
}

// The non-root paths, run for real in a child that drops to nobody.
TEST(RestoreTargetTest, UnprivilegedRestore) {
  TempDir dst{TempDir::ReachableByAll()};
  auto check = [&]() -> int {
    absl::StatusOr<std::unique_ptr<RestoreTarget>> t = RestoreTarget::Open(dst / "mine");
    if (!t.ok()) return 1;
    Node dev;
    dev.type = NodeType::kCharDev;
    dev.rdev = makedev(1, 3);
    absl::Status st = (*t)->MakeSpecial({"null"}, dev);
    if (st.code() != absl::StatusCode::kPermissionDenied) return 2;
    if (st.message().find("null") == std::string::npos) return 3;
    Node fifo;
    fifo.type = NodeType::kFifo;
    if (!(*t)->MakeSpecial({"fifo"}, fifo).ok()) return 4;
    // A read-only file with a user xattr and someone else's owner: the
    // owner is skipped, the xattr still lands (set before the mode).
    auto w = (*t)->CreateFile({"ro"});
    if (!w.ok() || !(*w)->WriteAt(0, "r").ok() || !(*w)->Finish(1).ok()) return 5;
    Node ro;
    ro.type = NodeType::kFile;
    ro.mode = 0444;
    ro.uid = 1234;
    ro.gid = 5678;
    ro.mtime_ns = 42;
    ro.xattrs = {{"trusted.not-mine", "x"}, {"user.note", "n"}};
    st = (*t)->ApplyMetadata({"ro"}, ro);
    if (!st.ok()) return 6;
    struct stat s;
    if (lstat((dst / "mine/ro").c_str(), &s) != 0) return 7;
    if ((s.st_mode & 07777) != 0444 || s.st_uid != geteuid() || s.st_mtim.tv_nsec != 42) {
      return 8;
    }
    char buf[4];
    if (getxattr((dst / "mine/ro").c_str(), "user.note", buf, sizeof(buf)) != 1) return 9;
    return 0;
  };
  if (!kRoot) {
    EXPECT_EQ(check(), 0);
    return;
  }
  ASSERT_EQ(chmod(dst.path().c_str(), 0777), 0);
  int rc = testing::RunAsNobody(check);
  SKIP_IF_CANNOT_DROP(rc);
  EXPECT_EQ(rc, 0);
}

TEST(RestoreTargetTest, DeviceNodesAsRoot) {
  if (!kRoot) GTEST_SKIP() << "device nodes are restored only as root; not running as root";
  TempDir dst;
  std::unique_ptr<RestoreTarget> target = OpenTarget(dst.path());
  ASSERT_NE(target, nullptr);
  Node dev;
  dev.type = NodeType::kCharDev;
  dev.rdev = makedev(1, 3);
  dev.mode = 0666;
  absl::Status st = target->MakeSpecial({"my-null"}, dev);
  if (st.code() == absl::StatusCode::kPermissionDenied) {
    GTEST_SKIP() << "root here lacks CAP_MKNOD: " << st;
  }
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_TRUE(target->ApplyMetadata({"my-null"}, dev).ok());
  struct stat s = LstatOrDie(dst / "my-null");
  EXPECT_TRUE(S_ISCHR(s.st_mode));
  EXPECT_EQ(s.st_rdev, makedev(1, 3));
  EXPECT_EQ(s.st_mode & 07777, 0666u);
}

}  // namespace
}  // namespace shardkeep::fs

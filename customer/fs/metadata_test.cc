// Lstat, ListDir and PrintablePath on real files of every type.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "customer/fs/fs.h"
#include "customer/fs/test_util.h"
#include "gtest/gtest.h"

namespace shardkeep::fs {
namespace {

using testing::TempDir;
using testing::WriteFile;

void SetMtime(const std::string& path, int64_t sec, long nsec) {
  struct timespec times[2] = {{0, UTIME_OMIT}, {sec, nsec}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

TEST(LstatTest, RegularFileWithXattrsAndNanosecondMtime) {
  TempDir dir;
  const std::string path = dir / "file";
  WriteFile(path, "hello", 0640);
  ASSERT_EQ(chmod(path.c_str(), 04751), 0);
  const std::string binary("\0\xff\x01zz", 5);
  ASSERT_EQ(lsetxattr(path.c_str(), "user.zeta", "last", 4, 0), 0);
  ASSERT_EQ(lsetxattr(path.c_str(), "user.alpha", binary.data(), binary.size(), 0), 0);
  ASSERT_EQ(lsetxattr(path.c_str(), "user.empty", "", 0, 0), 0);
  SetMtime(path, 1234567890, 123456789);

  absl::StatusOr<Node> node = Lstat(path);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->name, "file");
  EXPECT_EQ(node->path, path);
  EXPECT_EQ(node->type, NodeType::kFile);
  EXPECT_EQ(node->mode, 04751u);
  EXPECT_EQ(node->size, 5u);
  EXPECT_EQ(node->uid, geteuid());
  EXPECT_EQ(node->gid, getegid());
  if (geteuid() == 0) {
    EXPECT_EQ(node->user, "root");
  }
  EXPECT_EQ(node->mtime_ns, 1234567890123456789LL);
  struct stat st = testing::LstatOrDie(path);
  EXPECT_EQ(node->ctime_ns, st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec);
  EXPECT_EQ(node->inode, st.st_ino);
  EXPECT_EQ(node->dev, st.st_dev);
  EXPECT_EQ(node->nlink, 1u);
  // Sorted by name, binary values intact. (Other namespaces, e.g.
  // security.selinux, may appear too; only user.* is asserted.)
  std::vector<Xattr> user;
  for (const Xattr& x : node->xattrs) {
    if (x.name.rfind("user.", 0) == 0) user.push_back(x);
  }
  ASSERT_EQ(user.size(), 3u);
  EXPECT_EQ(user[0].name, "user.alpha");
  EXPECT_EQ(user[0].value, binary);
  EXPECT_EQ(user[1].name, "user.empty");
  EXPECT_EQ(user[1].value, "");
  EXPECT_EQ(user[2].name, "user.zeta");
  EXPECT_EQ(user[2].value, "last");
  for (size_t i = 1; i < node->xattrs.size(); ++i) {
    EXPECT_LT(node->xattrs[i - 1].name, node->xattrs[i].name);
  }
}

TEST(LstatTest, TrustedXattrsVisibleToRootOnly) {
  if (geteuid() != 0) GTEST_SKIP() << "trusted.* xattrs need root; not running as root";
  TempDir dir{TempDir::ReachableByAll()};
  const std::string path = dir / "file";
  WriteFile(path, "x");
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  if (lsetxattr(path.c_str(), "trusted.t", "v", 1, 0) != 0) {
    GTEST_SKIP() << "cannot set trusted.* xattrs (root in a user namespace?): " << strerror(errno);
  }
  absl::StatusOr<Node> node = Lstat(path);
  ASSERT_TRUE(node.ok()) << node.status();
  bool found = false;
  for (const Xattr& x : node->xattrs) found |= x.name == "trusted.t" && x.value == "v";
  EXPECT_TRUE(found);
  // Not readable by an ordinary user: skipped, not an error.
  int rc = testing::RunAsNobody([&] {
    absl::StatusOr<Node> n = Lstat(path);
    if (!n.ok()) return 1;
    for (const Xattr& x : n->xattrs) {
      if (x.name == "trusted.t") return 2;
    }
    return 0;
  });
  SKIP_IF_CANNOT_DROP(rc);
  EXPECT_EQ(rc, 0);
}

TEST(LstatTest, EveryNodeType) {
  TempDir dir;
  ASSERT_EQ(mkdir((dir / "d").c_str(), 01777), 0);
  ASSERT_EQ(chmod((dir / "d").c_str(), 01777), 0);
  ASSERT_EQ(symlink("../no/such\ntarget", (dir / "link").c_str()), 0);
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0620), 0);
  ASSERT_EQ(chmod((dir / "fifo").c_str(), 0620), 0);
  SetMtime(dir / "link", 1000, 1);
  SetMtime(dir / "d", 2000, 999999999);

  absl::StatusOr<Node> d = Lstat(dir / "d");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->type, NodeType::kDir);
  EXPECT_EQ(d->mode, 01777u);
  EXPECT_EQ(d->size, 0u);
  EXPECT_EQ(d->mtime_ns, 2000999999999LL);

  absl::StatusOr<Node> link = Lstat(dir / "link");
  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_EQ(link->type, NodeType::kSymlink);
  EXPECT_EQ(link->symlink_target, "../no/such\ntarget");
  EXPECT_EQ(link->size, 0u);
  EXPECT_EQ(link->mtime_ns, 1000000000001LL);  // the link's own time, not followed

  absl::StatusOr<Node> fifo = Lstat(dir / "fifo");
  ASSERT_TRUE(fifo.ok()) << fifo.status();
  EXPECT_EQ(fifo->type, NodeType::kFifo);
  EXPECT_EQ(fifo->mode, 0620u);

  int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  const std::string sock_path = dir / "sock";
  // sun_path is short and $TEST_TMPDIR long: bind a relative name from the directory.
  strcpy(addr.sun_path, "sock");
  int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(cwd, 0);
  ASSERT_EQ(chdir(dir.path().c_str()), 0);
  int bound = bind(sock, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  ASSERT_EQ(fchdir(cwd), 0);
  close(cwd);
  ASSERT_EQ(bound, 0) << strerror(errno);
  close(sock);
  absl::StatusOr<Node> s = Lstat(sock_path);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->type, NodeType::kSocket);

  // Hard links: nlink and a shared inode.
  WriteFile(dir / "h1", "shared");
  ASSERT_EQ(::link((dir / "h1").c_str(), (dir / "h2").c_str()), 0);
  absl::StatusOr<Node> h1 = Lstat(dir / "h1"), h2 = Lstat(dir / "h2");
  ASSERT_TRUE(h1.ok() && h2.ok());
  EXPECT_EQ(h1->nlink, 2u);
  EXPECT_EQ(h1->inode, h2->inode);
}

TEST(LstatTest, DeviceNodes) {
  if (geteuid() != 0) GTEST_SKIP() << "mknod of device nodes needs root; not running as root";
  TempDir dir;
  if (mknod((dir / "null-copy").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "root here lacks CAP_MKNOD (container?): " << strerror(errno);
  }
  ASSERT_EQ(mknod((dir / "blk").c_str(), S_IFBLK | 0600, makedev(7, 200)), 0);
  absl::StatusOr<Node> c = Lstat(dir / "null-copy"), b = Lstat(dir / "blk");
  ASSERT_TRUE(c.ok() && b.ok());
  EXPECT_EQ(c->type, NodeType::kCharDev);
  EXPECT_EQ(c->rdev, makedev(1, 3));
  EXPECT_EQ(b->type, NodeType::kBlockDev);
  EXPECT_EQ(b->rdev, makedev(7, 200));
  EXPECT_EQ(b->size, 0u);
}

TEST(LstatTest, RawByteNames) {
  TempDir dir;
  const std::vector<std::string> names = {"\xff\xfe", "new\nline", "-rf", "with space",
                                          "*?[]",     "a",         "B",   "\x01"};
  for (const std::string& name : names) WriteFile(dir / name, name);
  for (const std::string& name : names) {
    absl::StatusOr<Node> node = Lstat(dir / name);
    ASSERT_TRUE(node.ok()) << node.status();
    EXPECT_EQ(node->name, name);
    EXPECT_EQ(node->size, name.size());
  }
  absl::StatusOr<std::vector<std::string>> listed = ListDir(dir.path());
  ASSERT_TRUE(listed.ok()) << listed.status();
  // Bytewise: control bytes first, then '*', '-', 'B', 'a', 'n', 'w', 0xff last.
  std::vector<std::string> expected = {"\x01", "*?[]",      "-rf",        "B",
                                       "a",    "new\nline", "with space", "\xff\xfe"};
  EXPECT_EQ(*listed, expected);
}

TEST(LstatTest, TrailingSlashAndRoot) {
  TempDir dir;
  ASSERT_EQ(mkdir((dir / "sub").c_str(), 0755), 0);
  absl::StatusOr<Node> node = Lstat(dir / "sub/");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->name, "sub");
  absl::StatusOr<Node> root = Lstat("/");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->name, "/");
  EXPECT_EQ(root->type, NodeType::kDir);
}

TEST(LstatTest, ErrorsNameThePath) {
  TempDir dir;
  absl::StatusOr<Node> missing = Lstat(dir / "gone\xff");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("gone\\xff"), std::string::npos) << missing.status();

  absl::StatusOr<std::vector<std::string>> none = ListDir(dir / "gone");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);

  // A symlink to a directory is not listed through.
  ASSERT_EQ(mkdir((dir / "real").c_str(), 0755), 0);
  WriteFile(dir / "real/x", "");
  ASSERT_EQ(symlink("real", (dir / "alias").c_str()), 0);
  absl::StatusOr<std::vector<std::string>> via = ListDir(dir / "alias");
  EXPECT_EQ(via.status().code(), absl::StatusCode::kFailedPrecondition) << via.status();
  absl::StatusOr<std::vector<std::string>> file = ListDir(dir / "real/x");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kFailedPrecondition) << file.status();
}

TEST(LstatTest, UnreadableDirectoryIsPermissionDenied) {
  TempDir dir{TempDir::ReachableByAll()};
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir / "locked").c_str(), 0700), 0);
  WriteFile(dir / "locked/secret", "s");
  if (geteuid() != 0) {
    ASSERT_EQ(chmod((dir / "locked").c_str(), 0000), 0);
    EXPECT_EQ(ListDir(dir / "locked").status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(Lstat(dir / "locked/secret").status().code(), absl::StatusCode::kPermissionDenied);
    return;
  }
  const std::string locked = dir / "locked";
  const std::string parent = dir.path();
  int rc = testing::RunAsNobody([&] {
    if (!ListDir(parent).ok()) return 3;  // reachable: the denial below is the lock's
    if (ListDir(locked).status().code() != absl::StatusCode::kPermissionDenied) return 1;
    if (Lstat(locked + "/secret").status().code() != absl::StatusCode::kPermissionDenied) {
      return 2;
    }
    return 0;
  });
  SKIP_IF_CANNOT_DROP(rc);
  EXPECT_EQ(rc, 0);
}

TEST(LstatTest, ConcurrentLookupsShareTheNameCache) {
  TempDir dir;
  WriteFile(dir / "f", "x");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        absl::StatusOr<Node> node = Lstat(dir / "f");
        if (!node.ok() || (geteuid() == 0 && node->group != "root")) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(PrintablePathTest, EscapesWhatATerminalWouldMangle) {
  EXPECT_EQ(PrintablePath("/home/ann/a b*?[]"), "/home/ann/a b*?[]");
  EXPECT_EQ(PrintablePath(std::string("a\nb\\c\xff\x01\0", 8)), "a\\nb\\\\c\\xff\\x01\\x00");
}

TEST(CleanComponentsTest, DropsDotsAndEmptiesAndNeverClimbsAboveTheRoot) {
  using V = std::vector<std::string>;
  EXPECT_EQ(CleanComponents("/a/./b/../c/"), (V{"a", "c"}));
  EXPECT_EQ(CleanComponents("a//c"), (V{"a", "c"}));
  EXPECT_EQ(CleanComponents("/../../x"), (V{"x"}));
  EXPECT_EQ(CleanComponents("/"), V{});
  EXPECT_EQ(CleanComponents(""), V{});
  EXPECT_EQ(CleanComponents("..."), (V{"..."}));
}

}  // namespace
}  // namespace shardkeep::fs

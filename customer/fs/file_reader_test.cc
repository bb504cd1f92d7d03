// FileReader: sparse extents, reads, identity and change detection.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>
#include <thread>

#include "customer/fs/fs.h"
#include "customer/fs/test_util.h"
#include "gtest/gtest.h"

namespace shardkeep::fs {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr uint64_t kMiB = 1 << 20;

// A file of apparent size `size` holding `data` at each offset, holes elsewhere.
void MakeSparse(const std::string& path, uint64_t size,
                const std::vector<std::pair<uint64_t, std::string>>& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
  for (const auto& [offset, bytes] : data) {
    ASSERT_EQ(pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
              static_cast<ssize_t>(bytes.size()));
  }
  ASSERT_EQ(close(fd), 0);
}

Node StatNode(const std::string& path) {
  absl::StatusOr<Node> node = Lstat(path);
  EXPECT_TRUE(node.ok()) << node.status();
  return node.ok() ? *node : Node();
}

std::unique_ptr<FileReader> OpenOrDie(const Node& node) {
  absl::StatusOr<std::unique_ptr<FileReader>> r = FileReader::Open(node);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : nullptr;
}

// Checks extents are ordered, disjoint, inside the file, cover every written
// range and hold at most `max_total` bytes (holes are not reported as data).
void CheckExtents(const std::vector<Extent>& extents, uint64_t size,
                  const std::vector<std::pair<uint64_t, std::string>>& data, uint64_t max_total) {
  uint64_t total = 0, prev_end = 0;
  for (size_t i = 0; i < extents.size(); ++i) {
    EXPECT_GT(extents[i].length, 0u);
    if (i > 0) {
      EXPECT_GT(extents[i].offset, prev_end) << "extents must be disjoint";
    }
    prev_end = extents[i].offset + extents[i].length;
    EXPECT_LE(prev_end, size);
    total += extents[i].length;
  }
  EXPECT_LE(total, max_total);
  for (const auto& [offset, bytes] : data) {
    bool covered = false;
    for (const Extent& e : extents) {
      covered |= e.offset <= offset && offset + bytes.size() <= e.offset + e.length;
    }
    EXPECT_TRUE(covered) << "data at " << offset << " not in any extent";
  }
}

TEST(FileReaderTest, SparseFileExtentsAndReads) {
  TempDir dir;
  const std::string a(5000, 'a'), b(4096, 'b');
  const std::vector<std::pair<uint64_t, std::string>> data = {{1 * kMiB, a}, {5 * kMiB + 100, b}};
  MakeSparse(dir / "sparse", 8 * kMiB, data);
  Node node = StatNode(dir / "sparse");
  std::unique_ptr<FileReader> r = OpenOrDie(node);
  ASSERT_NE(r, nullptr);
  const std::vector<Extent>& extents = r->DataExtents();
  ASSERT_EQ(extents.size(), 2u);
  CheckExtents(extents, 8 * kMiB, data, 64 * 1024);

  std::string buf(a.size(), '\0');
  absl::StatusOr<size_t> n = r->ReadAt(1 * kMiB, buf.data(), buf.size());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, a.size());
  EXPECT_EQ(buf, a);
  // A hole reads as zeros.
  std::string hole(4096, 'x');
  n = r->ReadAt(3 * kMiB, hole.data(), hole.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(hole, std::string(4096, '\0'));
  // Reading across the end returns what there is; at the end, 0.
  std::string tail(10000, 'x');
  n = r->ReadAt(8 * kMiB - 10, tail.data(), tail.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 10u);
  n = r->ReadAt(8 * kMiB, tail.data(), tail.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_TRUE(r->CheckUnchanged().ok());
}

TEST(FileReaderTest, HolesAtStartAndEnd) {
  TempDir dir;
  // Data at the start, a hole at the end.
  const std::vector<std::pair<uint64_t, std::string>> head = {{0, std::string(4096, 'h')}};
  MakeSparse(dir / "head", 4 * kMiB, head);
  std::unique_ptr<FileReader> r = OpenOrDie(StatNode(dir / "head"));
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->DataExtents().size(), 1u);
  EXPECT_EQ(r->DataExtents()[0].offset, 0u);
  CheckExtents(r->DataExtents(), 4 * kMiB, head, 64 * 1024);

  // A hole at the start, data up to the (unaligned) end.
  const std::vector<std::pair<uint64_t, std::string>> tail = {{3 * kMiB, std::string(777, 't')}};
  MakeSparse(dir / "tail", 3 * kMiB + 777, tail);
  r = OpenOrDie(StatNode(dir / "tail"));
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->DataExtents().size(), 1u);
  EXPECT_EQ(r->DataExtents()[0].offset + r->DataExtents()[0].length, 3 * kMiB + 777);
  CheckExtents(r->DataExtents(), 3 * kMiB + 777, tail, 64 * 1024);

  // Only a hole: no extents at all.
  MakeSparse(dir / "hole", 2 * kMiB, {});
  r = OpenOrDie(StatNode(dir / "hole"));
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->DataExtents().empty());
}

TEST(FileReaderTest, EmptyAndDenseFiles) {
  TempDir dir;
  WriteFile(dir / "empty", "");
  std::unique_ptr<FileReader> r = OpenOrDie(StatNode(dir / "empty"));
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->DataExtents().empty());
  char c;
  absl::StatusOr<size_t> n = r->ReadAt(0, &c, 1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);

  const std::string dense(100000, 'd');
  WriteFile(dir / "dense", dense);
  r = OpenOrDie(StatNode(dir / "dense"));
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->DataExtents().size(), 1u);
  EXPECT_EQ(r->DataExtents()[0].offset, 0u);
  EXPECT_EQ(r->DataExtents()[0].length, dense.size());
  std::string back(dense.size(), '\0');
  n = r->ReadAt(0, back.data(), back.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(back, dense);
}

TEST(FileReaderTest, ChangeWhileReadIsDetected) {
  TempDir dir;
  const std::string path = dir / "log\nfile";
  WriteFile(path, "first");
  Node node = StatNode(path);
  std::unique_ptr<FileReader> r = OpenOrDie(node);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->CheckUnchanged().ok());

  // Appending changes size.
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "more", 4), 4);
  close(fd);
  absl::Status st = r->CheckUnchanged();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_NE(st.message().find("log\\nfile"), std::string::npos) << st;

  // Same size, new mtime.
  WriteFile(path, "first");
  node = StatNode(path);
  r = OpenOrDie(node);
  ASSERT_NE(r, nullptr);
  struct timespec times[2] = {{0, UTIME_OMIT}, {node.mtime_ns / 1000000000 + 5, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  EXPECT_EQ(r->CheckUnchanged().code(), absl::StatusCode::kFailedPrecondition);

  // Same size and mtime, but ctime moved (an in-place rewrite that restored
  // the mtime, or a chmod).
  node = StatNode(path);
  r = OpenOrDie(node);
  ASSERT_NE(r, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  EXPECT_EQ(r->CheckUnchanged().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(FileReaderTest, ChangedBetweenListingAndOpen) {
  TempDir dir;
  WriteFile(dir / "f", "original");
  Node node = StatNode(dir / "f");

  // Replaced by another file (rename over it): a different inode.
  WriteFile(dir / "other", "impostor");
  ASSERT_EQ(rename((dir / "other").c_str(), (dir / "f").c_str()), 0);
  absl::StatusOr<std::unique_ptr<FileReader>> r = FileReader::Open(node);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find(dir / "f"), std::string::npos);

  // Replaced by a symlink: never followed.
  ASSERT_EQ(unlink((dir / "f").c_str()), 0);
  ASSERT_EQ(symlink("/etc/passwd", (dir / "f").c_str()), 0);
  r = FileReader::Open(node);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();

  // Replaced by a FIFO: refused without blocking for a writer.
  ASSERT_EQ(unlink((dir / "f").c_str()), 0);
  ASSERT_EQ(mkfifo((dir / "f").c_str(), 0644), 0);
  auto opened = std::async(std::launch::async, [&] { return FileReader::Open(node).status(); });
  ASSERT_EQ(opened.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "Open blocked on a FIFO";
  EXPECT_EQ(opened.get().code(), absl::StatusCode::kFailedPrecondition);

  // Vanished.
  ASSERT_EQ(unlink((dir / "f").c_str()), 0);
  r = FileReader::Open(node);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();

  // Not a regular file in the first place.
  Node d = StatNode(dir.path());
  EXPECT_EQ(FileReader::Open(d).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(FileReaderTest, UnprivilegedReader) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to create files another user then reads";
  TempDir dir{TempDir::ReachableByAll()};
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  // Readable but owned by root: O_NOATIME is refused (EPERM), the reader
  // falls back to a plain open.
  WriteFile(dir / "public", "everyone may read this", 0644);
  WriteFile(dir / "private", "root only", 0600);
  Node pub = StatNode(dir / "public"), priv = StatNode(dir / "private");
  int rc = testing::RunAsNobody([&] {
    absl::StatusOr<std::unique_ptr<FileReader>> r = FileReader::Open(pub);
    if (!r.ok()) return 1;
    char buf[64];
    absl::StatusOr<size_t> n = (*r)->ReadAt(0, buf, sizeof(buf));
    if (!n.ok() || std::string(buf, *n) != "everyone may read this") return 2;
    absl::StatusOr<std::unique_ptr<FileReader>> denied = FileReader::Open(priv);
    if (denied.status().code() != absl::StatusCode::kPermissionDenied) return 3;
    if (denied.status().message().find("private") == std::string::npos) return 4;
    return 0;
  });
  SKIP_IF_CANNOT_DROP(rc);
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace shardkeep::fs

// RunBackup and RunRestore in one process over in-memory suppliers
// (customer/repo/mem_vault_for_test.h): a tree with every kind of file the
// customer keeps comes back byte for byte with its metadata, an unchanged
// tree is not read again, a restore survives n-k stopped suppliers and a
// corrupt fragment, and a backup below the commit rule fails. No processes:
// the slow twin over real suppliers is archiver_fault_test.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/crypto.h"
#include "customer/archive/archiver.h"
#include "customer/net/fault_injecting_supplier_client.h"
#include "customer/repo/mem_vault_for_test.h"
#include "customer/repo/progress.h"
#include "customer/restore/restorer.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

using M = SupplierMethod;
using testing::MakeTempDir;
using testing::MemVault;

constexpr char kHost[] = "mem-host";

void WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size())) << path;
  ASSERT_EQ(close(fd), 0);
  ASSERT_EQ(chmod(path.c_str(), mode), 0);  // past the umask
}

std::string ReadFile(const std::string& path) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<missing>";
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, n);
  close(fd);
  return out;
}

struct stat Lstat(const std::string& path) {
  struct stat st = {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st;
}

void SetMtime(const std::string& path, time_t sec, long nsec) {
  struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << path;
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return {"<cannot open " + dir + ">"};
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string Readlink(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? "<not a link>" : std::string(buf, n);
}

// Every entry below `want` has a twin below `got`: same names, type, mode,
// size, mtime to the nanosecond, link count, bytes or link target.
void ExpectSameTree(const std::string& want, const std::string& got) {
  struct stat w, g;
  ASSERT_EQ(lstat(want.c_str(), &w), 0) << want;
  ASSERT_EQ(lstat(got.c_str(), &g), 0) << got << " missing";
  EXPECT_EQ(w.st_mode, g.st_mode) << got;  // type and permission bits
  EXPECT_EQ(w.st_mtim.tv_sec, g.st_mtim.tv_sec) << got;
  EXPECT_EQ(w.st_mtim.tv_nsec, g.st_mtim.tv_nsec) << got;
  if (S_ISDIR(w.st_mode)) {
    ASSERT_EQ(List(want), List(got)) << got;
    for (const std::string& name : List(want)) ExpectSameTree(want + "/" + name, got + "/" + name);
    return;
  }
  EXPECT_EQ(w.st_nlink, g.st_nlink) << got;
  EXPECT_EQ(w.st_size, g.st_size) << got;
  if (S_ISLNK(w.st_mode)) {
    EXPECT_EQ(Readlink(want), Readlink(got)) << got;
  }
  if (S_ISREG(w.st_mode)) {
    EXPECT_TRUE(ReadFile(want) == ReadFile(got)) << got << " differs";
  }
}

class BackupRestoreMemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mv = MemVault::Create();  // n = 4, k = 2, 64 KiB blocks, ~16 KiB chunks
    ASSERT_TRUE(mv.ok()) << mv.status();
    mv_ = std::move(*mv);
    src_ = MakeTempDir("src") + "/tree";
    MakeTree();
  }

  void TearDown() override {
    for (int i = 0; i < mv_->n(); ++i) mv_->faults(i).ClearAll();
  }

  // Files of several sizes (empty, one chunk, many chunks and blocks), a
  // hard link, symlinks, nested dirs, a sparse file; odd modes and mtimes
  // with nanoseconds, so a restore that rounds or forgets shows.
  void MakeTree() {
    ASSERT_EQ(mkdir(src_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((src_ + "/sub").c_str(), 0750), 0);
    ASSERT_EQ(mkdir((src_ + "/sub/deeper").c_str(), 0700), 0);
    WriteFile(src_ + "/empty", "", 0600);
    WriteFile(src_ + "/small.txt", "a small file\n", 0644);
    WriteFile(src_ + "/medium.bin", crypto::RandomBytes(20 << 10), 0640);
    WriteFile(src_ + "/big.bin", crypto::RandomBytes(300 << 10), 0755);     // ~20 chunks, 5 blocks
    WriteFile(src_ + "/sub/nested.txt", std::string(50 << 10, 'n'), 0644);  // compressible
    WriteFile(src_ + "/sub/deeper/last", "bottom\n", 0444);
    ASSERT_EQ(link((src_ + "/medium.bin").c_str(), (src_ + "/sub/medium.link").c_str()), 0);
    ASSERT_EQ(symlink("small.txt", (src_ + "/link").c_str()), 0);
    ASSERT_EQ(symlink("../nowhere", (src_ + "/sub/dangling").c_str()), 0);
    // 1 MiB with data at 0 and at 512 KiB only.
    int fd = open((src_ + "/sparse.img").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    std::string data = crypto::RandomBytes(4096);
    ASSERT_EQ(pwrite(fd, data.data(), data.size(), 0), 4096);
    ASSERT_EQ(pwrite(fd, data.data(), data.size(), 512 << 10), 4096);
    ASSERT_EQ(ftruncate(fd, 1 << 20), 0);
    ASSERT_EQ(close(fd), 0);
    long ns = 111111111;
    for (const char* f : {"empty", "small.txt", "medium.bin", "big.bin", "link", "sparse.img",
                          "sub/nested.txt", "sub/deeper/last", "sub/dangling"}) {
      SetMtime(src_ + "/" + f, 1600000000, ns);
      ns += 1234567;
    }
    // Directories last, deepest first: their children changed their mtimes.
    SetMtime(src_ + "/sub/deeper", 1500000000, 987654321);
    SetMtime(src_ + "/sub", 1500000001, 5);
    SetMtime(src_, 1500000002, 999999999);
  }

  absl::StatusOr<BackupResult> Backup(Repository& repo, const vault::v1::Snapshot* parent) {
    BackupOptions opts;
    opts.paths = {src_};
    opts.hostname = kHost;
    opts.parent = parent;
    return RunBackup(repo, opts, progress_);
  }

  // Restores the latest snapshot through `repo` into a new dir; returns where
  // the tree landed (the target holds the snapshot's absolute paths).
  std::string Restore(Repository& repo, size_t window_files = 16384, size_t window_blocks = 64,
                      size_t block_memory = RestoreOptions().block_memory_bytes) {
    auto snaps = repo.LoadSnapshots();
    EXPECT_TRUE(snaps.ok()) << snaps.status();
    if (!snaps.ok() || snaps->empty()) return "<no snapshot>";
    RestoreOptions opts;
    opts.window_files = window_files;
    opts.window_blocks = window_blocks;
    opts.block_memory_bytes = block_memory;
    opts.target = MakeTempDir("restore");
    auto r = RunRestore(repo, snaps->back(), opts, progress_);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) {
      EXPECT_EQ(r->errors, 0u);
    }
    return opts.target + src_;
  }

  static size_t DataBlocks(Repository& repo) {
    size_t count = 0;
    for (uint32_t b = 0; b < repo.index().block_count(); ++b) {
      if (repo.index().block(b).kind() == vault::v1::BLOCK_KIND_DATA) ++count;
    }
    return count;
  }

  std::unique_ptr<MemVault> mv_;
  std::string src_;
  Progress progress_;
};

TEST_F(BackupRestoreMemTest, RestoreGivesBackTheTreeExactly) {
  auto repo = mv_->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  auto backup = Backup(**repo, nullptr);
  ASSERT_TRUE(backup.ok()) << backup.status();
  const auto& sum = backup->snapshot.summary();
  EXPECT_EQ(sum.blocks_degraded(), 0u);
  EXPECT_GE(sum.blocks(), 5u);

  auto reader = mv_->Open();
  ASSERT_TRUE(reader.ok()) << reader.status();
  const std::string got = Restore(**reader);
  ExpectSameTree(src_, got);
  struct stat a = Lstat(got + "/medium.bin");
  struct stat b = Lstat(got + "/sub/medium.link");
  EXPECT_EQ(a.st_ino, b.st_ino) << "the hard link was restored as a copy";
  struct stat src_sparse = Lstat(src_ + "/sparse.img");
  struct stat sparse = Lstat(got + "/sparse.img");
  if (src_sparse.st_blocks * 512 < src_sparse.st_size) {
    EXPECT_LT(sparse.st_blocks * 512, sparse.st_size) << "holes were written as zeros";
  }
}

// Tiny windows (one file, or one block, at a time): the restore plans and
// fetches window by window, so blocks shared by files of two windows and a
// hard link whose original was restored in an earlier window must still
// come back exactly.
TEST_F(BackupRestoreMemTest, RestoreInSmallWindowsGivesBackTheTreeExactly) {
  auto repo = mv_->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  ASSERT_TRUE(Backup(**repo, nullptr).ok());
  for (auto [files, blocks] : {std::pair<size_t, size_t>{1, 64}, {16384, 1}, {2, 2}}) {
    auto reader = mv_->Open();
    ASSERT_TRUE(reader.ok()) << reader.status();
    const std::string got = Restore(**reader, files, blocks);
    ExpectSameTree(src_, got);
    struct stat a = Lstat(got + "/medium.bin");
    struct stat b = Lstat(got + "/sub/medium.link");
    EXPECT_EQ(a.st_ino, b.st_ino) << "the hard link was restored as a copy (window " << files
                                  << " files, " << blocks << " blocks)";
  }
}

// The block workers share one memory budget: one smaller than a single
// block (each block then goes alone) or than two (workers take turns) must
// still give the tree back exactly, with blocks carried between windows.
TEST_F(BackupRestoreMemTest, RestoreWithinASmallBlockMemoryBudgetIsIdentical) {
  auto repo = mv_->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  ASSERT_TRUE(Backup(**repo, nullptr).ok());
  size_t largest = 0;
  for (uint32_t b = 0; b < (*repo)->index().block_count(); ++b) {
    largest = std::max<size_t>(largest, (*repo)->index().block(b).sealed_size());
  }
  for (size_t budget : {size_t{1}, 3 * largest}) {
    auto reader = mv_->Open();
    ASSERT_TRUE(reader.ok()) << reader.status();
    const std::string got = Restore(**reader, 16384, 2, budget);
    ExpectSameTree(src_, got);
  }
}

TEST_F(BackupRestoreMemTest, SecondBackupOfUnchangedTreeReadsAndStoresNoData) {
  {
    auto repo = mv_->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    ASSERT_TRUE(Backup(**repo, nullptr).ok());
  }
  // A new command, as `shardkeep backup` would run it.
  auto repo = mv_->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  auto snaps = (*repo)->LoadSnapshots();
  ASSERT_TRUE(snaps.ok()) << snaps.status();
  const vault::v1::Snapshot* parent = FindParent(*snaps, kHost, {src_});
  ASSERT_NE(parent, nullptr);
  const size_t data_blocks = DataBlocks(**repo);
  ASSERT_GT(data_blocks, 0u);
  const uint64_t files = parent->summary().files_new();
  EXPECT_EQ(files, 8u);  // 7 regular files, one of them under two names

  auto second = Backup(**repo, parent);
  ASSERT_TRUE(second.ok()) << second.status();
  const auto& sum = second->snapshot.summary();
  EXPECT_EQ(sum.files_unchanged(), files);
  EXPECT_EQ(sum.files_new() + sum.files_changed(), 0u);
  EXPECT_EQ(sum.bytes_read(), 0u);
  EXPECT_EQ(DataBlocks(**repo), data_blocks) << "unchanged data was stored again";
  EXPECT_EQ(second->snapshot.parent(), parent->id());

  // The second snapshot restores as well as the first (its chunk lists were
  // reused, not re-read).
  auto reader = mv_->Open();
  ASSERT_TRUE(reader.ok()) << reader.status();
  ExpectSameTree(src_, Restore(**reader));
}

TEST_F(BackupRestoreMemTest, RestoreWithNMinusKSuppliersStoppedIsIdentical) {
  {
    auto repo = mv_->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    ASSERT_TRUE(Backup(**repo, nullptr).ok());
  }
  // Both data positions: every block comes from parity alone.
  mv_->supplier(0).Stop();
  mv_->supplier(1).Stop();
  auto repo = mv_->Open(/*min_reachable=*/2);
  ASSERT_TRUE(repo.ok()) << repo.status();
  ExpectSameTree(src_, Restore(**repo));
  EXPECT_GT(mv_->faults(2).Calls(M::kGetFragment), 0);
  EXPECT_GT(mv_->faults(3).Calls(M::kGetFragment), 0);
}

TEST_F(BackupRestoreMemTest, RestoreWithCorruptDataFragmentFallsBackToParity) {
  {
    auto repo = mv_->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    ASSERT_TRUE(Backup(**repo, nullptr).ok());
  }
  for (int i = 0; i < mv_->n(); ++i) mv_->faults(i).ResetCounters();
  mv_->faults(0).Corrupt(M::kGetFragment, 4);
  auto repo = mv_->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  ExpectSameTree(src_, Restore(**repo));
  EXPECT_GT(mv_->faults(0).Calls(M::kGetFragment), 0);
  // Data positions are read first: parity is asked only because 0 was bad.
  EXPECT_GT(mv_->faults(2).Calls(M::kGetFragment) + mv_->faults(3).Calls(M::kGetFragment), 0);
}

TEST_F(BackupRestoreMemTest, BackupWithTwoOfFourFailingFailsNamingThem) {
  mv_->faults(1).Fail(M::kPutFragment, absl::UnavailableError("injected: gone"));
  mv_->faults(3).Fail(M::kPutFragment, absl::UnavailableError("injected: gone"), 1);
  {
    auto repo = mv_->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    auto backup = Backup(**repo, nullptr);
    ASSERT_FALSE(backup.ok());
    std::string msg(backup.status().message());
    EXPECT_TRUE(absl::StrContains(msg, mv_->address(1))) << msg;
    EXPECT_TRUE(absl::StrContains(msg, mv_->address(3))) << msg;
    // The block commit rule (k + 1 of 4) stops it, not a later metadata put.
    EXPECT_TRUE(absl::StrContains(msg, "block could be stored on only 2 of 4")) << msg;
    EXPECT_TRUE(absl::StrContains(msg, "3 needed")) << msg;
  }
  mv_->faults(1).ClearAll();
  mv_->faults(3).ClearAll();
  auto fresh = mv_->Open();
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  auto snaps = (*fresh)->LoadSnapshots();
  ASSERT_TRUE(snaps.ok()) << snaps.status();
  EXPECT_TRUE(snaps->empty()) << "a failed backup recorded a snapshot";
}

}  // namespace
}  // namespace shardkeep::customer

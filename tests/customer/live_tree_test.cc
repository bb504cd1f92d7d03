// End-to-end tests of `shardkeep backup` on a tree that is not standing still
// or spans file systems, with the real binary against real shardkeep-supplier
// processes (tests/harness), in the style of e2e_test.cc:
// - `--one-file-system`: a tmpfs mounted inside the tree (needs root and
//   mount(2); skipped otherwise) is kept as an empty directory;
// - a file that grows while it is read and a file that is deleted after the
//   directory listing: both reported naming the file, the backup goes on and
//   exits 0 (docs/CLI.md: warnings, not errors).
//
// Runs unsandboxed (tags = no-sandbox): the sandbox forbids mount(2).
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_cluster.h"

// In cli_test, so that the helpers of cli_test_util.h need no qualification.
namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;
using testing::SupplierClusterOptions;

// A 4-supplier cluster and an initialised vault.
struct Vault {
  std::unique_ptr<SupplierCluster> cluster;
  Customer customer;
  void Start() {
    SupplierClusterOptions o;
    o.capacity_bytes = 2ULL << 30;
    auto c = SupplierCluster::Start(4, o);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster = std::move(*c);
    RunResult init =
        customer.Sk({"init", "--suppliers", cluster->AddressList(), "--needed", "1GiB"});
    ASSERT_EQ(init.code, 0) << init.Describe();
  }
};

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

// ------------------------------------------------------- --one-file-system

// Unmounts (lazily) on scope exit, so a failed assertion leaves no mount.
struct ScopedMount {
  std::string dir;
  bool mounted = false;
  ~ScopedMount() {
    if (mounted) umount2(dir.c_str(), MNT_DETACH);
  }
};

TEST(LiveTree, OneFileSystemKeepsMountPointsEmpty) {
  std::string src = TempDir("xdev");
  ASSERT_EQ(mkdir((src + "/docs").c_str(), 0755), 0);
  WriteFile(src + "/docs/a.txt", "on the backed-up file system\n");
  ScopedMount mnt{src + "/mnt"};
  ASSERT_EQ(mkdir(mnt.dir.c_str(), 0755), 0);
  if (mount("shardkeep-test", mnt.dir.c_str(), "tmpfs", 0, "size=4m,mode=0750") != 0) {
    GTEST_SKIP() << "mount(2) of a tmpfs is not permitted here (" << strerror(errno)
                 << "); run as root outside a sandbox to test --one-file-system";
  }
  mnt.mounted = true;
  ASSERT_EQ(mkdir((mnt.dir + "/sub").c_str(), 0755), 0);
  WriteFile(mnt.dir + "/inner.txt", "on another file system\n");
  WriteFile(mnt.dir + "/sub/deep.txt", "deeper on another file system\n");

  Vault v;
  ASSERT_NO_FATAL_FAILURE(v.Start());

  // Without the flag the mounted file system is part of the snapshot: the
  // control that shows the test below can fail.
  RunResult all = v.customer.Sk({"backup", "--json", src});
  ASSERT_EQ(all.code, 0) << all.Describe();
  RunResult ls_all = v.customer.Sk({"ls", "latest", src});
  ASSERT_EQ(ls_all.code, 0) << ls_all.Describe();
  EXPECT_NE(ls_all.out.find(src + "/mnt/inner.txt\n"), std::string::npos) << ls_all.out;

  for (const std::string flag : {"--one-file-system", "-x"}) {
    SCOPED_TRACE(flag);
    RunResult b = v.customer.Sk({"backup", "--json", flag, src});
    ASSERT_EQ(b.code, 0) << b.Describe();
    std::string id = JsonField(b.out, "snapshot_id");
    ASSERT_EQ(id.size(), 32u) << b.Describe();
    EXPECT_EQ(JsonField(b.out, "warnings"), "0") << b.Describe();

    RunResult ls = v.customer.Sk({"ls", id, src});
    ASSERT_EQ(ls.code, 0) << ls.Describe();
    EXPECT_NE(ls.out.find(src + "/docs/a.txt\n"), std::string::npos) << ls.out;
    EXPECT_NE(ls.out.find(src + "/mnt\n"), std::string::npos) << ls.out;
    EXPECT_EQ(ls.out.find(src + "/mnt/"), std::string::npos) << ls.out;

    std::string target = TempDir("restore");
    RunResult r = v.customer.Sk({"restore", id, "--target", target});
    ASSERT_EQ(r.code, 0) << r.Describe();
    EXPECT_EQ(ReadFile(target + src + "/docs/a.txt"), "on the backed-up file system\n");
    struct stat st;
    ASSERT_EQ(lstat((target + src + "/mnt").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_FALSE(Exists(target + src + "/mnt/inner.txt"));
    EXPECT_FALSE(Exists(target + src + "/mnt/sub"));
  }
}

// ------------------------------------------- files that change or vanish

// Watches `watched` with inotify; on the first read of it (the backup's
// reader has opened it and started), appends `append` bytes to it and deletes
// `victim`. Runs in the test process, a different process from the backup.
class Saboteur {
 public:
  Saboteur(std::string watched, std::string victim, size_t append)
      : watched_(std::move(watched)), victim_(std::move(victim)), append_(append) {
    fd_ = inotify_init1(IN_CLOEXEC);
    if (fd_ >= 0 && inotify_add_watch(fd_, watched_.c_str(), IN_ACCESS) >= 0) {
      thread_ = std::thread([this] { Run(); });
    }
  }
  ~Saboteur() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return thread_.joinable(); }
  bool fired() const { return fired_; }

 private:
  void Run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      alignas(inotify_event) char buf[4096];
      if (read(fd_, buf, sizeof(buf)) <= 0) continue;
      int out = open(watched_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      if (out >= 0) {
        std::string more(append_, 'z');
        if (write(out, more.data(), more.size()) != static_cast<ssize_t>(more.size())) abort();
        close(out);
      }
      unlink(victim_.c_str());
      fired_ = true;
      return;
    }
  }

  const std::string watched_, victim_;
  const size_t append_;
  int fd_ = -1;
  std::atomic<bool> stop_{false}, fired_{false};
  std::thread thread_;
};

TEST(LiveTree, FileChangedOrVanishedWhileReadIsReportedAndBackupGoesOn) {
  Vault v;
  ASSERT_NO_FATAL_FAILURE(v.Start());
  std::string src = TempDir("live");
  // "a-growing" is read first (names are read in order); 64 MiB of a
  // repeated random MiB: many read calls, little stored data.
  std::string mib(1 << 20, '\0');
  std::mt19937_64 rng(7);
  for (size_t i = 0; i < mib.size(); i += 8) {
    uint64_t x = rng();
    memcpy(&mib[i], &x, 8);
  }
  const size_t kGrowingSize = 64u << 20;
  {
    std::ofstream f(src + "/a-growing", std::ios::binary);
    for (size_t i = 0; i < kGrowingSize; i += mib.size()) f << mib;
  }
  WriteFile(src + "/b-vanishing", "deleted once the backup has started reading\n");
  WriteFile(src + "/c-steady", "unchanged\n");

  std::string json;
  {
    Saboteur saboteur(src + "/a-growing", src + "/b-vanishing", 1 << 20);
    ASSERT_TRUE(saboteur.ok()) << "inotify: " << strerror(errno);
    RunResult b = v.customer.Sk({"backup", "--json", src});
    EXPECT_TRUE(saboteur.fired());
    // docs/CLI.md: changes and vanishing are warnings; the snapshot is
    // complete (not partial), so the exit code is 0.
    ASSERT_EQ(b.code, 0) << b.Describe();
    json = b.out;
    EXPECT_NE(b.err.find("warning: "), std::string::npos) << b.Describe();
    EXPECT_NE(b.err.find(src + "/a-growing changed while it was read"), std::string::npos)
        << b.Describe();
    EXPECT_NE(b.err.find("vanished before it was read: " + src + "/b-vanishing"), std::string::npos)
        << b.Describe();
    EXPECT_EQ(JsonField(json, "warnings"), "2") << json;
    EXPECT_EQ(JsonField(json, "errors"), "0") << json;
    EXPECT_EQ(JsonField(json, "partial"), "false") << json;
  }
  std::string id = JsonField(json, "snapshot_id");
  ASSERT_EQ(id.size(), 32u) << json;

  RunResult ls = v.customer.Sk({"ls", id});
  ASSERT_EQ(ls.code, 0) << ls.Describe();
  EXPECT_NE(ls.out.find(src + "/a-growing\n"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find(src + "/c-steady\n"), std::string::npos) << ls.out;
  EXPECT_EQ(ls.out.find("b-vanishing"), std::string::npos) << ls.out;

  // The changed file is saved as read: its size when listed, every byte right.
  std::string target = TempDir("restore");
  RunResult r = v.customer.Sk({"restore", "latest", "--target", target});
  ASSERT_EQ(r.code, 0) << r.Describe();
  std::string restored = ReadFile(target + src + "/a-growing");
  ASSERT_EQ(restored.size(), kGrowingSize);
  for (size_t i = 0; i < kGrowingSize; i += mib.size()) {
    ASSERT_EQ(restored.compare(i, mib.size(), mib), 0) << "MiB at " << i;
  }
  EXPECT_EQ(ReadFile(target + src + "/c-steady"), "unchanged\n");
  EXPECT_FALSE(Exists(target + src + "/b-vanishing"));
}

}  // namespace
}  // namespace shardkeep::cli_test

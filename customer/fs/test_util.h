// Helpers for the customer/fs tests: a scratch directory, file writing, and
// running a check as an unprivileged user in a child process.
#ifndef SHARDKEEP_CUSTOMER_FS_TEST_UTIL_H_
#define SHARDKEEP_CUSTOMER_FS_TEST_UTIL_H_

// Tests that need privileges skip (with a message saying why) only the
// privileged part when this process lacks them.
#define SKIP_IF_CANNOT_DROP(rc)                                                      \
  if ((rc) == ::shardkeep::fs::testing::kCannotDropPrivileges)                       \
  GTEST_SKIP() << "cannot switch to uid " << ::shardkeep::fs::testing::kNobody       \
               << " here (not root, or root in a user namespace): the unprivileged " \
                  "path is not exercised"

#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "gtest/gtest.h"

namespace shardkeep::fs::testing {

// A fresh directory under $TEST_TMPDIR (or /tmp), removed with its contents
// at destruction (modes are reset first so 0000 entries go too).
class TempDir {
 public:
  struct ReachableByAll {};
  TempDir() : TempDir(getenv("TEST_TMPDIR") != nullptr ? getenv("TEST_TMPDIR") : "/tmp") {}
  // Under /tmp and mode 0755, for checks run as another user ($TEST_TMPDIR
  // may sit below root's private home).
  explicit TempDir(ReachableByAll) : TempDir("/tmp") { chmod(path_.c_str(), 0755); }
  explicit TempDir(const std::string& base) {
    std::string tmpl = base + "/fs_test.XXXXXX";
    char* dir = mkdtemp(tmpl.data());
    if (dir == nullptr) ADD_FAILURE() << "mkdtemp " << tmpl << " failed";
    path_ = tmpl;
  }
  ~TempDir() {
    nftw(
        path_.c_str(),
        [](const char* p, const struct stat*, int flag, struct FTW*) {
          if (flag == FTW_D) chmod(p, 0700);
          return 0;
        },
        64, FTW_PHYS);
    nftw(
        path_.c_str(),
        [](const char* p, const struct stat*, int, struct FTW*) {
          remove(p);
          return 0;
        },
        64, FTW_DEPTH | FTW_PHYS);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& data, mode_t mode = 0644) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ASSERT_EQ(close(fd), 0);
}

inline std::string ReadFile(const std::string& path) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<missing>";
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  close(fd);
  return out;
}

inline struct stat LstatOrDie(const std::string& path) {
  struct stat st = {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st;
}

constexpr uid_t kNobody = 65534;
constexpr int kCannotDropPrivileges = -1;

// True if this process may give files to other owners (root with
// CAP_CHOWN over uids 1234 and 5678; false for root in a user namespace
// that does not map them, as in Bazel's linux-sandbox).
inline bool CanChown() {
  static const bool can = [] {
    if (geteuid() != 0) return false;
    const char* base = getenv("TEST_TMPDIR");
    std::string probe = std::string(base != nullptr ? base : "/tmp") + "/chown_probe.XXXXXX";
    int fd = mkstemp(probe.data());
    if (fd < 0) return false;
    bool ok = fchown(fd, 1234, 5678) == 0;
    close(fd);
    unlink(probe.c_str());
    return ok;
  }();
  return can;
}

// Runs `check` in a forked child whose uid/gid are `kNobody` and returns its
// exit status (0 = passed); kCannotDropPrivileges if the child could not
// become nobody (not root, or root in a user namespace without that uid).
// Lets root exercise the non-root code paths for real.
inline int RunAsNobody(const std::function<int()>& check) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setresgid(kNobody, kNobody, kNobody) != 0 ||
        setresuid(kNobody, kNobody, kNobody) != 0) {
      _exit(100);
    }
    _exit(check());
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return 101;
  if (!WIFEXITED(status)) return 102;
  return WEXITSTATUS(status) == 100 ? kCannotDropPrivileges : WEXITSTATUS(status);
}

}  // namespace shardkeep::fs::testing

#endif  // SHARDKEEP_CUSTOMER_FS_TEST_UTIL_H_

// RestoreTarget: writes a tree back below one directory and nowhere else.
//
// Every path arrives as components. Each component must be a safe name, each
// parent is reached by openat(O_NOFOLLOW|O_DIRECTORY) from the target's own
// fd, and each entry is made with an *at() call on its parent's fd without
// following a final symlink. So whatever a snapshot holds ("..", "/", a
// symlink restored earlier where a directory is expected later), nothing is
// created or changed outside the target. (A local user who can rename
// directories inside the target while restore runs is out of scope.)
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <unordered_map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "customer/fs/fs.h"
#include "customer/fs/internal.h"

namespace shardkeep::fs {
namespace {

using internal::ErrnoStatus;
using internal::UniqueFd;
using Path = RestoreTarget::Path;

// Directory fds kept open to spare re-walking from the root for every file;
// bounded well below the usual 1024-descriptor limit.
constexpr size_t kMaxCachedDirs = 256;

class PosixRestoreTarget;

// Writes a restored file under a temporary name in its directory and renames
// it into place in Finish, so the real name never shows a half-written file
// (restore interrupted, or the file's data lost): it keeps whatever was there
// before until the complete file replaces it. A writer destroyed unfinished
// removes its temporary file. A restore killed outright (SIGKILL, power) can
// leave ".sk-restore-*" files behind; never the real name half-written.
class PosixFileWriter : public FileWriter {
 public:
  PosixFileWriter(PosixRestoreTarget* target, std::shared_ptr<const UniqueFd> parent, Path path,
                  std::string tmp_name, UniqueFd fd, std::string description)
      : target_(target),
        parent_(std::move(parent)),
        path_(std::move(path)),
        tmp_name_(std::move(tmp_name)),
        fd_(std::move(fd)),
        description_(std::move(description)) {}

  ~PosixFileWriter() override {
    if (finished_) return;
    fd_.Reset();
    unlinkat(parent_->get(), tmp_name_.c_str(), 0);
  }

  absl::Status WriteAt(uint64_t offset, std::string_view data) override {
    if (!fd_.valid())
      return absl::FailedPreconditionError(absl::StrCat(description_, ": finished"));
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = pwrite(fd_.get(), data.data() + done, data.size() - done,
                         static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "writing", description_);
      }
      done += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Finish(uint64_t size) override;

 private:
  PosixRestoreTarget* const target_;  // outlives the writer
  const std::shared_ptr<const UniqueFd> parent_;
  const Path path_;
  const std::string tmp_name_;
  UniqueFd fd_;
  const std::string description_;
  bool finished_ = false;
};

const char* TypeName(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symlink";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "of unknown type";
}

bool TypeMatches(mode_t mode, NodeType type) {
  switch (type) {
    case NodeType::kFile:
      return S_ISREG(mode);
    case NodeType::kDir:
      return S_ISDIR(mode);
    case NodeType::kSymlink:
      return S_ISLNK(mode);
    case NodeType::kFifo:
      return S_ISFIFO(mode);
    case NodeType::kCharDev:
      return S_ISCHR(mode);
    case NodeType::kBlockDev:
      return S_ISBLK(mode);
    case NodeType::kSocket:
      return S_ISSOCK(mode);
  }
  return false;
}

bool BestEffortXattrError(int err) {
  return err == EPERM || err == EACCES || err == ENOTSUP || err == EOPNOTSUPP;
}

class PosixRestoreTarget : public RestoreTarget {
 public:
  explicit PosixRestoreTarget(UniqueFd root)
      : root_(std::make_shared<UniqueFd>(std::move(root))), is_root_(geteuid() == 0) {}

  absl::Status MakeDir(const Path& path) override {
    if (path.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::shared_ptr<const UniqueFd> parent, OpenParent(path));
    const char* name = path.back().c_str();
    if (mkdirat(parent->get(), name, 0700) == 0) return absl::OkStatus();
    if (errno != EEXIST) return ErrnoStatus(errno, "creating directory", Describe(path));
    struct stat st;
    if (fstatat(parent->get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
      return absl::OkStatus();  // kept as it is; ApplyMetadata sets its metadata
    }
    RETURN_IF_ERROR(RemoveExisting(parent->get(), path));
    if (mkdirat(parent->get(), name, 0700) != 0) {
      return ErrnoStatus(errno, "creating directory", Describe(path));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<FileWriter>> CreateFile(const Path& path) override {
    RETURN_IF_ERROR(CheckNotRoot(path));
    ASSIGN_OR_RETURN(std::shared_ptr<const UniqueFd> parent, OpenParent(path));
    // A fresh temporary name (O_EXCL|O_NOFOLLOW: a new inode, never an
    // existing file or a symlink's target); short, so any real name's
    // directory can hold it.
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::string tmp = absl::StrCat(".sk-restore-", getpid(), "-", tmp_counter_.fetch_add(1));
      int fd = openat(parent->get(), tmp.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0 && errno == EEXIST) continue;
      if (fd < 0) return ErrnoStatus(errno, "creating", Describe(path));
      return std::unique_ptr<FileWriter>(new PosixFileWriter(
          this, std::move(parent), path, std::move(tmp), UniqueFd(fd), Describe(path)));
    }
    return absl::InternalError(
        absl::StrCat("creating ", Describe(path), ": no free temporary name in its directory"));
  }

  // Moves the finished temporary file `tmp_name` (in `dirfd`) to `path`,
  // replacing what is there (a directory only if empty).
  absl::Status RenameIntoPlace(int dirfd, const std::string& tmp_name, const Path& path) {
    return CreateReplacing(dirfd, path, "creating", [&] {
      // renameat replaces a file, symlink or FIFO atomically; a directory in
      // the way (EISDIR, ENOTEMPTY) is removed by CreateReplacing if empty.
      int r = renameat(dirfd, tmp_name.c_str(), dirfd, path.back().c_str());
      if (r != 0 && (errno == EISDIR || errno == ENOTEMPTY)) errno = EEXIST;
      return r;
    });
  }

  absl::Status MakeSymlink(const Path& path, const std::string& target) override {
    RETURN_IF_ERROR(CheckNotRoot(path));
    if (target.empty() || target.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "symlink ", Describe(path), ": invalid target \"", PrintablePath(target), "\""));
    }
    ASSIGN_OR_RETURN(std::shared_ptr<const UniqueFd> parent, OpenParent(path));
    return CreateReplacing(parent->get(), path, "creating symlink", [&] {
      return symlinkat(target.c_str(), parent->get(), path.back().c_str());
    });
  }

  absl::Status MakeSpecial(const Path& path, const Node& node) override {
    RETURN_IF_ERROR(CheckNotRoot(path));
    mode_t type;
    switch (node.type) {
      case NodeType::kFifo:
        type = S_IFIFO;
        break;
      case NodeType::kCharDev:
        type = S_IFCHR;
        break;
      case NodeType::kBlockDev:
        type = S_IFBLK;
        break;
      case NodeType::kSocket:
        return absl::InvalidArgumentError(
            absl::StrCat(Describe(path), ": sockets are not restored"));
      default:
        return absl::InvalidArgumentError(
            absl::StrCat(Describe(path), ": not a FIFO or device node"));
    }
    if (type != S_IFIFO && !is_root_) {
      return absl::PermissionDeniedError(
          absl::StrCat("device node ", Describe(path), " not restored: needs root"));
    }
    ASSIGN_OR_RETURN(std::shared_ptr<const UniqueFd> parent, OpenParent(path));
    dev_t rdev = type == S_IFIFO ? 0 : static_cast<dev_t>(node.rdev);
    return CreateReplacing(
        parent->get(), path, type == S_IFIFO ? "creating FIFO" : "creating device node",
        [&] { return mknodat(parent->get(), path.back().c_str(), type | 0600, rdev); });
  }

  absl::Status MakeHardlink(const Path& path, const Path& existing) override {
    RETURN_IF_ERROR(CheckNotRoot(path));
    RETURN_IF_ERROR(CheckNotRoot(existing));
    if (path == existing) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::shared_ptr<const UniqueFd> from, OpenParent(existing));
    ASSIGN_OR_RETURN(std::shared_ptr<const UniqueFd> parent, OpenParent(path));
    struct stat a, b;
    if (fstatat(from->get(), existing.back().c_str(), &a, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(errno, absl::StrCat("linking ", Describe(path), " to"),
                         Describe(existing));
    }
    if (fstatat(parent->get(), path.back().c_str(), &b, AT_SYMLINK_NOFOLLOW) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
      return absl::OkStatus();  // already that link
    }
    if (S_ISDIR(a.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("linking ", Describe(path), " to ", Describe(existing), ": a directory"));
    }
    // flags 0: a symlink at `existing` is linked itself, never followed.
    absl::Status st = CreateReplacing(parent->get(), path, "linking", [&] {
      return linkat(from->get(), existing.back().c_str(), parent->get(), path.back().c_str(), 0);
    });
    if (!st.ok()) {
      return absl::Status(st.code(), absl::StrCat(st.message(), " (to ", Describe(existing), ")"));
    }
    return absl::OkStatus();
  }

  absl::Status ApplyMetadata(const Path& path, const Node& node) override {
    if (path.empty()) return ApplyToRoot(node);
    ASSIGN_OR_RETURN(std::shared_ptr<const UniqueFd> parent, OpenParent(path));
    const int dirfd = parent->get();
    const char* name = path.back().c_str();
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(errno, "setting metadata of", Describe(path));
    }
    if (!TypeMatches(st.st_mode, node.type)) {
      return absl::FailedPreconditionError(
          absl::StrCat("setting metadata of ", Describe(path), ": it is ", TypeName(st.st_mode)));
    }
    const bool symlink = node.type == NodeType::kSymlink;
    if (is_root_ && fchownat(dirfd, name, node.uid, node.gid, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(errno, "setting the owner of", Describe(path));
    }
    // lsetxattr on /proc/self/fd/<parent>/<name>: resolved from our own
    // parent fd, the final component not followed.
    const std::string proc_path = absl::StrCat("/proc/self/fd/", dirfd, "/", path.back());
    for (const Xattr& x : node.xattrs) {
      bool user = absl::StartsWith(x.name, "user.");
      if (symlink && user) continue;  // Linux allows user.* only on files and directories
      if (lsetxattr(proc_path.c_str(), x.name.c_str(), x.value.data(), x.value.size(), 0) != 0) {
        int err = errno;
        if (!user && BestEffortXattrError(err)) continue;
        return ErrnoStatus(err, absl::StrCat("setting xattr ", PrintablePath(x.name), " of"),
                           Describe(path));
      }
    }
    // AT_SYMLINK_NOFOLLOW (glibc >= 2.32): refuses rather than follows if a
    // symlink appeared in between.
    if (!symlink && fchmodat(dirfd, name, node.mode & 07777, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(errno, "setting the mode of", Describe(path));
    }
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1] = ToTimespec(node.mtime_ns);
    if (utimensat(dirfd, name, times, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(errno, "setting the mtime of", Describe(path));
    }
    return absl::OkStatus();
  }

  std::string Describe(const Path& path) const override {
    if (path.empty()) return ".";
    std::string out;
    for (size_t i = 0; i < path.size(); ++i) {
      if (i > 0) out += '/';
      out += PrintablePath(path[i]);
    }
    return out;
  }

 private:
  static struct timespec ToTimespec(int64_t ns) {
    struct timespec ts;
    int64_t sec = ns / 1000000000, rem = ns % 1000000000;
    if (rem < 0) {  // before 1970: nanoseconds stay in [0, 1e9)
      rem += 1000000000;
      --sec;
    }
    ts.tv_sec = static_cast<time_t>(sec);
    ts.tv_nsec = static_cast<long>(rem);
    return ts;
  }

  absl::Status CheckNotRoot(const Path& path) const {
    if (path.empty()) {
      return absl::InvalidArgumentError("the restore target itself cannot be replaced");
    }
    return absl::OkStatus();
  }

  absl::Status ApplyToRoot(const Node& node) {
    if (node.type != NodeType::kDir) {
      return absl::FailedPreconditionError("setting metadata of .: it is a directory");
    }
    const int fd = root_->get();
    if (is_root_ && fchown(fd, node.uid, node.gid) != 0) {
      return ErrnoStatus(errno, "setting the owner of", ".");
    }
    for (const Xattr& x : node.xattrs) {
      if (fsetxattr(fd, x.name.c_str(), x.value.data(), x.value.size(), 0) != 0) {
        int err = errno;
        if (!absl::StartsWith(x.name, "user.") && BestEffortXattrError(err)) continue;
        return ErrnoStatus(err, absl::StrCat("setting xattr ", PrintablePath(x.name), " of"), ".");
      }
    }
    if (fchmod(fd, node.mode & 07777) != 0) return ErrnoStatus(errno, "setting the mode of", ".");
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1] = ToTimespec(node.mtime_ns);
    if (futimens(fd, times) != 0) return ErrnoStatus(errno, "setting the mtime of", ".");
    return absl::OkStatus();
  }

  // Cache key of the directory made of path[0, n): components joined by '/'
  // (unambiguous: safe names hold no '/').
  static std::string Key(const Path& path, size_t n) {
    return absl::StrJoin(path.begin(), path.begin() + n, "/");
  }

  // The fd of path's parent directory, after checking every component.
  absl::StatusOr<std::shared_ptr<const UniqueFd>> OpenParent(const Path& path) {
    for (const std::string& name : path) {
      if (!IsSafeName(name)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "refusing to restore ", Describe(path), ": unsafe name \"", PrintablePath(name), "\""));
      }
    }
    if (path.empty()) return absl::InvalidArgumentError("empty path");
    const size_t depth = path.size() - 1;  // components of the parent
    std::shared_ptr<const UniqueFd> dir = root_;
    size_t have = 0;
    {
      absl::MutexLock lock(&mu_);
      for (size_t n = depth; n > 0; --n) {
        auto it = dirs_.find(Key(path, n));
        if (it != dirs_.end()) {
          dir = it->second;
          have = n;
          break;
        }
      }
    }
    for (size_t n = have + 1; n <= depth; ++n) {
      int fd =
          openat(dir->get(), path[n - 1].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        int err = errno;
        Path sub(path.begin(), path.begin() + n);
        if (err == ELOOP || err == ENOTDIR) {
          return absl::FailedPreconditionError(
              absl::StrCat("refusing to restore ", Describe(path), ": ", Describe(sub),
                           " is not a directory (a symlink is never followed)"));
        }
        return ErrnoStatus(err, absl::StrCat("restoring ", Describe(path), ": opening"),
                           Describe(sub));
      }
      auto next = std::make_shared<const UniqueFd>(fd);
      {
        absl::MutexLock lock(&mu_);
        if (dirs_.size() >= kMaxCachedDirs) dirs_.clear();  // in-use fds live on in their users
        dirs_[Key(path, n)] = next;
      }
      dir = std::move(next);
    }
    return dir;
  }

  // Runs `create` (a syscall returning -1 and errno on failure); if the name
  // is taken, removes what is there (RemoveExisting) and runs it once more.
  // Trying first saves a syscall per entry in the common case, a fresh target.
  template <typename Create>
  absl::Status CreateReplacing(int dirfd, const Path& path, const char* what, Create create) {
    if (create() >= 0) return absl::OkStatus();
    if (errno != EEXIST) return ErrnoStatus(errno, what, Describe(path));
    RETURN_IF_ERROR(RemoveExisting(dirfd, path));
    if (create() >= 0) return absl::OkStatus();
    return ErrnoStatus(errno, what, Describe(path));
  }

  // Removes whatever is at `path` (in `dirfd`) so a new entry can take its
  // place. A directory goes only if empty, and leaves the fd cache.
  absl::Status RemoveExisting(int dirfd, const Path& path) {
    const char* name = path.back().c_str();
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return absl::OkStatus();
    if (errno != EISDIR) return ErrnoStatus(errno, "replacing", Describe(path));
    if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0) {
      if (errno == ENOTEMPTY || errno == EEXIST) {
        return absl::FailedPreconditionError(
            absl::StrCat("replacing ", Describe(path), ": a non-empty directory is in the way"));
      }
      return ErrnoStatus(errno, "replacing", Describe(path));
    }
    const std::string key = Key(path, path.size());
    const std::string below = key + "/";
    absl::MutexLock lock(&mu_);
    for (auto it = dirs_.begin(); it != dirs_.end();) {
      if (it->first == key || absl::StartsWith(it->first, below)) {
        it = dirs_.erase(it);
      } else {
        ++it;
      }
    }
    return absl::OkStatus();
  }

  const std::shared_ptr<const UniqueFd> root_;
  const bool is_root_;
  std::atomic<uint64_t> tmp_counter_{0};
  absl::Mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const UniqueFd>> dirs_ ABSL_GUARDED_BY(mu_);
};

absl::Status PosixFileWriter::Finish(uint64_t size) {
  if (!fd_.valid()) return absl::FailedPreconditionError(absl::StrCat(description_, ": finished"));
  if (ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) {
    int err = errno;
    fd_.Reset();
    return ErrnoStatus(err, "setting the size of", description_);
  }
  RETURN_IF_ERROR(fd_.Close(description_));
  RETURN_IF_ERROR(target_->RenameIntoPlace(parent_->get(), tmp_name_, path_));
  finished_ = true;
  return absl::OkStatus();
}

}  // namespace

bool IsSafeName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

absl::StatusOr<std::unique_ptr<RestoreTarget>> RestoreTarget::Open(const std::string& target_dir) {
  if (target_dir.empty()) return absl::InvalidArgumentError("empty restore target");
  // mkdir -p: the target path is the user's choice, so it may follow symlinks.
  for (size_t pos = 1; pos <= target_dir.size(); ++pos) {
    if (pos != target_dir.size() && target_dir[pos] != '/') continue;
    std::string prefix = target_dir.substr(0, pos);
    if (mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "creating restore target", PrintablePath(prefix));
    }
  }
  UniqueFd fd(open(target_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "opening restore target", PrintablePath(target_dir));
  return std::unique_ptr<RestoreTarget>(new PosixRestoreTarget(std::move(fd)));
}

}  // namespace shardkeep::fs

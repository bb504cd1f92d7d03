// Backup side metadata: Lstat, ListDir and PrintablePath.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "customer/fs/fs.h"
#include "customer/fs/internal.h"

namespace shardkeep::fs {
namespace {

using internal::ErrnoStatus;
using internal::UniqueFd;

// Owner and group names by number. Name service lookups (NSS: files, LDAP,
// sssd) can be slow, and a home directory has few distinct owners, so each
// number is looked up once per process, unresolvable ones included.
class OwnerNames {
 public:
  std::string User(uint32_t uid) { return Lookup(uid, /*is_user=*/true); }
  std::string Group(uint32_t gid) { return Lookup(gid, /*is_user=*/false); }

 private:
  std::string Lookup(uint32_t id, bool is_user) {
    auto& cache = is_user ? users_ : groups_;
    {
      absl::MutexLock lock(&mu_);
      auto it = cache.find(id);
      if (it != cache.end()) return it->second;
    }
    // Looked up without the lock (NSS may block); a concurrent duplicate
    // lookup is harmless.
    std::string name = is_user ? ResolveUser(id) : ResolveGroup(id);
    absl::MutexLock lock(&mu_);
    cache.emplace(id, name);
    return name;
  }

  static size_t InitialBufferSize(int which) {
    long n = sysconf(which);
    return n > 0 ? static_cast<size_t>(n) : 1024;
  }

  static std::string ResolveUser(uint32_t uid) {
    std::vector<char> buf(InitialBufferSize(_SC_GETPW_R_SIZE_MAX));
    for (;;) {
      struct passwd pw, *result = nullptr;
      int rc = getpwuid_r(uid, &pw, buf.data(), buf.size(), &result);
      if (rc == ERANGE && buf.size() < (1u << 20)) {
        buf.resize(buf.size() * 2);
        continue;
      }
      return (rc == 0 && result != nullptr) ? std::string(pw.pw_name) : std::string();
    }
  }

  static std::string ResolveGroup(uint32_t gid) {
    std::vector<char> buf(InitialBufferSize(_SC_GETGR_R_SIZE_MAX));
    for (;;) {
      struct group gr, *result = nullptr;
      int rc = getgrgid_r(gid, &gr, buf.data(), buf.size(), &result);
      if (rc == ERANGE && buf.size() < (1u << 20)) {
        buf.resize(buf.size() * 2);
        continue;
      }
      return (rc == 0 && result != nullptr) ? std::string(gr.gr_name) : std::string();
    }
  }

  absl::Mutex mu_;
  std::unordered_map<uint32_t, std::string> users_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<uint32_t, std::string> groups_ ABSL_GUARDED_BY(mu_);
};

OwnerNames& Owners() {
  static OwnerNames* owners = new OwnerNames();  // never destroyed: used by any thread at exit
  return *owners;
}

bool IgnorableXattrError(int err) {
  // ENOTSUP: the file system has no xattrs. ENODATA: removed since listed.
  // EACCES/EPERM: a namespace we may not read (trusted.* when not root).
  return err == ENOTSUP || err == ENODATA || err == EACCES || err == EPERM;
}

// Every readable xattr of `path` (not following a final symlink), sorted by name.
absl::StatusOr<std::vector<Xattr>> ReadXattrs(const std::string& path) {
  std::vector<Xattr> out;
  std::string names;
  for (;;) {
    ssize_t n = llistxattr(path.c_str(), nullptr, 0);
    if (n < 0) {
      if (IgnorableXattrError(errno)) return out;
      return ErrnoStatus(errno, "listing xattrs of", PrintablePath(path));
    }
    if (n == 0) return out;
    names.resize(n);
    n = llistxattr(path.c_str(), names.data(), names.size());
    if (n < 0 && errno == ERANGE) continue;  // grew in between
    if (n < 0) {
      if (IgnorableXattrError(errno)) return out;
      return ErrnoStatus(errno, "listing xattrs of", PrintablePath(path));
    }
    names.resize(n);
    break;
  }
  for (size_t pos = 0; pos < names.size();) {
    size_t end = names.find('\0', pos);
    if (end == std::string::npos) end = names.size();
    std::string name = names.substr(pos, end - pos);
    pos = end + 1;
    if (name.empty()) continue;
    std::string value;
    bool keep = true;
    for (;;) {
      ssize_t n = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
      if (n < 0) {
        if (!IgnorableXattrError(errno)) {
          return ErrnoStatus(errno, absl::StrCat("reading xattr ", name, " of"),
                             PrintablePath(path));
        }
        keep = false;
        break;
      }
      value.resize(n);
      if (n == 0) break;
      n = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
      if (n < 0 && errno == ERANGE) continue;
      if (n < 0) {
        if (!IgnorableXattrError(errno)) {
          return ErrnoStatus(errno, absl::StrCat("reading xattr ", name, " of"),
                             PrintablePath(path));
        }
        keep = false;
        break;
      }
      value.resize(n);
      break;
    }
    if (keep) out.push_back(Xattr{std::move(name), std::move(value)});
  }
  std::sort(out.begin(), out.end(), [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  return out;
}

NodeType TypeOf(mode_t mode) {
  if (S_ISDIR(mode)) return NodeType::kDir;
  if (S_ISLNK(mode)) return NodeType::kSymlink;
  if (S_ISFIFO(mode)) return NodeType::kFifo;
  if (S_ISCHR(mode)) return NodeType::kCharDev;
  if (S_ISBLK(mode)) return NodeType::kBlockDev;
  if (S_ISSOCK(mode)) return NodeType::kSocket;
  return NodeType::kFile;
}

int64_t Nanos(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string LastComponent(const std::string& path) {
  size_t end = path.size();
  while (end > 1 && path[end - 1] == '/') --end;
  if (end == 1 && path[0] == '/') return "/";
  size_t slash = path.rfind('/', end - 1);
  size_t begin = slash == std::string::npos ? 0 : slash + 1;
  return path.substr(begin, end - begin);
}

}  // namespace

std::vector<std::string> CleanComponents(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view c = path.substr(i, j - i);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.emplace_back(c);
    }
    i = j + 1;
  }
  return parts;
}

std::string PrintablePath(std::string_view raw) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size());
  for (unsigned char c : raw) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        }
    }
  }
  return out;
}

absl::StatusOr<Node> Lstat(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "lstat", PrintablePath(path));
  Node node;
  node.name = LastComponent(path);
  node.path = path;
  node.type = TypeOf(st.st_mode);
  node.mode = st.st_mode & 07777;
  node.uid = st.st_uid;
  node.gid = st.st_gid;
  node.user = Owners().User(st.st_uid);
  node.group = Owners().Group(st.st_gid);
  node.mtime_ns = Nanos(st.st_mtim);
  node.ctime_ns = Nanos(st.st_ctim);
  node.size = node.type == NodeType::kFile ? static_cast<uint64_t>(st.st_size) : 0;
  node.dev = st.st_dev;
  node.inode = st.st_ino;
  node.nlink = st.st_nlink;
  if (node.type == NodeType::kCharDev || node.type == NodeType::kBlockDev) node.rdev = st.st_rdev;
  if (node.type == NodeType::kSymlink) {
    // st_size is the target's length, but it may change (or be 0 on some
    // file systems such as /proc): grow until the target fits.
    std::string target(st.st_size > 0 ? st.st_size + 1 : 256, '\0');
    for (;;) {
      ssize_t n = readlink(path.c_str(), target.data(), target.size());
      if (n < 0) return ErrnoStatus(errno, "readlink", PrintablePath(path));
      if (static_cast<size_t>(n) < target.size()) {
        target.resize(n);
        break;
      }
      target.resize(target.size() * 2);
    }
    node.symlink_target = std::move(target);
  }
  ASSIGN_OR_RETURN(node.xattrs, ReadXattrs(path));
  return node;
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ELOOP || err == ENOTDIR) {
      return absl::FailedPreconditionError(
          absl::StrCat("listing ", PrintablePath(path), ": not a directory"));
    }
    return ErrnoStatus(err, "opening directory", PrintablePath(path));
  }
  DIR* dir = fdopendir(fd.get());
  if (dir == nullptr) return ErrnoStatus(errno, "opening directory", PrintablePath(path));
  fd.release();  // owned by `dir` now
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    struct dirent* entry = readdir(dir);
    if (entry == nullptr) {
      int err = errno;
      closedir(dir);
      if (err != 0) return ErrnoStatus(err, "reading directory", PrintablePath(path));
      break;
    }
    std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());  // std::string compares bytes as unsigned: bytewise
  return names;
}

}  // namespace shardkeep::fs

#include "supplier/fragment_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/units.h"

namespace shardkeep::supplier {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kTmpSuffix[] = ".tmp";

std::string Hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHexDigits[c >> 4]);
    out.push_back(kHexDigits[c & 15]);
  }
  return out;
}

// Inverse of Hex for exactly 2 * kFileIdSize lower-case digits; false otherwise.
bool UnHexFileId(std::string_view hex, std::string* out) {
  if (hex.size() != 2 * kFileIdSize) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (size_t j = i; j < i + 2; ++j) {
      char c = hex[j];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    out->push_back(static_cast<char>(v));
  }
  return true;
}

absl::Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == ENOSPC || err == EDQUOT) {
    // Said so the customer (and the operator's log) can tell a full disk
    // from a full quota: both are RESOURCE_EXHAUSTED.
    struct statvfs vfs;
    const std::string dir = std::filesystem::path(path).parent_path().string();
    std::string free;
    if (statvfs(dir.c_str(), &vfs) == 0) {
      free = absl::StrCat(" (", FormatByteSize(static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize),
                          " free on that file system)");
    }
    return absl::ResourceExhaustedError(absl::StrCat("disk full: ", msg, free));
  }
  return absl::InternalError(msg);
}

absl::Status FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open directory", dir, errno);
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return ErrnoStatus("fsync directory", dir, err);
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

// Writes a temporary file, then Commit makes it durable under its final name.
//
// Direct I/O (O_DIRECT, when the file system allows it): bytes are gathered
// in an aligned 1 MiB buffer and written from there straight to the device.
// This skips the page cache, whose per-page cost (allocating and filling
// fresh pages) was the supplier's largest CPU cost when ingesting (see
// docs/STORAGE.md); the tail is padded to the alignment and the file then
// truncated to its exact size before fdatasync.
// Buffered I/O otherwise, starting writeback every 1 MiB (sync_file_range)
// so that the final fdatasync has little left to wait for.
class PosixWriter : public FragmentFileWriter {
 public:
  PosixWriter(int fd, bool direct, std::string tmp, std::string final_path, std::string dir)
      : fd_(fd),
        direct_(direct),
        tmp_(std::move(tmp)),
        final_(std::move(final_path)),
        dir_(std::move(dir)) {}

  ~PosixWriter() override {
    if (fd_ >= 0) close(fd_);
    if (!committed_) unlink(tmp_.c_str());
    std::free(buffer_);
  }

  absl::Status Append(std::string_view data) override {
    if (fd_ < 0) return absl::FailedPreconditionError("fragment writer already closed");
    if (!direct_) {
      RETURN_IF_ERROR(WriteAll(fd_, data.data(), data.size(), tmp_));
      written_ += data.size();
      if (written_ - flushed_ >= kBufferSize) {
        sync_file_range(fd_, flushed_, written_ - flushed_, SYNC_FILE_RANGE_WRITE);
        flushed_ = written_;
      }
      return absl::OkStatus();
    }
    if (buffer_ == nullptr) {
      buffer_ = static_cast<char*>(std::aligned_alloc(kAlignment, kBufferSize));
      if (buffer_ == nullptr) return absl::ResourceExhaustedError("out of memory");
    }
    while (!data.empty()) {
      size_t n = std::min(data.size(), kBufferSize - used_);
      std::memcpy(buffer_ + used_, data.data(), n);
      used_ += n;
      data.remove_prefix(n);
      if (used_ == kBufferSize) {
        RETURN_IF_ERROR(WriteAll(fd_, buffer_, kBufferSize, tmp_));
        written_ += kBufferSize;
        used_ = 0;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    if (fd_ < 0) return absl::FailedPreconditionError("fragment writer already closed");
    if (direct_ && used_ > 0) {
      size_t padded = (used_ + kAlignment - 1) / kAlignment * kAlignment;
      std::memset(buffer_ + used_, 0, padded - used_);
      RETURN_IF_ERROR(WriteAll(fd_, buffer_, padded, tmp_));
      written_ += used_;
      used_ = 0;
      if (ftruncate(fd_, static_cast<off_t>(written_)) != 0) {
        return ErrnoStatus("truncate", tmp_, errno);
      }
    }
    if (fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", tmp_, errno);
    int rc = close(fd_);
    fd_ = -1;
    if (rc != 0) return ErrnoStatus("close", tmp_, errno);
    if (rename(tmp_.c_str(), final_.c_str()) != 0) return ErrnoStatus("rename", tmp_, errno);
    committed_ = true;
    return FsyncDir(dir_);
  }

 private:
  static constexpr size_t kAlignment = 4096;
  static constexpr size_t kBufferSize = 1 << 20;
  int fd_;
  const bool direct_;
  const std::string tmp_, final_, dir_;
  char* buffer_ = nullptr;
  size_t used_ = 0;
  uint64_t written_ = 0, flushed_ = 0;
  bool committed_ = false;
};

class PosixReader : public FragmentFileReader {
 public:
  PosixReader(int fd, uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  ~PosixReader() override { close(fd_); }

  uint64_t size() const override { return size_; }

  absl::Status ReadAt(uint64_t offset, size_t n, std::string* out) override {
    if (offset >= size_) {
      out->clear();
      return absl::OkStatus();
    }
    if (n > size_ - offset) n = static_cast<size_t>(size_ - offset);
    out->resize(n);
    size_t done = 0;
    while (done < n) {
      ssize_t r = pread(fd_, &(*out)[done], n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read", path_, errno);
      }
      if (r == 0) {
        return absl::DataLossError(
            absl::StrCat("fragment file ", path_, " is shorter than when it was opened"));
      }
      done += static_cast<size_t>(r);
    }
    return absl::OkStatus();
  }

 private:
  const int fd_;
  const uint64_t size_;
  const std::string path_;
};

class PosixFragmentFiles : public FragmentFiles {
 public:
  PosixFragmentFiles(std::string dir, bool direct_io)
      : dir_(std::move(dir)), direct_io_(direct_io) {}

  absl::Status Init() {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) return absl::InternalError(absl::StrCat("mkdir ", dir_, ": ", ec.message()));
    for (int i = 0; i < 256; ++i) {
      std::string sub =
          absl::StrCat(dir_, "/", std::string{kHexDigits[i >> 4], kHexDigits[i & 15]});
      if (mkdir(sub.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoStatus("mkdir", sub, errno);
    }
    return FsyncDir(dir_);
  }

  absl::StatusOr<std::unique_ptr<FragmentFileWriter>> Create(std::string_view file_id) override {
    if (file_id.size() != kFileIdSize) return absl::InvalidArgumentError("bad fragment file id");
    std::string hex = Hex(file_id);
    std::string sub = SubDir(hex);
    std::string tmp = absl::StrCat(sub, "/", hex, kTmpSuffix);
    bool direct = direct_io_;
    int fd =
        open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | (direct ? O_DIRECT : 0), 0600);
    if (fd < 0 && direct && errno == EINVAL) {
      // The file system does not do O_DIRECT (e.g. an old tmpfs): buffered from now on.
      direct_io_ = false;
      direct = false;
      fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (fd < 0) return ErrnoStatus("create", tmp, errno);
    return std::unique_ptr<FragmentFileWriter>(
        new PosixWriter(fd, direct, tmp, absl::StrCat(sub, "/", hex), sub));
  }

  absl::StatusOr<std::unique_ptr<FragmentFileReader>> Open(std::string_view file_id) override {
    if (file_id.size() != kFileIdSize) return absl::InvalidArgumentError("bad fragment file id");
    std::string path = PathOf(file_id);
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
      int err = errno;
      close(fd);
      return ErrnoStatus("stat", path, err);
    }
    // Fragments are read whole and in order: ask for all of it now, so the
    // device works while the first megabytes travel to the customer.
    posix_fadvise(fd, 0, st.st_size, POSIX_FADV_SEQUENTIAL);
    posix_fadvise(fd, 0, st.st_size, POSIX_FADV_WILLNEED);
    return std::unique_ptr<FragmentFileReader>(
        new PosixReader(fd, static_cast<uint64_t>(st.st_size), path));
  }

  absl::Status Remove(std::string_view file_id) override {
    if (file_id.size() != kFileIdSize) return absl::InvalidArgumentError("bad fragment file id");
    std::string path = PathOf(file_id);
    if (unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> List() override {
    std::vector<std::string> ids;
    RETURN_IF_ERROR(Scan([&](const std::string&, std::string_view name) {
      std::string id;
      if (UnHexFileId(name, &id)) ids.push_back(std::move(id));
    }));
    return ids;
  }

  absl::Status Quarantine(std::string_view file_id) override {
    if (file_id.size() != kFileIdSize) return absl::InvalidArgumentError("bad fragment file id");
    const std::string qdir = absl::StrCat(dir_, "/quarantine");
    if (mkdir(qdir.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoStatus("mkdir", qdir, errno);
    const std::string from = PathOf(file_id);
    const std::string to = absl::StrCat(qdir, "/", Hex(file_id));
    if (rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename", from, errno);
    RETURN_IF_ERROR(FsyncDir(qdir));
    return FsyncDir(SubDir(Hex(file_id)));
  }

  absl::StatusOr<int> RemoveTemporaries() override {
    std::vector<std::string> doomed;
    RETURN_IF_ERROR(Scan([&](const std::string& sub, std::string_view name) {
      constexpr size_t kSuffixLen = sizeof(kTmpSuffix) - 1;
      if (name.size() > kSuffixLen && name.substr(name.size() - kSuffixLen) == kTmpSuffix) {
        doomed.push_back(absl::StrCat(sub, "/", std::string(name)));
      }
    }));
    for (const std::string& path : doomed) {
      if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink", path, errno);
    }
    return static_cast<int>(doomed.size());
  }

 private:
  std::string SubDir(const std::string& hex) const {
    return absl::StrCat(dir_, "/", hex.substr(0, 2));
  }
  std::string PathOf(std::string_view file_id) const {
    std::string hex = Hex(file_id);
    return absl::StrCat(SubDir(hex), "/", hex);
  }

  // Calls fn(subdir, name) for every entry of every shard directory.
  template <typename Fn>
  absl::Status Scan(Fn fn) {
    for (int i = 0; i < 256; ++i) {
      std::string sub =
          absl::StrCat(dir_, "/", std::string{kHexDigits[i >> 4], kHexDigits[i & 15]});
      DIR* d = opendir(sub.c_str());
      if (d == nullptr) {
        if (errno == ENOENT) continue;
        return ErrnoStatus("opendir", sub, errno);
      }
      while (struct dirent* e = readdir(d)) {
        std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        fn(sub, name);
      }
      closedir(d);
    }
    return absl::OkStatus();
  }

  const std::string dir_;
  std::atomic<bool> direct_io_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FragmentFiles>> NewPosixFragmentFiles(const std::string& dir,
                                                                     bool direct_io) {
  auto files = std::make_unique<PosixFragmentFiles>(dir, direct_io);
  RETURN_IF_ERROR(files->Init());
  return std::unique_ptr<FragmentFiles>(std::move(files));
}

}  // namespace shardkeep::supplier

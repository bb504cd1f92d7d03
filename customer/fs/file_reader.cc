// FileReader: reads one regular file for backup, sparse-aware.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "customer/fs/fs.h"
#include "customer/fs/internal.h"

namespace shardkeep::fs {
namespace {

using internal::ErrnoStatus;
using internal::UniqueFd;

int64_t Nanos(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Data regions of an open file of `size` bytes. SEEK_DATA/SEEK_HOLE give
// file-system-block granularity; the kernel reports the whole file as data
// where it cannot tell (and EINVAL/ENOTSUP on very old ones: one extent too).
absl::StatusOr<std::vector<Extent>> FindExtents(int fd, uint64_t size, const std::string& path) {
  std::vector<Extent> extents;
  if (size == 0) return extents;
  off_t pos = 0;
  while (static_cast<uint64_t>(pos) < size) {
    off_t data = lseek(fd, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole from pos to end of file
      if (errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP) {
        return std::vector<Extent>{Extent{0, size}};
      }
      return ErrnoStatus(errno, "finding data regions of", PrintablePath(path));
    }
    if (static_cast<uint64_t>(data) >= size) break;
    off_t hole = lseek(fd, data, SEEK_HOLE);
    if (hole < 0) {
      if (errno != ENXIO) return ErrnoStatus(errno, "finding holes of", PrintablePath(path));
      hole = static_cast<off_t>(size);  // file shrank since fstat
    }
    uint64_t end = std::min<uint64_t>(static_cast<uint64_t>(hole), size);
    if (end > static_cast<uint64_t>(data)) {
      extents.push_back(Extent{static_cast<uint64_t>(data), end - static_cast<uint64_t>(data)});
    }
    if (hole <= data) break;  // defensive: no progress
    pos = hole;
  }
  return extents;
}

class PosixFileReader : public FileReader {
 public:
  PosixFileReader(const Node& node, UniqueFd fd, std::vector<Extent> extents)
      : node_(node), fd_(std::move(fd)), extents_(std::move(extents)) {}

  const std::vector<Extent>& DataExtents() const override { return extents_; }

  absl::StatusOr<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    size_t done = 0;
    while (done < n) {
      ssize_t got = pread(fd_.get(), buf + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "reading", PrintablePath(node_.path));
      }
      if (got == 0) break;  // end of file
      done += static_cast<size_t>(got);
    }
    return done;
  }

  absl::Status CheckUnchanged() override {
    struct stat st;
    if (fstat(fd_.get(), &st) != 0) return ErrnoStatus(errno, "fstat", PrintablePath(node_.path));
    std::string what;
    if (static_cast<uint64_t>(st.st_size) != node_.size) {
      what = absl::StrCat("size ", node_.size, " -> ", st.st_size);
    } else if (Nanos(st.st_mtim) != node_.mtime_ns) {
      what = "mtime changed";
    } else if (Nanos(st.st_ctim) != node_.ctime_ns) {
      what = "ctime changed";
    } else {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(
        absl::StrCat(PrintablePath(node_.path), " changed while it was read (", what, ")"));
  }

 private:
  const Node node_;
  UniqueFd fd_;
  const std::vector<Extent> extents_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FileReader>> FileReader::Open(const Node& node) {
  const std::string printable = PrintablePath(node.path);
  if (node.type != NodeType::kFile) {
    return absl::InvalidArgumentError(absl::StrCat(printable, " is not a regular file"));
  }
  // O_NONBLOCK: if a FIFO replaced the file since it was listed, open() must
  // not wait for a writer; the fstat below then refuses it. O_NOATIME keeps a
  // backup from touching atimes, but only the owner (or root) may use it.
  const int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
  UniqueFd fd(open(node.path.c_str(), flags | O_NOATIME));
  if (!fd.valid() && errno == EPERM) fd = UniqueFd(open(node.path.c_str(), flags));
  if (!fd.valid()) {
    int err = errno;
    if (err == ELOOP) {
      return absl::FailedPreconditionError(
          absl::StrCat(printable, " changed since it was listed (now a symlink)"));
    }
    return ErrnoStatus(err, "opening", printable);
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "fstat", printable);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(printable, " changed since it was listed (no longer a regular file)"));
  }
  if (st.st_ino != node.inode || st.st_dev != node.dev) {
    return absl::FailedPreconditionError(
        absl::StrCat(printable, " changed since it was listed (replaced by another file)"));
  }
  int fl = fcntl(fd.get(), F_GETFL);
  if (fl >= 0) fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK);
  // Advice only: read-ahead for the sequential pass the archiver makes.
  posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  ASSIGN_OR_RETURN(std::vector<Extent> extents,
                   FindExtents(fd.get(), static_cast<uint64_t>(st.st_size), node.path));
  return std::unique_ptr<FileReader>(new PosixFileReader(node, std::move(fd), std::move(extents)));
}

}  // namespace shardkeep::fs

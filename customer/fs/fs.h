// The customer's view of the local file system: reading a tree for backup,
// writing one back safely for restore. Everything that touches local files
// goes through here, so the archiver and restorer stay testable and the
// "never write outside --target" rule lives in one place.
#ifndef SHARDKEEP_CUSTOMER_FS_FS_H_
#define SHARDKEEP_CUSTOMER_FS_FS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "customer/fs/node.h"

namespace shardkeep::fs {

// ---------------------------------------------------------------- backup side

// Metadata of `path` without following a final symlink: type, mode, owner
// (numbers and names), times in ns, size, link target, dev/inode/nlink, rdev,
// xattrs (every readable namespace; user.* at least). NotFound if it vanished,
// PermissionDenied if unreadable; the message names the path.
absl::StatusOr<Node> Lstat(const std::string& path);

// Entry names of a directory (without "." and ".."), sorted bytewise.
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path);

// Exclude patterns with restic's semantics: a pattern containing '/' is
// matched against the whole absolute path (and its prefixes: excluding a
// directory excludes what is under it), otherwise against each path
// component. Globs: '*' '?' '[...]' within a component, '**' across
// components. Lines of an exclude file: patterns, '#' comments, blanks ignored.
class ExcludeMatcher {
 public:
  static absl::StatusOr<ExcludeMatcher> Create(const std::vector<std::string>& patterns,
                                               const std::vector<std::string>& exclude_files);
  bool Excluded(const std::string& abs_path) const;

 private:
  std::vector<std::string> patterns_;
};

// Reads one regular file for backup. Open() refuses anything but a regular
// file (O_NOFOLLOW) and checks it is still the inode of `node`.
class FileReader {
 public:
  static absl::StatusOr<std::unique_ptr<FileReader>> Open(const Node& node);
  virtual ~FileReader() = default;
  // Regions that hold data, in order, from SEEK_DATA/SEEK_HOLE (the whole
  // file as one extent when the file system cannot tell). Bytes outside them
  // are holes and restore as holes.
  virtual const std::vector<Extent>& DataExtents() const = 0;
  // Reads up to n bytes at offset; returns bytes read (0 at end of file).
  virtual absl::StatusOr<size_t> ReadAt(uint64_t offset, char* buf, size_t n) = 0;
  // FailedPrecondition naming the file if its size, mtime or ctime changed
  // since Open() (the file changed while it was read).
  virtual absl::Status CheckUnchanged() = 0;
};

// --------------------------------------------------------------- restore side

// One component of a restored path: non-empty, no '/', no NUL, not "." or
// "..". Restore refuses (InvalidArgument, naming it) anything else.
bool IsSafeName(std::string_view name);

class FileWriter {
 public:
  virtual ~FileWriter() = default;
  virtual absl::Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // Sets the final size (ftruncate: unwritten ranges stay holes) and closes.
  virtual absl::Status Finish(uint64_t size) = 0;
};

// A restore target directory. Every operation takes the path below the target
// as components; each parent is opened with openat(O_NOFOLLOW|O_DIRECTORY),
// so no symlink, "..", or absolute name in a snapshot can make restore write
// outside the target. Existing entries at a path are replaced.
class RestoreTarget {
 public:
  // Creates target_dir (and parents) if missing.
  static absl::StatusOr<std::unique_ptr<RestoreTarget>> Open(const std::string& target_dir);
  virtual ~RestoreTarget() = default;

  using Path = std::vector<std::string>;
  // Creates a directory (0700 until ApplyMetadata) if missing.
  virtual absl::Status MakeDir(const Path& path) = 0;
  virtual absl::StatusOr<std::unique_ptr<FileWriter>> CreateFile(const Path& path) = 0;
  virtual absl::Status MakeSymlink(const Path& path, const std::string& target) = 0;
  // FIFOs always; device nodes only as root (PermissionDenied otherwise).
  virtual absl::Status MakeSpecial(const Path& path, const Node& node) = 0;
  virtual absl::Status MakeHardlink(const Path& path, const Path& existing) = 0;
  // Owner (when root, by number), mode, xattrs, then mtime (ns). For a
  // directory call it after everything inside it is restored.
  virtual absl::Status ApplyMetadata(const Path& path, const Node& node) = 0;
  virtual std::string Describe(const Path& path) const = 0;  // target-relative path for messages
};

}  // namespace shardkeep::fs

#endif  // SHARDKEEP_CUSTOMER_FS_FS_H_

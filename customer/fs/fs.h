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
// PermissionDenied if unreadable; the message names the path. `name` is the
// last component of `path` (trailing '/' ignored). Owner names are cached
// per process; thread-safe.
absl::StatusOr<Node> Lstat(const std::string& path);

// Entry names of a directory (without "." and ".."), sorted bytewise. A final
// symlink is not followed (FailedPrecondition: not a directory). Errors as
// for Lstat.
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path);

// Exclude patterns with restic's semantics (internal/filter). A pattern is
// cleaned (repeated '/', "." components and a trailing '/' removed) and split
// at '/' into components; a path is split the same way. Each component is
// matched like Go's filepath.Match, on raw bytes: '*' any run of bytes,
// '?' one byte, '[...]' a class ('[^...]' negated, ranges 'a-z'), '\\'
// escapes. A component that is exactly '**' matches any number (also zero)
// of whole path components.
//  - A pattern starting with '/' is anchored at the root and matches the path
//    or any of its prefixes: "/home/ann/.cache" excludes that directory and
//    everything under it.
//  - Any other pattern matches any run of consecutive components: "*.o"
//    matches every path with a component ending in ".o"; "foo/bar" matches
//    "/x/foo/bar" and "/x/foo/bar/baz".
//  - A pattern starting with '!' re-includes what it matches, evaluated in
//    order ("/data/*" then "!/data/keep" keeps /data/keep). As in restic the
//    walker does not descend into an excluded directory, so a '!' pattern
//    cannot bring back something below one.
// Lines of an exclude file: one pattern each, surrounding white space
// trimmed, '#' comments and blank lines ignored. Malformed patterns (an
// unclosed '[', a trailing '\\') are InvalidArgument naming the pattern; an
// unreadable exclude file is an error naming the file.
class ExcludeMatcher {
 public:
  static absl::StatusOr<ExcludeMatcher> Create(const std::vector<std::string>& patterns,
                                               const std::vector<std::string>& exclude_files);
  // True if `abs_path` (absolute, raw bytes) is excluded. Thread-safe.
  bool Excluded(const std::string& abs_path) const;
  bool empty() const { return patterns_.empty(); }

 private:
  struct Pattern {
    bool negated = false;
    std::vector<std::string> parts;  // components; parts[0] == "" for anchored patterns
  };
  std::vector<Pattern> patterns_;
};

// Reads one regular file for backup. Open() refuses anything but a regular
// file (O_NOFOLLOW; never blocks on a FIFO swapped in) and checks it is still
// the inode of `node` (same dev, inode, regular file), else
// FailedPrecondition naming the file; NotFound if it vanished,
// PermissionDenied if unreadable. Uses O_NOATIME when permitted.
// One reader is used by one thread at a time.
class FileReader {
 public:
  static absl::StatusOr<std::unique_ptr<FileReader>> Open(const Node& node);
  virtual ~FileReader() = default;
  // Regions that hold data, in order, from SEEK_DATA/SEEK_HOLE (the whole
  // file as one extent when the file system cannot tell; none for an empty
  // file). Bytes outside them are holes and restore as holes. Computed at
  // Open() from the size the file had then.
  virtual const std::vector<Extent>& DataExtents() const = 0;
  // Reads up to n bytes at offset; returns bytes read (0 at end of file).
  // Retries short reads and EINTR, so less than n means end of file.
  virtual absl::StatusOr<size_t> ReadAt(uint64_t offset, char* buf, size_t n) = 0;
  // FailedPrecondition naming the file if its size, mtime or ctime differ
  // from `node` (the file changed since it was listed or while it was read).
  virtual absl::Status CheckUnchanged() = 0;
};

// `raw` (a path or name in raw bytes) made safe for messages and terminals:
// printable ASCII as is, backslash, control and non-ASCII bytes C-escaped
// ("\n", "\xff").
std::string PrintablePath(std::string_view raw);

// The components of `path`, cleaned: empty ones and "." dropped, ".." takes
// off the one before it (never going above the root). "/a/./b/../c/" and
// "a//c" give {"a", "c"}.
std::vector<std::string> CleanComponents(std::string_view path);

// --------------------------------------------------------------- restore side

// One component of a restored path: non-empty, no '/', no NUL, not "." or
// "..". Restore refuses (InvalidArgument, naming it) anything else.
bool IsSafeName(std::string_view name);

// Writes one restored regular file. The data goes to a temporary file
// (".sk-restore-<pid>-<n>") in the file's directory; only Finish puts it under
// its real name, replacing what was there, so a file is never seen
// half-written under its real name. WriteAt may be called from several
// threads at once for disjoint ranges; Finish once, after every WriteAt.
// Destroying an unfinished writer removes the temporary file and leaves
// whatever was at the real name untouched. REQUIRES: the writer does not
// outlive its RestoreTarget.
class FileWriter {
 public:
  virtual ~FileWriter() = default;
  virtual absl::Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // Sets the final size (ftruncate: unwritten ranges stay holes), closes and
  // renames the file into place.
  virtual absl::Status Finish(uint64_t size) = 0;
};

// A restore target directory. Every operation takes the path below the target
// as components; each parent is opened with openat(O_NOFOLLOW|O_DIRECTORY)
// from the target root, every component must pass IsSafeName, and entries are
// created with *at() calls relative to their parent's fd, so no symlink, "..",
// or absolute name in a snapshot can make restore write outside the target.
// Existing entries at a path are replaced (a directory only if it is empty;
// MakeDir keeps an existing directory). New entries are private (0600/0700)
// until ApplyMetadata. Errors name the target-relative path (Describe).
// Thread-safe: operations on different paths may run concurrently.
class RestoreTarget {
 public:
  // Creates target_dir (and parents) if missing.
  static absl::StatusOr<std::unique_ptr<RestoreTarget>> Open(const std::string& target_dir);
  virtual ~RestoreTarget() = default;

  using Path = std::vector<std::string>;
  // Creates a directory (0700 until ApplyMetadata) if missing. An empty path
  // is the target itself (a no-op).
  virtual absl::Status MakeDir(const Path& path) = 0;
  // A writer for a new regular file at `path` (see FileWriter: nothing
  // appears at `path` until Finish).
  virtual absl::StatusOr<std::unique_ptr<FileWriter>> CreateFile(const Path& path) = 0;
  // `target` is stored as is (raw bytes; relative and dangling are fine).
  virtual absl::Status MakeSymlink(const Path& path, const std::string& target) = 0;
  // FIFOs always; device nodes only as root (PermissionDenied otherwise, also
  // when root lacks CAP_MKNOD); sockets never (InvalidArgument).
  virtual absl::Status MakeSpecial(const Path& path, const Node& node) = 0;
  // A hard link at `path` to the entry at `existing` (never following it).
  virtual absl::Status MakeHardlink(const Path& path, const Path& existing) = 0;
  // In this order: owner (when root, by number; chown clears setuid/setgid
  // and capabilities, so it goes first), xattrs (before the mode, so a
  // read-only mode cannot stop them), mode (not for symlinks), then mtime in
  // ns (atime left alone). user.* xattrs must be set (they are skipped for
  // symlinks, where Linux forbids them); other namespaces are best effort:
  // EPERM/ENOTSUP/EACCES on them are ignored. Nothing follows a final
  // symlink. An empty path is the target itself. For a directory call it
  // after everything inside it is restored.
  virtual absl::Status ApplyMetadata(const Path& path, const Node& node) = 0;
  // Target-relative path for messages ("home/ann/a\nb"), via PrintablePath.
  virtual std::string Describe(const Path& path) const = 0;
};

}  // namespace shardkeep::fs

#endif  // SHARDKEEP_CUSTOMER_FS_FS_H_

// FragmentFiles: where fragment bytes live on disk, one file per stored
// fragment, named by a random 16-byte file ID. This is the narrow seam between
// the supplier's store and the file system (as LevelDB's Env): the store never
// touches fragment files except through it, so tests wrap the real
// implementation to fail writes, syncs and renames on purpose
// (supplier/fault_injection.h).
//
// Crash contract of the real implementation (PosixFragmentFiles):
//   - Create() writes a temporary file that List() never reports.
//   - FragmentFileWriter::Commit() returns OK only once the bytes and the
//     final name are durable (fdatasync the file, rename it into place, fsync
//     the directory). A crash before that leaves at most a temporary, removed
//     by RemoveTemporaries() at the next start.
//   - Remove() is durable when it returns OK is NOT promised: a removed file
//     may reappear after a power loss; the store's start-up reconciliation
//     deletes files that no index record names.
// Thread-safety: all methods may be called concurrently; one writer or reader
// object is used by one thread at a time.
#ifndef SHARDKEEP_SUPPLIER_FRAGMENT_FILES_H_
#define SHARDKEEP_SUPPLIER_FRAGMENT_FILES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shardkeep::supplier {

inline constexpr size_t kFileIdSize = 16;

// Bytes being written to a new fragment file. Destroying a writer that was
// not committed removes its temporary file.
class FragmentFileWriter {
 public:
  virtual ~FragmentFileWriter() = default;
  // Appends bytes. An error leaves the writer unusable (destroy it).
  virtual absl::Status Append(std::string_view data) = 0;
  // Makes the file durable under its final name (see the crash contract).
  // After OK, FragmentFiles::Open(file_id) reads exactly the appended bytes.
  virtual absl::Status Commit() = 0;
};

// A committed fragment file opened for reading. Reading stays valid even if
// the file is removed meanwhile (POSIX unlink semantics).
class FragmentFileReader {
 public:
  virtual ~FragmentFileReader() = default;
  virtual uint64_t size() const = 0;
  // Reads up to n bytes at offset into *out (replacing it). Fewer bytes only
  // at the end of the file. An error is Internal/DataLoss with the file named.
  virtual absl::Status ReadAt(uint64_t offset, size_t n, std::string* out) = 0;
};

class FragmentFiles {
 public:
  virtual ~FragmentFiles() = default;

  // Starts a new file. REQUIRES: file_id is kFileIdSize bytes and unused.
  virtual absl::StatusOr<std::unique_ptr<FragmentFileWriter>> Create(std::string_view file_id) = 0;
  // Opens a committed file; NotFound if there is none with that ID.
  virtual absl::StatusOr<std::unique_ptr<FragmentFileReader>> Open(std::string_view file_id) = 0;
  // Removes a committed file; NotFound if absent.
  virtual absl::Status Remove(std::string_view file_id) = 0;
  // IDs of all committed files (for start-up reconciliation).
  virtual absl::StatusOr<std::vector<std::string>> List() = 0;
  // Deletes temporaries left by a crash. Call before serving.
  virtual absl::StatusOr<int> RemoveTemporaries() = 0;
  // Moves a committed file out of the store's sight instead of deleting it
  // (start-up reconciliation's orphans: after a database restored from an
  // older copy they are real data). Posix: <dir>/quarantine/<32 hex>, never
  // listed, never deleted by the supplier. NotFound if absent.
  virtual absl::Status Quarantine(std::string_view file_id) = 0;
};

// Files under `dir` (created if missing): dir/<first 2 hex digits>/<32 hex digits>,
// temporaries named <32 hex digits>.tmp beside them. direct_io writes with
// O_DIRECT where the file system supports it (falling back to buffered
// writes where it does not); reads are always buffered.
absl::StatusOr<std::unique_ptr<FragmentFiles>> NewPosixFragmentFiles(const std::string& dir,
                                                                     bool direct_io = true);

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_FRAGMENT_FILES_H_

// Restore: brings a snapshot (or part of it) back into a target directory
// (DESIGN.md "Restore, step by step").
//
// 1. Plan (one thread): walk the snapshot's trees; create directories,
//    symlinks, FIFOs, device nodes (as root) and empty files at once; for
//    every other file note which chunks of which blocks it needs.
// 2. Fetch (a few block workers): each takes the next block in plan order,
//    fetches any k fragments (data first, parity on error, timeout or hash
//    mismatch; all suppliers in parallel), verifies, decodes, opens, and
//    writes its chunks into the files that need them (holes stay holes).
//    A file gets its metadata, then its hard links, when its last chunk is in.
//    Only a few decoded blocks are held at once. A file is written under a
//    temporary name and renamed into place when complete (fs::FileWriter);
//    a file whose block cannot be had is lost: named, and nothing is left
//    at its name.
// 3. Directory metadata once a directory is complete (after the window that
//    wrote its last file; the walk is depth first), deepest first (so
//    mtimes stay put).
//
// All writes go through fs::RestoreTarget, which refuses to leave the target
// whatever names or symlinks the snapshot holds; names are also checked with
// fs::IsSafeName here so an unsafe one is reported and skipped.
#ifndef SHARDKEEP_CUSTOMER_RESTORE_RESTORER_H_
#define SHARDKEEP_CUSTOMER_RESTORE_RESTORER_H_

#include <string>
#include <vector>

#include "common/status.h"
#include "customer/repo/progress.h"
#include "customer/repo/repository.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

struct RestoreOptions {
  std::string target;
  // Absolute paths in the snapshot; empty restores everything. A path
  // restores itself and everything below it; its parent directories are
  // created (with their metadata).
  std::vector<std::string> includes;
  int block_workers = 4;
  // Memory the block workers share for the blocks they hold (each block's
  // fragments and sealed form while it is fetched and decoded, then its
  // opened form while its chunks are written; about twice the block size at
  // the peak): a worker waits before fetching until its block fits. A block
  // larger than all of it is still fetched, alone. The (at most two) decoded
  // blocks carried between windows come on top.
  size_t block_memory_bytes = 64 << 20;
  // The plan runs in windows, so memory does not grow with the snapshot (it
  // used to plan every file before fetching any block): the walk stops
  // planning once a window holds this many files or blocks, the window's
  // blocks are fetched and its files written, and the walk goes on. A block
  // that files of two windows need is fetched again, unless it is one of the
  // last two of the window before (kept decoded: backups pack files in walk
  // order, so that is where a window boundary cuts).
  size_t window_files = 16384;
  size_t window_blocks = 64;
};

struct RestoreResult {
  uint64_t files = 0;
  uint64_t dirs = 0;
  uint64_t others = 0;  // symlinks, FIFOs, devices
  uint64_t hardlinks = 0;
  uint64_t bytes = 0;  // file contents written
  uint64_t blocks = 0;
  uint64_t errors = 0;    // problems other than lost data (see lost_files)
  uint64_t warnings = 0;
  double seconds = 0;
  // Files (target-relative, printable) that could not be restored because
  // fewer than k fragments of a block they need could be fetched, and
  // directories whose listing was lost that way (ending in "/"). Nothing is
  // left at their names (an existing file there is kept as it was).
  std::vector<std::string> lost_files;
  // One line per supplier that failed during the restore: how (down, slow,
  // corrupt) and how often.
  std::vector<std::string> supplier_report;
  // Redundancy left, over the data blocks restored: how many more supplier
  // losses every one of them survives, counting suppliers that were down or
  // served corrupt fragments as lost (0 for lost blocks); `full_margin` is
  // n - k, and `margin` too when no data block was needed.
  int margin = -1;
  int full_margin = 0;
};

// Restores `snapshot` into options.target. REQUIRES: repo's index loaded.
// Per-file problems are reported to `progress` and counted in errors (the
// restore goes on); files lost for want of fragments are listed in
// lost_files (the first few also reported to `progress`), everything else is
// still restored. After the blocks, one warning per failing supplier and one
// when the margin is below n - k. A result with errors or lost files is
// returned as OK: the caller decides the exit code. Errors that stop
// everything are returned.
absl::StatusOr<RestoreResult> RunRestore(Repository& repo, const vault::v1::Snapshot& snapshot,
                                         const RestoreOptions& options, Progress& progress);

// The `restore` command below the CLI: Repository::OpenSnapshot(spec) (k
// suppliers, the index, the snapshot: an ID, a unique prefix, "latest"),
// then RunRestore. *restored gets the snapshot found.
absl::StatusOr<RestoreResult> RestoreSnapshot(Repository& repo, const std::string& spec,
                                              const RestoreOptions& options, Progress& progress,
                                              vault::v1::Snapshot* restored);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_RESTORE_RESTORER_H_

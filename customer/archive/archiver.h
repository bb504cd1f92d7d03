// Backup: walks paths and stores a snapshot of them in the vault
// (DESIGN.md "Backup, step by step"; docs/FORMAT.md for what is stored).
//
// The pipeline, each stage a thread (or a few) joined by bounded queues, so
// reading, chunking, hashing, compression, sealing, coding and the uploads to
// all suppliers overlap, and memory stays bounded whatever the tree's size:
//
//   walker --files--> reader/chunker --chunks--> hash+compress workers --+
//     |                                                                  v
//     +--dirs (post-order)--> tree builder --tree chunks------------> packer
//                                                                        |
//        sealed, coded blocks (at most a few in flight) --> per-supplier upload pools
//
// Unchanged files (same path, type, size, mtime, ctime, inode, device as in
// the parent snapshot) are not read: their chunk lists are reused. Chunks the
// vault already holds are not stored again.
#ifndef SHARDKEEP_CUSTOMER_ARCHIVE_ARCHIVER_H_
#define SHARDKEEP_CUSTOMER_ARCHIVE_ARCHIVER_H_

#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "customer/repo/progress.h"
#include "customer/repo/repository.h"
#include "customer/repo/vault_lock.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

class QuotaBudget;  // customer/repo/quota_budget.h

struct BackupOptions {
  std::vector<std::string> paths;  // absolute or relative; stored absolute
  std::vector<std::string> excludes;
  std::vector<std::string> exclude_files;
  bool one_file_system = false;
  std::vector<std::string> tags;
  std::string hostname;      // empty: gethostname()
  int workers = 2;           // hash+compress threads
  // Blocks being sealed or uploaded at once, and the bytes of their
  // fragments (repo/block_writer.h, Options).
  int blocks_in_flight = 3;
  size_t bytes_in_flight = 48 << 20;
  // Chunks read and waiting to be hashed: enough to keep the workers busy
  // while the reader opens the next files.
  size_t chunk_queue_bytes = 4 << 20;
  // Parent snapshot whose unchanged files are reused; null for none.
  const vault::v1::Snapshot* parent = nullptr;
  // The snapshot's time and the summary's seconds; null: RealClock().
  Clock* clock = nullptr;
  // Index checkpoints (docs/FORMAT.md, "Index"): the blocks committed so far
  // are recorded in an index piece once this many wait, or once this long
  // has passed with at least one waiting. A backup killed at any moment
  // loses only what was not checkpointed; the next one reuses the rest.
  size_t checkpoint_blocks = 8;
  int64_t checkpoint_ms = 5000;
  // Polled a few times a second; once it returns true the backup stops
  // reading, lets the blocks in flight finish, records every committed block
  // and returns kInterrupted. Empty: never.
  std::function<bool()> interrupted;
  // Called before every index piece and the snapshot record are stored: an
  // error (the vault lock may have lapsed: repo/vault_lock.h) stops the
  // backup there, keeping nothing half-referenced. Empty: always OK.
  std::function<absl::Status()> lock_held;
  // BackupPaths' lock (shared; prune excludes it).
  VaultLock::Options lock;
  // If set, each block is charged to it before upload; the backup stops
  // (kQuotaExceeded) before a block some supplier's quota cannot hold.
  // BackupPaths sets it from the contracts; null: the suppliers alone refuse.
  QuotaBudget* quota = nullptr;
};

struct BackupResult {
  vault::v1::Snapshot snapshot;  // as stored (with its summary)
  int warnings = 0;
  bool partial = false;  // some files could not be read
};

// The snapshot's parent: the newest snapshot with the same hostname and the
// same set of paths, or null.
const vault::v1::Snapshot* FindParent(const std::vector<vault::v1::Snapshot>& snapshots,
                                      const std::string& hostname,
                                      const std::vector<std::string>& abs_paths);

// Makes each path absolute and clean ("/a/./b/../c/" -> "/a/c", relative
// ones against the working directory). InvalidArgument for an empty path.
absl::StatusOr<std::string> AbsolutePath(const std::string& path);

// Runs a backup. REQUIRES: repo's index is loaded. Warnings go to `progress`.
// Errors that stop the backup (a block that could not be committed, the
// snapshot not stored) are returned; unreadable files only make the result
// partial.
absl::StatusOr<BackupResult> RunBackup(Repository& repo, const BackupOptions& options,
                                       Progress& progress);

// The `backup` command below the CLI: needs the commit threshold of
// suppliers to answer (kSuppliersUnreachable naming the others; a warning
// through `progress` names those down when fewer than n answer), loads the
// index and the snapshots, takes the parent from FindParent (options.parent
// is ignored), and runs RunBackup.
absl::StatusOr<BackupResult> BackupPaths(Repository& repo, BackupOptions options,
                                         Progress& progress);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_ARCHIVE_ARCHIVER_H_

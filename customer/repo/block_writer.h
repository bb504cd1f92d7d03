// Stores chunks as blocks (DESIGN.md "Backup" steps 5-8; docs/FORMAT.md
// "Blocks", "Commit rule"): packs them into an open block per kind, seals a
// full block with AES-256-GCM, cuts it into n fragments with Reed-Solomon,
// uploads fragment i to position i on all suppliers at once, applies the
// commit rule (all n, or degraded at CommitThreshold), and adds the block's
// record to the index. The archiver feeds it; repair and prune will reuse it.
//
// Threading: Add and Flush are called from one thread (the packer); uploads
// finish on the supplier set's pools. Memory is bounded whatever the size of
// the backup: the fragments of the blocks being sealed and uploaded share one
// byte budget (Options::bytes_in_flight; a block's fragments are charged
// before it is sealed and each one is returned as soon as its supplier has
// answered), and at most `blocks_in_flight` blocks are in flight at once. Add
// blocks until the next block fits.
//
// Failure: the first block that cannot be committed (fewer fragments stored
// than the commit rule needs, or the index refuses it) makes the writer
// failed: `on_error` is called once with the error (so the caller can stop
// feeding it), and Add, Flush and Wait return that error from then on.
// A supplier refusing a fragment for its quota (RESOURCE_EXHAUSTED) also
// fails the writer, with ErrorKind::kQuotaExceeded, even when the block
// itself could commit degraded (it does, and is recorded): going on would
// lose redundancy on every later block. Options::quota stops it earlier.
#ifndef SHARDKEEP_CUSTOMER_REPO_BLOCK_WRITER_H_
#define SHARDKEEP_CUSTOMER_REPO_BLOCK_WRITER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/workers.h"
#include "customer/repo/quota_budget.h"
#include "customer/repo/repository.h"
#include "customer/vault/block.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

class BlockWriter {
 public:
  struct Options {
    int blocks_in_flight = 3;  // sealed blocks being uploaded at once
    // If set (and outliving the writer), every sealed block is charged to it
    // before upload; a block it refuses is not uploaded and fails the
    // writer with its error (quota_budget.h).
    QuotaBudget* quota = nullptr;
    // Fragment bytes held at once by the blocks being sealed or uploaded
    // (n/k times the block size each). The default keeps three 8 MiB blocks
    // of a 4-of-2 vault in flight, or five of a 4-of-3 one: enough to keep
    // every supplier's stream busy across a block's commit on a slow link,
    // without holding more than it takes (docs/PERFORMANCE.md, "Memory").
    size_t bytes_in_flight = 48 << 20;
  };
  // `on_warning`: one line per degraded commit (once per set of missing
  // suppliers, not per block). `on_error`: see the file comment. Either may
  // be empty. Both are called from upload threads.
  BlockWriter(Repository& repo, Options options,
              std::function<void(const std::string&)> on_warning,
              std::function<void(const absl::Status&)> on_error);
  // Waits for the uploads still in flight.
  ~BlockWriter();
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;

  // Appends a chunk to the open block of `kind` (`stored` is its zstd frame
  // if `compressed`, else the raw chunk); seals and uploads blocks that are
  // full (the vault's block size, or kMaxChunksPerBlock chunks).
  absl::Status Add(vault::v1::BlockKind kind, const std::string& chunk_id,
                   const std::string& stored, uint32_t raw_length, bool compressed);
  // Blocks committed and not yet taken (TakeCommitted).
  size_t committed_pending() const;
  // Seals and uploads the open blocks (does not wait).
  absl::Status Flush();
  // Waits until no upload is in flight; the writer's error, if any.
  absl::Status Wait();

  // The records of the blocks committed since the last call (each record is
  // returned once), in commit order.
  std::vector<vault::v1::BlockRecord> TakeCommitted();

  uint64_t blocks() const { return blocks_.load(); }
  uint64_t blocks_degraded() const { return blocks_degraded_.load(); }

 private:
  struct Upload;
  void SealAndUpload(std::unique_ptr<BlockBuilder> b);
  void OnFragmentDone(const std::shared_ptr<Upload>& up, int pos, const absl::Status& s);
  // Releases the budget a block holds once its upload is over (or never
  // started): `charged` bytes and its holder slot.
  void EndUpload(size_t charged);
  void CommitBlock(const std::shared_ptr<Upload>& up);
  void Fail(const absl::Status& s);
  absl::Status error() const;

  Repository& repo_;
  const size_t block_size_;
  QuotaBudget* const quota_;
  std::function<void(const std::string&)> on_warning_;
  std::function<void(const absl::Status&)> on_error_;
  ByteBudget in_flight_;
  std::unique_ptr<BlockBuilder> open_data_, open_tree_;

  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  int uploads_outstanding_ = 0;                   // guarded by mu_
  absl::Status error_;                            // guarded by mu_
  std::vector<vault::v1::BlockRecord> committed_;  // guarded by mu_
  std::set<uint64_t> degraded_masks_warned_;      // guarded by mu_
  std::atomic<uint64_t> blocks_{0}, blocks_degraded_{0};
};

// A block also seals at this many chunks, so its table and its index record
// (~50 bytes a chunk) stay far below the suppliers' 1 MiB object limit even
// for trees of tiny files (docs/FORMAT.md, "Blocks").
inline constexpr size_t kMaxChunksPerBlock = 8192;
// Tree blocks are sealed once they hold this much (or the vault's block
// size, if smaller); data blocks fill the block size.
inline constexpr size_t kTreeBlockBytes = 2 << 20;

// Stores `records` as index pieces of snapshot `snapshot_id` (objects
// index/<id>.<n> for n from first_piece on, each under the suppliers' object
// limit, also cached). Returns their names in order. A backup calls it
// several times (checkpoints), each time after the pieces it already wrote.
// The pieces belong to the index epoch the repository loaded.
absl::StatusOr<std::vector<std::string>> WriteIndexPieces(
    Repository& repo, const std::string& snapshot_id,
    std::vector<vault::v1::BlockRecord> records, uint32_t first_piece = 0);

// Stores `records` as the base of index epoch `epoch` (docs/FORMAT.md,
// "Index epochs"): pieces index/<prune_id>.0..count-1, each declaring the
// count, at least one even for no records. Prune writes the whole index this
// way; the epoch counts once every piece is stored.
absl::StatusOr<std::vector<std::string>> WriteIndexBase(
    Repository& repo, const std::string& prune_id, std::vector<vault::v1::BlockRecord> records,
    uint64_t epoch);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_BLOCK_WRITER_H_

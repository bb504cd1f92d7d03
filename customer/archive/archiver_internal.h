// The archiver's inside, shared by the files that hold its stages
// (archiver.cc, walker.cc, reader.cc, hasher.cc, tree_builder.cc,
// packer.cc, scanner.cc). Not for use outside customer/archive.
#ifndef SHARDKEEP_CUSTOMER_ARCHIVE_ARCHIVER_INTERNAL_H_
#define SHARDKEEP_CUSTOMER_ARCHIVE_ARCHIVER_INTERNAL_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/chunker.h"
#include "common/workers.h"
#include "customer/archive/archiver.h"
#include "customer/fs/fs.h"
#include "customer/repo/block_writer.h"
#include "customer/repo/progress.h"
#include "customer/repo/repository.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer::archive_internal {

using vault::v1::BlockKind;
using vault::v1::ChunkRef;
using vault::v1::TreeNode;

inline std::string JoinPath(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// A piece of a file being read: filled by the reader (offset, length) and a
// worker (id).
struct Piece {
  uint64_t offset = 0;
  uint32_t length = 0;
  std::string id;
};

struct FileTask {
  fs::Node node;
  bool node_refreshed = false;  // the reader re-read the metadata
  std::deque<Piece> pieces;     // deque: push_back keeps references valid
  std::atomic<int> pending{1};  // the reader's hold + chunks not yet hashed
  bool done = false;            // guarded by Archiver::done_mu_
  bool dropped = false;         // unreadable or vanished: not in the snapshot
  bool is_new = true;           // no file of this name in the parent
};

struct DirState;
struct Entry {
  TreeNode node;
  std::shared_ptr<FileTask> file;    // a file being read
  std::unique_ptr<DirState> subdir;  // a directory walked
  bool is_dir = false;
};
struct DirState {
  std::vector<Entry> entries;
  google::protobuf::RepeatedPtrField<ChunkRef> result;  // set by the tree builder
};

struct ChunkTask {
  std::shared_ptr<FileTask> file;
  Piece* piece;
  std::string data;
};

struct PackItem {
  BlockKind kind;
  std::string id;
  std::string stored;
  uint32_t raw_length;
  bool compressed;
};


struct PathTrie {
  std::map<std::string, PathTrie> children;
  bool leaf = false;
};

// The backup of one set of paths: the stages of the pipeline in archiver.h
// as threads of one object, joined by bounded queues. Each stage lives in
// its own file: walker.cc, reader.cc, hasher.cc, tree_builder.cc,
// packer.cc, scanner.cc; Run (archiver.cc) starts and joins them and writes
// the snapshot. Any stage that fails calls Fail, which closes every queue so
// the others stop.
class Archiver {
 public:
  Archiver(Repository& repo, const BackupOptions& opts, Progress& progress,
           fs::ExcludeMatcher excluder)
      : repo_(repo),
        opts_(opts),
        progress_(progress),
        excluder_(std::move(excluder)),
        chunk_key_(repo.vault().keys().chunk_id_key),
        block_size_(repo.config().block_size()),
        level_(repo.config().compression_level()),
        read_q_(1024),
        chunk_q_(opts.chunk_queue_bytes),
        tree_q_(kTreeQueueEntries),
        pack_q_(std::max<size_t>(repo.config().block_size() / 2, 4 << 20)) {
    params_.min_size = repo.config().chunker().min_size();
    params_.avg_size = repo.config().chunker().avg_size();
    params_.max_size = repo.config().chunker().max_size();
  }

  absl::StatusOr<BackupResult> Run(const std::vector<std::string>& abs_paths);

 private:
  // ---- errors and warnings
  // Records the first error and closes every queue, so every stage stops.
  void Fail(absl::Status s);
  bool aborted() {
    std::lock_guard<std::mutex> lock(done_mu_);
    return aborted_;
  }
  void Warn(const std::string& msg) {
    warnings_++;
    progress_.Warn("warning: " + msg);
  }
  void FileError(const std::string& msg) {
    errors_++;
    progress_.Warn("error: " + msg);
  }

  // ---- walker
  void WalkerMain(const PathTrie& trie);
  std::unique_ptr<DirState> WalkVirtual(const std::string& path, const PathTrie& trie,
                                        const google::protobuf::RepeatedPtrField<ChunkRef>* parent);
  std::unique_ptr<DirState> WalkDir(const std::string& path, const TreeNode* parent, uint64_t dev);
  void AddNode(DirState* dir, const std::string& path, fs::Node node, const TreeNode* parent,
               const PathTrie* virt, uint64_t dev);
  bool LoadParentTree(const google::protobuf::RepeatedPtrField<ChunkRef>& refs,
                      const std::string& path, vault::v1::Tree* out);

  // ---- reader
  void ReaderMain();
  void ReadFile(const std::shared_ptr<FileTask>& t);
  bool Emit(const std::shared_ptr<FileTask>& t, uint64_t offset, std::string data);
  bool FlushBatch();
  void ReleaseHold(FileTask* t);

  // ---- workers, tree builder, packer
  void WorkerMain();
  void TreeBuilderMain();
  void StoreTreeBytes(const std::string& bytes, google::protobuf::RepeatedPtrField<ChunkRef>* out);
  void PackerMain();
  void ScannerMain(const std::vector<std::string>& paths);

  absl::Status WriteIndexAndSnapshot(vault::v1::Snapshot* snap);
  // Records the blocks committed so far (and those a failed checkpoint left)
  // in index pieces named after backup_id_. On failure the records are kept
  // for the next try.
  absl::Status Checkpoint();
  // Runs until `done`: checkpoints (BackupOptions) and polls `interrupted`.
  void CheckpointerMain(const std::atomic<bool>& done);

  Repository& repo_;
  const BackupOptions& opts_;
  Progress& progress_;
  fs::ExcludeMatcher excluder_;
  const std::string chunk_key_;
  const size_t block_size_;
  const int level_;
  chunker::Params params_;

  // Directory entries walked and waiting for the tree builder. It is what
  // bounds the walker on an unchanged tree (no file to read holds it back):
  // without it, the listings of a whole tree of a million unchanged files
  // would pile up ahead of the tree builder. 16k entries (and 1024 files
  // queued for the reader) keep every stage busy: 64k and 4096 took the same
  // time and ~5 MB more at a kernel-tree backup's peak.
  static constexpr size_t kTreeQueueEntries = 1 << 14;
  BoundedQueue<std::shared_ptr<FileTask>> read_q_;
  BoundedQueue<std::vector<ChunkTask>> chunk_q_;
  BoundedQueue<DirState*> tree_q_;
  BoundedQueue<std::vector<PackItem>> pack_q_;
  std::unique_ptr<BlockWriter> writer_;  // made by Run

  // The snapshot's ID, fixed at the start: checkpoint pieces are named
  // index/<id>.<n> before the snapshot exists.
  std::string backup_id_;
  std::mutex checkpoint_mu_;
  uint32_t next_piece_ = 0;                        // guarded by checkpoint_mu_
  std::vector<std::string> index_names_;           // guarded by checkpoint_mu_
  std::vector<vault::v1::BlockRecord> unwritten_;  // guarded by checkpoint_mu_
  uint64_t recorded_blocks_ = 0;                   // guarded by checkpoint_mu_
  std::atomic<bool> interrupted_{false};

  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool aborted_ = false;
  absl::Status error_;
  FileTask* awaited_ = nullptr;  // the file the tree builder waits for

  std::string read_buf_;  // the reader's look-ahead (reader.cc), reused across files
  // Chunks are handed to the workers in batches (fewer wake-ups for trees of
  // small files); the batch belongs to the reader thread.
  static constexpr size_t kBatchBytes = 1 << 20;
  static constexpr size_t kBatchChunks = 64;
  std::vector<ChunkTask> batch_;
  size_t batch_bytes_ = 0;

  std::unique_ptr<DirState> root_;
  std::atomic<bool> scan_stop_{false};

  // statistics
  std::atomic<int> warnings_{0}, errors_{0};
  std::atomic<uint64_t> files_new_{0}, files_changed_{0}, files_unchanged_{0};
  std::atomic<uint64_t> dirs_{0}, others_{0}, bytes_total_{0}, bytes_read_{0};
  std::atomic<uint64_t> chunks_new_{0}, bytes_new_raw_{0}, bytes_stored_{0};
};


}  // namespace shardkeep::customer::archive_internal

#endif  // SHARDKEEP_CUSTOMER_ARCHIVE_ARCHIVER_INTERNAL_H_

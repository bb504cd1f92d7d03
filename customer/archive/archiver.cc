#include "customer/archive/archiver.h"

#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/chunker.h"
#include "common/compress.h"
#include "common/crypto.h"
#include "customer/vault/block.h"
#include "customer/fs/fs.h"
#include "customer/vault/objects.h"
#include "proto/limits.h"
#include "customer/repo/tree_node.h"
#include "common/workers.h"

namespace shardkeep::customer {

using vault::v1::BlockKind;
using vault::v1::ChunkRef;
using vault::v1::TreeNode;

namespace {

const std::string kProgram = std::string("shardkeep ") + protocol::kVersion;

// A block also seals at this many chunks, so its table and its index record
// (~50 bytes a chunk) stay far below the suppliers' 1 MiB object limit even
// for trees of tiny files (docs/FORMAT.md, "Blocks").
constexpr size_t kMaxChunksPerBlock = 8192;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string JoinPath(const std::string& dir, const std::string& name) {
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

struct Upload {
  vault::v1::BlockRecord record;
  std::vector<std::string> fragments;
  std::string sealed;  // tree blocks only, for the local cache
  std::mutex mu;
  int remaining = 0;
  uint64_t mask = 0;
  std::vector<std::string> errors;
};

struct PathTrie {
  std::map<std::string, PathTrie> children;
  bool leaf = false;
};

const TreeNode* FindChild(const vault::v1::Tree& tree, const std::string& name) {
  const auto& nodes = tree.nodes();
  auto it = std::lower_bound(nodes.begin(), nodes.end(), name,
                             [](const TreeNode& n, const std::string& v) { return n.name() < v; });
  if (it != nodes.end() && it->name() == name) return &*it;
  return nullptr;
}

bool Unchanged(const TreeNode& parent, const fs::Node& node) {
  return parent.type() == vault::v1::NODE_TYPE_FILE && parent.size() == node.size &&
         parent.mtime_ns() == node.mtime_ns && parent.ctime_ns() == node.ctime_ns &&
         parent.inode() == node.inode && parent.dev() == node.dev;
}

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
        read_q_(4096),
        chunk_q_(opts.chunk_queue_bytes),
        tree_q_(1 << 20),
        pack_q_(std::max<size_t>(2 * repo.config().block_size(), 16 << 20)),
        in_flight_(std::max(1, opts.blocks_in_flight)) {
    params_.min_size = repo.config().chunker().min_size();
    params_.avg_size = repo.config().chunker().avg_size();
    params_.max_size = repo.config().chunker().max_size();
  }

  absl::StatusOr<BackupResult> Run(const std::vector<std::string>& abs_paths);

 private:
  // ---- errors and warnings
  void Fail(absl::Status s) {
    {
      std::lock_guard<std::mutex> lock(done_mu_);
      if (error_.ok()) error_ = std::move(s);
      aborted_ = true;
      done_cv_.notify_all();
    }
    read_q_.Close();
    chunk_q_.Close();
    tree_q_.Close();
    pack_q_.Close();
  }
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
  void SealAndUpload(std::unique_ptr<BlockBuilder> b);
  void OnFragmentDone(const std::shared_ptr<Upload>& up, int pos, const absl::Status& s);
  void CommitBlock(const std::shared_ptr<Upload>& up);
  void ScannerMain(const std::vector<std::string>& paths);

  absl::Status WriteIndexAndSnapshot(vault::v1::Snapshot* snap);

  Repository& repo_;
  const BackupOptions& opts_;
  Progress& progress_;
  fs::ExcludeMatcher excluder_;
  const std::string chunk_key_;
  const size_t block_size_;
  const int level_;
  chunker::Params params_;

  BoundedQueue<std::shared_ptr<FileTask>> read_q_;
  BoundedQueue<std::vector<ChunkTask>> chunk_q_;
  BoundedQueue<DirState*> tree_q_;
  BoundedQueue<std::vector<PackItem>> pack_q_;
  Semaphore in_flight_;

  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool aborted_ = false;
  absl::Status error_;
  FileTask* awaited_ = nullptr;  // the file the tree builder waits for
  int uploads_outstanding_ = 0;  // guarded by done_mu_

  // Chunks are handed to the workers in batches (fewer wake-ups for trees of
  // small files); the batch belongs to the reader thread.
  static constexpr size_t kBatchBytes = 1 << 20;
  static constexpr size_t kBatchChunks = 64;
  std::vector<ChunkTask> batch_;
  size_t batch_bytes_ = 0;

  std::unique_ptr<DirState> root_;
  std::atomic<bool> scan_stop_{false};

  std::mutex committed_mu_;
  std::vector<vault::v1::BlockRecord> committed_;

  // statistics
  std::atomic<int> warnings_{0}, errors_{0};
  std::atomic<uint64_t> files_new_{0}, files_changed_{0}, files_unchanged_{0};
  std::atomic<uint64_t> dirs_{0}, others_{0}, bytes_total_{0}, bytes_read_{0};
  std::atomic<uint64_t> chunks_new_{0}, bytes_new_raw_{0}, bytes_stored_{0};
  std::atomic<uint64_t> blocks_{0}, blocks_degraded_{0};
  std::set<uint64_t> degraded_masks_warned_;  // guarded by committed_mu_
};

// ------------------------------------------------------------------ walker

bool Archiver::LoadParentTree(const google::protobuf::RepeatedPtrField<ChunkRef>& refs,
                              const std::string& path, vault::v1::Tree* out) {
  auto t = repo_.LoadTree(refs);
  if (!t.ok()) {
    Warn(absl::StrCat("cannot read the parent snapshot's tree of ", fs::PrintablePath(path),
                      " (its files are read again): ", t.status().message()));
    return false;
  }
  *out = std::move(*t);
  return true;
}

void Archiver::WalkerMain(const PathTrie& trie) {
  const google::protobuf::RepeatedPtrField<ChunkRef>* parent_root =
      opts_.parent ? &opts_.parent->root() : nullptr;
  if (trie.leaf) {
    // Backing up "/" itself.
    auto node = fs::Lstat("/");
    if (!node.ok()) {
      Fail(node.status());
    } else {
      TreeNode synthetic;
      synthetic.set_type(vault::v1::NODE_TYPE_DIR);
      if (parent_root) *synthetic.mutable_subtree() = *parent_root;
      root_ = WalkDir("/", parent_root ? &synthetic : nullptr, node->dev);
    }
  } else {
    root_ = WalkVirtual("/", trie, parent_root);
  }
  tree_q_.Close();
  read_q_.Close();
}

std::unique_ptr<DirState> Archiver::WalkVirtual(
    const std::string& path, const PathTrie& trie,
    const google::protobuf::RepeatedPtrField<ChunkRef>* parent) {
  auto d = std::make_unique<DirState>();
  vault::v1::Tree parent_tree;
  bool have_parent = parent != nullptr && LoadParentTree(*parent, path, &parent_tree);
  for (const auto& [name, sub] : trie.children) {
    if (aborted()) break;
    std::string child = JoinPath(path, name);
    auto node = fs::Lstat(child);
    if (!node.ok()) {
      FileError(
          absl::StrCat("cannot back up ", fs::PrintablePath(child), ": ", node.status().message()));
      continue;
    }
    const TreeNode* pn = have_parent ? FindChild(parent_tree, name) : nullptr;
    const uint64_t dev = node->dev;
    if (sub.leaf) {
      AddNode(d.get(), child, std::move(*node), pn, nullptr, dev);
    } else {
      if (node->type != fs::NodeType::kDir) {
        // A symlink on the way to a backup path (/home -> /usr/home): stored
        // as the directory the path goes through.
        node->type = fs::NodeType::kDir;
        node->mode = 0755;
        node->symlink_target.clear();
      }
      AddNode(d.get(), child, std::move(*node), pn, &sub, dev);
    }
  }
  tree_q_.Push(d.get(), d->entries.size() + 1);
  return d;
}

std::unique_ptr<DirState> Archiver::WalkDir(const std::string& path, const TreeNode* parent,
                                            uint64_t dev) {
  auto d = std::make_unique<DirState>();
  vault::v1::Tree parent_tree;
  bool have_parent = parent != nullptr && parent->type() == vault::v1::NODE_TYPE_DIR &&
                     LoadParentTree(parent->subtree(), path, &parent_tree);
  auto names = fs::ListDir(path);
  if (!names.ok()) {
    if (absl::IsNotFound(names.status())) {
      Warn(absl::StrCat("directory vanished while read: ", names.status().message()));
    } else {
      FileError(
          absl::StrCat("cannot list ", fs::PrintablePath(path), ": ", names.status().message()));
    }
  } else {
    for (const auto& name : *names) {
      if (aborted()) break;
      std::string child = JoinPath(path, name);
      if (!excluder_.empty() && excluder_.Excluded(child)) continue;
      auto node = fs::Lstat(child);
      if (!node.ok()) {
        if (absl::IsNotFound(node.status())) {
          Warn(absl::StrCat("vanished before it was read: ", fs::PrintablePath(child)));
        } else {
          FileError(absl::StrCat("cannot read ", fs::PrintablePath(child), ": ",
                                 node.status().message()));
        }
        continue;
      }
      const TreeNode* pn = have_parent ? FindChild(parent_tree, name) : nullptr;
      AddNode(d.get(), child, std::move(*node), pn, nullptr, dev);
    }
  }
  tree_q_.Push(d.get(), d->entries.size() + 1);
  return d;
}

void Archiver::AddNode(DirState* dir, const std::string& path, fs::Node node,
                       const TreeNode* parent, const PathTrie* virt, uint64_t dev) {
  Entry e;
  switch (node.type) {
    case fs::NodeType::kSocket:
      Warn(absl::StrCat("socket skipped: ", fs::PrintablePath(path)));
      return;
    case fs::NodeType::kFile: {
      e.node = NodeToTree(node);
      if (parent != nullptr && Unchanged(*parent, node)) {
        *e.node.mutable_content() = parent->content();
        files_unchanged_++;
        bytes_total_ += node.size;
        progress_.files++;
        progress_.bytes += node.size;
      } else {
        auto task = std::make_shared<FileTask>();
        task->is_new = parent == nullptr || parent->type() != vault::v1::NODE_TYPE_FILE;
        task->node = std::move(node);
        e.file = task;
        if (!read_q_.Push(task)) return;
      }
      break;
    }
    case fs::NodeType::kDir: {
      e.node = NodeToTree(node);
      e.is_dir = true;
      dirs_++;
      if (virt != nullptr) {
        const google::protobuf::RepeatedPtrField<ChunkRef>* p =
            parent != nullptr && parent->type() == vault::v1::NODE_TYPE_DIR ? &parent->subtree()
                                                                            : nullptr;
        e.subdir = WalkVirtual(path, *virt, p);
      } else if (opts_.one_file_system && node.dev != dev) {
        // A mount point: kept as an empty directory, as restic does.
      } else {
        e.subdir = WalkDir(path, parent, dev);
      }
      break;
    }
    default:
      e.node = NodeToTree(node);
      others_++;
      break;
  }
  dir->entries.push_back(std::move(e));
}

// ------------------------------------------------------------------ reader

bool Archiver::Emit(const std::shared_ptr<FileTask>& t, uint64_t offset, std::string data) {
  t->pieces.push_back(Piece{offset, static_cast<uint32_t>(data.size()), {}});
  Piece* p = &t->pieces.back();
  t->pending.fetch_add(1, std::memory_order_relaxed);
  size_t cost = data.size();
  progress_.bytes += cost;
  bytes_read_ += cost;
  batch_.push_back(ChunkTask{t, p, std::move(data)});
  batch_bytes_ += cost;
  if (batch_bytes_ >= kBatchBytes || batch_.size() >= kBatchChunks) return FlushBatch();
  return true;
}

bool Archiver::FlushBatch() {
  if (batch_.empty()) return true;
  size_t cost = batch_bytes_;
  std::vector<ChunkTask> batch = std::move(batch_);
  batch_.clear();
  batch_bytes_ = 0;
  if (!chunk_q_.Push(std::move(batch), cost)) return false;  // aborted: nobody waits for them
  return true;
}

void Archiver::ReleaseHold(FileTask* t) {
  if (t->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::lock_guard<std::mutex> lock(done_mu_);
    t->done = true;
    if (awaited_ == t) done_cv_.notify_all();
  }
}

void Archiver::ReaderMain() {
  for (;;) {
    std::shared_ptr<FileTask> t;
    if (!read_q_.TryPop(&t)) {
      // Nothing to read right now: hand over the chunks gathered so far
      // before blocking, or the tree builder could wait for them forever.
      if (!FlushBatch()) break;
      auto next = read_q_.Pop();
      if (!next) break;
      t = std::move(*next);
    }
    ReadFile(t);
    if (!t->dropped) progress_.files++;
    ReleaseHold(t.get());
  }
  FlushBatch();
}

void Archiver::ReadFile(const std::shared_ptr<FileTask>& t) {
  auto printable = [&] { return fs::PrintablePath(t->node.path); };
  auto r = fs::FileReader::Open(t->node);
  if (!r.ok() && absl::IsFailedPrecondition(r.status())) {
    // Replaced since it was listed: take the new file's metadata and retry once.
    auto fresh = fs::Lstat(t->node.path);
    if (fresh.ok() && fresh->type == fs::NodeType::kFile) {
      t->node = std::move(*fresh);
      t->node_refreshed = true;
      r = fs::FileReader::Open(t->node);
    }
  }
  if (!r.ok()) {
    t->dropped = true;
    if (absl::IsNotFound(r.status())) {
      Warn(absl::StrCat("vanished before it was read: ", printable()));
    } else if (absl::IsFailedPrecondition(r.status())) {
      Warn(absl::StrCat("changed while read, not saved: ", r.status().message()));
    } else {
      FileError(absl::StrCat("cannot read ", printable(), ": ", r.status().message()));
    }
    return;
  }
  fs::FileReader& reader = **r;
  std::string buf;
  for (const fs::Extent& ext : reader.DataExtents()) {
    if (ext.length == 0) continue;
    uint64_t end = ext.offset + ext.length;
    if (ext.length <= params_.min_size) {
      // Small: one chunk, read straight into its own buffer.
      std::string data(ext.length, '\0');
      auto n = reader.ReadAt(ext.offset, data.data(), data.size());
      if (!n.ok()) {
        t->dropped = true;
        FileError(absl::StrCat("cannot read ", printable(), ": ", n.status().message()));
        return;
      }
      data.resize(*n);
      if (!data.empty() && !Emit(t, ext.offset, std::move(data))) return;
      continue;
    }
    // Content-defined chunks, with max_size of look-ahead so each cut is final.
    const size_t cap = std::max<size_t>(2 * params_.max_size, 8 << 20);
    buf.resize(cap);
    size_t have = 0;
    uint64_t base = ext.offset;  // file offset of buf[0]
    bool eof = false;
    for (;;) {
      while (!eof && have < cap && base + have < end) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(cap - have, end - (base + have)));
        auto n = reader.ReadAt(base + have, buf.data() + have, want);
        if (!n.ok()) {
          t->dropped = true;
          FileError(absl::StrCat("cannot read ", printable(), ": ", n.status().message()));
          return;
        }
        if (*n == 0) eof = true;  // shorter than when listed
        have += *n;
        if (*n < want) eof = true;
      }
      bool at_end = eof || base + have >= end;
      size_t pos = 0;
      while (pos < have && (at_end || have - pos >= params_.max_size)) {
        size_t cut = chunker::NextCut(reinterpret_cast<const uint8_t*>(buf.data()) + pos,
                                      have - pos, params_);
        if (!Emit(t, base + pos, std::string(buf.data() + pos, cut))) return;
        pos += cut;
      }
      if (pos > 0) {
        std::memmove(buf.data(), buf.data() + pos, have - pos);
        base += pos;
        have -= pos;
      }
      if (at_end && have == 0) break;
    }
    if (eof) break;
  }
  absl::Status s = reader.CheckUnchanged();
  if (!s.ok()) Warn(absl::StrCat("changed while read (saved as read): ", s.message()));
}

// ------------------------------------------------------------------ workers

void Archiver::WorkerMain() {
  while (auto batch = chunk_q_.Pop()) {
    std::vector<PackItem> items;
    size_t cost = 0;
    for (ChunkTask& c : *batch) {
      std::string id = crypto::ChunkId(chunk_key_, c.data);
      c.piece->id = id;
      if (!repo_.index().Reserve(id)) continue;
      PackItem item;
      item.kind = vault::v1::BLOCK_KIND_DATA;
      item.id = std::move(id);
      item.raw_length = static_cast<uint32_t>(c.data.size());
      std::string z;
      item.compressed = compress::CompressIfSmaller(c.data, level_, &z);
      item.stored = item.compressed ? std::move(z) : std::move(c.data);
      chunks_new_++;
      bytes_new_raw_ += item.raw_length;
      bytes_stored_ += item.stored.size();
      cost += item.stored.size();
      items.push_back(std::move(item));
    }
    if (!items.empty()) pack_q_.Push(std::move(items), cost);
    for (ChunkTask& c : *batch) ReleaseHold(c.file.get());
  }
}

// ------------------------------------------------------------------ trees

void Archiver::StoreTreeBytes(const std::string& bytes,
                              google::protobuf::RepeatedPtrField<ChunkRef>* out) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t cut = chunker::NextCut(p + pos, bytes.size() - pos, params_);
    std::string_view chunk(bytes.data() + pos, cut);
    std::string id = crypto::ChunkId(chunk_key_, chunk);
    ChunkRef* ref = out->Add();
    ref->set_id(id);
    ref->set_length(static_cast<uint32_t>(cut));
    if (repo_.index().Reserve(id)) {
      PackItem item;
      item.kind = vault::v1::BLOCK_KIND_TREE;
      item.id = std::move(id);
      item.raw_length = static_cast<uint32_t>(cut);
      std::string z;
      item.compressed = compress::CompressIfSmaller(chunk, level_, &z);
      item.stored = item.compressed ? std::move(z) : std::string(chunk);
      chunks_new_++;
      bytes_new_raw_ += item.raw_length;
      bytes_stored_ += item.stored.size();
      size_t cost = item.stored.size();
      std::vector<PackItem> one;
      one.push_back(std::move(item));
      pack_q_.Push(std::move(one), cost);
    }
    pos += cut;
  }
}

void Archiver::TreeBuilderMain() {
  while (auto d = tree_q_.Pop()) {
    DirState* dir = *d;
    vault::v1::Tree tree;
    for (Entry& e : dir->entries) {
      if (e.file) {
        {
          std::unique_lock<std::mutex> lock(done_mu_);
          awaited_ = e.file.get();
          done_cv_.wait(lock, [&] { return e.file->done || aborted_; });
          awaited_ = nullptr;
          if (aborted_) return;
        }
        FileTask& f = *e.file;
        if (f.dropped) continue;
        if (f.node_refreshed) e.node = NodeToTree(f.node);
        for (const Piece& p : f.pieces) {
          auto* c = e.node.add_content();
          c->set_offset(p.offset);
          c->set_id(p.id);
          c->set_length(p.length);
        }
        (f.is_new ? files_new_ : files_changed_)++;
        bytes_total_ += f.node.size;
        e.file.reset();
      }
      if (e.subdir) {
        *e.node.mutable_subtree() = std::move(e.subdir->result);
        e.subdir.reset();
      }
      *tree.add_nodes() = std::move(e.node);
    }
    dir->entries.clear();
    StoreTreeBytes(SerializeTree(tree), &dir->result);
  }
}

// ------------------------------------------------------------------ packer

void Archiver::PackerMain() {
  std::unique_ptr<BlockBuilder> data_b, tree_b;
  const size_t reserve = block_size_ + block_size_ / 32;
  while (auto items = pack_q_.Pop()) {
    for (PackItem& it : *items) {
      PackItem* item = &it;
      auto& b = item->kind == vault::v1::BLOCK_KIND_TREE ? tree_b : data_b;
      if (b && b->chunk_count() > 0 && b->payload_size() + item->stored.size() > block_size_) {
        SealAndUpload(std::move(b));
      }
      if (!b) {
        // Tree blocks are often small: let them grow instead of reserving.
        b = std::make_unique<BlockBuilder>(item->kind, crypto::RandomBytes(kBlockIdSize),
                                           item->kind == vault::v1::BLOCK_KIND_TREE ? 0 : reserve);
      }
      b->Add(item->id, item->stored, item->raw_length, item->compressed);
      if (b->payload_size() >= block_size_ || b->chunk_count() >= kMaxChunksPerBlock) {
        SealAndUpload(std::move(b));
      }
    }
  }
  if (aborted()) return;
  if (data_b) SealAndUpload(std::move(data_b));
  if (tree_b) SealAndUpload(std::move(tree_b));
}

void Archiver::SealAndUpload(std::unique_ptr<BlockBuilder> b) {
  auto up = std::make_shared<Upload>();
  vault::v1::BlockRecord& rec = up->record;
  rec.set_block_id(b->block_id());
  rec.set_kind(b->table().kind());
  *rec.mutable_chunks() = b->table().chunks();
  std::string plain = b->Finish();
  b.reset();
  auto sealed = SealBlock(repo_.vault().keys().block_key, rec.block_id(), plain);
  if (!sealed.ok()) return Fail(sealed.status());
  plain.clear();
  plain.shrink_to_fit();
  rec.set_sealed_size(sealed->size());
  auto fragments = repo_.codec().Encode(*sealed);
  if (!fragments.ok()) return Fail(fragments.status());
  up->fragments = std::move(*fragments);
  rec.set_fragment_size(up->fragments[0].size());
  std::vector<std::string> shas;
  for (const auto& f : up->fragments) {
    shas.push_back(crypto::Sha256(f));
    rec.add_fragment_sha256(shas.back());
  }
  if (rec.kind() == vault::v1::BLOCK_KIND_TREE) up->sealed = std::move(*sealed);
  up->remaining = repo_.n();
  in_flight_.Acquire();
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    uploads_outstanding_++;
  }
  repo_.suppliers().PutFragmentsAsync(
      rec.block_id(), &up->fragments, shas,
      [this, up](int pos, absl::Status s) { OnFragmentDone(up, pos, s); });
}

void Archiver::OnFragmentDone(const std::shared_ptr<Upload>& up, int pos, const absl::Status& s) {
  bool last;
  {
    std::lock_guard<std::mutex> lock(up->mu);
    if (s.ok()) {
      up->mask |= uint64_t{1} << pos;
    } else {
      up->errors.push_back(std::string(s.message()));
    }
    last = --up->remaining == 0;
  }
  if (last) CommitBlock(up);
}

void Archiver::CommitBlock(const std::shared_ptr<Upload>& up) {
  const int n = repo_.n();
  const int need = CommitThreshold(n, repo_.k());
  int stored = __builtin_popcountll(up->mask);
  vault::v1::BlockRecord& rec = up->record;
  if (stored >= need) {
    rec.set_stored_mask(up->mask);
    absl::Status s = repo_.index().AddBlock(rec);
    if (!s.ok()) {
      Fail(s);
    } else {
      blocks_++;
      if (stored < n) {
        blocks_degraded_++;
        // One warning per set of missing suppliers, not one per block: with a
        // supplier down, every block of a large backup would repeat it. The
        // summary counts all degraded blocks.
        bool first_of_its_kind;
        {
          std::lock_guard<std::mutex> lock(committed_mu_);
          first_of_its_kind = degraded_masks_warned_.insert(up->mask).second;
        }
        if (first_of_its_kind) {
          Warn(absl::StrCat("block ", crypto::ToHex(rec.block_id()), " stored on ", stored, " of ",
                            n,
                            " suppliers (degraded: its missing fragments are not re-sent later; "
                            "further blocks missing the same suppliers are only counted): ",
                            absl::StrJoin(up->errors, "; ")));
        }
      }
      if (!up->sealed.empty()) repo_.CacheTreeBlock(rec.block_id(), up->sealed);
      std::lock_guard<std::mutex> lock(committed_mu_);
      committed_.push_back(std::move(rec));
    }
  } else {
    Fail(absl::UnavailableError(absl::StrCat("a block could be stored on only ", stored, " of ", n,
                                             " suppliers (", need,
                                             " needed): ", absl::StrJoin(up->errors, "; "))));
  }
  up->fragments.clear();
  up->sealed.clear();
  in_flight_.Release();
  std::lock_guard<std::mutex> lock(done_mu_);
  uploads_outstanding_--;
  done_cv_.notify_all();
}

// ------------------------------------------------------------------ scanner

// Totals for the progress line's ETA: a quick lstat-only walk.
void Archiver::ScannerMain(const std::vector<std::string>& paths) {
  uint64_t files = 0, bytes = 0;
  std::vector<std::pair<std::string, dev_t>> stack;
  for (const auto& p : paths) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      stack.emplace_back(p, st.st_dev);
    } else if (S_ISREG(st.st_mode)) {
      files++;
      bytes += st.st_size;
    }
  }
  while (!stack.empty() && !scan_stop_) {
    auto [dir, dev] = stack.back();
    stack.pop_back();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) continue;
    while (struct dirent* de = ::readdir(d)) {
      std::string name = de->d_name;
      if (name == "." || name == "..") continue;
      std::string child = JoinPath(dir, name);
      if (!excluder_.empty() && excluder_.Excluded(child)) continue;
      struct stat st;
      if (::lstat(child.c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (!opts_.one_file_system || st.st_dev == dev) stack.emplace_back(child, dev);
      } else if (S_ISREG(st.st_mode)) {
        files++;
        bytes += st.st_size;
      }
    }
    ::closedir(d);
  }
  if (scan_stop_) return;
  progress_.total_files = files;
  progress_.total_bytes = bytes;
  progress_.totals_known = true;
}

// ------------------------------------------------------------------ commit

absl::Status Archiver::WriteIndexAndSnapshot(vault::v1::Snapshot* snap) {
  // Index pieces under the suppliers' object limit (sealing adds < 64 bytes;
  // chunk IDs are random, so compression does not shrink a piece much).
  const size_t kPieceLimit =
      std::max<size_t>(repo_.suppliers().max_object_bytes(), 64 << 10) - 4096;
  std::vector<vault::v1::IndexPiece> pieces(1);
  size_t size = 0;
  for (auto& rec : committed_) {
    size_t s = rec.ByteSizeLong() + 8;
    if (size + s > kPieceLimit && pieces.back().blocks_size() > 0) {
      pieces.emplace_back();
      size = 0;
    }
    pieces.back().set_version(1);
    *pieces.back().add_blocks() = std::move(rec);
    size += s;
  }
  committed_.clear();
  if (pieces.back().blocks_size() == 0) pieces.pop_back();
  for (size_t i = 0; i < pieces.size(); ++i) {
    std::string name = IndexPieceName(snap->id(), static_cast<uint32_t>(i));
    RETURN_IF_ERROR(repo_.PutObject(name, pieces[i].SerializeAsString(), /*cache=*/true));
    snap->add_index_objects(name);
  }
  return repo_.PutObject(SnapshotObjectName(snap->id()), snap->SerializeAsString(),
                         /*cache=*/true);
}

absl::StatusOr<BackupResult> Archiver::Run(const std::vector<std::string>& abs_paths) {
  const int64_t start_ns = NowNs();
  PathTrie trie;
  for (const auto& p : abs_paths) {
    PathTrie* t = &trie;
    if (p != "/") {
      size_t i = 1;
      while (i <= p.size() && !t->leaf) {
        size_t j = p.find('/', i);
        if (j == std::string::npos) j = p.size();
        t = &t->children[p.substr(i, j - i)];
        i = j + 1;
      }
    }
    if (!t->leaf) {
      t->leaf = true;
      t->children.clear();  // a path below another one adds nothing
    }
  }

  std::thread scanner;
  if (progress_.wants_totals()) scanner = std::thread([&] { ScannerMain(abs_paths); });
  std::thread walker([&] { WalkerMain(trie); });
  std::thread reader([&] { ReaderMain(); });
  std::vector<std::thread> workers;
  for (int i = 0; i < std::max(1, opts_.workers); ++i) workers.emplace_back([&] { WorkerMain(); });
  std::thread tree_builder([&] { TreeBuilderMain(); });
  std::thread packer([&] { PackerMain(); });

  walker.join();
  reader.join();
  chunk_q_.Close();
  for (auto& w : workers) w.join();
  tree_builder.join();
  pack_q_.Close();
  packer.join();
  {
    std::unique_lock<std::mutex> lock(done_mu_);
    done_cv_.wait(lock, [&] { return uploads_outstanding_ == 0; });
  }
  scan_stop_ = true;
  if (scanner.joinable()) scanner.join();
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    if (!error_.ok()) return error_;
  }
  if (!root_) return absl::InternalError("backup produced no root tree");

  BackupResult result;
  vault::v1::Snapshot& snap = result.snapshot;
  snap.set_id(crypto::RandomBytes(16));
  snap.set_time_ns(start_ns);
  std::string host = opts_.hostname;
  if (host.empty()) {
    char buf[256] = {0};
    if (gethostname(buf, sizeof buf - 1) == 0) host = buf;
  }
  snap.set_hostname(host);
  if (struct passwd* pw = getpwuid(geteuid())) snap.set_username(pw->pw_name);
  for (const auto& p : abs_paths) snap.add_paths(p);
  for (const auto& t : opts_.tags) snap.add_tags(t);
  *snap.mutable_root() = root_->result;
  if (opts_.parent) snap.set_parent(opts_.parent->id());
  snap.set_program(kProgram);
  snap.set_partial(errors_ > 0);

  vault::v1::Summary* sum = snap.mutable_summary();
  sum->set_files_new(files_new_);
  sum->set_files_changed(files_changed_);
  sum->set_files_unchanged(files_unchanged_);
  sum->set_dirs(dirs_);
  sum->set_other_nodes(others_);
  sum->set_bytes_total(bytes_total_);
  sum->set_bytes_read(bytes_read_);
  sum->set_chunks_new(chunks_new_);
  sum->set_bytes_new_raw(bytes_new_raw_);
  sum->set_bytes_stored(bytes_stored_);
  sum->set_blocks(blocks_);
  sum->set_blocks_degraded(blocks_degraded_);
  sum->set_errors(errors_);
  sum->set_warnings(warnings_);

  // Per-supplier bytes are counted before the metadata objects go out, and
  // then again after, so the summary stored includes blocks only; the
  // result returned to the caller is completed below.
  for (int i = 0; i < repo_.n(); ++i) {
    auto* sb = sum->add_supplier_bytes();
    sb->set_position(i);
    sb->set_address(repo_.suppliers().address(i));
    sb->set_bytes(repo_.suppliers().BytesSent(i));
  }
  sum->set_seconds((NowNs() - start_ns) / 1e9);
  RETURN_IF_ERROR(WriteIndexAndSnapshot(&snap));
  for (int i = 0; i < repo_.n(); ++i) {
    sum->mutable_supplier_bytes(i)->set_bytes(repo_.suppliers().BytesSent(i));
  }
  sum->set_seconds((NowNs() - start_ns) / 1e9);
  result.warnings = warnings_;
  result.partial = errors_ > 0;
  return result;
}

}  // namespace

const vault::v1::Snapshot* FindParent(const std::vector<vault::v1::Snapshot>& snapshots,
                                      const std::string& hostname,
                                      const std::vector<std::string>& abs_paths) {
  std::vector<std::string> want(abs_paths);
  std::sort(want.begin(), want.end());
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    if (it->hostname() != hostname) continue;
    std::vector<std::string> have(it->paths().begin(), it->paths().end());
    std::sort(have.begin(), have.end());
    if (have == want) return &*it;
  }
  return nullptr;
}

absl::StatusOr<std::string> AbsolutePath(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("empty path");
  std::string full = path;
  if (path[0] != '/') {
    char buf[PATH_MAX];
    if (getcwd(buf, sizeof buf) == nullptr) {
      return absl::InternalError("cannot get the working directory");
    }
    full = std::string(buf) + "/" + path;
  }
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= full.size()) {
    size_t j = full.find('/', i);
    if (j == std::string::npos) j = full.size();
    std::string c = full.substr(i, j - i);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    i = j + 1;
  }
  return "/" + absl::StrJoin(parts, "/");
}

absl::StatusOr<BackupResult> RunBackup(Repository& repo, const BackupOptions& options,
                                       Progress& progress) {
  if (options.paths.empty()) return absl::InvalidArgumentError("no paths to back up");
  std::vector<std::string> abs;
  for (const auto& p : options.paths) {
    ASSIGN_OR_RETURN(std::string a, AbsolutePath(p));
    abs.push_back(a);
  }
  ASSIGN_OR_RETURN(fs::ExcludeMatcher excluder,
                   fs::ExcludeMatcher::Create(options.excludes, options.exclude_files));
  Archiver archiver(repo, options, progress, std::move(excluder));
  return archiver.Run(abs);
}

}  // namespace shardkeep::customer

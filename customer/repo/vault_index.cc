#include "customer/repo/vault_index.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace shardkeep::customer {
namespace {

// The store's keys (docs/FORMAT.md, "Local index store"):
//   "v"                      format version
//   "e"                      epoch of the applied pieces (absent: none)
//   "n"                      number of chunk entries
//   "b" <16-byte block ID>   BlockRecord without chunks
//   "c" <32-byte chunk ID>   block ID, varint offset, length, raw length, compressed
//   "p" <piece name>         varint epoch, varint base pieces, applied (0/1)
constexpr char kVersionKey[] = "v";
constexpr char kEpochKey[] = "e";
constexpr char kCountKey[] = "n";
constexpr char kFormatVersion[] = "1";

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const uint8_t b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= uint64_t{b & 0x7f} << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

std::string ChunkStoreKey(const ChunkKey& k) {
  std::string key = "c";
  key.append(reinterpret_cast<const char*>(k.bytes.data()), k.bytes.size());
  return key;
}

std::string EncodeChunk(const std::string& block_id, const vault::v1::BlockChunk& c) {
  std::string v = block_id;
  PutVarint(&v, c.offset());
  PutVarint(&v, c.length());
  PutVarint(&v, c.raw_length());
  v.push_back(c.compressed() ? 1 : 0);
  return v;
}

std::string EncodeMeta(const VaultIndex::PieceMeta& m) {
  std::string v;
  PutVarint(&v, m.epoch);
  PutVarint(&v, m.base_pieces);
  v.push_back(m.applied ? 1 : 0);
  return v;
}

bool DecodeMeta(std::string_view in, VaultIndex::PieceMeta* m) {
  uint64_t epoch, base;
  if (!GetVarint(&in, &epoch) || !GetVarint(&in, &base) || in.size() != 1) return false;
  m->epoch = epoch;
  m->base_pieces = static_cast<uint32_t>(base);
  m->applied = in[0] == 1;
  return true;
}

absl::Status CheckRecord(const vault::v1::BlockRecord& record) {
  if (record.block_id().size() != 16) return absl::DataLossError("index: block ID is not 16 bytes");
  for (const auto& c : record.chunks()) {
    if (c.id().size() != 32) {
      return absl::DataLossError(absl::StrCat("index: block ", crypto::ToHex(record.block_id()),
                                              " lists a chunk ID that is not 32 bytes"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

// One RocksDB database: on disk, or in a private in-memory Env.
struct VaultIndex::Store {
  std::unique_ptr<rocksdb::Env> mem_env;  // set for an in-memory store
  std::string path;
  rocksdb::Options options;
  std::unique_ptr<rocksdb::DB> db;

  // Small, bounded memory: the store must not become the memory problem it
  // replaces. Chunk IDs are random: compression would gain nothing.
  static rocksdb::Options MakeOptions(rocksdb::Env* env) {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.env = env;
    o.write_buffer_size = 8 << 20;
    o.max_write_buffer_number = 2;
    o.max_open_files = 64;
    o.compression = rocksdb::kNoCompression;
    o.keep_log_file_num = 2;
    o.max_log_file_size = 1 << 20;
    o.info_log_level = rocksdb::WARN_LEVEL;
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = rocksdb::NewLRUCache(8 << 20);
    // Index and filter blocks stay with their table, loaded once: in the
    // small block cache a million chunks' filter (~1.2 MB, bigger than a
    // cache shard) was read again from the file at every lookup, and a
    // restore of a million files spent most of its time there.
    t.cache_index_and_filter_blocks = false;
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    return o;
  }

  static std::unique_ptr<Store> InMemory() {
    auto s = std::make_unique<Store>();
    s->mem_env.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    s->path = "/vault-index";
    s->options = MakeOptions(s->mem_env.get());
    rocksdb::DB* db = nullptr;
    rocksdb::Status st = rocksdb::DB::Open(s->options, s->path, &db);
    if (!st.ok()) return nullptr;  // an in-memory Env does not fail to open
    s->db.reset(db);
    return s;
  }

  ~Store() { Close(); }
  void Close() {
    if (db) db->Close().PermitUncheckedError();
    db.reset();
  }
  // Deletes everything and opens an empty database again.
  rocksdb::Status Wipe() {
    Close();
    rocksdb::DestroyDB(path, options).PermitUncheckedError();
    rocksdb::DB* raw = nullptr;
    rocksdb::Status st = rocksdb::DB::Open(options, path, &raw);
    db.reset(raw);
    return st;
  }

  bool Get(const std::string& key, std::string* value) const {
    return db->Get(rocksdb::ReadOptions(), key, value).ok();
  }
  bool Has(const std::string& key) const {
    std::string scratch;
    return Get(key, &scratch);
  }
};

vault::v1::BlockChunk ToBlockChunk(std::string_view id, const ChunkLocation& loc) {
  vault::v1::BlockChunk c;
  c.set_id(id.data(), id.size());
  c.set_offset(loc.offset);
  c.set_length(loc.length);
  c.set_raw_length(loc.raw_length);
  c.set_compressed(loc.compressed);
  return c;
}

VaultIndex::VaultIndex() = default;
VaultIndex::~VaultIndex() = default;

VaultIndex::Store* VaultIndex::StoreLocked() {
  if (!owned_) {
    owned_ = Store::InMemory();
    store_.store(owned_.get());
  }
  return owned_.get();
}

void VaultIndex::SetStoreLocked(std::unique_ptr<Store> store) {
  store_.store(nullptr);
  owned_ = std::move(store);
  store_.store(owned_.get());
}

std::string VaultIndex::OpenStore(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  SetStoreLocked(nullptr);
  std::string note;
  auto s = std::make_unique<Store>();
  s->path = dir;
  s->options = Store::MakeOptions(rocksdb::Env::Default());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(s->options, dir, &raw);
  s->db.reset(raw);
  // RocksDB's words for a LOCK file held by another process ("While lock
  // file") or by this one ("lock hold by current process").
  const std::string why = st.ToString();
  if (!st.ok() && st.IsIOError() &&
      (absl::StrContains(why, "While lock file") ||
       absl::StrContains(why, "lock hold by current process"))) {
    note = absl::StrCat("the local index ", dir,
                        " is in use by another command: this one reads the index pieces instead");
    s.reset();
  } else if (!st.ok()) {
    note = absl::StrCat("the local index ", dir, " was damaged (", st.ToString(),
                        "): rebuilt from the suppliers' index pieces");
    st = s->Wipe();
    if (!st.ok()) {
      note = absl::StrCat("the local index ", dir, " cannot be opened (", st.ToString(),
                          "): this command reads the index pieces instead");
      s.reset();
    }
  }
  if (s) {
    std::string version;
    const bool have = s->Get(kVersionKey, &version);
    if (have && version != kFormatVersion) {
      note = absl::StrCat("the local index ", dir, " has another format (", version,
                          "): rebuilt from the suppliers' index pieces");
      if (!s->Wipe().ok()) s.reset();
    }
  }
  on_disk_ = s != nullptr;
  SetStoreLocked(s ? std::move(s) : Store::InMemory());
  LoadFromStoreLocked();
  return note;
}

void VaultIndex::LoadFromStoreLocked() {
  blocks_.clear();
  block_numbers_.clear();
  overlay_.clear();
  reserved_.clear();
  pieces_.clear();
  stored_chunks_ = 0;
  Store* store = StoreLocked();
  std::string value;
  if (!store->Get(kVersionKey, &value)) {
    store->db->Put(rocksdb::WriteOptions(), kVersionKey, kFormatVersion).PermitUncheckedError();
  }
  if (store->Get(kCountKey, &value)) {
    std::string_view in = value;
    GetVarint(&in, &stored_chunks_);
  }
  std::unique_ptr<rocksdb::Iterator> it(store->db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("b"); it->Valid() && it->key().starts_with("b"); it->Next()) {
    auto rec = std::make_unique<vault::v1::BlockRecord>();
    if (!rec->ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) ||
        rec->block_id().size() != 16) {
      continue;  // cannot happen unless the disk lies; its chunks then miss
    }
    block_numbers_.emplace(rec->block_id(), static_cast<uint32_t>(blocks_.size()));
    blocks_.push_back(std::move(rec));
  }
  for (it->Seek("p"); it->Valid() && it->key().starts_with("p"); it->Next()) {
    PieceMeta m;
    if (DecodeMeta(std::string_view(it->value().data(), it->value().size()), &m)) {
      pieces_[it->key().ToString().substr(1)] = m;
    }
  }
}

std::map<std::string, VaultIndex::PieceMeta> VaultIndex::Pieces() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pieces_;
}

absl::Status VaultIndex::NotePiece(const std::string& name, const vault::v1::IndexPiece& piece) {
  std::lock_guard<std::mutex> lock(mu_);
  PieceMeta m{piece.epoch(), piece.base_pieces(), false};
  auto known = pieces_.find(name);
  if (known != pieces_.end()) m.applied = known->second.applied;
  pieces_[name] = m;
  rocksdb::Status st = StoreLocked()->db->Put(rocksdb::WriteOptions(), "p" + name, EncodeMeta(m));
  if (!st.ok()) return absl::InternalError(absl::StrCat("local index: ", st.ToString()));
  return absl::OkStatus();
}

absl::Status VaultIndex::ApplyPiece(const std::string& name, const vault::v1::IndexPiece& piece) {
  for (const auto& b : piece.blocks()) RETURN_IF_ERROR(CheckRecord(b));
  std::lock_guard<std::mutex> lock(mu_);
  Store* store = StoreLocked();
  rocksdb::WriteBatch batch;
  uint64_t added = 0;
  std::unordered_set<ChunkKey, ChunkKeyHash> in_batch;
  for (const auto& b : piece.blocks()) {
    const uint32_t number = MergeBlockLocked(b);
    batch.Put("b" + b.block_id(), blocks_[number]->SerializeAsString());
    for (const auto& c : b.chunks()) {
      const ChunkKey key = ChunkKey::From(c.id());
      const std::string skey = ChunkStoreKey(key);
      overlay_.erase(key);
      reserved_.erase(key);
      // The first location wins, as in the overlay.
      if (in_batch.count(key) || store->Has(skey)) continue;
      in_batch.insert(key);
      batch.Put(skey, EncodeChunk(b.block_id(), c));
      ++added;
    }
  }
  PieceMeta m{piece.epoch(), piece.base_pieces(), true};
  batch.Put("p" + name, EncodeMeta(m));
  std::string count;
  PutVarint(&count, stored_chunks_ + added);
  batch.Put(kCountKey, count);
  rocksdb::Status st = store->db->Write(rocksdb::WriteOptions(), &batch);
  if (!st.ok()) return absl::InternalError(absl::StrCat("local index: ", st.ToString()));
  stored_chunks_ += added;
  pieces_[name] = m;
  return absl::OkStatus();
}

void VaultIndex::ForgetPieces(const std::vector<std::string>& names) {
  std::lock_guard<std::mutex> lock(mu_);
  rocksdb::WriteBatch batch;
  for (const auto& n : names) {
    pieces_.erase(n);
    batch.Delete("p" + n);
  }
  StoreLocked()->db->Write(rocksdb::WriteOptions(), &batch).PermitUncheckedError();
}

uint64_t VaultIndex::epoch() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string value;
  uint64_t e = kNoEpoch;
  if (owned_ && owned_->Get(kEpochKey, &value)) {
    std::string_view in = value;
    if (!GetVarint(&in, &e)) e = kNoEpoch;
  }
  return e;
}

void VaultIndex::Reset(uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, PieceMeta> pieces = std::move(pieces_);
  // Wiping the database is quicker than deleting its keys and gives the
  // space back at once; the piece records are written again.
  if (!StoreLocked()->Wipe().ok()) {
    on_disk_ = false;
    SetStoreLocked(Store::InMemory());
  }
  LoadFromStoreLocked();
  rocksdb::WriteBatch batch;
  for (auto& [name, m] : pieces) {
    m.applied = false;
    batch.Put("p" + name, EncodeMeta(m));
  }
  if (epoch != kNoEpoch) {
    std::string e;
    PutVarint(&e, epoch);
    batch.Put(kEpochKey, e);
  }
  StoreLocked()->db->Write(rocksdb::WriteOptions(), &batch).PermitUncheckedError();
  pieces_ = std::move(pieces);
}

absl::Status VaultIndex::AddPiece(const vault::v1::IndexPiece& piece) {
  for (const auto& b : piece.blocks()) RETURN_IF_ERROR(AddBlock(b));
  return absl::OkStatus();
}

int64_t VaultIndex::BlockNumberLocked(const std::string& block_id) const {
  auto it = block_numbers_.find(block_id);
  return it == block_numbers_.end() ? int64_t{-1} : int64_t{it->second};
}

uint32_t VaultIndex::MergeBlockLocked(const vault::v1::BlockRecord& record) {
  const int64_t known = BlockNumberLocked(record.block_id());
  if (known < 0) {
    auto rec = std::make_unique<vault::v1::BlockRecord>(record);
    // Not clear_chunks(): a cleared RepeatedPtrField keeps its elements (and
    // their ID strings) allocated for reuse, which for a record kept for the
    // whole command is ~100 bytes per chunk never freed (a million-file
    // backup held ~100 MB that way). Swapping the list out frees it.
    google::protobuf::RepeatedPtrField<vault::v1::BlockChunk>().Swap(rec->mutable_chunks());
    const uint32_t number = static_cast<uint32_t>(blocks_.size());
    block_numbers_.emplace(record.block_id(), number);
    blocks_.push_back(std::move(rec));
    return number;
  }
  // Another record of a known block (a repair's, or a piece rewritten): the
  // fragments are the same (same sealed block, deterministic code), so the
  // positions stored are the union (0 = all).
  vault::v1::BlockRecord& have = *blocks_[known];
  if (have.sealed_size() == record.sealed_size() &&
      have.fragment_size() == record.fragment_size() &&
      std::equal(have.fragment_sha256().begin(), have.fragment_sha256().end(),
                 record.fragment_sha256().begin(), record.fragment_sha256().end())) {
    if (have.stored_mask() == 0 || record.stored_mask() == 0) {
      have.set_stored_mask(0);
    } else {
      have.set_stored_mask(have.stored_mask() | record.stored_mask());
    }
  }
  return static_cast<uint32_t>(known);
}

absl::Status VaultIndex::AddBlock(vault::v1::BlockRecord record) {
  // All or nothing: a chunk entered before a malformed one would point at a
  // block number that never gets a record (block() out of range).
  RETURN_IF_ERROR(CheckRecord(record));
  // Chunks the store already locates keep that location (looked up before
  // taking the lock: store reads need no lock).
  std::vector<bool> stored(record.chunks_size());
  Store* store = store_.load();
  for (int i = 0; store && i < record.chunks_size(); ++i) {
    stored[i] = store->Has(ChunkStoreKey(ChunkKey::From(record.chunks(i).id())));
  }
  std::lock_guard<std::mutex> lock(mu_);
  const uint32_t number = MergeBlockLocked(record);
  for (int i = 0; i < record.chunks_size(); ++i) {
    const auto& c = record.chunks(i);
    const ChunkKey key = ChunkKey::From(c.id());
    reserved_.erase(key);
    if (stored[i]) continue;
    ChunkLocation loc;
    loc.block = number;
    loc.offset = c.offset();
    loc.length = c.length();
    loc.raw_length = c.raw_length();
    loc.compressed = c.compressed();
    overlay_.emplace(key, loc);  // first location wins
  }
  return absl::OkStatus();
}

std::vector<std::vector<vault::v1::BlockChunk>> VaultIndex::ChunksByBlock() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::vector<vault::v1::BlockChunk>> out(blocks_.size());
  auto add = [&](std::string_view id, const ChunkLocation& loc) {
    out[loc.block].push_back(ToBlockChunk(id, loc));
  };
  if (owned_) {
    std::unique_ptr<rocksdb::Iterator> it(owned_->db->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek("c"); it->Valid() && it->key().starts_with("c"); it->Next()) {
      if (it->key().size() != 33 || it->value().size() < 16) continue;
      std::string_view value(it->value().data(), it->value().size());
      const int64_t number = BlockNumberLocked(std::string(value.substr(0, 16)));
      value.remove_prefix(16);
      ChunkLocation loc;
      uint64_t length, raw;
      if (number < 0 || !GetVarint(&value, &loc.offset) || !GetVarint(&value, &length) ||
          !GetVarint(&value, &raw) || value.size() != 1) {
        continue;
      }
      loc.block = static_cast<uint32_t>(number);
      loc.length = static_cast<uint32_t>(length);
      loc.raw_length = static_cast<uint32_t>(raw);
      loc.compressed = value[0] == 1;
      add(std::string_view(it->key().data() + 1, 32), loc);
    }
  }
  for (const auto& [key, loc] : overlay_) {
    add(std::string_view(reinterpret_cast<const char*>(key.bytes.data()), 32), loc);
  }
  for (auto& v : out) {
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.offset() < b.offset(); });
  }
  return out;
}

bool VaultIndex::FindInStore(const ChunkKey& key, ChunkLocation* loc) const {
  Store* store = store_.load();
  std::string value;
  if (!store || !store->Get(ChunkStoreKey(key), &value) || value.size() < 17) return false;
  std::string_view in(value);
  const std::string block_id(in.substr(0, 16));
  in.remove_prefix(16);
  uint64_t length, raw;
  if (!GetVarint(&in, &loc->offset) || !GetVarint(&in, &length) || !GetVarint(&in, &raw) ||
      in.size() != 1) {
    return false;
  }
  loc->length = static_cast<uint32_t>(length);
  loc->raw_length = static_cast<uint32_t>(raw);
  loc->compressed = in[0] == 1;
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t number = BlockNumberLocked(block_id);
  if (number < 0) return false;
  loc->block = static_cast<uint32_t>(number);
  return true;
}

bool VaultIndex::Find(std::string_view chunk_id, ChunkLocation* loc) const {
  const ChunkKey key = ChunkKey::From(chunk_id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = overlay_.find(key);
    if (it != overlay_.end()) {
      *loc = it->second;
      return true;
    }
  }
  return FindInStore(key, loc);
}

bool VaultIndex::Contains(std::string_view chunk_id) const {
  ChunkLocation loc;
  return Find(chunk_id, &loc);
}

bool VaultIndex::Reserve(std::string_view chunk_id) {
  const ChunkKey key = ChunkKey::From(chunk_id);
  // All three looked at under the lock: a chunk moves from reserved_ to the
  // overlay (AddBlock) and from the overlay to the store (ApplyPiece) under
  // it, so it is always seen in one of them.
  std::lock_guard<std::mutex> lock(mu_);
  if (reserved_.count(key) || overlay_.count(key) || (owned_ && owned_->Has(ChunkStoreKey(key)))) {
    return false;
  }
  reserved_.insert(key);
  return true;
}

const vault::v1::BlockRecord& VaultIndex::block(uint32_t block) const {
  std::lock_guard<std::mutex> lock(mu_);
  return *blocks_[block];
}

size_t VaultIndex::block_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return blocks_.size();
}

size_t VaultIndex::chunk_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stored_chunks_ + overlay_.size();
}

}  // namespace shardkeep::customer

// The vault index: which block holds each chunk, and how to fetch and
// verify each block (docs/FORMAT.md, "Index"). The index pieces (objects
// "index/...") are the record of truth; this is a local copy of them kept in
// a RocksDB store under the cache dir (docs/FORMAT.md, "Local index store"),
// so that a command does not fetch and parse every piece at its start, and
// memory does not grow with the number of chunks.
//
// Two layers:
//  - the store: the blocks and chunks of the pieces applied (ApplyPiece),
//    and what is known of every piece seen (its epoch), in RocksDB;
//  - the overlay, in memory: blocks committed by this command (AddBlock)
//    whose index piece is not stored yet. A piece is applied to the store
//    only once the suppliers hold it, so the store never names a block that
//    no piece records (a killed backup leaves nothing behind in it).
// Block records (without their chunk lists) are kept in memory: one per
// block of up to 16 MiB, a few MB for a 200 GB vault.
//
// Thread-safe, except OpenStore and Reset, which run before other calls
// (Repository::LoadIndex).
#ifndef SHARDKEEP_CUSTOMER_REPO_VAULT_INDEX_H_
#define SHARDKEEP_CUSTOMER_REPO_VAULT_INDEX_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

// A chunk ID as a hashable value.
struct ChunkKey {
  std::array<uint8_t, 32> bytes;
  static ChunkKey From(std::string_view id) {
    ChunkKey k{};
    std::memcpy(k.bytes.data(), id.data(), std::min<size_t>(id.size(), 32));
    return k;
  }
  std::string str() const { return std::string(reinterpret_cast<const char*>(bytes.data()), 32); }
  bool operator==(const ChunkKey& o) const { return bytes == o.bytes; }
};
struct ChunkKeyHash {
  size_t operator()(const ChunkKey& k) const {
    size_t h;
    std::memcpy(&h, k.bytes.data(), sizeof h);  // IDs are keyed hashes: uniformly random
    return h;
  }
};

// Where a chunk is: a block (by number in the index) and its location there.
struct ChunkLocation {
  uint32_t block = 0;
  uint32_t length = 0;
  uint32_t raw_length = 0;
  bool compressed = false;
  uint64_t offset = 0;
};

// The block-table entry of chunk `id` at `loc` (what ExtractChunk reads).
vault::v1::BlockChunk ToBlockChunk(std::string_view id, const ChunkLocation& loc);

class VaultIndex {
 public:
  // "No epoch applied yet" (a new or reset store).
  static constexpr uint64_t kNoEpoch = ~uint64_t{0};

  // An empty index with a private in-memory store (tests, and a command
  // whose cache dir another process holds).
  VaultIndex();
  ~VaultIndex();
  VaultIndex(const VaultIndex&) = delete;
  VaultIndex& operator=(const VaultIndex&) = delete;

  // Opens the on-disk store at `dir` (created if missing), replacing the
  // current one and its contents. The store is a cache, rebuilt from the
  // pieces when in doubt: one that RocksDB reports damaged, or of another
  // format version, is wiped and starts empty; one another process has open
  // is not shared: the index keeps a private in-memory store instead. Returns
  // a note for the user in those cases, "" otherwise.
  std::string OpenStore(const std::string& dir);
  bool on_disk() const { return on_disk_; }

  // What the store knows of an index piece.
  struct PieceMeta {
    uint64_t epoch = 0;
    uint32_t base_pieces = 0;
    bool applied = false;  // its blocks and chunks are in the store
  };
  // Every piece seen, by object name.
  std::map<std::string, PieceMeta> Pieces() const;
  // Records that a piece exists without applying it (another epoch's).
  absl::Status NotePiece(const std::string& name, const vault::v1::IndexPiece& piece);
  // Adds every block of a stored piece (merged with the overlay's records,
  // as AddBlock merges) to the store and records the piece as applied, in
  // one atomic write. DataLoss for a malformed record (nothing written).
  absl::Status ApplyPiece(const std::string& name, const vault::v1::IndexPiece& piece);
  // Drops the records of pieces no longer listed.
  void ForgetPieces(const std::vector<std::string>& names);
  // The epoch of the applied pieces (kNoEpoch: none applied).
  uint64_t epoch() const;
  // Empties the store (blocks, chunks) and the overlay, marks every piece
  // unapplied, and sets the epoch to be applied next.
  void Reset(uint64_t epoch);

  // Adds every block of a piece to the overlay (not stored: tests, fuzzing).
  absl::Status AddPiece(const vault::v1::IndexPiece& piece);
  // Adds one committed block to the overlay (its chunks become findable). A
  // block already known is merged: its stored_mask becomes the union of both
  // records' (0, all, wins) when their sizes and hashes agree, and the new
  // record's chunks are added (a repair record without chunks may come
  // first); a chunk already located keeps its first location. DataLoss for
  // a malformed record (nothing added).
  absl::Status AddBlock(vault::v1::BlockRecord record);

  // Every block's chunks whose location (the first one, as Find answers) is
  // in that block, by block number: what a rewritten index records.
  std::vector<std::vector<vault::v1::BlockChunk>> ChunksByBlock() const;

  // The chunk's location, or false if the vault does not hold it.
  bool Find(std::string_view chunk_id, ChunkLocation* loc) const;
  bool Contains(std::string_view chunk_id) const;

  // Dedup within a backup: true if the caller must store this chunk (neither
  // committed nor reserved before); false if it is already held or another
  // caller is storing it.
  bool Reserve(std::string_view chunk_id);

  // Block records by number (without their chunk lists). The reference
  // stays valid until Reset or OpenStore. REQUIRES: block < block_count().
  const vault::v1::BlockRecord& block(uint32_t block) const;
  size_t block_count() const;
  size_t chunk_count() const;

 private:
  struct Store;
  // The number of a known block, or -1. REQUIRES: mu_ held.
  int64_t BlockNumberLocked(const std::string& block_id) const;
  // Merges `record` (chunks cleared) into blocks_. REQUIRES: mu_ held.
  uint32_t MergeBlockLocked(const vault::v1::BlockRecord& record);
  // The location in the store, or false. Takes mu_ for the block number.
  bool FindInStore(const ChunkKey& key, ChunkLocation* loc) const;
  void LoadFromStoreLocked();

  // The store, created in memory on first need unless OpenStore gave one.
  // REQUIRES: mu_ held.
  Store* StoreLocked();
  void SetStoreLocked(std::unique_ptr<Store> store);

  mutable std::mutex mu_;
  std::unique_ptr<Store> owned_;
  // owned_.get(), for readers that do not take mu_ (Find, AddBlock's
  // look-ups). Replaced only by OpenStore and Reset (not concurrent with
  // other calls).
  std::atomic<Store*> store_{nullptr};
  bool on_disk_ = false;
  uint64_t stored_chunks_ = 0;
  std::map<std::string, PieceMeta> pieces_;
  std::vector<std::unique_ptr<vault::v1::BlockRecord>> blocks_;
  std::unordered_map<std::string, uint32_t> block_numbers_;
  std::unordered_map<ChunkKey, ChunkLocation, ChunkKeyHash> overlay_;
  std::unordered_set<ChunkKey, ChunkKeyHash> reserved_;
};

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_VAULT_INDEX_H_

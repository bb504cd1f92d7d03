// The vault index in memory: which block holds each chunk, and how to fetch
// and verify each block (docs/FORMAT.md, "Index"). Loaded from the index
// pieces (objects "index/...") at the start of a command; a backup adds the
// blocks it commits and writes them out as new pieces at the end.
//
// Thread-safe.
#ifndef SHARDKEEP_CUSTOMER_REPO_VAULT_INDEX_H_
#define SHARDKEEP_CUSTOMER_REPO_VAULT_INDEX_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
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

class VaultIndex {
 public:
  VaultIndex() = default;
  VaultIndex(const VaultIndex&) = delete;
  VaultIndex& operator=(const VaultIndex&) = delete;

  // Adds every block of a piece. A block already known is merged: its
  // stored_mask becomes the union of both records' (0, all, wins) when their
  // sizes and hashes agree, and the new record's chunks are added (a repair
  // record without chunks may come first). DataLoss for a malformed record.
  absl::Status AddPiece(const vault::v1::IndexPiece& piece);
  // Adds one committed block (its chunks become findable).
  absl::Status AddBlock(vault::v1::BlockRecord record);
  // Forgets everything (LoadIndex starting over on another epoch).
  void Clear();

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

  // Block records by number (without their chunk lists, which live in the
  // chunk map). REQUIRES: block < block_count().
  const vault::v1::BlockRecord& block(uint32_t block) const;
  size_t block_count() const;
  size_t chunk_count() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<vault::v1::BlockRecord>> blocks_;
  std::unordered_map<std::string, uint32_t> block_numbers_;
  std::unordered_map<ChunkKey, ChunkLocation, ChunkKeyHash> chunks_;
  std::unordered_set<ChunkKey, ChunkKeyHash> reserved_;
};

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_VAULT_INDEX_H_

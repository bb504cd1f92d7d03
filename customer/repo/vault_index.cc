#include "customer/repo/vault_index.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"

namespace shardkeep::customer {

absl::Status VaultIndex::AddPiece(const vault::v1::IndexPiece& piece) {
  for (const auto& b : piece.blocks()) RETURN_IF_ERROR(AddBlock(b));
  return absl::OkStatus();
}

absl::Status VaultIndex::AddBlock(vault::v1::BlockRecord record) {
  if (record.block_id().size() != 16) return absl::DataLossError("index: block ID is not 16 bytes");
  // All or nothing: a chunk entered before a malformed one would point at a
  // block number that never gets a record (block() out of range).
  for (const auto& c : record.chunks()) {
    if (c.id().size() != 32) {
      return absl::DataLossError(absl::StrCat("index: block ", crypto::ToHex(record.block_id()),
                                              " lists a chunk ID that is not 32 bytes"));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto known = block_numbers_.find(record.block_id());
  const bool is_new = known == block_numbers_.end();
  uint32_t number = is_new ? static_cast<uint32_t>(blocks_.size()) : known->second;
  if (!is_new) {
    // Another record of a known block (a repair's, or a piece rewritten):
    // the fragments are the same (same sealed block, deterministic code), so
    // the positions stored are the union (0 = all); its chunks, if any, are
    // added below (the repair record may have come first, without them).
    vault::v1::BlockRecord& have = *blocks_[number];
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
  }
  for (const auto& c : record.chunks()) {
    ChunkLocation loc;
    loc.block = number;
    loc.offset = c.offset();
    loc.length = c.length();
    loc.raw_length = c.raw_length();
    loc.compressed = c.compressed();
    chunks_.emplace(ChunkKey::From(c.id()), loc);  // first location wins
  }
  if (!is_new) return absl::OkStatus();
  record.clear_chunks();
  block_numbers_.emplace(record.block_id(), number);
  blocks_.push_back(std::make_unique<vault::v1::BlockRecord>(std::move(record)));
  return absl::OkStatus();
}

void VaultIndex::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  blocks_.clear();
  block_numbers_.clear();
  chunks_.clear();
  reserved_.clear();
}

std::vector<std::vector<vault::v1::BlockChunk>> VaultIndex::ChunksByBlock() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::vector<vault::v1::BlockChunk>> out(blocks_.size());
  for (const auto& [key, loc] : chunks_) {
    vault::v1::BlockChunk c;
    c.set_id(key.str());
    c.set_offset(loc.offset);
    c.set_length(loc.length);
    c.set_raw_length(loc.raw_length);
    c.set_compressed(loc.compressed);
    out[loc.block].push_back(std::move(c));
  }
  for (auto& v : out) {
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.offset() < b.offset(); });
  }
  return out;
}

bool VaultIndex::Find(std::string_view chunk_id, ChunkLocation* loc) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = chunks_.find(ChunkKey::From(chunk_id));
  if (it == chunks_.end()) return false;
  *loc = it->second;
  return true;
}

bool VaultIndex::Contains(std::string_view chunk_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return chunks_.count(ChunkKey::From(chunk_id)) > 0;
}

bool VaultIndex::Reserve(std::string_view chunk_id) {
  ChunkKey key = ChunkKey::From(chunk_id);
  std::lock_guard<std::mutex> lock(mu_);
  if (chunks_.count(key)) return false;
  return reserved_.insert(key).second;
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
  return chunks_.size();
}

}  // namespace shardkeep::customer

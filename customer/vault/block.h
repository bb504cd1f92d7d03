// Blocks: the unit of encryption and erasure coding (docs/FORMAT.md,
// "Blocks"). A block packs many chunks (each zstd-compressed when that
// helps) followed by a table of them, and is sealed with AES-256-GCM under
// the block key; the sealed bytes are what raid::Codec cuts into fragments.
//
//   plaintext = chunk bytes back to back || BlockTable || uint32 LE len(BlockTable)
//   sealed    = nonce (12) || AES-256-GCM(block key, nonce, aad, plaintext) (ct || tag)
//   aad       = "shardkeep/v1/block" || 0x00 || block_id (16)
#ifndef SHARDKEEP_CUSTOMER_VAULT_BLOCK_H_
#define SHARDKEEP_CUSTOMER_VAULT_BLOCK_H_

#include <string>
#include <string_view>

#include "common/status.h"
#include "customer/vault/names.h"  // FragmentKey
#include "proto/vault.pb.h"

namespace shardkeep::customer {

inline constexpr size_t kBlockIdSize = 16;
// Room a block needs beyond its payload: the table of up to 8192 chunks
// (BlockWriter's kMaxChunksPerBlock, ~56 bytes each serialized), its
// length, the nonce and the tag. Reserved so that neither Finish nor an
// in-place seal reallocates (a copy of the whole block).
inline constexpr size_t kBlockOverhead = 8192 * 64 + 64;

// Packs chunks into one block's plaintext. Not thread-safe.
class BlockBuilder {
 public:
  // `reserve`: expected payload size (avoids regrowth); room for the table,
  // the nonce and the tag (kBlockOverhead) is added to it.
  BlockBuilder(vault::v1::BlockKind kind, std::string block_id, size_t reserve);
  BlockBuilder(const BlockBuilder&) = delete;
  BlockBuilder& operator=(const BlockBuilder&) = delete;

  // Appends one chunk. `stored` is its zstd frame if `compressed`, else the
  // raw chunk (then stored.size() == raw_length).
  void Add(std::string_view chunk_id, std::string_view stored, uint32_t raw_length,
           bool compressed);

  size_t payload_size() const { return payload_.size(); }
  size_t chunk_count() const { return table_.chunks_size(); }
  const std::string& block_id() const { return table_.block_id(); }
  const vault::v1::BlockTable& table() const { return table_; }

  // The finished plaintext (payload, table, trailer). The builder is spent.
  std::string Finish();

 private:
  std::string payload_;
  vault::v1::BlockTable table_;
};

// Seals a block plaintext under the block key with a fresh random nonce.
absl::StatusOr<std::string> SealBlock(std::string_view block_key, std::string_view block_id,
                                      std::string_view plaintext);

// As SealBlock, sealing `plaintext` where it lies (the nonce goes in front
// with a memmove): a block being sealed costs one buffer, not two.
absl::StatusOr<std::string> SealBlockInPlace(std::string_view block_key, std::string_view block_id,
                                             std::string plaintext);

// Verifies and decrypts a sealed block. DataLoss (naming the block) if it
// does not authenticate under this key and block ID.
absl::StatusOr<std::string> OpenBlock(std::string_view block_key, std::string_view block_id,
                                      std::string_view sealed);
// As OpenBlock, decrypting `sealed` where it lies: the plaintext is the
// same buffer, so a restore holds one copy of each block, not two.
absl::StatusOr<std::string> OpenBlockInPlace(std::string_view block_key, std::string_view block_id,
                                             std::string sealed);

// The table of an opened block's plaintext. DataLoss if malformed.
absl::StatusOr<vault::v1::BlockTable> ParseBlockTable(std::string_view plaintext);

// The plaintext of one chunk of an opened block, decompressed if needed.
// DataLoss if the location is outside the payload or the frame is corrupt.
// Appends to *out.
absl::Status ExtractChunk(std::string_view plaintext, const vault::v1::BlockChunk& chunk,
                          std::string* out);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_VAULT_BLOCK_H_

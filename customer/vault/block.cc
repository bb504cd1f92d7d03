#include "customer/vault/block.h"

#include "absl/strings/str_cat.h"
#include "common/compress.h"
#include "common/crypto.h"
#include "customer/vault/wire.h"

namespace shardkeep::customer {
namespace {

std::string BlockAad(std::string_view block_id) {
  std::string aad = "shardkeep/v1/block";
  aad.push_back('\0');
  aad.append(block_id.data(), block_id.size());
  return aad;
}

}  // namespace

BlockBuilder::BlockBuilder(vault::v1::BlockKind kind, std::string block_id, size_t reserve) {
  payload_.reserve(reserve + kBlockOverhead);
  table_.set_block_id(std::move(block_id));
  table_.set_kind(kind);
}

void BlockBuilder::Add(std::string_view chunk_id, std::string_view stored, uint32_t raw_length,
                       bool compressed) {
  vault::v1::BlockChunk* c = table_.add_chunks();
  c->set_id(chunk_id.data(), chunk_id.size());
  c->set_offset(payload_.size());
  c->set_length(static_cast<uint32_t>(stored.size()));
  c->set_raw_length(raw_length);
  c->set_compressed(compressed);
  payload_.append(stored.data(), stored.size());
}

std::string BlockBuilder::Finish() {
  std::string table;
  table_.SerializeToString(&table);
  std::string out = std::move(payload_);
  out.append(table);
  PutU32(&out, static_cast<uint32_t>(table.size()));
  return out;
}

absl::StatusOr<std::string> SealBlock(std::string_view block_key, std::string_view block_id,
                                      std::string_view plaintext) {
  std::string nonce = crypto::RandomBytes(crypto::kAeadNonceSize);
  // nonce || ciphertext || tag in one buffer: no second copy of the block.
  std::string sealed;
  sealed.reserve(nonce.size() + crypto::AeadSealedSize(plaintext.size()));
  sealed.append(nonce);
  RETURN_IF_ERROR(crypto::AeadSealAppend(block_key, nonce, BlockAad(block_id), plaintext, &sealed));
  return sealed;
}

absl::StatusOr<std::string> SealBlockInPlace(std::string_view block_key, std::string_view block_id,
                                             std::string plaintext) {
  const std::string nonce = crypto::RandomBytes(crypto::kAeadNonceSize);
  plaintext.insert(0, nonce);  // a memmove within the reserved capacity
  RETURN_IF_ERROR(crypto::AeadSealInPlace(block_key, nonce, BlockAad(block_id), &plaintext,
                                          crypto::kAeadNonceSize));
  return plaintext;
}

absl::StatusOr<std::string> OpenBlock(std::string_view block_key, std::string_view block_id,
                                      std::string_view sealed) {
  if (sealed.size() < crypto::kAeadNonceSize + crypto::kAeadTagSize) {
    return absl::DataLossError(absl::StrCat("block ", crypto::ToHex(block_id), " is too short (",
                                            sealed.size(), " bytes)"));
  }
  std::string plaintext;
  absl::Status s =
      crypto::AeadOpen(block_key, sealed.substr(0, crypto::kAeadNonceSize), BlockAad(block_id),
                       sealed.substr(crypto::kAeadNonceSize), &plaintext);
  if (!s.ok()) {
    return absl::DataLossError(
        absl::StrCat("block ", crypto::ToHex(block_id), " does not authenticate: ", s.message()));
  }
  return plaintext;
}

absl::StatusOr<std::string> OpenBlockInPlace(std::string_view block_key, std::string_view block_id,
                                             std::string sealed) {
  if (sealed.size() < crypto::kAeadNonceSize + crypto::kAeadTagSize) {
    return absl::DataLossError(absl::StrCat("block ", crypto::ToHex(block_id), " is too short (",
                                            sealed.size(), " bytes)"));
  }
  const std::string nonce = sealed.substr(0, crypto::kAeadNonceSize);
  sealed.erase(0, crypto::kAeadNonceSize);  // a memmove, not a second buffer
  absl::Status s = crypto::AeadOpenInPlace(block_key, nonce, BlockAad(block_id), &sealed);
  if (!s.ok()) {
    return absl::DataLossError(
        absl::StrCat("block ", crypto::ToHex(block_id), " does not authenticate: ", s.message()));
  }
  return sealed;
}

absl::StatusOr<vault::v1::BlockTable> ParseBlockTable(std::string_view plaintext) {
  if (plaintext.size() < 4) return absl::DataLossError("block plaintext too short for its table");
  uint32_t len = GetU32(plaintext.data() + plaintext.size() - 4);
  if (len > plaintext.size() - 4) return absl::DataLossError("block table length out of range");
  vault::v1::BlockTable table;
  if (!table.ParseFromArray(plaintext.data() + plaintext.size() - 4 - len, len)) {
    return absl::DataLossError("block table does not parse");
  }
  return table;
}

absl::Status ExtractChunk(std::string_view plaintext, const vault::v1::BlockChunk& chunk,
                          std::string* out) {
  if (chunk.offset() > plaintext.size() || chunk.length() > plaintext.size() - chunk.offset()) {
    return absl::DataLossError(
        absl::StrCat("chunk ", crypto::ToHex(chunk.id()), " lies outside its block"));
  }
  std::string_view stored = plaintext.substr(chunk.offset(), chunk.length());
  if (!chunk.compressed()) {
    if (stored.size() != chunk.raw_length()) {
      return absl::DataLossError(
          absl::StrCat("chunk ", crypto::ToHex(chunk.id()), " has the wrong length"));
    }
    out->append(stored.data(), stored.size());
    return absl::OkStatus();
  }
  absl::Status s = compress::Decompress(stored, chunk.raw_length(), out);
  if (!s.ok()) {
    return absl::DataLossError(
        absl::StrCat("chunk ", crypto::ToHex(chunk.id()), ": ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace shardkeep::customer

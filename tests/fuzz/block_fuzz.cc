// Fuzzes the block layer of customer/block.h: a block's sealed bytes are
// decoded from fragments that untrusted suppliers returned, and its chunk
// table then says where every chunk is.
//
// Input: mode byte, then
//   0: 16-byte block ID, sealed bytes -> OpenBlock. Garbage is refused by the
//      AEAD (DataLoss), never crashes; what opens, opens under its ID only.
//   1: a block plaintext as a keyholder could write it (table offsets outside
//      the payload, lengths that overflow, bad frames) -> ParseBlockTable and
//      ExtractChunk of every entry: errors, never crashes, and what is
//      extracted has exactly the length the table declares.
//   2: chunks (Field()s) packed with the real BlockBuilder, sealed, opened,
//      parsed and extracted: the round trip gives back every chunk.
#include <cstdint>
#include <string>
#include <vector>

#include "common/compress.h"
#include "common/crypto.h"
#include "customer/vault/block.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using shardkeep::fuzz::Input;
using shardkeep::fuzz::kBlockKey;
using shardkeep::fuzz::kOtherKey;
namespace customer = shardkeep::customer;
namespace crypto = shardkeep::crypto;
namespace vault = shardkeep::vault::v1;

void Sealed(Input& in) {
  const std::string block_id(in.Take(customer::kBlockIdSize));
  const std::string_view sealed = in.Rest();
  auto plain = customer::OpenBlock(kBlockKey, block_id, sealed);
  if (!plain.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(plain.status()));
    return;
  }
  FUZZ_CHECK(plain->size() + crypto::kAeadNonceSize + crypto::kAeadTagSize == sealed.size());
  FUZZ_CHECK(!customer::OpenBlock(kBlockKey, block_id + "x", sealed).ok());
  FUZZ_CHECK(!customer::OpenBlock(kOtherKey, block_id, sealed).ok());
}

void Plaintext(std::string_view plaintext) {
  auto table = customer::ParseBlockTable(plaintext);
  if (!table.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(table.status()));
    return;
  }
  for (const vault::BlockChunk& c : table->chunks()) {
    std::string out = "prefix";  // ExtractChunk appends
    absl::Status s = customer::ExtractChunk(plaintext, c, &out);
    if (!s.ok()) {
      FUZZ_CHECK(absl::IsDataLoss(s));
      FUZZ_CHECK(out == "prefix");
      continue;
    }
    FUZZ_CHECK(out.size() == 6 + static_cast<size_t>(c.raw_length()));
    FUZZ_CHECK(c.offset() <= plaintext.size() && c.length() <= plaintext.size() - c.offset());
    if (!c.compressed()) {
      FUZZ_CHECK(out.compare(6, std::string::npos, plaintext.substr(c.offset(), c.length())) == 0);
    }
  }
}

void RoundTrip(Input& in) {
  const std::string block_id(16, 'b');
  std::vector<std::string> chunks;
  customer::BlockBuilder builder(in.Byte() % 2 ? vault::BLOCK_KIND_TREE : vault::BLOCK_KIND_DATA,
                                 block_id, 0);
  while (!in.empty() && chunks.size() < 64) {
    std::string chunk(in.Field());
    std::string packed;
    const bool compressed = shardkeep::compress::CompressIfSmaller(chunk, 1, &packed);
    builder.Add(crypto::Sha256(chunk), compressed ? packed : chunk,
                static_cast<uint32_t>(chunk.size()), compressed);
    chunks.push_back(std::move(chunk));
  }
  const std::string expected_table = builder.table().SerializeAsString();
  const std::string plaintext = builder.Finish();
  auto sealed = customer::SealBlock(kBlockKey, block_id, plaintext);
  FUZZ_CHECK(sealed.ok());
  auto opened = customer::OpenBlock(kBlockKey, block_id, *sealed);
  FUZZ_CHECK(opened.ok() && *opened == plaintext);
  auto table = customer::ParseBlockTable(*opened);
  FUZZ_CHECK(table.ok());
  FUZZ_CHECK(table->SerializeAsString() == expected_table);
  FUZZ_CHECK(table->block_id() == block_id);
  FUZZ_CHECK(table->chunks_size() == static_cast<int>(chunks.size()));
  for (size_t i = 0; i < chunks.size(); ++i) {
    const vault::BlockChunk& c = table->chunks(static_cast<int>(i));
    FUZZ_CHECK(c.id() == crypto::Sha256(chunks[i]));
    std::string out;
    FUZZ_CHECK(customer::ExtractChunk(*opened, c, &out).ok());
    FUZZ_CHECK(out == chunks[i]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  switch (in.Byte() % 3) {
    case 0:
      Sealed(in);
      break;
    case 1:
      Plaintext(in.Rest());
      break;
    default:
      RoundTrip(in);
      break;
  }
  return 0;
}

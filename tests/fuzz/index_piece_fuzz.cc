// Fuzzes the vault index: index pieces (objects "index/...") are parsed and
// loaded into customer::VaultIndex at the start of every command.
//
// Input: up to four Field()s, each a serialised IndexPiece (as OpenObject
// returns it), loaded in order into one index, whether or not an earlier one
// was refused. Against a model written here from docs/FORMAT.md ("the first
// record of a block gives it its number, a later one adds its chunks; the
// first location of a chunk wins", block IDs are 16 bytes and chunk IDs 32):
//   - a piece is refused iff it holds a malformed ID; the blocks before the
//     malformed one are kept, nothing of it;
//   - every chunk the index finds is at the location the model says, in a
//     block the index has (block < block_count(), so block() is safe to call);
//   - block and chunk counts match the model.
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "customer/repo/vault_index.h"
#include "proto/vault.pb.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using shardkeep::fuzz::Input;
namespace customer = shardkeep::customer;
namespace vault = shardkeep::vault::v1;

struct Model {
  std::set<std::string> blocks;
  std::map<std::string, std::pair<std::string, vault::BlockChunk>> chunks;  // id -> (block, loc)
};

// Applies a piece to the model as docs/FORMAT.md describes it; false if the
// piece is refused. Blocks before the first malformed one are kept (each is
// complete); the malformed block and everything after it are not.
bool Apply(const vault::IndexPiece& piece, Model* model) {
  for (const auto& b : piece.blocks()) {
    if (b.block_id().size() != 16) return false;
    for (const auto& c : b.chunks()) {
      if (c.id().size() != 32) return false;
    }
    model->blocks.insert(b.block_id());  // a known block keeps its number
    for (const auto& c : b.chunks()) model->chunks.emplace(c.id(), std::make_pair(b.block_id(), c));
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  customer::VaultIndex index;
  Model model;
  for (int i = 0; i < 4 && !in.empty(); ++i) {
    vault::IndexPiece piece;
    const std::string_view bytes = in.Field();
    if (!piece.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) continue;
    absl::Status s = index.AddPiece(piece);
    FUZZ_CHECK(s.ok() == Apply(piece, &model));
    if (!s.ok()) FUZZ_CHECK(absl::IsDataLoss(s));
  }
  FUZZ_CHECK(index.block_count() == model.blocks.size());
  FUZZ_CHECK(index.chunk_count() == model.chunks.size());
  for (const auto& [id, where] : model.chunks) {
    customer::ChunkLocation loc;
    FUZZ_CHECK(index.Find(id, &loc));
    FUZZ_CHECK(loc.block < index.block_count());
    const vault::BlockRecord& rec = index.block(loc.block);
    FUZZ_CHECK(rec.block_id() == where.first);
    FUZZ_CHECK(rec.chunks_size() == 0);  // the chunk lists live in the chunk map
    FUZZ_CHECK(loc.offset == where.second.offset());
    FUZZ_CHECK(loc.length == where.second.length());
    FUZZ_CHECK(loc.raw_length == where.second.raw_length());
    FUZZ_CHECK(loc.compressed == where.second.compressed());
    FUZZ_CHECK(!index.Reserve(id));  // held: nothing to store
  }
  // Whatever Find answers for IDs the model does not know (e.g. from a refused
  // piece) must still name a block the index has.
  Input again(data, size);
  for (int i = 0; i < 4 && !again.empty(); ++i) {
    vault::IndexPiece piece;
    const std::string_view bytes = again.Field();
    if (!piece.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) continue;
    for (const auto& b : piece.blocks()) {
      for (const auto& c : b.chunks()) {
        customer::ChunkLocation loc;
        if (index.Find(c.id(), &loc)) FUZZ_CHECK(loc.block < index.block_count());
      }
    }
  }
  return 0;
}

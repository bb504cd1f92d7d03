// VaultIndex with its RocksDB store (docs/FORMAT.md, "Local index store"):
// what is applied survives a reopen, what is only in the overlay does not,
// Reset empties it, and a store held by another user or of another format
// is not used as it is.
#include "customer/repo/vault_index.h"

#include <stdlib.h>

#include <fstream>
#include <string>

#include "common/crypto.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

std::string TempDir() {
  std::string t = std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") +
                  "/vault-index-XXXXXX";
  EXPECT_NE(mkdtemp(t.data()), nullptr);
  return t;
}

vault::v1::BlockRecord Block(int chunks, uint64_t mask = 0) {
  vault::v1::BlockRecord b;
  b.set_block_id(crypto::RandomBytes(16));
  b.set_sealed_size(1000);
  b.set_fragment_size(500);
  b.set_stored_mask(mask);
  for (int i = 0; i < chunks; ++i) {
    auto* c = b.add_chunks();
    c->set_id(crypto::RandomBytes(32));
    c->set_offset(100 * i);
    c->set_length(100);
    c->set_raw_length(150 + i);
    c->set_compressed(i % 2 == 0);
  }
  return b;
}

vault::v1::IndexPiece Piece(std::vector<vault::v1::BlockRecord> blocks, uint64_t epoch = 0) {
  vault::v1::IndexPiece p;
  p.set_version(1);
  p.set_epoch(epoch);
  for (auto& b : blocks) *p.add_blocks() = std::move(b);
  return p;
}

TEST(VaultIndexStoreTest, AppliedPiecesSurviveAReopenTheOverlayDoesNot) {
  const std::string dir = TempDir() + "/index.db";
  const vault::v1::BlockRecord stored = Block(3), pending = Block(2);
  {
    VaultIndex index;
    EXPECT_EQ(index.OpenStore(dir), "");
    EXPECT_TRUE(index.on_disk());
    index.Reset(0);
    ASSERT_TRUE(index.AddBlock(pending).ok());
    ASSERT_TRUE(index.ApplyPiece("index/a.0", Piece({stored})).ok());
    EXPECT_TRUE(index.Contains(pending.chunks(0).id()));
    EXPECT_EQ(index.chunk_count(), 5u);
  }
  VaultIndex index;
  EXPECT_EQ(index.OpenStore(dir), "");
  EXPECT_EQ(index.epoch(), 0u);
  EXPECT_EQ(index.block_count(), 1u);
  EXPECT_EQ(index.chunk_count(), 3u);
  ChunkLocation loc;
  ASSERT_TRUE(index.Find(stored.chunks(2).id(), &loc));
  EXPECT_EQ(index.block(loc.block).block_id(), stored.block_id());
  EXPECT_EQ(loc.offset, 200u);
  EXPECT_EQ(loc.length, 100u);
  EXPECT_EQ(loc.raw_length, 152u);
  EXPECT_TRUE(loc.compressed);
  // The overlay's block had no stored piece: it is not in the store.
  EXPECT_FALSE(index.Contains(pending.chunks(0).id()));
  EXPECT_TRUE(index.Reserve(pending.chunks(0).id()));
  EXPECT_FALSE(index.Reserve(stored.chunks(0).id()));
  auto pieces = index.Pieces();
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_TRUE(pieces["index/a.0"].applied);
  auto by_block = index.ChunksByBlock();
  ASSERT_EQ(by_block.size(), 1u);
  EXPECT_EQ(by_block[0].size(), 3u);
  EXPECT_EQ(by_block[0][1].id(), stored.chunks(1).id());
}

TEST(VaultIndexStoreTest, MergesAsTheOverlayDoesAndFirstLocationWins) {
  VaultIndex index;
  EXPECT_EQ(index.OpenStore(TempDir() + "/index.db"), "");
  vault::v1::BlockRecord a = Block(2, 0b0011);
  vault::v1::BlockRecord repair = a;
  repair.clear_chunks();
  repair.set_stored_mask(0b1100);
  ASSERT_TRUE(index.ApplyPiece("index/a.0", Piece({a})).ok());
  ASSERT_TRUE(index.ApplyPiece("index/r.0", Piece({repair})).ok());
  EXPECT_EQ(index.block_count(), 1u);
  EXPECT_EQ(index.block(0).stored_mask(), 0b1111u);
  // Another block holding a's first chunk: the first location stays.
  vault::v1::BlockRecord b = Block(1);
  *b.mutable_chunks(0) = a.chunks(0);
  ASSERT_TRUE(index.ApplyPiece("index/b.0", Piece({b})).ok());
  ChunkLocation loc;
  ASSERT_TRUE(index.Find(a.chunks(0).id(), &loc));
  EXPECT_EQ(index.block(loc.block).block_id(), a.block_id());
  EXPECT_EQ(index.chunk_count(), 2u);
  // A malformed record is refused and nothing of its piece is written.
  vault::v1::BlockRecord bad = Block(2);
  bad.mutable_chunks(1)->set_id("short");
  EXPECT_FALSE(index.ApplyPiece("index/bad.0", Piece({Block(1), bad})).ok());
  EXPECT_EQ(index.block_count(), 2u);
  EXPECT_EQ(index.Pieces().count("index/bad.0"), 0u);
}

TEST(VaultIndexStoreTest, ResetEmptiesTheStoreAndKeepsThePieceRecords) {
  const std::string dir = TempDir() + "/index.db";
  VaultIndex index;
  EXPECT_EQ(index.OpenStore(dir), "");
  const vault::v1::BlockRecord b = Block(2);
  ASSERT_TRUE(index.ApplyPiece("index/a.0", Piece({b}, 3)).ok());
  vault::v1::IndexPiece other = Piece({Block(1)}, 4);
  other.set_base_pieces(1);
  ASSERT_TRUE(index.NotePiece("index/p.0", other).ok());
  index.Reset(4);
  EXPECT_EQ(index.epoch(), 4u);
  EXPECT_EQ(index.block_count(), 0u);
  EXPECT_EQ(index.chunk_count(), 0u);
  EXPECT_FALSE(index.Contains(b.chunks(0).id()));
  auto pieces = index.Pieces();
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_FALSE(pieces["index/a.0"].applied);
  EXPECT_EQ(pieces["index/p.0"].epoch, 4u);
  EXPECT_EQ(pieces["index/p.0"].base_pieces, 1u);
  index.ForgetPieces({"index/a.0"});
  VaultIndex again;
  EXPECT_EQ(again.OpenStore(dir + "-other"), "");
  EXPECT_EQ(again.epoch(), VaultIndex::kNoEpoch);
}

TEST(VaultIndexStoreTest, HeldByAnotherUserOrDamagedIsNotUsedAsItIs) {
  const std::string dir = TempDir() + "/index.db";
  VaultIndex first;
  EXPECT_EQ(first.OpenStore(dir), "");
  ASSERT_TRUE(first.ApplyPiece("index/a.0", Piece({Block(1)})).ok());
  VaultIndex second;
  const std::string note = second.OpenStore(dir);
  EXPECT_NE(note.find("in use by another command"), std::string::npos) << note;
  EXPECT_FALSE(second.on_disk());
  EXPECT_EQ(second.block_count(), 0u);  // its own, empty, in-memory store
  ASSERT_TRUE(second.ApplyPiece("index/b.0", Piece({Block(1)})).ok());
  first.OpenStore(dir + "-elsewhere");  // lets go of `dir`

  // Every file of the database overwritten: rebuilt empty, with a note.
  ASSERT_EQ(system(("for f in '" + dir + "'/*; do echo junk > \"$f\"; done").c_str()), 0);
  VaultIndex third;
  const std::string damaged = third.OpenStore(dir);
  EXPECT_NE(damaged.find("damaged"), std::string::npos) << damaged;
  EXPECT_TRUE(third.on_disk());
  EXPECT_EQ(third.block_count(), 0u);
  EXPECT_TRUE(third.Pieces().empty());
}

TEST(VaultIndexStoreTest, WithoutAStoreTheOverlayAlone) {
  VaultIndex index;  // no OpenStore, nothing applied: no database at all
  const vault::v1::BlockRecord b = Block(2);
  ASSERT_TRUE(index.AddPiece(Piece({b})).ok());
  EXPECT_TRUE(index.Contains(b.chunks(1).id()));
  EXPECT_EQ(index.chunk_count(), 2u);
  EXPECT_EQ(index.epoch(), VaultIndex::kNoEpoch);
  EXPECT_EQ(index.ChunksByBlock()[0].size(), 2u);
}

// The index keeps one record per block for the whole command, without its
// chunk list. A cleared list still holds its elements for reuse, which for a
// million-chunk backup was ~100 MB held to the end: the kept record must not
// own any chunk, however it arrived.
TEST(VaultIndexStoreTest, KeptBlockRecordsHoldNoChunks) {
  VaultIndex index;
  index.Reset(0);
  const vault::v1::BlockRecord added = Block(2000), applied = Block(2000);
  ASSERT_TRUE(index.AddBlock(added).ok());
  ASSERT_TRUE(index.ApplyPiece("index/a.0", Piece({applied})).ok());
  for (uint32_t b = 0; b < 2; ++b) {
    EXPECT_EQ(index.block(b).chunks_size(), 0);
    // SpaceUsedLong counts allocated elements, cleared ones too: 2000
    // kept chunks would be ~240 KB, a bare record is a few hundred bytes.
    EXPECT_LT(index.block(b).SpaceUsedLong(), 4096u) << "block " << b;
  }
}

}  // namespace
}  // namespace shardkeep::customer

#include "common/merkle.h"

#include "common/crypto.h"
#include "gtest/gtest.h"

namespace shardkeep::merkle {
namespace {

TEST(MerkleTest, EveryPieceVerifiesAndNothingElseDoes) {
  for (uint64_t size : {0ull, 1ull, 1000ull, 4096ull, 4097ull, 5 * 4096ull + 7, 64 * 4096ull}) {
    const std::string data = crypto::RandomBytes(size);
    const uint64_t ps = 4096;
    const uint64_t count = PieceCount(size, ps);
    std::vector<std::string> leaves;
    for (uint64_t i = 0; i < count; ++i) leaves.push_back(LeafHash(data.substr(i * ps, ps)));
    const std::string root = Root(data, ps);
    ASSERT_EQ(root, RootOfLeaves(leaves));
    for (uint64_t i = 0; i < count; ++i) {
      std::string piece = data.substr(i * ps, ps);
      auto proof = Proof(leaves, i);
      EXPECT_TRUE(Verify(root, size, ps, i, piece, proof)) << size << " " << i;
      if (!piece.empty()) {
        std::string flipped = piece;
        flipped[flipped.size() / 2] ^= 1;
        EXPECT_FALSE(Verify(root, size, ps, i, flipped, proof));
      }
      EXPECT_FALSE(Verify(root, size, ps, i + 1, piece, proof));
      if (!proof.empty()) {
        auto bad = proof;
        bad[0][0] ^= 1;
        EXPECT_FALSE(Verify(root, size, ps, i, piece, bad));
        bad = proof;
        bad.push_back(std::string(32, 'x'));
        EXPECT_FALSE(Verify(root, size, ps, i, piece, bad));
      }
    }
    EXPECT_FALSE(Verify(root, size, ps, count, "", {}));
  }
}

}  // namespace
}  // namespace shardkeep::merkle

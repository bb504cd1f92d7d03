#include "common/merkle.h"

#include "common/crypto.h"

namespace shardkeep::merkle {
namespace {

std::string Node(const std::string& left, const std::string& right) {
  std::string in;
  in.reserve(65);
  in.push_back('\x01');
  in += left;
  in += right;
  return crypto::Sha256(in);
}

}  // namespace

uint64_t PieceCount(uint64_t size, uint64_t piece_size) {
  return size == 0 ? 1 : (size + piece_size - 1) / piece_size;
}

std::string LeafHash(std::string_view piece) {
  std::string in;
  in.reserve(piece.size() + 1);
  in.push_back('\x00');
  in.append(piece.data(), piece.size());
  return crypto::Sha256(in);
}

std::string RootOfLeaves(const std::vector<std::string>& leaves) {
  std::vector<std::string> level = leaves;
  while (level.size() > 1) {
    std::vector<std::string> up;
    up.reserve((level.size() + 1) / 2);
    for (size_t i = 0; i < level.size(); i += 2) {
      up.push_back(i + 1 < level.size() ? Node(level[i], level[i + 1]) : level[i]);
    }
    level.swap(up);
  }
  return level.empty() ? std::string() : level[0];
}

std::string Root(std::string_view data, uint64_t piece_size) {
  std::vector<std::string> leaves;
  const uint64_t count = PieceCount(data.size(), piece_size);
  for (uint64_t i = 0; i < count; ++i) leaves.push_back(LeafHash(data.substr(i * piece_size, piece_size)));
  return RootOfLeaves(leaves);
}

std::vector<std::string> Proof(const std::vector<std::string>& leaves, uint64_t index) {
  std::vector<std::string> proof;
  std::vector<std::string> level = leaves;
  while (level.size() > 1) {
    uint64_t sib = index ^ 1;
    if (sib < level.size()) proof.push_back(level[sib]);
    std::vector<std::string> up;
    for (size_t i = 0; i < level.size(); i += 2) {
      up.push_back(i + 1 < level.size() ? Node(level[i], level[i + 1]) : level[i]);
    }
    level.swap(up);
    index /= 2;
  }
  return proof;
}

bool Verify(std::string_view root, uint64_t size, uint64_t piece_size, uint64_t index,
            std::string_view piece, const std::vector<std::string>& proof) {
  if (piece_size == 0) return false;
  const uint64_t count = PieceCount(size, piece_size);
  if (index >= count) return false;
  const uint64_t want = index + 1 < count ? piece_size : size - index * piece_size;
  if (piece.size() != want) return false;
  std::string h = LeafHash(piece);
  size_t used = 0;
  for (uint64_t c = count, i = index; c > 1; c = (c + 1) / 2, i /= 2) {
    uint64_t sib = i ^ 1;
    if (sib >= c) continue;  // carried up unchanged
    if (used >= proof.size() || proof[used].size() != 32) return false;
    h = (i & 1) ? Node(proof[used], h) : Node(h, proof[used]);
    ++used;
  }
  return used == proof.size() && h == root;
}

}  // namespace shardkeep::merkle

// Merkle trees over a fragment's pieces, for possession audits
// (docs/PROTOCOL.md "AuditPiece", docs/FORMAT.md "Audit roots"): the customer
// keeps one 32-byte root per fragment and can check a single piece the
// supplier sends, with its proof, without holding or downloading the rest.
//
//   pieces: the bytes cut every `piece_size` (the last may be shorter; an
//           empty fragment is one empty piece)
//   leaf:   SHA-256(0x00 || piece)
//   node:   SHA-256(0x01 || left || right); a node without a right sibling
//           is carried up unchanged
//   root:   the one node left
// The proof of piece i is the sibling hashes from the leaf level up, one per
// level where the node has a sibling.
#ifndef SHARDKEEP_COMMON_MERKLE_H_
#define SHARDKEEP_COMMON_MERKLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shardkeep::merkle {

// How many pieces `size` bytes make (at least 1).
uint64_t PieceCount(uint64_t size, uint64_t piece_size);

std::string LeafHash(std::string_view piece);

// The root over the given leaf hashes (REQUIRES: at least one).
std::string RootOfLeaves(const std::vector<std::string>& leaves);
// The root over `data` cut into pieces.
std::string Root(std::string_view data, uint64_t piece_size);

// The proof for leaf `index` (REQUIRES: index < leaves.size()).
std::vector<std::string> Proof(const std::vector<std::string>& leaves, uint64_t index);

// True if `piece` is piece `index` of a fragment of `size` bytes whose root
// is `root`: its length is the one the size implies, and the proof leads
// from its leaf to the root.
bool Verify(std::string_view root, uint64_t size, uint64_t piece_size, uint64_t index,
            std::string_view piece, const std::vector<std::string>& proof);

}  // namespace shardkeep::merkle

#endif  // SHARDKEEP_COMMON_MERKLE_H_

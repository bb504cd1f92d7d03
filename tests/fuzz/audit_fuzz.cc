// Fuzzes possession audits (docs/PROTOCOL.md "AuditPiece"): merkle::Verify,
// and customer::AuditAnswerHolds, which `check` applies to a supplier's
// AuditPiece answer against the Merkle root the index keeps. The answer comes
// from a supplier and is hostile.
//
// Input: mode byte, then
//   0: piece size byte (1..64: deep trees from small inputs), Field() the
//      fragment, U32 the honest index, then the attacker's answer: U32 index,
//      Field() piece, a count byte and that many Field() proof hashes.
//   1: as 0, but the attacker starts from the honest proof and piece and
//      mutates them: a list of (op byte, position byte, value byte).
//   2: U32 fragment size (below 96 KiB: up to 6 pieces of 16 KiB), Field()
//      bytes repeated to fill it, U32 piece, byte position, then the rest:
//      a serialised AuditPieceResponse (the raw answer).
// Properties (SHA-256 collisions aside):
//   - Root is RootOfLeaves over the pieces; the honest piece and proof verify
//     for every index;
//   - whatever verifies is the real piece at an index in range, with the one
//     honest proof: no other piece, length, index or proof passes;
//   - AuditAnswerHolds accepts the honest answer, and an answer it accepts
//     states the real size and carries the real piece; a record without a
//     root at the position accepts nothing.
#include <cstdint>
#include <string>
#include <vector>

#include "common/merkle.h"
#include "customer/repo/checker.h"
#include "proto/limits.h"
#include "proto/supplier.pb.h"
#include "proto/vault.pb.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

namespace merkle = shardkeep::merkle;
using shardkeep::fuzz::Input;

std::vector<std::string> Leaves(const std::string& data, uint64_t ps) {
  std::vector<std::string> leaves;
  const uint64_t count = merkle::PieceCount(data.size(), ps);
  for (uint64_t i = 0; i < count; ++i) {
    leaves.push_back(merkle::LeafHash(std::string_view(data).substr(i * ps, ps)));
  }
  return leaves;
}

std::string Piece(const std::string& data, uint64_t ps, uint64_t i) {
  return data.substr(i * ps, ps);
}

// The honest piece and proof verify; returns the root.
std::string CheckHonest(const std::string& data, uint64_t ps, uint64_t index) {
  const std::vector<std::string> leaves = Leaves(data, ps);
  const std::string root = merkle::Root(data, ps);
  FUZZ_CHECK(root.size() == 32);
  FUZZ_CHECK(root == merkle::RootOfLeaves(leaves));
  const uint64_t i = index % leaves.size();
  FUZZ_CHECK(merkle::Verify(root, data.size(), ps, i, Piece(data, ps, i), merkle::Proof(leaves, i)));
  return root;
}

// An answer that verifies is the real piece with the honest proof.
void CheckAttack(const std::string& data, uint64_t ps, const std::string& root, uint64_t index,
                 const std::string& piece, const std::vector<std::string>& proof) {
  if (!merkle::Verify(root, data.size(), ps, index, piece, proof)) return;
  const std::vector<std::string> leaves = Leaves(data, ps);
  FUZZ_CHECK(index < leaves.size());
  FUZZ_CHECK(piece == Piece(data, ps, index));
  FUZZ_CHECK(proof == merkle::Proof(leaves, index));
}

void RawMerkle(Input& in, bool mutate) {
  const uint64_t ps = 1 + in.Byte() % 64;
  const std::string data(in.Field());
  const uint64_t honest = in.U32();
  const std::string root = CheckHonest(data, ps, honest);
  const uint64_t count = merkle::PieceCount(data.size(), ps);
  uint64_t index;
  std::string piece;
  std::vector<std::string> proof;
  if (!mutate) {
    index = in.U32();
    piece = std::string(in.Field());
    for (int n = in.Byte(); n > 0; --n) proof.emplace_back(in.Field());
  } else {
    index = honest % count;
    piece = Piece(data, ps, index);
    proof = merkle::Proof(Leaves(data, ps), index);
    while (!in.empty()) {
      const uint8_t op = in.Byte(), at = in.Byte(), v = in.Byte();
      switch (op % 6) {
        case 0:
          if (!piece.empty()) piece[at % piece.size()] ^= static_cast<char>(v | 1);
          break;
        case 1:
          piece.push_back(static_cast<char>(v));
          break;
        case 2:
          if (!proof.empty()) proof[at % proof.size()][v % 32] ^= 1;
          break;
        case 3:
          if (!proof.empty()) proof.erase(proof.begin() + at % proof.size());
          break;
        case 4:
          proof.insert(proof.begin() + (proof.empty() ? 0 : at % (proof.size() + 1)),
                       std::string(32, static_cast<char>(v)));
          break;
        default:
          index = (index + 1 + v) % (count + 2);  // also just past the end
          break;
      }
    }
  }
  CheckAttack(data, ps, root, index, piece, proof);
}

void Answer(Input& in) {
  namespace vault = shardkeep::vault::v1;
  const uint64_t ps = shardkeep::protocol::kAuditPieceBytes;
  const uint64_t size = in.U32() % (6 * ps);
  const std::string fill(in.Field());
  std::string data;
  while (data.size() < size) data += fill.empty() ? std::string(1, '\0') : fill;
  data.resize(size);
  const uint64_t piece = in.U32();
  const int position = in.Byte() % 5;  // 4 positions; 4 has no root
  vault::BlockRecord rec;
  rec.set_fragment_size(size);
  const std::string root = merkle::Root(data, ps);
  for (int i = 0; i < 4; ++i) rec.add_fragment_merkle_root(root);

  shardkeep::v1::AuditPieceResponse answer;
  const bool parsed = answer.ParseFromString(std::string(in.Rest()));
  const uint64_t count = merkle::PieceCount(size, ps);
  if (parsed && shardkeep::customer::AuditAnswerHolds(rec, position, piece, answer)) {
    FUZZ_CHECK(position < 4);
    FUZZ_CHECK(answer.size() == size);
    FUZZ_CHECK(piece < count);
    FUZZ_CHECK(answer.data() == Piece(data, ps, piece));
  }
  // The honest answer holds where there is a root.
  shardkeep::v1::AuditPieceResponse honest;
  const uint64_t i = piece % count;
  honest.set_size(size);
  honest.set_data(Piece(data, ps, i));
  for (auto& h : merkle::Proof(Leaves(data, ps), i)) honest.add_proof(h);
  FUZZ_CHECK(shardkeep::customer::AuditAnswerHolds(rec, position, i, honest) == (position < 4));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  switch (in.Byte() % 3) {
    case 0:
      RawMerkle(in, false);
      break;
    case 1:
      RawMerkle(in, true);
      break;
    default:
      Answer(in);
      break;
  }
  return 0;
}

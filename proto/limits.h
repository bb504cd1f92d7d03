// Protocol constants that the customer and the supplier must agree on
// (docs/PROTOCOL.md, "Limits"). One copy here, so the two sides cannot
// drift apart; limits only the supplier enforces stay in supplier/limits.h.
#ifndef SHARDKEEP_PROTO_LIMITS_H_
#define SHARDKEEP_PROTO_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace shardkeep::protocol {

// The release both programs belong to (Info's version, `shardkeep version`,
// the program recorded in each snapshot).
inline constexpr char kVersion[] = "0.1.0";

// Bytes of fragment data in one PutFragmentChunk / FragmentData message.
inline constexpr size_t kMaxDataPerMessage = 1 << 20;
// Largest gRPC message the supplier accepts or sends: a full data message
// plus room for the header fields and framing.
inline constexpr int kMaxMessageBytes = (1 << 20) + (64 << 10);
// A metadata object travels in one message; the supplier refuses larger
// ones (and says so in Info.max_object_bytes).
inline constexpr uint64_t kMaxObjectBytes = 1 << 20;
// Listing bounds the customer enforces on a supplier's ListObjects answers
// (a hostile supplier could otherwise say "more" forever): at most this many
// names in one listing, each page no larger than the page size asked for,
// and every page's names sorted and after the previous page's last.
inline constexpr uint32_t kListPageSize = 1000;
inline constexpr size_t kMaxListedObjects = 1 << 20;
// Keys or names in one DeleteFragments / DeleteObjects request.
inline constexpr size_t kMaxDeleteBatch = 1000;
// Audits (AuditPiece): a fragment's Merkle tree is over pieces of this size;
// an audit answer carries one piece and its proof.
inline constexpr uint64_t kAuditPieceBytes = 16 << 10;
// The object that holds the key record; the only one a supplier will give
// out without a signature (GetKeyRecord, by vault ID).
inline constexpr char kKeysObjectName[] = "keys";
// The key record object is at most this big (a real one is a few hundred
// bytes), so that GetKeyRecord's answer with every candidate fits one message.
inline constexpr uint64_t kMaxKeyRecordBytes = 32 << 10;
// Claims (candidates) per vault ID at one supplier; GetKeyRecord returns at
// most this many, oldest registration first.
inline constexpr size_t kMaxKeyRecordCandidates = 16;

}  // namespace shardkeep::protocol

#endif  // SHARDKEEP_PROTO_LIMITS_H_

// Protocol limits of the supplier (docs/PROTOCOL.md, "Limits").
#ifndef SHARDKEEP_SUPPLIER_LIMITS_H_
#define SHARDKEEP_SUPPLIER_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace shardkeep::supplier {

inline constexpr char kVersion[] = "shardkeep-supplier 0.1.0";

// Bytes of data in one PutFragmentChunk / FragmentData message.
inline constexpr size_t kMaxDataPerMessage = 1 << 20;
// Largest gRPC message the supplier accepts or sends: a full data message
// plus room for the header fields and framing.
inline constexpr int kMaxMessageBytes = (1 << 20) + (64 << 10);
// A metadata object travels in one message.
inline constexpr uint64_t kMaxObjectBytes = 1 << 20;
inline constexpr size_t kMaxFragmentKeyLength = 128;
inline constexpr size_t kMaxObjectNameLength = 200;
inline constexpr uint32_t kMaxPageSize = 1000;
inline constexpr size_t kMaxDeleteBatch = 1000;
inline constexpr size_t kMinAuditNonce = 16;
inline constexpr size_t kMaxAuditNonce = 64;
inline constexpr size_t kMaxVaultIdLength = 64;
inline constexpr uint32_t kMaxSupplierCount = 256;

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_LIMITS_H_

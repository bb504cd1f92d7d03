// Protocol limits of the supplier (docs/PROTOCOL.md, "Limits").
#ifndef SHARDKEEP_SUPPLIER_LIMITS_H_
#define SHARDKEEP_SUPPLIER_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "proto/limits.h"

namespace shardkeep::supplier {

// "shardkeep-supplier " followed by protocol::kVersion.
inline constexpr char kVersion[] = "shardkeep-supplier 0.1.0";

using protocol::kMaxDataPerMessage;
using protocol::kMaxMessageBytes;
using protocol::kMaxObjectBytes;
inline constexpr size_t kMaxFragmentKeyLength = 128;
inline constexpr size_t kMaxObjectNameLength = 200;
inline constexpr uint32_t kMaxPageSize = 1000;
using protocol::kMaxDeleteBatch;
inline constexpr size_t kMinAuditNonce = 16;
inline constexpr size_t kMaxAuditNonce = 64;
inline constexpr size_t kMaxVaultIdLength = 64;
inline constexpr uint32_t kMaxSupplierCount = 256;

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_LIMITS_H_

// zstd compression that stores raw bytes when compression does not help.
//
// A compressed chunk is exactly one standard zstd frame (RFC 8878) that
// declares its content size; ShardKeep also writes the optional content
// checksum. Whether a chunk is stored raw or compressed is recorded by the
// caller (the block's chunk table), not guessed from the bytes.
#ifndef SHARDKEEP_COMMON_COMPRESS_H_
#define SHARDKEEP_COMMON_COMPRESS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shardkeep::compress {

// zstd's default level; level 1 trades ratio for speed.
inline constexpr int kDefaultLevel = 3;

// Compresses `in` with zstd at `level` and appends the result to *out if it
// is smaller than `in` (returns true); otherwise leaves *out untouched and
// returns false, and the caller stores `in` raw. Thread-safe.
// `level` is zstd's: 1..22 (out-of-range values are clamped by zstd), 0 means
// zstd's default (3), negative values are the faster levels. Empty input
// always returns false (no frame is smaller than nothing).
bool CompressIfSmaller(std::string_view in, int level, std::string* out);

// Decompresses a zstd frame whose content size must be exactly
// `expected_size`; appends to *out. DataLoss on a corrupt frame or a size
// mismatch (never allocates more than expected_size).
// `in` must be exactly one zstd frame (no skippable frames, nothing after
// it) that declares its content size in the header; that size is checked
// against `expected_size` before anything is allocated. On error *out is
// left as it was. Never crashes on arbitrary input. Thread-safe.
absl::Status Decompress(std::string_view in, size_t expected_size, std::string* out);

}  // namespace shardkeep::compress

#endif  // SHARDKEEP_COMMON_COMPRESS_H_

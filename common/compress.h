// zstd compression that stores raw bytes when compression does not help.
#ifndef SHARDKEEP_COMMON_COMPRESS_H_
#define SHARDKEEP_COMMON_COMPRESS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shardkeep::compress {

// Compresses `in` with zstd at `level` and appends the result to *out if it
// is smaller than `in` (returns true); otherwise leaves *out untouched and
// returns false, and the caller stores `in` raw. Thread-safe.
bool CompressIfSmaller(std::string_view in, int level, std::string* out);

// Decompresses a zstd frame whose content size must be exactly
// `expected_size`; appends to *out. DataLoss on a corrupt frame or a size
// mismatch (never allocates more than expected_size).
absl::Status Decompress(std::string_view in, size_t expected_size, std::string* out);

}  // namespace shardkeep::compress

#endif  // SHARDKEEP_COMMON_COMPRESS_H_

// Content-defined chunking (FastCDC, Xia et al. 2016, with normalised
// chunking): boundaries depend only on nearby content, so an insertion
// moves the boundaries near it and the rest realign.
//
// The exact algorithm (gear table, masks, cut rule) is part of the vault
// format: chunk boundaries decide chunk IDs and so deduplication across
// snapshots and machines. It is specified in docs/FORMAT.md ("Chunking");
// changing anything here changes every boundary.
#ifndef SHARDKEEP_COMMON_CHUNKER_H_
#define SHARDKEEP_COMMON_CHUNKER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace shardkeep::chunker {

struct Params {
  size_t min_size = 256 * 1024;
  size_t avg_size = 1024 * 1024;  // a power of two
  size_t max_size = 4 * 1024 * 1024;
};

// FastCDC normalisation level: the mask before avg_size has
// log2(avg_size) + kNormalizationLevel one-bits, the mask after it
// log2(avg_size) - kNormalizationLevel.
inline constexpr int kNormalizationLevel = 2;

// Returns true if `params` is a supported configuration:
// 1 <= min_size <= avg_size <= max_size, avg_size a power of two with
// 2^8 <= avg_size <= 2^40. NextCut is deterministic for any Params, but only
// supported ones are part of the format (and have the documented size
// distribution).
bool ValidParams(const Params& params);

// Returns the length of the next chunk of data[0, len): a value in
// [min(len, min_size), min(len, max_size)]. If len <= min_size it returns len.
// When more data follows, the caller must pass at least max_size bytes (or
// everything left) for the result to be the true boundary. Deterministic:
// the same bytes give the same cut on every machine. Thread-safe.
// For len > 0 the result is >= 1 even for unsupported Params.
size_t NextCut(const uint8_t* data, size_t len, const Params& params);

// Splits all of data[0, len) and returns the chunk lengths in order (they sum
// to len; empty for len == 0). Same cuts as calling NextCut repeatedly.
std::vector<size_t> ChunkLengths(const uint8_t* data, size_t len, const Params& params);

// The 256-entry gear table (splitmix64 outputs for the seed below), exposed
// so tests and other implementations can check it.
inline constexpr uint64_t kGearSeed = 0x53484B2D47454152ULL;  // ASCII "SHK-GEAR"
const std::array<uint64_t, 256>& GearTable();

}  // namespace shardkeep::chunker

#endif  // SHARDKEEP_COMMON_CHUNKER_H_

// Content-defined chunking (FastCDC, Xia et al. 2016, with normalised
// chunking): boundaries depend only on nearby content, so an insertion
// moves the boundaries near it and the rest realign.
#ifndef SHARDKEEP_COMMON_CHUNKER_H_
#define SHARDKEEP_COMMON_CHUNKER_H_

#include <cstddef>
#include <cstdint>

namespace shardkeep::chunker {

struct Params {
  size_t min_size = 256 * 1024;
  size_t avg_size = 1024 * 1024;   // a power of two
  size_t max_size = 4 * 1024 * 1024;
};

// Returns the length of the next chunk of data[0, len): a value in
// [min(len, min_size), min(len, max_size)]. If len <= min_size it returns len.
// When more data follows, the caller must pass at least max_size bytes (or
// everything left) for the result to be the true boundary. Deterministic:
// the same bytes give the same cut on every machine. Thread-safe.
size_t NextCut(const uint8_t* data, size_t len, const Params& params);

}  // namespace shardkeep::chunker

#endif  // SHARDKEEP_COMMON_CHUNKER_H_

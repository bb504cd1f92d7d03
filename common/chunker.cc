#include "common/chunker.h"

#include <algorithm>

namespace shardkeep::chunker {
namespace {

// splitmix64 (Steele, Lea, Flood 2014): a fixed, fully specified generator,
// so the table is the same on every compiler and platform (unlike the
// std:: distributions).
constexpr uint64_t SplitMix64Next(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

constexpr std::array<uint64_t, 256> MakeGearTable() {
  std::array<uint64_t, 256> table{};
  uint64_t state = kGearSeed;
  for (size_t i = 0; i < table.size(); ++i) table[i] = SplitMix64Next(&state);
  return table;
}

constexpr std::array<uint64_t, 256> kGear = MakeGearTable();

// floor(log2(v)) for v >= 1.
int Log2Floor(uint64_t v) { return 63 - __builtin_clzll(v); }

// A mask of the `bits` most significant bits. The gear hash shifts left, so
// bit i depends on the last i + 1 bytes: the top bits see the widest window
// (up to 64 bytes), which is why the masks live there.
uint64_t TopBitsMask(int bits) {
  bits = std::clamp(bits, 1, 63);
  return ~uint64_t{0} << (64 - bits);
}

// Scans data[begin, end) with the gear hash continuing from *hash. Returns
// true and sets *cut to the index one past the first byte after which the
// hash has no bit of `mask` set; returns false if there is none.
inline bool Scan(const uint8_t* data, size_t begin, size_t end, uint64_t mask, uint64_t* hash,
                 size_t* cut) {
  uint64_t h = *hash;
  for (size_t i = begin; i < end; ++i) {
    h = (h << 1) + kGear[data[i]];
    if ((h & mask) == 0) {
      *cut = i + 1;
      return true;
    }
  }
  *hash = h;
  return false;
}

}  // namespace

const std::array<uint64_t, 256>& GearTable() { return kGear; }

bool ValidParams(const Params& p) {
  const bool pow2 = p.avg_size != 0 && (p.avg_size & (p.avg_size - 1)) == 0;
  return p.min_size >= 1 && p.min_size <= p.avg_size && p.avg_size <= p.max_size && pow2 &&
         p.avg_size >= (size_t{1} << 8) && p.avg_size <= (uint64_t{1} << 40);
}

size_t NextCut(const uint8_t* data, size_t len, const Params& params) {
  const size_t min_size = params.min_size;
  if (len <= min_size) return len;
  // Defensive clamps for unsupported Params (see ValidParams); no-ops otherwise.
  const size_t max_size = std::max({params.max_size, min_size, size_t{1}});
  const size_t avg_size = std::clamp(params.avg_size, min_size, max_size);
  const int bits = Log2Floor(std::max<uint64_t>(params.avg_size, 1));

  const size_t limit = std::min(len, max_size);
  const size_t normal = std::min(avg_size, limit);
  // The first min_size bytes are never hashed: no cut can fall there anyway.
  uint64_t hash = 0;
  size_t cut;
  if (Scan(data, min_size, normal, TopBitsMask(bits + kNormalizationLevel), &hash, &cut)) {
    return cut;
  }
  if (Scan(data, normal, limit, TopBitsMask(bits - kNormalizationLevel), &hash, &cut)) {
    return cut;
  }
  return limit;
}

std::vector<size_t> ChunkLengths(const uint8_t* data, size_t len, const Params& params) {
  std::vector<size_t> lengths;
  size_t offset = 0;
  while (offset < len) {
    const size_t n = NextCut(data + offset, len - offset, params);
    lengths.push_back(n);
    offset += n;
  }
  return lengths;
}

}  // namespace shardkeep::chunker

#include "common/chunker.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace shardkeep::chunker {
namespace {

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * 1024;

const Params kDefault;
const Params kSmall{2 * kKiB, 8 * kKiB, 64 * kKiB};

// Test data: splitmix64(seed) outputs written little-endian, 8 bytes each.
// docs/FORMAT-chunking.md uses the same generator for its test vectors.
std::vector<uint8_t> RandomBytes(uint64_t seed, size_t n) {
  std::vector<uint8_t> out(n);
  uint64_t state = seed;
  for (size_t i = 0; i < n; i += 8) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (size_t b = 0; b < 8 && i + b < n; ++b) out[i + b] = static_cast<uint8_t>(z >> (8 * b));
  }
  return out;
}

std::vector<size_t> Lengths(const std::vector<uint8_t>& data, const Params& params) {
  return ChunkLengths(data.data(), data.size(), params);
}

// Absolute offsets of the cuts inside the data (the final end excluded).
std::vector<size_t> Boundaries(const std::vector<size_t>& lengths) {
  std::vector<size_t> out;
  size_t offset = 0;
  for (size_t i = 0; i + 1 < lengths.size(); ++i) out.push_back(offset += lengths[i]);
  return out;
}

void ExpectBounds(const std::vector<size_t>& lengths, size_t total, const Params& params) {
  ASSERT_FALSE(lengths.empty());
  EXPECT_EQ(std::accumulate(lengths.begin(), lengths.end(), size_t{0}), total);
  for (size_t i = 0; i < lengths.size(); ++i) {
    EXPECT_LE(lengths[i], params.max_size) << "chunk " << i;
    if (i + 1 < lengths.size()) {
      EXPECT_GE(lengths[i], params.min_size) << "chunk " << i;
    }
  }
  EXPECT_GE(lengths.back(), 1u);
}

// True if, after skipping at most `slack` boundaries on each side, the
// remaining boundaries of `edited` are those of `original` moved by `delta`
// (for boundaries at or after `from` in the original).
bool RealignsAfter(const std::vector<size_t>& original, const std::vector<size_t>& edited,
                   size_t from, long delta, size_t slack) {
  const size_t first_orig =
      std::lower_bound(original.begin(), original.end(), from) - original.begin();
  const size_t first_edit = std::lower_bound(edited.begin(), edited.end(),
                                             static_cast<size_t>(static_cast<long>(from) + delta)) -
                            edited.begin();
  for (size_t i = first_orig; i <= first_orig + slack && i < original.size(); ++i) {
    for (size_t j = first_edit; j <= first_edit + slack && j < edited.size(); ++j) {
      if (original.size() - i != edited.size() - j) continue;
      bool same = true;
      for (size_t k = 0; same && i + k < original.size(); ++k) {
        same = static_cast<long>(original[i + k]) + delta == static_cast<long>(edited[j + k]);
      }
      if (same) return true;
    }
  }
  return false;
}

TEST(GearTableTest, MatchesSpecifiedSplitMix64Outputs) {
  // Values from an independent implementation of the docs' derivation.
  const auto& gear = GearTable();
  EXPECT_EQ(gear[0], 0xd56237dd0086f3d7ULL);
  EXPECT_EQ(gear[1], 0x66cc4c1d56e7e62bULL);
  EXPECT_EQ(gear[2], 0xf124f117fdf5eb81ULL);
  EXPECT_EQ(gear[3], 0x29b92927967eeac2ULL);
  EXPECT_EQ(gear[255], 0xef44c3327dc9648eULL);
  uint64_t x = 0, sum = 0;
  for (uint64_t v : gear) x ^= v, sum += v;
  EXPECT_EQ(x, 0xfd3703078ad77db7ULL);
  EXPECT_EQ(sum, 0x79be5ae7a29b918dULL);
}

TEST(ValidParamsTest, AcceptsDefaultsAndRejectsBadShapes) {
  EXPECT_TRUE(ValidParams(kDefault));
  EXPECT_TRUE(ValidParams(kSmall));
  EXPECT_TRUE(ValidParams(Params{1, 256, 256}));
  EXPECT_FALSE(ValidParams(Params{0, 1 * kMiB, 4 * kMiB}));             // min 0
  EXPECT_FALSE(ValidParams(Params{256 * kKiB, 1000000, 4 * kMiB}));     // avg not 2^k
  EXPECT_FALSE(ValidParams(Params{2 * kMiB, 1 * kMiB, 4 * kMiB}));      // min > avg
  EXPECT_FALSE(ValidParams(Params{256 * kKiB, 1 * kMiB, 512 * kKiB}));  // avg > max
  EXPECT_FALSE(ValidParams(Params{16, 128, 1024}));                     // avg < 256
}

// Golden cut lists from an independent (Python) implementation of
// docs/FORMAT-chunking.md: any change to the algorithm breaks these.
TEST(ChunkerTest, GoldenCutsSmallParams) {
  const std::vector<size_t> expected = {
      7575,  4721,  10809, 7347,  8194,  8380,  10238, 10609, 10043, 11066, 12816, 3068,  16245,
      9403,  9581,  9210,  9102,  18008, 10465, 9956,  4740,  8295,  9887,  8314,  17182, 5059,
      11573, 12088, 8432,  8962,  13743, 9534,  10059, 10331, 4568,  3714,  16214, 8757,  8914,
      8676,  9330,  8375,  10286, 8464,  13369, 10579, 18384, 2114,  2058,  7447,  10184, 11052,
      10551, 9244,  10724, 7650,  8352,  4173,  9386,  8840,  2811,  9570,  2689,  8252,  9246,
      9889,  11538, 10481, 8774,  11671, 8233,  8218,  8599,  8600,  6692,  9350,  11106, 9788,
      8613,  9970,  8732,  10955, 9422,  9745,  9127,  3804,  12537, 10675, 8441,  10879, 8438,
      8631,  9025,  3696,  9540,  10131, 8266,  10121, 8814,  8543,  3340,  13198, 2223,  8926,
      10447, 18250, 10193, 8590,  8655,  9262,  8233,  4456,  8392,  8458,  5901};
  EXPECT_EQ(Lengths(RandomBytes(1, 1 * kMiB), kSmall), expected);
}

TEST(ChunkerTest, GoldenCutsDefaultParams) {
  const std::vector<size_t> expected = {1801967, 1357024, 1102641, 1161927, 774789,
                                        1093005, 540840,  1079388, 704058,  1108412,
                                        1269725, 1119901, 1339866, 1174778, 1148895};
  EXPECT_EQ(Lengths(RandomBytes(2, 16 * kMiB), kDefault), expected);
}

TEST(ChunkerTest, EdgeLengths) {
  for (const Params& p : {kDefault, kSmall}) {
    EXPECT_EQ(NextCut(nullptr, 0, p), 0u);
    EXPECT_TRUE(ChunkLengths(nullptr, 0, p).empty());
    const std::vector<uint8_t> data = RandomBytes(3, p.max_size * 2);
    EXPECT_EQ(NextCut(data.data(), 1, p), 1u);
    EXPECT_EQ(NextCut(data.data(), p.min_size - 1, p), p.min_size - 1);
    EXPECT_EQ(NextCut(data.data(), p.min_size, p), p.min_size);
    EXPECT_EQ(NextCut(data.data(), p.min_size + 1, p), p.min_size + 1);
    EXPECT_EQ(ChunkLengths(data.data(), p.min_size - 1, p), std::vector<size_t>{p.min_size - 1});
    // Any length between min and max: the cut stays inside the data.
    for (size_t len = p.min_size + 1; len <= p.max_size * 2; len = len * 3 / 2) {
      const size_t cut = NextCut(data.data(), len, p);
      EXPECT_GE(cut, p.min_size);
      EXPECT_LE(cut, std::min(len, p.max_size));
    }
  }
}

TEST(ChunkerTest, SizesRespectMinAndMax) {
  const std::vector<Params> all = {kDefault, kSmall, Params{1, 256, 256},
                                   Params{4 * kKiB, 4 * kKiB, 10000},
                                   Params{100, 1 * kKiB, 1 * kKiB + 1}};
  for (const Params& p : all) {
    SCOPED_TRACE(testing::Message() << p.min_size << "/" << p.avg_size << "/" << p.max_size);
    ASSERT_TRUE(ValidParams(p));
    const std::vector<uint8_t> data = RandomBytes(4, 8 * kMiB + 12345);
    ExpectBounds(Lengths(data, p), data.size(), p);
  }
}

TEST(ChunkerTest, UnsupportedParamsStillTerminate) {
  const std::vector<uint8_t> data = RandomBytes(5, 100000);
  for (const Params& p : {Params{0, 0, 0}, Params{0, 3, 1}, Params{5000, 1000, 10}}) {
    const std::vector<size_t> lengths = Lengths(data, p);
    EXPECT_EQ(std::accumulate(lengths.begin(), lengths.end(), size_t{0}), data.size());
    for (size_t n : lengths) EXPECT_GE(n, 1u);
  }
}

TEST(ChunkerTest, DeterministicAndStreamingGivesSameCuts) {
  for (const Params& p : {kDefault, kSmall}) {
    const std::vector<uint8_t> data = RandomBytes(6, 24 * kMiB);
    const std::vector<size_t> first = Lengths(data, p);
    EXPECT_EQ(Lengths(data, p), first);
    const std::vector<uint8_t> copy(data);
    EXPECT_EQ(Lengths(copy, p), first);
    // A reader that hands over only max_size bytes at a time gets the same cuts.
    std::vector<size_t> streamed;
    for (size_t off = 0; off < data.size();) {
      const size_t window = std::min(p.max_size, data.size() - off);
      streamed.push_back(NextCut(data.data() + off, window, p));
      off += streamed.back();
    }
    EXPECT_EQ(streamed, first);
  }
}

TEST(ChunkerTest, AllZeroDataCutsAtMax) {
  for (const Params& p : {kDefault, kSmall}) {
    const std::vector<uint8_t> zeros(4 * p.max_size + 7, 0);
    const std::vector<size_t> expected = {p.max_size, p.max_size, p.max_size, p.max_size, 7};
    EXPECT_EQ(Lengths(zeros, p), expected);
  }
}

TEST(ChunkerTest, EveryConstantByteCutsAtMax) {
  for (int b = 0; b < 256; ++b) {
    const std::vector<uint8_t> data(3 * kSmall.max_size, static_cast<uint8_t>(b));
    EXPECT_EQ(Lengths(data, kSmall), std::vector<size_t>(3, kSmall.max_size)) << "byte " << b;
  }
}

TEST(ChunkerTest, AverageSizeOnRandomDataIsNearAvg) {
  // With min = avg/4 and max = 4*avg, normalised chunking at level 2 gives an
  // expected size of 1.1411 * avg (computed in docs/FORMAT-chunking.md).
  struct Case {
    Params params;
    size_t bytes;
    double tolerance;  // relative, a few standard errors of the mean
  };
  for (const Case& c : {Case{kDefault, 64 * kMiB, 0.15}, Case{kSmall, 32 * kMiB, 0.04}}) {
    const std::vector<uint8_t> data = RandomBytes(7, c.bytes);
    std::vector<size_t> lengths = Lengths(data, c.params);
    lengths.pop_back();  // the tail is whatever is left
    const double mean =
        std::accumulate(lengths.begin(), lengths.end(), 0.0) / static_cast<double>(lengths.size());
    const double expected = 1.1411 * static_cast<double>(c.params.avg_size);
    EXPECT_NEAR(mean, expected, c.tolerance * expected) << lengths.size() << " chunks";
    // Normalisation keeps sizes concentrated: few chunks at the bounds.
    const size_t at_max = std::count(lengths.begin(), lengths.end(), c.params.max_size);
    EXPECT_LE(at_max, lengths.size() / 100);
  }
}

class RealignTest : public testing::TestWithParam<Params> {};

TEST_P(RealignTest, InsertNearStartShiftsLaterBoundaries) {
  const Params p = GetParam();
  const std::vector<uint8_t> original = RandomBytes(8, 32 * kMiB);
  const std::vector<size_t> before = Boundaries(Lengths(original, p));
  ASSERT_GT(before.size(), 10u);
  for (size_t at : {size_t{0}, size_t{100}, p.min_size + 10}) {
    std::vector<uint8_t> edited(original);
    const std::string inserted = "hello";
    edited.insert(edited.begin() + at, inserted.begin(), inserted.end());
    const std::vector<size_t> after = Boundaries(Lengths(edited, p));
    EXPECT_TRUE(RealignsAfter(before, after, 0, inserted.size(), 2)) << "insert at " << at;
  }
}

TEST_P(RealignTest, EditInTheMiddleKeepsEarlierAndRealignsLater) {
  const Params p = GetParam();
  const std::vector<uint8_t> original = RandomBytes(9, 32 * kMiB);
  const std::vector<size_t> before = Boundaries(Lengths(original, p));
  const size_t at = 16 * kMiB + 77;
  // Insertion of 1000 bytes and deletion of 3 bytes.
  for (long delta : {1000L, -3L}) {
    std::vector<uint8_t> edited(original);
    if (delta > 0) {
      const std::vector<uint8_t> extra = RandomBytes(10, delta);
      edited.insert(edited.begin() + at, extra.begin(), extra.end());
    } else {
      edited.erase(edited.begin() + at, edited.begin() + at - delta);
    }
    const std::vector<size_t> after = Boundaries(Lengths(edited, p));
    // Every boundary that ends a chunk finished before the edit is unchanged.
    const size_t unchanged = std::lower_bound(before.begin(), before.end(), at) - before.begin();
    ASSERT_GT(unchanged, 2u);
    for (size_t i = 0; i < unchanged; ++i) {
      ASSERT_LT(i, after.size());
      EXPECT_EQ(after[i], before[i]);
    }
    EXPECT_TRUE(RealignsAfter(before, after, at, delta, 2)) << "delta " << delta;
  }
}

INSTANTIATE_TEST_SUITE_P(DefaultAndSmall, RealignTest, testing::Values(kDefault, kSmall),
                         [](const testing::TestParamInfo<Params>& info) {
                           return info.param.avg_size == kDefault.avg_size ? "Default" : "Small";
                         });

}  // namespace
}  // namespace shardkeep::chunker

#include "raid/codec.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace shardkeep::raid {
namespace {

std::string RandomBytes(size_t size, std::mt19937_64& rng) {
  std::string s(size, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::unique_ptr<Codec> MakeCodec(int n, int k) {
  auto codec = Codec::Create(n, k);
  EXPECT_TRUE(codec.ok()) << codec.status();
  return std::move(codec).value();
}

// The fragments of `all` whose positions are set in `mask`.
std::map<int, std::string> Subset(const std::vector<std::string>& all, uint64_t mask) {
  std::map<int, std::string> out;
  for (int i = 0; i < static_cast<int>(all.size()); ++i) {
    if (mask & (uint64_t{1} << i)) out.emplace(i, all[i]);
  }
  return out;
}

int PopCount(uint64_t x) { return __builtin_popcountll(x); }

// A random mask of `count` positions out of n.
uint64_t RandomMask(int n, int count, std::mt19937_64& rng) {
  std::vector<int> positions(n);
  for (int i = 0; i < n; ++i) positions[i] = i;
  std::shuffle(positions.begin(), positions.end(), rng);
  uint64_t mask = 0;
  for (int i = 0; i < count; ++i) mask |= uint64_t{1} << positions[i];
  return mask;
}

// Decodes from the fragments in `present` and rebuilds the others, checking
// both against the originals.
void CheckLossSet(const Codec& codec, const std::string& block,
                  const std::vector<std::string>& fragments, uint64_t present) {
  const int n = codec.n();
  const std::map<int, std::string> have = Subset(fragments, present);
  auto decoded = codec.Decode(have);
  ASSERT_TRUE(decoded.ok()) << decoded.status() << " n=" << n << " k=" << codec.k()
                            << " present=" << std::hex << present;
  ASSERT_EQ(*decoded, block) << "n=" << n << " k=" << codec.k() << " present=" << std::hex
                             << present;

  std::vector<int> missing;
  for (int i = 0; i < n; ++i) {
    if (!(present & (uint64_t{1} << i))) missing.push_back(i);
  }
  auto rebuilt = codec.Rebuild(have, missing);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  ASSERT_EQ(rebuilt->size(), missing.size());
  for (int p : missing) {
    ASSERT_EQ(rebuilt->at(p), fragments[p]) << "n=" << n << " k=" << codec.k() << " position " << p
                                            << " present=" << std::hex << present;
  }
}

// GF(2^8) with polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D), written out
// independently of ISA-L so the documented format is checked, not assumed.
uint8_t GfMul(uint8_t a, uint8_t b) {
  uint8_t product = 0;
  while (b) {
    if (b & 1) product ^= a;
    a = static_cast<uint8_t>((a << 1) ^ ((a & 0x80) ? 0x1D : 0));
    b >>= 1;
  }
  return product;
}

uint8_t GfInv(uint8_t a) {
  for (int x = 1; x < 256; ++x) {
    if (GfMul(a, static_cast<uint8_t>(x)) == 1) return static_cast<uint8_t>(x);
  }
  return 0;
}

TEST(CodecTest, DefaultDataShardsIsHalfRoundedUp) {
  EXPECT_EQ(DefaultDataShards(2), 1);
  EXPECT_EQ(DefaultDataShards(4), 2);
  EXPECT_EQ(DefaultDataShards(7), 4);
  EXPECT_EQ(DefaultDataShards(13), 7);
  EXPECT_EQ(DefaultDataShards(18), 9);
  EXPECT_EQ(DefaultDataShards(26), 13);
  EXPECT_EQ(DefaultDataShards(64), 32);
}

TEST(CodecTest, CreateRejectsBadParameters) {
  for (auto [n, k] : std::vector<std::pair<int, int>>{
           {1, 1}, {0, 0}, {65, 32}, {-3, 1}, {4, 0}, {4, 4}, {4, 5}, {64, 64}, {2, -1}}) {
    auto codec = Codec::Create(n, k);
    EXPECT_EQ(codec.status().code(), absl::StatusCode::kInvalidArgument) << n << "," << k;
  }
  for (auto [n, k] : std::vector<std::pair<int, int>>{{2, 1}, {64, 1}, {64, 63}, {5, 3}}) {
    auto codec = Codec::Create(n, k);
    ASSERT_TRUE(codec.ok()) << codec.status();
    EXPECT_EQ((*codec)->n(), n);
    EXPECT_EQ((*codec)->k(), k);
  }
}

TEST(CodecTest, LayoutMatchesTheDocumentedFormat) {
  // Data fragments are the padded block (block || zeros || u64le length);
  // parity fragment i is sum_j fragment_j / (i XOR j) over GF(2^8)/0x11D.
  std::mt19937_64 rng(1);
  for (auto [n, k] : std::vector<std::pair<int, int>>{{4, 2}, {7, 4}, {13, 7}, {64, 32}, {9, 3}}) {
    auto codec = MakeCodec(n, k);
    for (size_t len : {size_t{0}, size_t{1}, size_t{100}, size_t{1000 + k}}) {
      const std::string block = RandomBytes(len, rng);
      auto fragments = codec->Encode(block);
      ASSERT_TRUE(fragments.ok()) << fragments.status();
      const size_t size = (len + 8 + k - 1) / k;
      EXPECT_EQ(codec->FragmentSize(len), size);
      ASSERT_EQ(fragments->size(), static_cast<size_t>(n));

      std::string padded = block + std::string(size * k - 8 - len, '\0');
      for (int b = 0; b < 8; ++b) padded.push_back(static_cast<char>((uint64_t{len} >> 8 * b)));
      for (int i = 0; i < k; ++i) {
        EXPECT_EQ((*fragments)[i], padded.substr(i * size, size)) << "data fragment " << i;
      }
      for (int i = k; i < n; ++i) {
        std::string expected(size, '\0');
        for (int j = 0; j < k; ++j) {
          const uint8_t c = GfInv(static_cast<uint8_t>(i ^ j));
          for (size_t x = 0; x < size; ++x) {
            expected[x] ^= GfMul(c, static_cast<uint8_t>(padded[j * size + x]));
          }
        }
        EXPECT_EQ((*fragments)[i], expected) << "parity fragment " << i << " n=" << n;
      }
    }
  }
}

TEST(CodecTest, EveryLossSetUpToSevenFragments) {
  std::mt19937_64 rng(2);
  for (int n = 2; n <= 7; ++n) {
    for (int k = 1; k < n; ++k) {
      auto codec = MakeCodec(n, k);
      // A length that ends mid-fragment and one with no padding at all.
      for (size_t len : {size_t{37 * k + 3}, size_t{64 * k - 8}}) {
        const std::string block = RandomBytes(len, rng);
        auto fragments = codec->Encode(block);
        ASSERT_TRUE(fragments.ok()) << fragments.status();
        for (uint64_t present = 0; present < (uint64_t{1} << n); ++present) {
          if (PopCount(present) >= k) {
            CheckLossSet(*codec, block, *fragments, present);
            if (HasFatalFailure()) return;
          } else if (present != 0) {
            auto decoded = codec->Decode(Subset(*fragments, present));
            EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
          }
        }
      }
    }
  }
}

TEST(CodecTest, RandomLossSetsForLargeN) {
  std::mt19937_64 rng(3);
  for (int n : {13, 18, 26, 64}) {
    for (int k : {DefaultDataShards(n), 1, n / 4 + 1, n - 1}) {
      auto codec = MakeCodec(n, k);
      const std::string block = RandomBytes(20000 + rng() % 1000, rng);
      auto fragments = codec->Encode(block);
      ASSERT_TRUE(fragments.ok()) << fragments.status();
      // The worst case (exactly k survivors, all data lost when possible),
      // then random sets of every size from k to n.
      uint64_t parity_first = 0;
      for (int i = n - 1, left = k; left > 0; --i, --left) parity_first |= uint64_t{1} << i;
      CheckLossSet(*codec, block, *fragments, parity_first);
      for (int trial = 0; trial < 40; ++trial) {
        const int count = trial < 20 ? k : k + static_cast<int>(rng() % (n - k + 1));
        CheckLossSet(*codec, block, *fragments, RandomMask(n, count, rng));
        if (HasFatalFailure()) return;
      }
      auto too_few = codec->Decode(Subset(*fragments, RandomMask(n, k - 1, rng)));
      if (k > 1) EXPECT_EQ(too_few.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(CodecTest, EdgeLengthsRoundTrip) {
  std::mt19937_64 rng(4);
  for (auto [n, k] : std::vector<std::pair<int, int>>{
           {2, 1}, {3, 2}, {4, 2}, {7, 4}, {13, 7}, {26, 13}, {64, 32}, {64, 1}, {64, 63}}) {
    auto codec = MakeCodec(n, k);
    std::vector<size_t> lengths = {
        0, 1, size_t(k) - 1, size_t(k),         size_t(k) + 1, 7,
        8, 9, size_t(8 * k), size_t(8 * k) - 8, 4095,          (1 << 20) + 12345};
    for (size_t len : lengths) {
      const std::string block = RandomBytes(len, rng);
      auto fragments = codec->Encode(block);
      ASSERT_TRUE(fragments.ok()) << fragments.status();
      for (const std::string& f : *fragments) ASSERT_EQ(f.size(), codec->FragmentSize(len));
      // All fragments, then only the last k (as many data fragments lost as
      // possible).
      CheckLossSet(*codec, block, *fragments, n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1);
      uint64_t last_k = 0;
      for (int i = n - k; i < n; ++i) last_k |= uint64_t{1} << i;
      CheckLossSet(*codec, block, *fragments, last_k);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(CodecTest, OneShotFunctions) {
  std::mt19937_64 rng(5);
  const std::string block = RandomBytes(5000, rng);
  auto fragments = Encode(block, 7, 4);
  ASSERT_TRUE(fragments.ok()) << fragments.status();
  auto decoded = Decode(Subset(*fragments, 0b1101010), 7, 4);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, block);
  EXPECT_EQ(Encode(block, 7, 7).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decode(Subset(*fragments, 0b1101010), 70, 4).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CodecTest, EncodeToAndDecodeToReuseBuffers) {
  std::mt19937_64 rng(12);
  auto codec = MakeCodec(7, 4);
  // Start from a vector that is too long and holds stale bytes.
  std::vector<std::string> fragments(9, std::string(100000, 'x'));
  std::string decoded = "stale";
  for (size_t len : {size_t{50000}, size_t{3}, size_t{0}, size_t{70001}}) {
    const std::string block = RandomBytes(len, rng);
    ASSERT_TRUE(codec->EncodeTo(block, &fragments).ok());
    auto fresh = codec->Encode(block);
    ASSERT_TRUE(fresh.ok());
    EXPECT_EQ(fragments, *fresh);
    ASSERT_TRUE(codec->DecodeTo(Subset(fragments, 0b1110001), &decoded).ok());
    EXPECT_EQ(decoded, block);
    ASSERT_TRUE(codec->DecodeTo(Subset(fragments, 0b0001111), &decoded).ok());
    EXPECT_EQ(decoded, block);
  }
  EXPECT_EQ(codec->DecodeTo(Subset(fragments, 0b11), &decoded).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(decoded.empty());
}

TEST(CodecTest, DataFragmentsArePreferredAndExtrasIgnored) {
  std::mt19937_64 rng(6);
  auto codec = MakeCodec(7, 4);
  const std::string block = RandomBytes(3000, rng);
  auto fragments = codec->Encode(block);
  ASSERT_TRUE(fragments.ok());
  // With all data fragments present, garbage in the parity ones is not read.
  std::map<int, std::string> all = Subset(*fragments, 0x7F);
  for (int i = 4; i < 7; ++i) all[i] = RandomBytes(all[i].size(), rng);
  auto decoded = codec->Decode(all);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, block);
  // With data fragment 1 missing, the lowest parity (4) fills in; 5 and 6
  // are extras and may be garbage.
  std::map<int, std::string> some = Subset(*fragments, 0b1111101);
  some[5] = RandomBytes(some[5].size(), rng);
  some[6] = RandomBytes(some[6].size(), rng);
  decoded = codec->Decode(some);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, block);
}

TEST(CodecTest, BadFragmentsAreInvalidArgument) {
  std::mt19937_64 rng(7);
  auto codec = MakeCodec(7, 4);
  const std::string block = RandomBytes(3000, rng);
  auto encoded = codec->Encode(block);
  ASSERT_TRUE(encoded.ok());
  const std::map<int, std::string> good = Subset(*encoded, 0x7F);
  auto expect_invalid = [&](const std::map<int, std::string>& fragments, const char* what) {
    EXPECT_EQ(codec->Decode(fragments).status().code(), absl::StatusCode::kInvalidArgument) << what;
    EXPECT_EQ(codec->Rebuild(fragments, {0}).status().code(), absl::StatusCode::kInvalidArgument)
        << what;
  };

  expect_invalid({}, "no fragments");
  auto bad = good;
  bad[2].pop_back();
  expect_invalid(bad, "one fragment a byte short");
  bad = good;
  bad[6].push_back('x');
  expect_invalid(bad, "one fragment a byte long");
  bad = good;
  bad[-1] = good.at(0);
  expect_invalid(bad, "negative position");
  bad = good;
  bad[7] = good.at(0);
  expect_invalid(bad, "position n");
  bad = good;
  bad[1000000] = good.at(0);
  expect_invalid(bad, "position far out of range");
  std::map<int, std::string> empty;
  for (int i = 0; i < 7; ++i) empty[i] = "";
  expect_invalid(empty, "empty fragments");
  std::map<int, std::string> three = Subset(*encoded, 0b1010100);
  EXPECT_EQ(codec->Decode(three).status().code(), absl::StatusCode::kInvalidArgument);

  // Rebuild-specific errors.
  EXPECT_EQ(codec->Rebuild(good, {1, 1}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(codec->Rebuild(good, {7}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(codec->Rebuild(good, {-1}).status().code(), absl::StatusCode::kInvalidArgument);
  // Positions to rebuild are never sources, even when present: with k = 4
  // of 7, rebuilding 3 leaves 4 sources, rebuilding 4 leaves too few.
  EXPECT_TRUE(codec->Rebuild(good, {0, 1, 2}).ok());
  EXPECT_EQ(codec->Rebuild(good, {0, 1, 2, 3}).status().code(), absl::StatusCode::kInvalidArgument);
  auto nothing = codec->Rebuild(good, {});
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->empty());
}

TEST(CodecTest, RebuildRecomputesPresentPositionsFromTheOthers) {
  std::mt19937_64 rng(8);
  auto codec = MakeCodec(13, 7);
  const std::string block = RandomBytes(9999, rng);
  auto encoded = codec->Encode(block);
  ASSERT_TRUE(encoded.ok());
  std::map<int, std::string> all = Subset(*encoded, 0x1FFF);
  all[3] = RandomBytes(all[3].size(), rng);  // a corrupted fragment
  all[9] = RandomBytes(all[9].size(), rng);
  auto rebuilt = codec->Rebuild(all, {3, 9, 12});
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(rebuilt->at(3), (*encoded)[3]);
  EXPECT_EQ(rebuilt->at(9), (*encoded)[9]);
  EXPECT_EQ(rebuilt->at(12), (*encoded)[12]);
}

TEST(CodecTest, CorruptLengthOrPaddingIsDataLoss) {
  std::mt19937_64 rng(9);
  auto codec = MakeCodec(7, 4);
  const std::string block = RandomBytes(1001, rng);  // 1001 + 8 = 4 * 253 - 3: 3 padding bytes
  auto encoded = codec->Encode(block);
  ASSERT_TRUE(encoded.ok());
  const size_t size = codec->FragmentSize(block.size());
  ASSERT_EQ(size, 253u);

  auto set_length = [&](uint64_t len) {
    auto fragments = Subset(*encoded, 0x7F);
    std::string& last = fragments[3];
    for (int b = 0; b < 8; ++b) last[size - 8 + b] = static_cast<char>(len >> 8 * b);
    return fragments;
  };
  // Lengths 1001..1004 all give fragment size 253 (the padding bytes are
  // zero), so they cannot be told apart; everything else must be refused.
  for (uint64_t len : {uint64_t{1000}, uint64_t{1005}, uint64_t{996}, uint64_t{0}, ~uint64_t{0},
                       uint64_t{1} << 40, uint64_t{size * 4}, uint64_t{size * 4 - 7}}) {
    auto decoded = codec->Decode(set_length(len));
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << len;
  }
  auto longer = codec->Decode(set_length(1003));
  ASSERT_TRUE(longer.ok()) << longer.status();
  EXPECT_EQ(*longer, block + std::string(2, '\0'));

  auto fragments = Subset(*encoded, 0x7F);
  fragments[3][size - 9] = 1;  // a padding byte
  EXPECT_EQ(codec->Decode(fragments).status().code(), absl::StatusCode::kDataLoss);

  // The same through decode arithmetic: fragment 3 lost, parity corrupted.
  fragments = Subset(*encoded, 0b1110111);
  for (int i = 4; i < 7; ++i) fragments[i] = RandomBytes(size, rng);
  EXPECT_EQ(codec->Decode(fragments).status().code(), absl::StatusCode::kDataLoss);
}

TEST(CodecTest, GarbageNeverCrashes) {
  std::mt19937_64 rng(10);
  for (auto [n, k] : std::vector<std::pair<int, int>>{{2, 1}, {7, 4}, {64, 32}}) {
    auto codec = MakeCodec(n, k);
    for (size_t size : {size_t{1}, size_t{2}, size_t{7}, size_t{8}, size_t{9}, size_t{300}}) {
      for (int trial = 0; trial < 20; ++trial) {
        std::map<int, std::string> fragments;
        const uint64_t mask = RandomMask(n, k + static_cast<int>(rng() % (n - k + 1)), rng);
        for (int i = 0; i < n; ++i) {
          if (mask & (uint64_t{1} << i)) fragments[i] = RandomBytes(size, rng);
        }
        auto decoded = codec->Decode(fragments);
        // Random trailers essentially never match; if one does, the output
        // is bounded by the padded size.
        if (size < codec->FragmentSize(0)) {
          EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
        } else if (decoded.ok()) {
          EXPECT_LE(decoded->size(), size * k);
        } else {
          EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
        }
      }
    }
  }
}

TEST(CodecTest, SharedAcrossThreads) {
  auto codec = MakeCodec(13, 7);
  std::mt19937_64 rng(11);
  const std::string block = RandomBytes(50000, rng);
  auto encoded = codec->Encode(block);
  ASSERT_TRUE(encoded.ok());
  std::vector<uint64_t> masks;
  for (int i = 0; i < 200; ++i) masks.push_back(RandomMask(13, 7, rng));
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < masks.size(); i += 2) {
        auto decoded = codec->Decode(Subset(*encoded, masks[i]));
        if (!decoded.ok() || *decoded != block) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace shardkeep::raid

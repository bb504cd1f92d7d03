#include "common/compress.h"

#include <zstd.h>

#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace shardkeep::compress {
namespace {

// Text-like, compressible input: repetitive words with some variation.
std::string TextLike(size_t n, uint32_t seed) {
  static const char* const kWords[] = {"shard", "keep",   "backup", "supplier", "vault",
                                       "block", "chunk ", "\n",     "fragment", "{ }; "};
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) {
    s += kWords[rng() % 10];
    s += ' ';
    if (rng() % 8 == 0) s += std::to_string(rng() % 1000);
  }
  s.resize(n);
  return s;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Compresses `in` (which must compress) and returns the bare frame.
std::string Frame(const std::string& in, int level = kDefaultLevel) {
  std::string frame;
  EXPECT_TRUE(CompressIfSmaller(in, level, &frame));
  return frame;
}

TEST(CompressTest, RoundTripsAtSeveralLevelsAndAppends) {
  for (size_t n : {size_t{100}, size_t{4096}, size_t{1} << 20, size_t{4} << 20}) {
    const std::string in = TextLike(n, 1);
    for (int level : {-5, 0, 1, 3, 9, 19}) {
      if (level < 0 && n < 4096) continue;  // the fast levels barely compress tiny inputs
      if (level > 9 && n > 4096) continue;  // slow, and nothing new to learn
      SCOPED_TRACE(testing::Message() << "n=" << n << " level=" << level);
      std::string out = "prefix";
      ASSERT_TRUE(CompressIfSmaller(in, level, &out));
      ASSERT_EQ(out.substr(0, 6), "prefix");
      const std::string frame = out.substr(6);
      EXPECT_LT(frame.size(), in.size());
      EXPECT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), in.size());
      std::string back = "keep";
      ASSERT_TRUE(Decompress(frame, in.size(), &back).ok());
      EXPECT_EQ(back, "keep" + in);
    }
  }
}

TEST(CompressTest, HigherLevelIsNotLargerOnText) {
  const std::string in = TextLike(256 << 10, 2);
  EXPECT_LE(Frame(in, 19).size(), Frame(in, 1).size());
  // Text-like data really compresses, not just by a byte.
  EXPECT_LT(Frame(in, 1).size(), in.size() / 2);
}

TEST(CompressTest, OutOfRangeLevelsAreClamped) {
  const std::string in = TextLike(64 << 10, 10);
  std::string frame, back;
  ASSERT_TRUE(CompressIfSmaller(in, 100, &frame));  // clamped to zstd's maximum (22)
  ASSERT_TRUE(Decompress(frame, in.size(), &back).ok());
  EXPECT_EQ(back, in);
  // The fastest negative level barely compresses: stored raw, but no error.
  frame.clear();
  if (CompressIfSmaller(in, -1000000, &frame)) {
    back.clear();
    ASSERT_TRUE(Decompress(frame, in.size(), &back).ok());
    EXPECT_EQ(back, in);
  } else {
    EXPECT_TRUE(frame.empty());
  }
}

TEST(CompressTest, IncompressibleInputIsStoredRaw) {
  for (size_t n : {size_t{1}, size_t{7}, size_t{1000}, size_t{1} << 20}) {
    const std::string in = RandomBytes(n, 3);
    for (int level : {1, 3, 19}) {
      std::string out = "untouched";
      EXPECT_FALSE(CompressIfSmaller(in, level, &out)) << "n=" << n << " level=" << level;
      EXPECT_EQ(out, "untouched");
    }
  }
}

TEST(CompressTest, EmptyAndTinyInputs) {
  std::string out = "x";
  EXPECT_FALSE(CompressIfSmaller("", 3, &out));
  EXPECT_EQ(out, "x");
  // A frame has a few bytes of header: tiny inputs never shrink, whatever they hold.
  for (size_t n = 1; n <= 8; ++n) {
    EXPECT_FALSE(CompressIfSmaller(std::string(n, 'a'), 3, &out)) << n;
    EXPECT_EQ(out, "x");
  }
  // A long run shrinks even when short.
  const std::string run(64, 'a');
  std::string frame;
  ASSERT_TRUE(CompressIfSmaller(run, 3, &frame));
  std::string back;
  ASSERT_TRUE(Decompress(frame, run.size(), &back).ok());
  EXPECT_EQ(back, run);
}

TEST(CompressTest, ResultIsAlwaysStrictlySmallerWhenTrue) {
  // Mixed inputs around the break-even point: half random, half zeros.
  size_t compressed = 0, raw = 0;
  for (size_t n = 16; n < 4096; n = n * 5 / 4 + 1) {
    for (size_t random_part : {n / 2, n - 8, n - 1}) {
      std::string in =
          RandomBytes(random_part, static_cast<uint32_t>(n)) + std::string(n - random_part, '\0');
      std::string out;
      if (CompressIfSmaller(in, 1, &out)) {
        ++compressed;
        EXPECT_LT(out.size(), in.size());
        std::string back;
        ASSERT_TRUE(Decompress(out, in.size(), &back).ok());
        EXPECT_EQ(back, in);
      } else {
        ++raw;
        EXPECT_TRUE(out.empty());
      }
    }
  }
  // Both sides of the break-even point were exercised.
  EXPECT_GT(compressed, 10u);
  EXPECT_GT(raw, 10u);
}

TEST(DecompressTest, WrongExpectedSizeIsDataLoss) {
  const std::string in = TextLike(10000, 4);
  const std::string frame = Frame(in);
  for (size_t expected : {size_t{0}, in.size() - 1, in.size() + 1, size_t{1} << 40}) {
    std::string out = "keep";
    const absl::Status s = Decompress(frame, expected, &out);
    EXPECT_TRUE(absl::IsDataLoss(s)) << expected << ": " << s;
    EXPECT_EQ(out, "keep");
  }
}

TEST(DecompressTest, TruncatedFramesAreDataLoss) {
  const std::string in = TextLike(200000, 5);
  const std::string frame = Frame(in);
  for (size_t len = 0; len < frame.size(); len += (len < 64 ? 1 : 97)) {
    std::string out;
    EXPECT_TRUE(absl::IsDataLoss(Decompress(frame.substr(0, len), in.size(), &out))) << len;
    EXPECT_TRUE(out.empty());
  }
  std::string out;
  EXPECT_TRUE(absl::IsDataLoss(Decompress(frame.substr(0, frame.size() - 1), in.size(), &out)));
}

TEST(DecompressTest, TrailingBytesAndSecondFrameAreDataLoss) {
  const std::string in = TextLike(5000, 6);
  const std::string frame = Frame(in);
  std::string out;
  EXPECT_TRUE(absl::IsDataLoss(Decompress(frame + "x", in.size(), &out)));
  // An empty second frame would add no bytes, but is still not one frame.
  std::string empty_frame(ZSTD_compressBound(0), '\0');
  empty_frame.resize(ZSTD_compress(empty_frame.data(), empty_frame.size(), "", 0, 1));
  EXPECT_TRUE(absl::IsDataLoss(Decompress(frame + empty_frame, in.size(), &out)));
  EXPECT_TRUE(out.empty());
}

TEST(DecompressTest, SkippableFrameAndUnknownContentSizeAreDataLoss) {
  // Skippable frame: magic 0x184D2A50, 4-byte length, payload.
  std::string skippable(
      "\x50\x2A\x4D\x18\x03\x00\x00\x00"
      "abc",
      11);
  std::string out;
  EXPECT_TRUE(absl::IsDataLoss(Decompress(skippable, 0, &out)));

  // A streamed frame without the content size in its header.
  const std::string in = TextLike(10000, 7);
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ASSERT_NE(c, nullptr);
  ASSERT_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0)));
  std::string frame(ZSTD_compressBound(in.size()), '\0');
  ZSTD_outBuffer ob{frame.data(), frame.size(), 0};
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  ASSERT_EQ(ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(c);
  frame.resize(ob.pos);
  ASSERT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  EXPECT_TRUE(absl::IsDataLoss(Decompress(frame, in.size(), &out)));
  EXPECT_TRUE(out.empty());
}

TEST(DecompressTest, NoBitFlipGivesWrongBytes) {
  // A flip either fails (bad header, bad block, size or checksum mismatch) or
  // lands in a bit the decoder ignores (the header's unused bit, padding in
  // entropy tables) and yields the original bytes: never silently wrong data.
  const std::string in = TextLike(3000, 8);
  const std::string frame = Frame(in);
  size_t detected = 0, total = 0;
  for (size_t i = 0; i < frame.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = frame;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      std::string out;
      const absl::Status s = Decompress(bad, in.size(), &out);
      ++total;
      if (s.ok()) {
        EXPECT_EQ(out, in) << "byte " << i << " bit " << bit;
      } else {
        ++detected;
        EXPECT_TRUE(absl::IsDataLoss(s)) << "byte " << i << " bit " << bit << ": " << s;
        EXPECT_TRUE(out.empty());
      }
    }
  }
  EXPECT_GT(detected, total * 95 / 100) << detected << " of " << total;
}

TEST(DecompressTest, GarbageNeverCrashes) {
  std::mt19937 rng(9);
  const std::string in = TextLike(50000, 9);
  const std::string frame = Frame(in);
  for (int trial = 0; trial < 3000; ++trial) {
    const size_t len = rng() % 2000;
    std::string garbage = RandomBytes(len, rng());
    if (trial % 2 == 1 && len >= 8) {
      // A valid frame header followed by garbage blocks gets past the first checks.
      garbage.replace(0, 6, frame.substr(0, 6));
    }
    std::string out;
    const absl::Status s = Decompress(garbage, trial % 3 == 0 ? in.size() : len, &out);
    EXPECT_TRUE(absl::IsDataLoss(s)) << "trial " << trial << ": " << s;
    EXPECT_TRUE(out.empty());
  }
  // The real frame with its blocks scrambled.
  for (int trial = 0; trial < 200; ++trial) {
    std::string bad = frame;
    for (int k = 0; k < 20; ++k) bad[6 + rng() % (bad.size() - 6)] = static_cast<char>(rng());
    std::string out;
    EXPECT_TRUE(absl::IsDataLoss(Decompress(bad, in.size(), &out))) << trial;
  }
}

TEST(CompressTest, ConcurrentThreadsWithDifferentLevels) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 20; ++i) {
        const std::string in = TextLike(20000 + 1000 * i, 100 * t + i);
        std::string frame, back;
        if (!CompressIfSmaller(in, (i % 3) * 4 + 1, &frame) ||
            !Decompress(frame, in.size(), &back).ok() || back != in) {
          ++failures[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace shardkeep::compress

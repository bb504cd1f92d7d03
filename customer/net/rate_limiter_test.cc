#include "customer/net/rate_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace shardkeep::customer {
namespace {

using Clock = std::chrono::steady_clock;

TEST(ParseRate, BytesAndBits) {
  EXPECT_EQ(*ParseRate("500KiB"), 512000u);
  EXPECT_EQ(*ParseRate("1MB/s"), 1000000u);
  EXPECT_EQ(*ParseRate("2000000"), 2000000u);
  EXPECT_EQ(*ParseRate("4Mbit"), 500000u);
  EXPECT_EQ(*ParseRate("4mbit/s"), 500000u);
  EXPECT_EQ(*ParseRate("800kbit"), 100000u);
  EXPECT_EQ(*ParseRate("1.5Gbit"), 187500000u);
  for (const char* bad : {"", "0", "0Mbit", "fast", "-1MB", "4 Xbit", "bit"}) {
    auto r = ParseRate(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) EXPECT_NE(r.status().message().find("not a rate"), std::string::npos);
  }
}

// Four threads (four suppliers) share one limit: together they move at
// about the limit, not four times it.
TEST(RateLimiter, SharedLimitHoldsAcrossThreads) {
  RateLimiter limiter(1000000);  // 1 MB/s
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) limiter.Acquire(65536);  // 640 KiB each
    });
  }
  for (auto& t : threads) t.join();
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  // 2,621,440 bytes at 1 MB/s, minus the initial bucket (125 kB).
  EXPECT_GT(s, 2.3);
  EXPECT_LT(s, 3.5);
  EXPECT_EQ(limiter.TotalBytes(), 4u * 10 * 65536);
  EXPECT_GT(limiter.CurrentRate(), 0.7e6);
  EXPECT_LT(limiter.CurrentRate(), 1.3e6);
}

TEST(RateLimiter, ZeroOnlyMeters) {
  RateLimiter meter(0);
  auto start = Clock::now();
  for (int i = 0; i < 100; ++i) meter.Acquire(1 << 20);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(100));
  EXPECT_FALSE(meter.limited());
  EXPECT_EQ(meter.TotalBytes(), 100u << 20);
  EXPECT_EQ(meter.MessageBytes(1 << 18), 1u << 18);
}

TEST(RateLimiter, MessagesShrinkWithTheLimit) {
  EXPECT_EQ(RateLimiter(400000).MessageBytes(1 << 18), 100000u);
  EXPECT_EQ(RateLimiter(1000).MessageBytes(1 << 18), 16384u);
  EXPECT_EQ(RateLimiter(100000000).MessageBytes(1 << 18), 1u << 18);
}

}  // namespace
}  // namespace shardkeep::customer

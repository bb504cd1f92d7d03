#include "customer/net/stall_watchdog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace shardkeep::customer {
namespace {

using std::chrono::milliseconds;

void Sleep(int ms) { std::this_thread::sleep_for(milliseconds(ms)); }

StallWatchdog::Options Opts(int stall_ms, int call_stall_ms = 0) {
  return StallWatchdog::Options{milliseconds(stall_ms), milliseconds(call_stall_ms), "sup:1"};
}

TEST(StallWatchdog, CallThatKeepsMovingIsNeverCut) {
  StallWatchdog w(Opts(200));
  std::atomic<int> cancels{0};
  StallWatchdog::Call call(&w, [&] { cancels++; });
  // 1.5 s in all, ~7x the timeout, with a message every 50 ms.
  for (int i = 0; i < 30; ++i) {
    Sleep(50);
    call.Progress();
  }
  EXPECT_EQ(cancels.load(), 0);
  EXPECT_FALSE(call.stalled());
  EXPECT_EQ(call.moves(), 30);
}

TEST(StallWatchdog, SilentConnectionIsCutWithinBound) {
  StallWatchdog w(Opts(200));
  std::atomic<int> cancels{0};
  auto start = std::chrono::steady_clock::now();
  StallWatchdog::Call a(&w, [&] { cancels++; });
  StallWatchdog::Call b(&w, [&] { cancels++; });
  while (cancels.load() < 2 && std::chrono::steady_clock::now() - start < milliseconds(3000)) {
    Sleep(10);
  }
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(cancels.load(), 2);
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(600));  // timeout + a tick, with slack for a busy machine
  EXPECT_TRUE(a.stalled());
  EXPECT_NE(a.why().find("sup:1"), std::string::npos) << a.why();
  EXPECT_NE(a.why().find("no data moved"), std::string::npos) << a.why();
  Sleep(300);
  EXPECT_EQ(cancels.load(), 2) << "cancelled once only";
}

TEST(StallWatchdog, IdleTimeBetweenCallsDoesNotCount) {
  StallWatchdog w(Opts(200));
  {
    StallWatchdog::Call a(&w, [] {});
    a.Progress();
  }
  Sleep(400);  // idle, longer than the timeout
  std::atomic<int> cancels{0};
  StallWatchdog::Call b(&w, [&] { cancels++; });
  Sleep(100);
  EXPECT_EQ(cancels.load(), 0);
  EXPECT_FALSE(b.stalled());
}

TEST(StallWatchdog, OneStuckCallIsCutWhileOthersMove) {
  StallWatchdog w(Opts(200, 600));
  std::atomic<int> stuck_cancels{0}, moving_cancels{0};
  StallWatchdog::Call stuck(&w, [&] { stuck_cancels++; });
  StallWatchdog::Call moving(&w, [&] { moving_cancels++; });
  for (int i = 0; i < 30 && stuck_cancels.load() == 0; ++i) {
    Sleep(50);
    moving.Progress();
  }
  EXPECT_EQ(stuck_cancels.load(), 1);
  EXPECT_EQ(moving_cancels.load(), 0);
  EXPECT_TRUE(stuck.stalled());
  EXPECT_NE(stuck.why().find("call stall timeout"), std::string::npos) << stuck.why();
  EXPECT_FALSE(moving.stalled());
}

}  // namespace
}  // namespace shardkeep::customer

// "Now", behind an interface, so that what depends on time (the supplier's
// leases, reaper and signature window; the customer's snapshot times, and
// later its locks, leases and retention) can be tested without waiting
// days. Both programs use it; the supplier adds a test clock driven by a
// file (supplier/clock.h).
//
// Thread-safe: every method may be called from any thread at any time.
#ifndef SHARDKEEP_COMMON_CLOCK_H_
#define SHARDKEEP_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace shardkeep {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMs() = 0;
  // Nanoseconds since the Unix epoch (NowMs scaled, unless overridden).
  virtual int64_t NowNs() { return NowMs() * 1000000; }
};

// The system's real-time clock; never destroyed.
Clock* RealClock();

// A clock that stands still until moved. For tests.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t now_ns) : now_ns_(now_ns) {}
  int64_t NowMs() override { return now_ns_.load() / 1000000; }
  int64_t NowNs() override { return now_ns_.load(); }
  void SetNs(int64_t now_ns) { now_ns_ = now_ns; }
  void AdvanceMs(int64_t ms) { now_ns_ += ms * 1000000; }

 private:
  std::atomic<int64_t> now_ns_;
};

}  // namespace shardkeep

#endif  // SHARDKEEP_COMMON_CLOCK_H_

// Bandwidth limits (--limit-upload, --limit-download): one token bucket per
// direction, shared by every supplier's client, so the limit holds for the
// customer's link as a whole whatever n is. Also a meter of the bytes that
// went through, for the progress line's current rate.
//
// Thread-safe. Acquire may sleep; callers hold no lock while it does.
#ifndef SHARDKEEP_CUSTOMER_NET_RATE_LIMITER_H_
#define SHARDKEEP_CUSTOMER_NET_RATE_LIMITER_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "common/status.h"

namespace shardkeep::customer {

// A rate in bytes per second: a byte size per second ("512KiB", "1.5MB",
// "2000000", optionally followed by "/s") or bits per second with a unit
// "bit", "kbit", "Mbit", "Gbit" (decimal: "4Mbit" = 500,000 bytes/s). 0 is
// not a rate. InvalidArgument naming the text otherwise.
absl::StatusOr<uint64_t> ParseRate(std::string_view text);

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // `bytes_per_second` > 0 limits; 0 only meters. The bucket holds at most
  // 1/8 s of the rate (at least 16 KiB): short bursts, no long ones.
  explicit RateLimiter(uint64_t bytes_per_second);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  uint64_t bytes_per_second() const { return rate_; }
  bool limited() const { return rate_ > 0; }

  // Takes `bytes` from the bucket, sleeping until the rate allows them (a
  // request larger than the bucket waits for all of it). Callers queue in
  // the order they ask: each takes on the debt of those before.
  void Acquire(uint64_t bytes);

  // Messages to send at most, so that one waits no more than ~1/4 s at the
  // full rate: keeps progress steady for the stall watchdog.
  size_t MessageBytes(size_t max) const;

  // Bytes per second through Acquire over the last 2 to 4 seconds.
  double CurrentRate() const;
  uint64_t TotalBytes() const;

 private:
  const uint64_t rate_;
  const double burst_;
  mutable std::mutex mu_;
  double tokens_;
  Clock::time_point last_;
  // Meter: two windows of 2 s; the rate is over the previous and current one.
  mutable Clock::time_point window_start_;
  mutable uint64_t window_bytes_ = 0, previous_window_bytes_ = 0;
  uint64_t total_ = 0;
  void Roll(Clock::time_point now) const;
};

// The process's two meters (the customer's link is the process's), for the
// progress line: set by the CLI when it makes its transport, null before.
struct TransferMeters {
  const RateLimiter* upload = nullptr;
  const RateLimiter* download = nullptr;
};
void SetTransferMeters(TransferMeters meters);
TransferMeters GetTransferMeters();

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_NET_RATE_LIMITER_H_

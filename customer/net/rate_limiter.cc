#include "customer/net/rate_limiter.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/units.h"

namespace shardkeep::customer {
namespace {

constexpr auto kWindow = std::chrono::seconds(2);

}  // namespace

absl::StatusOr<uint64_t> ParseRate(std::string_view text) {
  std::string t(absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size())));
  if (absl::EndsWith(t, "/s")) t.resize(t.size() - 2);
  struct BitUnit {
    const char* name;
    double bits;
  };
  static const BitUnit kBits[] = {{"Gbit", 1e9}, {"gbit", 1e9}, {"Mbit", 1e6}, {"mbit", 1e6},
                                  {"kbit", 1e3}, {"Kbit", 1e3}, {"bit", 1}};
  uint64_t rate = 0;
  bool parsed = false;
  for (const BitUnit& u : kBits) {
    if (!absl::EndsWith(t, u.name)) continue;
    double v = 0;
    if (absl::SimpleAtod(t.substr(0, t.size() - strlen(u.name)), &v) && v > 0 && v < 1e15) {
      rate = static_cast<uint64_t>(v * u.bits / 8);
      parsed = true;
    }
    break;
  }
  if (!parsed && !t.empty() && !absl::EndsWith(t, "bit")) {
    absl::StatusOr<uint64_t> bytes = ParseByteSize(t);
    if (bytes.ok()) {
      rate = *bytes;
      parsed = true;
    }
  }
  if (!parsed || rate == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a rate: \"", std::string(text),
        "\" (bytes per second like 512KiB or 1.5MB, or bits like 4Mbit or 800kbit)"));
  }
  return rate;
}

RateLimiter::RateLimiter(uint64_t bytes_per_second)
    : rate_(bytes_per_second),
      burst_(std::max(16384.0, bytes_per_second / 8.0)),
      tokens_(burst_),
      last_(Clock::now()),
      window_start_(last_) {}

void RateLimiter::Roll(Clock::time_point now) const {
  if (now - window_start_ < kWindow) return;
  // An idle gap longer than a window empties both.
  const bool long_gap = now - window_start_ >= 2 * kWindow;
  previous_window_bytes_ = long_gap ? 0 : window_bytes_;
  window_bytes_ = 0;
  window_start_ = long_gap ? now : window_start_ + kWindow;
}

void RateLimiter::Acquire(uint64_t bytes) {
  std::chrono::duration<double> wait{0};
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Clock::time_point now = Clock::now();
    Roll(now);
    window_bytes_ += bytes;
    total_ += bytes;
    if (rate_ == 0) return;
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
    last_ = now;
    tokens_ -= static_cast<double>(bytes);
    if (tokens_ < 0) wait = std::chrono::duration<double>(-tokens_ / rate_);
  }
  if (wait.count() > 0) std::this_thread::sleep_for(wait);
}

size_t RateLimiter::MessageBytes(size_t max) const {
  if (rate_ == 0) return max;
  return std::clamp<size_t>(rate_ / 4, 16384, max);
}

double RateLimiter::CurrentRate() const {
  std::lock_guard<std::mutex> lock(mu_);
  const Clock::time_point now = Clock::now();
  Roll(now);
  const double span = std::chrono::duration<double>(now - window_start_ + kWindow).count();
  return (previous_window_bytes_ + window_bytes_) / span;
}

uint64_t RateLimiter::TotalBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

namespace {
std::mutex meters_mu;
TransferMeters meters;
}  // namespace

void SetTransferMeters(TransferMeters m) {
  std::lock_guard<std::mutex> lock(meters_mu);
  meters = m;
}

TransferMeters GetTransferMeters() {
  std::lock_guard<std::mutex> lock(meters_mu);
  return meters;
}

}  // namespace shardkeep::customer

#include "supplier/replay_guard.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "common/units.h"

namespace shardkeep::supplier {

ReplayGuard::ReplayGuard(Store* store, Clock* clock, int64_t window_ms, size_t max_entries)
    : store_(store), clock_(clock), window_ms_(window_ms), max_entries_(max_entries) {}

absl::Status ReplayGuard::Load() {
  ASSIGN_OR_RETURN(std::vector<Store::NonceEntry> entries,
                   store_->LoadNonces(clock_->NowMs() - window_ms_));
  absl::MutexLock l(&mu_);
  for (auto& e : entries) {
    std::string key = e.customer + e.nonce;
    if (seen_.insert(key).second) by_time_.emplace(e.timestamp_ms, std::move(key));
  }
  LOG(INFO) << "replay guard: " << seen_.size() << " recent nonces loaded";
  return absl::OkStatus();
}

absl::Status ReplayGuard::Check(const shardkeep::v1::Auth& auth) {
  const int64_t now = clock_->NowMs();
  const int64_t ts = auth.timestamp_ms();
  if (ts < now - window_ms_ || ts > now + window_ms_) {
    // The distance in unsigned arithmetic: a signed request may carry any
    // int64 (now - INT64_MIN overflows), capped to what FormatDurationMs takes.
    const uint64_t off = ts < now ? static_cast<uint64_t>(now) - static_cast<uint64_t>(ts)
                                  : static_cast<uint64_t>(ts) - static_cast<uint64_t>(now);
    return absl::UnauthenticatedError(absl::StrFormat(
        "request timestamp %d ms is %s the supplier's clock (%d ms) by %s; the window is +-%s "
        "(is a clock wrong?)",
        ts, ts < now ? "behind" : "ahead of", now,
        FormatDurationMs(static_cast<int64_t>(std::min<uint64_t>(off, INT64_MAX))),
        FormatDurationMs(window_ms_)));
  }
  std::string key = auth.customer_key() + auth.nonce();
  {
    absl::MutexLock l(&mu_);
    if (seen_.count(key)) {
      return absl::UnauthenticatedError("replayed request: this nonce was already used");
    }
    if (seen_.size() >= max_entries_) {
      return absl::UnavailableError("too many requests in the replay window; retry later");
    }
    seen_.insert(key);
    by_time_.emplace(ts, std::move(key));
  }
  return store_->RememberNonce(ts, auth.customer_key(), auth.nonce());
}

absl::Status ReplayGuard::Purge() {
  const int64_t cutoff = clock_->NowMs() - window_ms_;
  {
    absl::MutexLock l(&mu_);
    auto end = by_time_.lower_bound(cutoff);
    for (auto it = by_time_.begin(); it != end; ++it) seen_.erase(it->second);
    by_time_.erase(by_time_.begin(), end);
  }
  return store_->ForgetNoncesBefore(cutoff);
}

size_t ReplayGuard::size() {
  absl::MutexLock l(&mu_);
  return seen_.size();
}

}  // namespace shardkeep::supplier

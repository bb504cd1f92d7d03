#include "supplier/replay_guard.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_format.h"
#include "common/crypto.h"
#include "common/units.h"
#include "glog/logging.h"

namespace shardkeep::supplier {
namespace {
// A step back up to this long keeps the floor (and refuses older requests
// until the clock catches up); a longer one resets it (docs/PROTOCOL.md).
constexpr int64_t kMaxFloorLeadMs = 3600LL * 1000;
}  // namespace

ReplayGuard::ReplayGuard(Store* store, Clock* clock, int64_t window_ms, ReplayGuardLimits limits)
    : store_(store), clock_(clock), window_ms_(window_ms), limits_(limits) {}

absl::Status ReplayGuard::Load() {
  ASSIGN_OR_RETURN(std::optional<int64_t> floor, store_->NonceFloorMs());
  // Nonces at or above the floor are kept in the store even if the clock now
  // says they are old: load them all, so a step back cannot reopen them.
  const int64_t from =
      floor ? std::min(*floor, clock_->NowMs() - window_ms_) : clock_->NowMs() - window_ms_;
  ASSIGN_OR_RETURN(std::vector<Store::NonceEntry> entries, store_->LoadNonces(from));
  absl::MutexLock l(&mu_);
  if (floor) floor_ms_ = *floor;
  for (auto& e : entries) {
    std::string key = e.customer + e.nonce;
    if (!seen_.insert(key).second) continue;
    ++per_customer_[e.customer];
    by_time_.emplace(e.timestamp_ms, Entry{std::move(key), false});
  }
  LOG(INFO) << "replay guard: " << seen_.size() << " recent nonces loaded";
  return absl::OkStatus();
}

void ReplayGuard::ForgetBeforeLocked(int64_t cutoff) {
  floor_ms_ = std::max(floor_ms_, cutoff);
  auto end = by_time_.lower_bound(cutoff);
  for (auto it = by_time_.begin(); it != end; ++it) {
    seen_.erase(it->second.key);
    auto pc = per_customer_.find(it->second.key.substr(0, kCustomerKeySize));
    if (pc != per_customer_.end() && --pc->second == 0) per_customer_.erase(pc);
    if (it->second.newcomer) --newcomers_;
  }
  by_time_.erase(by_time_.begin(), end);
}

absl::Status ReplayGuard::CheckTimestamp(const shardkeep::v1::Auth& auth) {
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
  return absl::OkStatus();
}

absl::Status ReplayGuard::Check(const shardkeep::v1::Auth& auth, bool has_contract) {
  RETURN_IF_ERROR(CheckTimestamp(auth));
  const int64_t now = clock_->NowMs();
  const int64_t ts = auth.timestamp_ms();
  const std::string& customer = auth.customer_key();
  std::string key = customer + auth.nonce();
  {
    absl::MutexLock l(&mu_);
    // Purge as we go: the oldest entries are at the front, so this is
    // amortised O(1) per request and keeps the bounds about the live window.
    ForgetBeforeLocked(now - window_ms_);
    if (floor_ms_ > now - window_ms_ + kMaxFloorLeadMs) {
      // Stepped back by more than an hour: most likely the earlier clock was
      // the wrong one (a jump forward, now corrected). Refusing everyone until
      // the clock caught up would lock customers out for as long; accept the
      // smaller risk (replays of requests signed in the window before the
      // correction) and say so.
      LOG(WARNING) << "replay guard: the clock is " << FormatDurationMs(floor_ms_ - now)
                   << " behind what was already forgotten; trusting it (requests signed just "
                      "before the step could be replayed)";
      floor_ms_ = now - window_ms_;
    }
    if (ts < floor_ms_) {
      return absl::UnauthenticatedError(absl::StrFormat(
          "request timestamp %d ms is older than what this supplier has already forgotten (%d "
          "ms): its clock was stepped back; retry with a newer timestamp",
          ts, floor_ms_));
    }
    if (seen_.count(key)) {
      return absl::UnauthenticatedError("replayed request: this nonce was already used");
    }
    size_t& mine = per_customer_[customer];
    auto refuse = [&](const std::string& what) {
      if (mine == 0) per_customer_.erase(customer);
      return absl::UnavailableError(
          absl::StrFormat("%s; retry in up to %s", what, FormatDurationMs(2 * window_ms_)));
    };
    if (!has_contract && newcomers_ >= limits_.max_newcomers) {
      return refuse(
          absl::StrFormat("too many contract requests from new customers in the replay window (%d)",
                          limits_.max_newcomers));
    }
    if (mine >= limits_.max_per_customer) {
      return refuse(
          absl::StrFormat("customer %s... made too many requests in the replay window (%d)",
                          crypto::ToHex(customer.substr(0, 4)), limits_.max_per_customer));
    }
    if (seen_.size() >= limits_.max_entries) {
      return refuse(
          absl::StrFormat("too many requests in the replay window (%d)", limits_.max_entries));
    }
    ++mine;
    if (!has_contract) ++newcomers_;
    seen_.insert(key);
    by_time_.emplace(ts, Entry{std::move(key), !has_contract});
  }
  return store_->RememberNonce(ts, customer, auth.nonce());
}

absl::Status ReplayGuard::Purge() {
  int64_t cutoff;
  {
    absl::MutexLock l(&mu_);
    ForgetBeforeLocked(clock_->NowMs() - window_ms_);
    cutoff = floor_ms_;  // never lower than an earlier purge's
  }
  // The floor first: a crash between the two must not leave purged nonces
  // without the floor that keeps them refused.
  RETURN_IF_ERROR(store_->SetNonceFloorMs(cutoff));
  return store_->ForgetNoncesBefore(cutoff);
}

size_t ReplayGuard::size() {
  absl::MutexLock l(&mu_);
  return seen_.size();
}

size_t ReplayGuard::CountFor(const std::string& customer) {
  absl::MutexLock l(&mu_);
  auto it = per_customer_.find(customer);
  return it == per_customer_.end() ? 0 : it->second;
}

}  // namespace shardkeep::supplier

#include "customer/net/stall_watchdog.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace shardkeep::customer {
namespace {

std::string Seconds(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return absl::StrCat(ms.count() / 1000, " s");
  return absl::StrCat(ms.count(), " ms");
}

}  // namespace

StallWatchdog::StallWatchdog(Options options) : options_(std::move(options)) {
  if (options_.call_stall_timeout.count() <= 0) {
    options_.call_stall_timeout = 4 * options_.stall_timeout;
  }
  last_move_ = Clock::now();
  thread_ = std::thread([this] { Run(); });
}

StallWatchdog::~StallWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

StallWatchdog::Call::Call(StallWatchdog* watchdog, std::function<void()> cancel)
    : watchdog_(watchdog) {
  std::lock_guard<std::mutex> lock(watchdog_->mu_);
  const Clock::time_point now = Clock::now();
  // An idle connection has not stalled: its clock starts with this call.
  if (watchdog_->calls_.empty()) watchdog_->last_move_ = now;
  entry_ = watchdog_->calls_.insert(watchdog_->calls_.end(), Entry{std::move(cancel), now});
}

StallWatchdog::Call::~Call() {
  std::lock_guard<std::mutex> lock(watchdog_->mu_);
  watchdog_->calls_.erase(entry_);
}

void StallWatchdog::Call::Progress() {
  std::lock_guard<std::mutex> lock(watchdog_->mu_);
  const Clock::time_point now = Clock::now();
  entry_->last_move = now;
  entry_->moves++;
  watchdog_->last_move_ = now;
}

int StallWatchdog::Call::moves() const {
  std::lock_guard<std::mutex> lock(watchdog_->mu_);
  return entry_->moves;
}

bool StallWatchdog::Call::stalled() const {
  std::lock_guard<std::mutex> lock(watchdog_->mu_);
  return entry_->stalled;
}

std::string StallWatchdog::Call::why() const {
  std::lock_guard<std::mutex> lock(watchdog_->mu_);
  return entry_->why;
}

void StallWatchdog::Run() {
  // Checks often enough that a stall is seen within ~10% of the timeout.
  const auto tick = std::clamp(options_.stall_timeout / 10, std::chrono::milliseconds(20),
                               std::chrono::milliseconds(1000));
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, tick);
    if (stop_ || calls_.empty()) continue;
    const Clock::time_point now = Clock::now();
    if (now - last_move_ >= options_.stall_timeout) {
      const std::string why =
          absl::StrCat(options_.name, ": no data moved to or from the supplier for ",
                       Seconds(options_.stall_timeout),
                       " (stall timeout); treating it as unreachable");
      for (Entry& e : calls_) {
        if (e.stalled) continue;
        e.stalled = true;
        e.why = why;
        e.cancel();
      }
      continue;
    }
    for (Entry& e : calls_) {
      if (e.stalled || now - e.last_move < options_.call_stall_timeout) continue;
      e.stalled = true;
      e.why = absl::StrCat(options_.name, ": this call moved no data for ",
                           Seconds(options_.call_stall_timeout),
                           " while the connection did (call stall timeout)");
      e.cancel();
    }
  }
}

}  // namespace shardkeep::customer

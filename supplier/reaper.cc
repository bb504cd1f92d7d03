#include "supplier/reaper.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "common/units.h"
#include "glog/logging.h"

namespace shardkeep::supplier {

Reaper::Reaper(Store* store, Clock* wall, Clock* steady, ReaperOptions options)
    : store_(store), wall_(wall), steady_(steady), options_(options) {}

absl::StatusOr<ReaperRun> Reaper::RunOnce() {
  ReaperRun run;
  const int64_t now = wall_->NowMs();
  const int64_t steady = steady_->NowMs();
  ASSIGN_OR_RETURN(std::optional<int64_t> last, store_->ReaperLastSeenMs());
  if (!last) {
    RETURN_IF_ERROR(store_->SetReaperLastSeenMs(now));
    last_steady_ms_ = steady;
    LOG(INFO) << "reaper: first clock reading recorded (" << now
              << " ms); contracts are reaped from the next run on";
    run.decision = ReaperRun::Decision::kFirstReading;
    return run;
  }
  if (pending_) {
    const int64_t waited = steady - pending_->steady_ms;
    const int64_t drift = (now - pending_->wall_ms) - waited;
    // NTP slews at most 0.05%; anything beyond a minute plus 1% is a new step.
    const int64_t tolerance = 60000 + waited / 100;
    if (std::llabs(drift) > tolerance) {
      LOG(WARNING) << "reaper: the clock stepped again by " << FormatDurationMs(std::llabs(drift))
                   << " while a forward jump was waiting to be confirmed; waiting "
                   << FormatDurationMs(options_.confirm_ms) << " more, reaping nothing";
      pending_ = Pending{now, steady, pending_->jump_ms + drift};
      run.decision = ReaperRun::Decision::kWaitingToConfirm;
      run.jump_ms = pending_->jump_ms;
      return run;
    }
    if (waited < options_.confirm_ms) {
      run.decision = ReaperRun::Decision::kWaitingToConfirm;
      run.jump_ms = pending_->jump_ms;
      return run;
    }
    LOG(WARNING) << "reaper: the clock's forward jump of " << FormatDurationMs(pending_->jump_ms)
                 << " held for " << FormatDurationMs(waited) << "; trusting it from now on";
    pending_.reset();
  } else {
    const int64_t measured = last_steady_ms_ ? steady - *last_steady_ms_ : 0;
    const int64_t jump = now - *last - measured;
    if (jump > options_.max_forward_jump_ms) {
      LOG(WARNING) << "reaper: the wall clock is " << FormatDurationMs(jump)
                   << " ahead of the last reading (" << *last << " ms, now " << now
                   << " ms) plus the time measured since; reaping nothing until the new time "
                      "holds for "
                   << FormatDurationMs(options_.confirm_ms)
                   << " (check the system clock if this was not a long outage)";
      pending_ = Pending{now, steady, jump};
      run.decision = ReaperRun::Decision::kClockJumped;
      run.jump_ms = jump;
      return run;
    }
  }
  RETURN_IF_ERROR(store_->SetReaperLastSeenMs(now));
  last_steady_ms_ = steady;
  const uint32_t customers = store_->GetTotals().customers;
  const size_t cap = std::max<size_t>(
      1, static_cast<size_t>(std::floor(customers * std::max(0.0, options_.max_share))));
  ASSIGN_OR_RETURN(run.result, store_->ReapExpired(now, cap));
  if (run.result.contracts_reaped > 0 || run.result.contracts_deferred > 0) {
    LOG(INFO) << "reaper: " << run.result.contracts_reaped << " expired contracts deleted, "
              << run.result.freed_bytes << " bytes freed"
              << (run.result.contracts_deferred > 0
                      ? ", " + std::to_string(run.result.contracts_deferred) +
                            " more left for later runs (at most " + std::to_string(cap) +
                            " per run)"
                      : "");
  }
  return run;
}

}  // namespace shardkeep::supplier

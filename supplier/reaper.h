// Reaper: deletes contracts whose lease and grace have passed, without
// trusting a wall clock that jumped. A supplier's clock set wrong by a bad
// RTC, a mistyped `date`, or NTP after a long outage would otherwise make
// every lease look expired and delete every customer in one run.
//
// Each run (RunOnce) compares the wall clock with the last trusted reading,
// persisted in the Store so restarts do not forget it:
//   - no reading yet (a new or upgraded data dir): record one, reap nothing;
//   - the wall clock moved forward more than max_forward_jump_ms beyond what
//     the monotonic clock measured since that reading (across a restart: any
//     such jump, since the monotonic clock starts over): reap nothing, log it,
//     and wait until the new time has held steadily (wall and monotonic
//     clocks advancing together) for confirm_ms of monotonic time. A further
//     step restarts the wait. Only then is the new time trusted;
//   - otherwise the reading is trusted (a step backwards too: it only makes
//     leases look younger).
// A run with a trusted clock deletes at most max(1, customers * max_share)
// contracts, the longest-expired first; the rest wait for the next run.
//
// Not thread-safe: one thread calls RunOnce.
#ifndef SHARDKEEP_SUPPLIER_REAPER_H_
#define SHARDKEEP_SUPPLIER_REAPER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "supplier/clock.h"
#include "supplier/store.h"

namespace shardkeep::supplier {

struct ReaperOptions {
  int64_t max_forward_jump_ms = 24LL * 3600 * 1000;
  int64_t confirm_ms = 3600LL * 1000;
  // Share of the contracts in force one run may delete (at least one).
  double max_share = 0.10;
};

struct ReaperRun {
  enum class Decision {
    kReaped,            // the clock was trusted; `result` says what was deleted
    kFirstReading,      // no earlier reading: recorded this one, reaped nothing
    kClockJumped,       // a forward jump was seen now: reaped nothing
    kWaitingToConfirm,  // a jump seen earlier is not confirmed yet: reaped nothing
  };
  Decision decision = Decision::kReaped;
  ReapResult result;
  int64_t jump_ms = 0;  // for kClockJumped / kWaitingToConfirm
};

class Reaper {
 public:
  // wall: the supplier's clock (leases). steady: a monotonic clock (any
  // epoch) that wall-clock steps do not move. Not owned; must outlive this.
  Reaper(Store* store, Clock* wall, Clock* steady, ReaperOptions options);
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  absl::StatusOr<ReaperRun> RunOnce();

 private:
  struct Pending {
    int64_t wall_ms;
    int64_t steady_ms;
    int64_t jump_ms;
  };

  Store* const store_;
  Clock* const wall_;
  Clock* const steady_;
  const ReaperOptions options_;
  std::optional<int64_t> last_steady_ms_;  // steady time of the last trusted reading, this process
  std::optional<Pending> pending_;
};

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_REAPER_H_

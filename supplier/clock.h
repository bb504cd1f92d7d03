// The supplier's notion of "now", behind an interface so that lease expiry,
// the reaper and the signature freshness window can be tested without waiting
// days: tests start the daemon with --test-clock-offset-file and move its
// clock forward by writing a number into that file.
#ifndef SHARDKEEP_SUPPLIER_CLOCK_H_
#define SHARDKEEP_SUPPLIER_CLOCK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"

namespace shardkeep::supplier {

// The interface is common/clock.h (the customer uses it too).
using Clock = ::shardkeep::Clock;

// The system's real-time clock.
std::unique_ptr<Clock> NewSystemClock();

// std::chrono::steady_clock in ms (arbitrary epoch): elapsed time that steps
// of the wall clock (and the test offset) do not move. The reaper uses it to
// tell a clock jump from time passing.
std::unique_ptr<Clock> NewSteadyClock();

// The system clock plus an offset in milliseconds read from `path` at every
// call (a signed decimal integer, optionally followed by whitespace). A
// missing, empty or unreadable file means offset 0; a malformed one is logged
// and also reads as 0. Writers should replace the file atomically (write a
// temporary, rename) so a reader never sees half a number. For tests only.
std::unique_ptr<Clock> NewOffsetFileClock(std::string path);

// Writes `offset_ms` to `path` atomically (temporary file + rename): the
// writer's side of NewOffsetFileClock. False on an I/O error.
bool WriteClockOffsetFile(const std::string& path, int64_t offset_ms);

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_CLOCK_H_

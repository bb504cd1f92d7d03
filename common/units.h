// Byte sizes and durations as people type them on the command line
// ("500GiB", "1.5GiB", "30d"), parsed exactly (integer arithmetic, no
// floating point), and back again for messages. Used by both programs.
#ifndef SHARDKEEP_COMMON_UNITS_H_
#define SHARDKEEP_COMMON_UNITS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shardkeep {

// Parses a byte size: a non-negative number (decimals allowed: "1.5GiB")
// followed by an optional unit. Binary units: KiB MiB GiB TiB (also K M G T);
// decimal units: kB KB MB GB TB; B or no unit means bytes. Units are
// case-insensitive except that "kB"/"KB" are decimal while "K"/"KiB" are
// binary. The result must be a whole number of bytes that fits in 63 bits.
// InvalidArgument with a message saying what is accepted otherwise.
absl::StatusOr<uint64_t> ParseByteSize(std::string_view text);

// Parses a duration: a non-negative number followed by a unit, one of
// ms s m h d (milliseconds, seconds, minutes, hours, days). Returns
// milliseconds. A bare number is refused (is "30" seconds or days?).
absl::StatusOr<int64_t> ParseDurationMs(std::string_view text);

// "4.00 MiB", "512 B", "1.50 TiB": for log lines and error messages.
std::string FormatByteSize(uint64_t bytes);

// "30d", "1h30m", "250ms": the shortest exact spelling.
std::string FormatDurationMs(int64_t ms);

}  // namespace shardkeep

#endif  // SHARDKEEP_COMMON_UNITS_H_

#include "common/units.h"

#include <cctype>
#include <cmath>
#include <string>

#include "absl/strings/str_format.h"

namespace shardkeep {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits "12.5GiB" into the number and the unit; false if the number part is
// not digits with at most one dot.
bool SplitNumber(std::string_view text, std::string_view* number, std::string_view* unit) {
  size_t i = 0;
  bool digits = false, dot = false;
  while (i < text.size()) {
    char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
    ++i;
  }
  if (!digits) return false;
  *number = text.substr(0, i);
  *unit = Trim(text.substr(i));
  return true;
}

// Exact decimal arithmetic: value = integer part * scale + fraction * scale,
// refusing results that are not whole or that overflow 2^63.
absl::StatusOr<uint64_t> Scale(std::string_view number, uint64_t scale, std::string_view what) {
  size_t dot = number.find('.');
  std::string_view whole = number.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : number.substr(dot + 1);
  constexpr unsigned __int128 kMax = static_cast<unsigned __int128>(1) << 63;
  unsigned __int128 w = 0;
  for (char c : whole) {
    w = w * 10 + (c - '0');
    if (w > kMax)
      return absl::InvalidArgumentError(absl::StrFormat("%s is too large", std::string(what)));
  }
  unsigned __int128 result = w * scale;
  if (!frac.empty()) {
    if (frac.size() > 18) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s has too many decimals", std::string(what)));
    }
    unsigned __int128 f = 0, denom = 1;
    for (char c : frac) {
      f = f * 10 + (c - '0');
      denom *= 10;
    }
    unsigned __int128 part = f * scale;
    if (part % denom != 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s is not a whole number of the smallest unit", std::string(what)));
    }
    result += part / denom;
  }
  if (result >= kMax)
    return absl::InvalidArgumentError(absl::StrFormat("%s is too large", std::string(what)));
  return static_cast<uint64_t>(result);
}

}  // namespace

absl::StatusOr<uint64_t> ParseByteSize(std::string_view text) {
  std::string_view t = Trim(text);
  std::string_view number, unit;
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bad size \"%s\": expected a number with an optional unit B, KiB, MiB, GiB, TiB "
        "(binary; also K M G T) or kB, MB, GB, TB (decimal), e.g. 500GiB",
        std::string(text)));
  };
  if (!SplitNumber(t, &number, &unit)) return bad();
  uint64_t scale;
  std::string u = Lower(unit);
  if (unit == "kB" || unit == "KB") {
    scale = 1000ULL;
  } else if (u.empty() || u == "b") {
    scale = 1;
  } else if (u == "k" || u == "kib") {
    scale = 1ULL << 10;
  } else if (u == "m" || u == "mib") {
    scale = 1ULL << 20;
  } else if (u == "g" || u == "gib") {
    scale = 1ULL << 30;
  } else if (u == "t" || u == "tib") {
    scale = 1ULL << 40;
  } else if (u == "mb") {
    scale = 1000ULL * 1000;
  } else if (u == "gb") {
    scale = 1000ULL * 1000 * 1000;
  } else if (u == "tb") {
    scale = 1000ULL * 1000 * 1000 * 1000;
  } else {
    return bad();
  }
  return Scale(number, scale, absl::StrFormat("size \"%s\"", std::string(text)));
}

absl::StatusOr<int64_t> ParseDurationMs(std::string_view text) {
  std::string_view t = Trim(text);
  std::string_view number, unit;
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bad duration \"%s\": expected a number with a unit ms, s, m, h or d, e.g. 30d",
        std::string(text)));
  };
  if (!SplitNumber(t, &number, &unit)) return bad();
  uint64_t scale;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m" || unit == "min") {
    scale = 60 * 1000;
  } else if (unit == "h") {
    scale = 3600 * 1000;
  } else if (unit == "d") {
    scale = 24ULL * 3600 * 1000;
  } else {
    return bad();
  }
  ASSIGN_OR_RETURN(uint64_t ms,
                   Scale(number, scale, absl::StrFormat("duration \"%s\"", std::string(text))));
  return static_cast<int64_t>(ms);
}

std::string FormatByteSize(uint64_t bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return absl::StrFormat("%d B", bytes);
  double v = static_cast<double>(bytes);
  int unit = -1;
  while (v >= 1024 && unit < 5) {
    v /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.2f %s", v, kUnits[unit]);
}

std::string FormatDurationMs(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  // The magnitude in unsigned arithmetic: -INT64_MIN does not fit an int64_t.
  uint64_t left = static_cast<uint64_t>(ms);
  if (ms < 0) {
    out = "-";
    left = 0 - left;
  }
  struct Unit {
    uint64_t ms;
    const char* name;
  };
  static const Unit kUnits[] = {
      {24ULL * 3600 * 1000, "d"}, {3600 * 1000, "h"}, {60 * 1000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const Unit& u : kUnits) {
    if (left >= u.ms) {
      absl::StrAppendFormat(&out, "%d%s", left / u.ms, u.name);
      left %= u.ms;
    }
  }
  return out;
}

}  // namespace shardkeep

// Fuzzes the supplier's unit parsers (supplier/units.h): sizes and durations
// from its flags (--capacity, --max-fragment-size, --lease, --grace, ...),
// and their formatting for messages.
//
// Input: mode byte, then
//   0: text -> ParseByteSize. An accepted size is below 2^63 and parses back
//      the same from its decimal digits, with "B", and in KiB when whole.
//   1: text -> ParseDurationMs. An accepted duration is >= 0 and its
//      FormatDurationMs spelling ("1d2h3m4s5ms") adds up to it, each part
//      parsed back with ParseDurationMs.
//   2: u64 value, unit byte, digits byte: the value written in that unit with
//      up to 18 decimals parses back to the value when the decimals are
//      exact (and to less, or an error, when they were cut); FormatByteSize
//      and FormatDurationMs of any value (negative ones too) do not crash.
#include <cstdint>
#include <string>

#include "common/units.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using shardkeep::fuzz::Input;
using namespace shardkeep;  // NOLINT: common/units.h

void Size(std::string_view text) {
  auto v = ParseByteSize(text);
  if (!v.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(v.status()));
    return;
  }
  FUZZ_CHECK(*v < (uint64_t{1} << 63));
  const std::string digits = std::to_string(*v);
  FUZZ_CHECK(ParseByteSize(digits).value_or(~0ULL) == *v);
  FUZZ_CHECK(ParseByteSize(digits + "B").value_or(~0ULL) == *v);
  FUZZ_CHECK(ParseByteSize(" " + digits + " b ").value_or(~0ULL) == *v);
  if (*v % 1024 == 0) {
    FUZZ_CHECK(ParseByteSize(std::to_string(*v / 1024) + "KiB").value_or(~0ULL) == *v);
  }
  FUZZ_CHECK(!FormatByteSize(*v).empty());
}

void Duration(std::string_view text) {
  auto v = ParseDurationMs(text);
  if (!v.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(v.status()));
    return;
  }
  FUZZ_CHECK(*v >= 0);
  const std::string f = FormatDurationMs(*v);
  // Split "1d2h3m4s5ms" into parts and parse each.
  unsigned __int128 sum = 0;
  size_t i = 0;
  FUZZ_CHECK(*v == 0 ? f == "0s" : !f.empty());
  while (*v != 0 && i < f.size()) {
    size_t j = i;
    while (j < f.size() && f[j] >= '0' && f[j] <= '9') ++j;
    size_t k = j;
    while (k < f.size() && !(f[k] >= '0' && f[k] <= '9')) ++k;
    FUZZ_CHECK(j > i && k > j);
    auto part = ParseDurationMs(f.substr(i, k - i));
    FUZZ_CHECK(part.ok());
    sum += static_cast<uint64_t>(*part);
    i = k;
  }
  if (*v != 0) FUZZ_CHECK(sum == static_cast<uint64_t>(*v));
}

void Written(Input& in) {
  const uint64_t value = in.U64() >> 1;  // below 2^63
  const uint8_t unit = in.Byte();
  const int decimals = in.Byte() % 19;
  // Sizes: value bytes in a binary unit, as integer.fraction with enough decimals.
  static const struct {
    const char* name;
    uint64_t scale;
  } kSizeUnits[] = {{"", 1},           {"KiB", 1ULL << 10},  {"MiB", 1ULL << 20},
                    {"G", 1ULL << 30}, {"TiB", 1ULL << 40},  {"kB", 1000},
                    {"MB", 1000000},   {"TB", 1000000000000}};
  const auto& u = kSizeUnits[unit % 8];
  // value / scale written exactly needs as many decimals as the scale's 2s
  // and 5s demand; fewer digits are fine only when the rest are zeros.
  uint64_t whole = value / u.scale, rem = value % u.scale;
  std::string text = std::to_string(whole);
  unsigned __int128 frac = rem;
  std::string digits;
  for (int d = 0; d < decimals && frac != 0; ++d) {
    frac *= 10;
    digits.push_back(static_cast<char>('0' + static_cast<int>(frac / u.scale)));
    frac %= u.scale;
  }
  if (!digits.empty()) text += "." + digits;
  text += u.name;
  auto parsed = ParseByteSize(text);
  if (frac == 0) {
    FUZZ_CHECK(parsed.ok() && *parsed == value);
  } else if (parsed.ok()) {
    FUZZ_CHECK(*parsed < value);  // cut short: never the value itself
  }
  // Formatting never crashes, whatever the value.
  FUZZ_CHECK(!FormatByteSize(value << 1 | (unit & 1)).empty());
  FUZZ_CHECK(!FormatDurationMs(static_cast<int64_t>(value << 1 | (unit & 1))).empty());
  FUZZ_CHECK(!FormatDurationMs(-static_cast<int64_t>(value)).empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  switch (in.Byte() % 3) {
    case 0:
      Size(in.Rest());
      break;
    case 1:
      Duration(in.Rest());
      break;
    default:
      Written(in);
      break;
  }
  return 0;
}

#include "common/units.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace shardkeep {
namespace {

TEST(ParseByteSize, AcceptsBinaryDecimalAndPlainUnits) {
  EXPECT_EQ(*ParseByteSize("0"), 0u);
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("12B"), 12u);
  EXPECT_EQ(*ParseByteSize("1KiB"), 1024u);
  EXPECT_EQ(*ParseByteSize("1k"), 1024u);
  EXPECT_EQ(*ParseByteSize("64MiB"), 64u << 20);
  EXPECT_EQ(*ParseByteSize("500GiB"), 500ULL << 30);
  EXPECT_EQ(*ParseByteSize("2TiB"), 2ULL << 40);
  EXPECT_EQ(*ParseByteSize("1.5GiB"), 3ULL << 29);
  EXPECT_EQ(*ParseByteSize(" 3 gib "), 3ULL << 30);
  EXPECT_EQ(*ParseByteSize("1kB"), 1000u);
  EXPECT_EQ(*ParseByteSize("2MB"), 2000000u);
  EXPECT_EQ(*ParseByteSize("1TB"), 1000000000000u);
}

TEST(ParseByteSize, RefusesGarbageFractionsOfBytesAndOverflow) {
  for (const char* bad : {"", "GiB", "-1", "1.2.3", "12 parsecs", "1e9", "0x10", "1.5B",
                          "0.0000001KiB", "8EiB", "9999999TiB", "99999999999999999999"}) {
    auto r = ParseByteSize(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    }
  }
  EXPECT_NE(ParseByteSize("12 parsecs").status().message().find("KiB"), std::string::npos);
}

TEST(ParseDuration, AcceptsUnits) {
  EXPECT_EQ(*ParseDurationMs("250ms"), 250);
  EXPECT_EQ(*ParseDurationMs("5s"), 5000);
  EXPECT_EQ(*ParseDurationMs("5m"), 300000);
  EXPECT_EQ(*ParseDurationMs("1.5h"), 5400000);
  EXPECT_EQ(*ParseDurationMs("30d"), 30LL * 86400 * 1000);
  EXPECT_EQ(*ParseDurationMs("0s"), 0);
}

TEST(ParseDuration, RefusesBareNumbersAndUnknownUnits) {
  for (const char* bad : {"", "30", "d", "3w", "-1s", "1.0001ms", "5 fortnights"}) {
    EXPECT_FALSE(ParseDurationMs(bad).ok()) << bad;
  }
}

TEST(Format, SizesAndDurations) {
  EXPECT_EQ(FormatByteSize(512), "512 B");
  EXPECT_EQ(FormatByteSize(4u << 20), "4.00 MiB");
  EXPECT_EQ(FormatByteSize(3ULL << 39), "1.50 TiB");
  EXPECT_EQ(FormatDurationMs(30LL * 86400 * 1000), "30d");
  EXPECT_EQ(FormatDurationMs(5400000), "1h30m");
  EXPECT_EQ(FormatDurationMs(250), "250ms");
  EXPECT_EQ(FormatDurationMs(0), "0s");
  EXPECT_EQ(FormatDurationMs(-5400000), "-1h30m");
  // -INT64_MIN overflows int64_t (found by tests/fuzz:units_fuzzer under UBSan).
  EXPECT_EQ(FormatDurationMs(INT64_MIN), "-106751991167d7h12m55s808ms");
}

}  // namespace
}  // namespace shardkeep

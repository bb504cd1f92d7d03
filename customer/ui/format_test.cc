#include "customer/ui/format.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

vault::v1::TreeNode Node(vault::v1::NodeType type, uint32_t mode) {
  vault::v1::TreeNode n;
  n.set_type(type);
  n.set_mode(mode);
  return n;
}

TEST(FormatTest, ModeString) {
  EXPECT_EQ(ModeString(Node(vault::v1::NODE_TYPE_DIR, 0755)), "drwxr-xr-x");
  EXPECT_EQ(ModeString(Node(vault::v1::NODE_TYPE_FILE, 0640)), "-rw-r-----");
  EXPECT_EQ(ModeString(Node(vault::v1::NODE_TYPE_SYMLINK, 0777)), "lrwxrwxrwx");
  EXPECT_EQ(ModeString(Node(vault::v1::NODE_TYPE_FILE, 04755)), "-rwsr-xr-x");
  EXPECT_EQ(ModeString(Node(vault::v1::NODE_TYPE_FILE, 06644)), "-rwSr-Sr--");
  EXPECT_EQ(ModeString(Node(vault::v1::NODE_TYPE_DIR, 01777)), "drwxrwxrwt");
  EXPECT_EQ(ModeString(Node(vault::v1::NODE_TYPE_DIR, 01700)), "drwx-----T");
}

TEST(FormatTest, TypeName) {
  EXPECT_STREQ(TypeName(vault::v1::NODE_TYPE_FILE), "file");
  EXPECT_STREQ(TypeName(vault::v1::NODE_TYPE_DIR), "dir");
  EXPECT_STREQ(TypeName(vault::v1::NODE_TYPE_SYMLINK), "symlink");
  EXPECT_STREQ(TypeName(vault::v1::NODE_TYPE_FIFO), "fifo");
  EXPECT_STREQ(TypeName(vault::v1::NODE_TYPE_CHAR_DEV), "chardev");
  EXPECT_STREQ(TypeName(vault::v1::NODE_TYPE_BLOCK_DEV), "blockdev");
}

// 2024-03-01 13:05:09.000000123 UTC.
constexpr int64_t kNs = 1709298309LL * 1000000000 + 123;

TEST(FormatTest, LocalTimeInAZone) {
  EXPECT_EQ(FormatLocalTime(kNs, absl::UTCTimeZone()), "2024-03-01 13:05:09");
  EXPECT_EQ(FormatLocalTime(kNs, absl::FixedTimeZone(3600)), "2024-03-01 14:05:09");
  // Rounded down, not to the nearest second.
  EXPECT_EQ(FormatLocalTime(kNs + 999999000, absl::UTCTimeZone()), "2024-03-01 13:05:09");
}

TEST(FormatTest, IsoTimeHasNanosecondsAndAColonInTheOffset) {
  EXPECT_EQ(FormatIsoTime(kNs, absl::FixedTimeZone(3600)), "2024-03-01T14:05:09.000000123+01:00");
  EXPECT_EQ(FormatIsoTime(kNs, absl::UTCTimeZone()), "2024-03-01T13:05:09.000000123+00:00");
  EXPECT_EQ(FormatIsoTime(kNs - 123, absl::FixedTimeZone(-(5 * 3600 + 1800))),
            "2024-03-01T07:35:09.000000000-05:30");
}

}  // namespace
}  // namespace shardkeep::customer

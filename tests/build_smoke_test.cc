// Checks that the toolchain, absl and GoogleTest from Debian link together.
#include <gtest/gtest.h>

#include "common/status.h"

namespace {
absl::StatusOr<int> Half(int x) {
  if (x % 2) return absl::InvalidArgumentError("odd");
  return x / 2;
}
absl::Status UseHalf(int x, int* out) {
  ASSIGN_OR_RETURN(int h, Half(x));
  *out = h;
  return absl::OkStatus();
}
}  // namespace

TEST(BuildSmoke, StatusMacros) {
  int v = 0;
  EXPECT_TRUE(UseHalf(4, &v).ok());
  EXPECT_EQ(v, 2);
  EXPECT_EQ(UseHalf(3, &v).code(), absl::StatusCode::kInvalidArgument);
}

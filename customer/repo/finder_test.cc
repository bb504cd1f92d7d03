#include "customer/repo/finder.h"

#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

TEST(PathMatches, NameAtAnyDepth) {
  EXPECT_TRUE(PathMatches("*.odt", "/home/ann/docs/a.odt", "a.odt", false));
  EXPECT_TRUE(PathMatches("a.odt", "/home/ann/docs/a.odt", "a.odt", false));
  EXPECT_FALSE(PathMatches("*.odt", "/home/ann/docs/a.odt.bak", "a.odt.bak", false));
  EXPECT_FALSE(PathMatches("docs", "/home/ann/docs/a.odt", "a.odt", false));
}

TEST(PathMatches, FullPathStarDoesNotCrossSlash) {
  EXPECT_TRUE(PathMatches("/home/*/docs/*.odt", "/home/ann/docs/a.odt", "a.odt", false));
  EXPECT_FALSE(PathMatches("/home/*.odt", "/home/ann/docs/a.odt", "a.odt", false));
  EXPECT_TRUE(PathMatches("/home/ann/docs", "/home/ann/docs", "docs", false));
}

TEST(PathMatches, IgnoreCase) {
  EXPECT_FALSE(PathMatches("*.JPG", "/p/x.jpg", "x.jpg", false));
  EXPECT_TRUE(PathMatches("*.JPG", "/p/x.jpg", "x.jpg", true));
}

}  // namespace
}  // namespace shardkeep::customer

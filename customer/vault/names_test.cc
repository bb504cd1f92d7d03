#include "customer/vault/names.h"

#include <string>

#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

const std::string kId(16, '\xab');
const std::string kHex = "abababababababababababababababab";

TEST(NamesTest, BuildsEveryName) {
  EXPECT_EQ(SnapshotObjectName(kId), "snapshots/" + kHex);
  EXPECT_EQ(IndexPieceName(kId, 0), "index/" + kHex + ".0");
  EXPECT_EQ(IndexPieceName(kId, 12), "index/" + kHex + ".12");
  EXPECT_EQ(FragmentKey(kId, 63), kHex + ".63");
  EXPECT_EQ(ForgottenObjectName(kId), "forgotten/" + kHex);
  EXPECT_EQ(LockObjectName(kId), "locks/" + kHex);
  EXPECT_EQ(std::string(kKeysObject), "keys");
  EXPECT_EQ(TreeBlockCachePath("/c/v", kId), "/c/v/blocks/" + kHex);
}

TEST(NamesTest, ParsesWhatItBuilds) {
  ObjectName n;
  ASSERT_TRUE(ParseObjectName(SnapshotObjectName(kId), &n));
  EXPECT_EQ(n.kind, ObjectKind::kSnapshot);
  EXPECT_EQ(n.id, kId);
  ASSERT_TRUE(ParseObjectName(IndexPieceName(kId, 999999), &n));
  EXPECT_EQ(n.kind, ObjectKind::kIndexPiece);
  EXPECT_EQ(n.id, kId);
  EXPECT_EQ(n.piece, 999999u);
  ASSERT_TRUE(ParseObjectName(ForgottenObjectName(kId), &n));
  EXPECT_EQ(n.kind, ObjectKind::kForgotten);
  EXPECT_EQ(n.id, kId);
  ASSERT_TRUE(ParseObjectName(LockObjectName(kId), &n));
  EXPECT_EQ(n.kind, ObjectKind::kLock);
  EXPECT_EQ(n.id, kId);
  ASSERT_TRUE(ParseObjectName("config", &n));
  EXPECT_EQ(n.kind, ObjectKind::kConfig);
  ASSERT_TRUE(ParseObjectName("keys", &n));
  EXPECT_EQ(n.kind, ObjectKind::kKeys);
  std::string block;
  int pos = -1;
  ASSERT_TRUE(ParseFragmentKey(FragmentKey(kId, 7), &block, &pos));
  EXPECT_EQ(block, kId);
  EXPECT_EQ(pos, 7);
}

// Names from a supplier's listing are hostile: only the exact patterns pass.
TEST(NamesTest, RefusesEverythingElse) {
  const std::string bad[] = {
      "",
      "snapshots/",
      "snapshots/" + kHex.substr(1),                  // short
      "snapshots/" + kHex + "0",                      // long
      "snapshots/" + std::string(32, 'A'),            // upper case
      "snapshots/../../../../etc/passwd",             // path tricks
      "snapshots/" + kHex.substr(0, 30) + "/.",       //
      "snapshots/" + kHex + "/x",                     //
      "index/" + kHex,                                // no piece number
      "index/" + kHex + ".",                          //
      "index/" + kHex + ".01",                        // leading zero
      "index/" + kHex + ".-1",                        //
      "index/" + kHex + ".1000000",                   // too many pieces
      "index/" + kHex + ".99999999999999999999",      // overflow
      "index/" + kHex + ".1/../../x",                 //
      std::string("snapshots/") + '\0' + kHex,        //
      "forgotten/" + kHex.substr(1),                  //
      "forgotten/" + kHex + "/../x",                  //
      "locks/" + std::string(32, 'G'),                //
      "locks/" + kHex + ".0",                         //
      "config/",                                      //
      "Config",                                       //
      "keys\n",                                       //
  };
  for (const std::string& name : bad) {
    ObjectName n;
    EXPECT_FALSE(ParseObjectName(name, &n)) << PrintableName(name);
    EXPECT_FALSE(ObjectCachePath("/cache/v", name).ok()) << PrintableName(name);
  }
  std::string block;
  int pos;
  for (const std::string& key : {kHex, kHex + ".64", kHex + ".", kHex + ".1x", kHex + ".01",
                                 kHex.substr(2) + ".1", "../" + kHex.substr(3) + ".1"}) {
    EXPECT_FALSE(ParseFragmentKey(key, &block, &pos)) << key;
  }
}

TEST(NamesTest, CachePathsOnlyForParsedNames) {
  auto p = ObjectCachePath("/cache/v", "index/" + kHex + ".3");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, "/cache/v/index/" + kHex + ".3");
  // The config and the key record are not cached under the cache dir.
  EXPECT_FALSE(ObjectCachePath("/cache/v", "config").ok());
  EXPECT_FALSE(ObjectCachePath("/cache/v", "keys").ok());
  // Locks are live state, never cached.
  EXPECT_FALSE(ObjectCachePath("/cache/v", LockObjectName(kId)).ok());
  p = ObjectCachePath("/cache/v", ForgottenObjectName(kId));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, "/cache/v/forgotten/" + kHex);
}

TEST(NamesTest, PrintableNameEscapesAndBounds) {
  EXPECT_EQ(PrintableName("a\nb\\"), "a\\x0ab\\x5c");
  EXPECT_LE(PrintableName(std::string(1000, 'x')).size(), 84u);
}

}  // namespace
}  // namespace shardkeep::customer

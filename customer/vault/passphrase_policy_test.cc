#include "customer/vault/passphrase_policy.h"

#include <gtest/gtest.h>

#include "common/error_kind.h"

namespace shardkeep::customer {
namespace {

TEST(PassphrasePolicy, RefusesDictionaryAndShortOnes) {
  for (const char* weak : {"password123", "hunter2", "abcdefghij", "qwertyuiop"}) {
    absl::Status s = CheckPassphraseStrength(weak);
    EXPECT_FALSE(s.ok()) << weak;
    EXPECT_EQ(KindOf(s), ErrorKind::kUsage) << weak;
    EXPECT_NE(s.message().find("--allow-weak-passphrase"), std::string::npos) << s;
  }
}

TEST(PassphrasePolicy, AcceptsLongUnrelatedWords) {
  for (const char* strong : {"correct horse battery staple", "a new passphrase for the vault",
                             "Tr0ub4dor&3-lantern"}) {
    EXPECT_TRUE(CheckPassphraseStrength(strong).ok()) << strong;
  }
}

}  // namespace
}  // namespace shardkeep::customer

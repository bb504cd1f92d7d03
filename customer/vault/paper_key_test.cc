#include "customer/vault/paper_key.h"

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "common/crypto.h"

namespace shardkeep::customer {
namespace {

TEST(PaperKey, RoundTripAndForgivingInput) {
  const std::string id = crypto::RandomBytes(16), master = crypto::RandomBytes(32);
  const std::string text = EncodePaperKey(id, master);
  auto back = DecodePaperKey(text, id);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
  EXPECT_EQ(*back, master);
  // Typed back in lower case, without the header, with 0 written as o.
  std::string key_part = text.substr(text.find("key:") + 4);
  std::string typed = absl::AsciiStrToLower(key_part);
  for (char& c : typed) {
    if (c == '0') c = 'o';
    if (c == '1') c = 'l';
  }
  auto again = DecodePaperKey(typed, id);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, master);
}

TEST(PaperKey, TypoOtherVaultAndShortKeyRefused) {
  const std::string id = crypto::RandomBytes(16), master = crypto::RandomBytes(32);
  std::string text = EncodePaperKey(id, master);
  // One character changed: the check catches it.
  size_t at = text.find("key:") + 8;
  text[at] = text[at] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(DecodePaperKey(text, id).ok());
  // The right key for another vault ID.
  EXPECT_FALSE(DecodePaperKey(EncodePaperKey(id, master), crypto::RandomBytes(16)).ok());
  EXPECT_FALSE(DecodePaperKey("key: ABCD-EFGH", id).ok());
  EXPECT_FALSE(DecodePaperKey("key: ABCD-EFGH-!!!!", id).ok());
}

}  // namespace
}  // namespace shardkeep::customer

// The announcer over real OpenDHT nodes on loopback: the offer is found under
// both keys and verifies; a small change of free space is not re-announced,
// a material one is (the newest offer has the new free space).
#include "supplier/announcer.h"

#include <gtest/gtest.h>

#include <atomic>

#include "supplier/tls_identity.h"

namespace shardkeep::supplier {
namespace {

using std::chrono::milliseconds;

std::vector<offer::Offer> Offers(dhtnet::DhtNode& node, const std::string& key) {
  std::vector<offer::Offer> out;
  for (const std::string& w : node.Get(key, milliseconds(3000), 100)) {
    auto o = offer::VerifyOffer(w);
    EXPECT_TRUE(o.ok()) << o.status();
    if (o.ok()) out.push_back(*o);
  }
  return out;
}

TEST(AnnouncerTest, AnnouncesUnderBothKeysAndReannouncesOnlyMaterialChanges) {
  dhtnet::DhtNodeOptions opt;
  opt.bind_ipv4 = "127.0.0.1";
  auto boot = dhtnet::DhtNode::Start(opt);
  ASSERT_TRUE(boot.ok());
  opt.bootstrap = {"127.0.0.1:" + std::to_string((*boot)->port())};
  auto node = dhtnet::DhtNode::Start(opt);
  ASSERT_TRUE(node.ok());
  ASSERT_TRUE((*node)->WaitConnected(milliseconds(5000)));
  std::string key_pem, cert_pem;
  ASSERT_TRUE(MakeSelfSignedIdentity(&key_pem, &cert_pem).ok());

  std::atomic<uint64_t> free_bytes{uint64_t{100} << 30};
  std::atomic<int64_t> now{1000};
  auto make = [&]() {
    offer::Offer o;
    o.supplier_id = std::string(16, 's');
    o.addresses = {"127.0.0.1:7700"};
    o.free_bytes = free_bytes.load();
    o.version = "test";
    o.published_ms = now.fetch_add(1);
    return o;
  };
  auto a = Announcer::Start(node->get(), key_pem, make, milliseconds(50));
  ASSERT_TRUE(a.ok()) << a.status();
  const std::string fp = (*a)->fingerprint();
  ASSERT_EQ(fp.size(), 32u);

  std::vector<offer::Offer> market, mine;
  for (int i = 0; i < 50 && (market.empty() || mine.empty()); ++i) {
    market = Offers(**boot, offer::kOffersKey);
    mine = Offers(**boot, offer::IdentityKey(fp));
  }
  ASSERT_EQ(market.size(), 1u);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].fingerprint, fp);

  // 1 MiB less free space: not material (1/16 or 1 GiB), nothing new.
  free_bytes -= 1 << 20;
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(Offers(**boot, offer::IdentityKey(fp)).size(), 1u);

  // Half the space granted: a new offer (the old one is withdrawn and
  // expires; until then both are there and the newest wins).
  free_bytes = uint64_t{50} << 30;
  std::vector<offer::Offer> after;
  for (int i = 0; i < 50 && after.size() < 2; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    after = Offers(**boot, offer::IdentityKey(fp));
  }
  ASSERT_EQ(after.size(), 2u);
  const offer::Offer& newest =
      after[0].published_ms > after[1].published_ms ? after[0] : after[1];
  EXPECT_EQ(newest.free_bytes, uint64_t{50} << 30);
}

TEST(AnnouncerTest, KeyThatDoesNotParseFailsStart) {
  dhtnet::DhtNodeOptions opt;
  opt.bind_ipv4 = "127.0.0.1";
  auto node = dhtnet::DhtNode::Start(opt);
  ASSERT_TRUE(node.ok());
  auto a = Announcer::Start(
      node->get(), "not a key",
      [] {
        offer::Offer o;
        o.addresses = {"x:1"};
        return o;
      },
      milliseconds(1000));
  EXPECT_FALSE(a.ok());
}

}  // namespace
}  // namespace shardkeep::supplier

// Three real OpenDHT nodes on loopback: bootstrap, announce, find, withdraw
// of nothing else; and the bounds Get promises.
#include "common/dht_node.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace shardkeep::dhtnet {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<DhtNode> StartNode(std::vector<std::string> bootstrap) {
  DhtNodeOptions o;
  o.bind_ipv4 = "127.0.0.1";
  o.bootstrap = std::move(bootstrap);
  auto node = DhtNode::Start(o);
  EXPECT_TRUE(node.ok()) << node.status();
  return node.ok() ? std::move(node).value() : nullptr;
}

TEST(DhtNodeTest, AnnouncedValueIsFoundFromAnotherNode) {
  auto boot = StartNode({});
  ASSERT_NE(boot, nullptr);
  ASSERT_GT(boot->port(), 0);
  const std::string at = "127.0.0.1:" + std::to_string(boot->port());
  auto a = StartNode({at});
  auto b = StartNode({at});
  ASSERT_TRUE(a->WaitConnected(milliseconds(5000)));
  ASSERT_TRUE(b->WaitConnected(milliseconds(5000)));
  ASSERT_TRUE(a->Announce("test/key", "hello").ok());
  std::vector<std::string> got;
  for (int i = 0; i < 50 && got.empty(); ++i) got = b->Get("test/key", milliseconds(2000), 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "hello");
  EXPECT_TRUE(b->Get("test/other-key", milliseconds(2000), 10).empty());
}

TEST(DhtNodeTest, GetStopsAtMaxValuesAndRefusesOversizedAnnouncements) {
  auto boot = StartNode({});
  const std::string at = "127.0.0.1:" + std::to_string(boot->port());
  auto a = StartNode({at});
  ASSERT_TRUE(a->WaitConnected(milliseconds(5000)));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(a->PutOnce("flood", "v" + std::to_string(i), milliseconds(5000)));
  EXPECT_LE(boot->Get("flood", milliseconds(3000), 3).size(), 3u);
  EXPECT_EQ(boot->Get("flood", milliseconds(3000), 100).size(), 5u);
  EXPECT_FALSE(a->Announce("big", std::string(kMaxDhtValueBytes + 1, 'x')).ok());
}

TEST(DhtNodeTest, BadBootstrapAddressIsAUsageError) {
  DhtNodeOptions o;
  o.bind_ipv4 = "127.0.0.1";
  o.bootstrap = {"no-port"};
  auto node = DhtNode::Start(o);
  ASSERT_FALSE(node.ok());
  EXPECT_NE(node.status().message().find("no-port"), std::string::npos);
}

TEST(DhtNodeTest, NoBootstrapNodeMeansNotConnected) {
  auto lone = StartNode({"127.0.0.1:1"});
  EXPECT_FALSE(lone->WaitConnected(milliseconds(300)));
}

}  // namespace
}  // namespace shardkeep::dhtnet

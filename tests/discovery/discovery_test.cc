// Discovery end to end (issue 13, docs/DISCOVERY.md): a local DHT of real
// supplier processes (20 by default) plus one bootstrap node, and the real
// `shardkeep` binary. One test, in order: every offer is found (and
// `suppliers find --count 10` answers in time); forged and impostor offers
// are refused or never hired; `init --find 4`, backup, restore; one hired
// supplier killed, `suppliers replace --find`, restore with two more
// originals killed; a supplier restarted on a new port followed by its key;
// recover with no address. SHARDKEEP_DHT_SUPPLIERS=N changes the number of
// suppliers; SHARDKEEP_LONG_TESTS=1 also waits for a killed supplier's offer
// to expire (about 3 minutes more).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/dht_node.h"
#include "common/offer.h"
#include "common/tls_fingerprint.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "supplier/tls_identity.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;
using testing::SupplierClusterOptions;
using std::chrono::milliseconds;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

int SupplierCount() { return Env("SHARDKEEP_DHT_SUPPLIERS").empty() ? 20 : std::stoi(Env("SHARDKEEP_DHT_SUPPLIERS")); }

std::string Fingerprint(const SupplierCluster& cluster, int i) {
  auto fp = tls::PublicKeyFingerprint(ReadFile(cluster.DataDir(i) + "/tls-cert.pem"));
  return fp.ok() ? *fp : "";
}

// `suppliers find --json` as {address: fingerprint hex}.
std::map<std::string, std::string> FoundAddresses(const RunResult& r) {
  std::map<std::string, std::string> out;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& o : j["offers"]) out[o["addresses"][0]] = o["fingerprint"];
  return out;
}

class DiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dhtnet::DhtNodeOptions o;
    o.bind_ipv4 = "127.0.0.1";
    auto node = dhtnet::DhtNode::Start(o);
    ASSERT_TRUE(node.ok()) << node.status();
    boot_ = std::move(node).value();
    boot_address_ = absl::StrCat("127.0.0.1:", boot_->port());
    SupplierClusterOptions co;
    co.capacity_bytes = 1ULL << 30;
    co.extra_flags = {"--dht-port=0", "--dht-listen=127.0.0.1",
                      "--dht-bootstrap=" + boot_address_, "--disk-reserve=0"};
    auto started = SupplierCluster::Start(SupplierCount(), co);
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = std::move(started).value();
    customer_.env["SHARDKEEP_DHT_BOOTSTRAP"] = boot_address_;
  }

  // Polls `suppliers find --json` until it lists every running supplier
  // (offers spread through the DHT within a second or two).
  std::map<std::string, std::string> WaitForOffers(size_t want) {
    std::map<std::string, std::string> found;
    for (int i = 0; i < 100; ++i) {
      RunResult r = customer_.Sk({"suppliers", "find", "--json"});
      EXPECT_EQ(r.code, 0) << r.Describe();
      found = FoundAddresses(r);
      if (found.size() >= want) break;
      std::this_thread::sleep_for(milliseconds(200));
    }
    return found;
  }

  std::unique_ptr<dhtnet::DhtNode> boot_;
  std::string boot_address_;
  std::unique_ptr<SupplierCluster> cluster_;
  Customer customer_;
};

TEST_F(DiscoveryTest, FindHireReplaceAndIgnoreForgeries) {
  const int n = cluster_->size();
  // Every offer is found, under the key each supplier's TLS presents.
  std::map<std::string, std::string> found = WaitForOffers(n);
  ASSERT_EQ(static_cast<int>(found.size()), n);
  std::map<std::string, int> index_of;
  for (int i = 0; i < n; ++i) {
    index_of[cluster_->Address(i)] = i;
    ASSERT_EQ(found[cluster_->Address(i)], tls::FormatFingerprint(Fingerprint(*cluster_, i)))
        << cluster_->Address(i);
  }
  // Target: `suppliers find --count 10` in under 2 s (process start to
  // exit; the median of 5, as the machine is shared).
  std::vector<double> times;
  for (int run = 0; run < 5; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    RunResult ten = customer_.Sk({"suppliers", "find", "--count", "10"});
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    ASSERT_EQ(ten.code, 0) << ten.Describe();
    EXPECT_NE(ten.out.find("10 offers"), std::string::npos) << ten.out;
    fprintf(stderr, "suppliers find --count 10 on %d suppliers: %.3f s (%s)\n", n, times.back(),
            ten.out.substr(ten.out.rfind("10 offers")).c_str());
  }
  std::sort(times.begin(), times.end());
  EXPECT_LT(times[2], 2.0);

  // Forgeries, announced from a node of the test: (1) supplier 0's offer
  // with its free space changed (bad signature); (2) an impostor claiming
  // supplier 0's fingerprint, signed with its own key; (3) an attacker with
  // its own key offering supplier 1's address and ID and the most free space:
  // verified (it is its own offer) but never hired, the TLS key on that
  // address is not its.
  std::string attacker_key, attacker_cert;
  ASSERT_TRUE(supplier::MakeSelfSignedIdentity(&attacker_key, &attacker_cert).ok());
  dhtnet::DhtNodeOptions ao;
  ao.bind_ipv4 = "127.0.0.1";
  ao.bootstrap = {boot_address_};
  auto attacker = dhtnet::DhtNode::Start(ao);
  ASSERT_TRUE(attacker.ok());
  ASSERT_TRUE((*attacker)->WaitConnected(milliseconds(5000)));
  const std::string victim_fp = Fingerprint(*cluster_, 0);
  std::vector<std::string> victim_offers;
  for (const std::string& w : (*attacker)->Get(offer::IdentityKey(victim_fp), milliseconds(3000), 8)) {
    victim_offers.push_back(w);
  }
  ASSERT_FALSE(victim_offers.empty());
  {
    nlohmann::json env = nlohmann::json::parse(victim_offers[0]);
    nlohmann::json body = nlohmann::json::parse(env["offer"].get<std::string>());
    body["free_bytes"] = uint64_t{1} << 50;
    env["offer"] = body.dump();
    ASSERT_TRUE((*attacker)->Announce(offer::kOffersKey, env.dump()).ok());
    ASSERT_TRUE((*attacker)->Announce(offer::IdentityKey(victim_fp), env.dump()).ok());
  }
  {
    nlohmann::json body = nlohmann::json::parse(
        nlohmann::json::parse(victim_offers[0])["offer"].get<std::string>());
    body["fingerprint"] = crypto::ToHex(victim_fp);
    body["addresses"] = {"127.0.0.1:1"};
    body["published_ms"] = body["published_ms"].get<int64_t>() + 1000000;
    const std::string text = body.dump();
    std::string der;
    auto sig = offer::SignBytes(attacker_key, std::string(offer::kOfferSignContext) + text, &der);
    ASSERT_TRUE(sig.ok());
    const std::string wire = nlohmann::json{{"offer", text},
                                            {"key", crypto::ToHex(der)},
                                            {"sig", crypto::ToHex(*sig)}}
                                 .dump();
    ASSERT_TRUE((*attacker)->Announce(offer::kOffersKey, wire).ok());
    ASSERT_TRUE((*attacker)->Announce(offer::IdentityKey(victim_fp), wire).ok());
  }
  std::string hijacker_fp;
  {
    auto victim = offer::VerifyOffer(victim_offers[0]);
    ASSERT_TRUE(victim.ok());
    RunResult one = customer_.Sk({"suppliers", "find", "--json"});
    offer::Offer o;
    o.supplier_id = std::string(16, '\x01');
    o.addresses = {cluster_->Address(1)};
    o.free_bytes = uint64_t{1} << 50;
    o.version = "shardkeep-supplier 0.1.0";
    o.lease_ms = 1;
    o.published_ms = 1;
    auto wire = offer::SignOffer(o, attacker_key);
    ASSERT_TRUE(wire.ok());
    hijacker_fp = offer::VerifyOffer(*wire)->fingerprint;
    ASSERT_TRUE((*attacker)->Announce(offer::kOffersKey, *wire).ok());
  }
  // The forged and the impostor offers are counted as rejected; the
  // hijacker's is listed (it is validly its own) with its own key.
  RunResult after;
  for (int i = 0; i < 50; ++i) {
    after = customer_.Sk({"suppliers", "find", "--json"});
    ASSERT_EQ(after.code, 0) << after.Describe();
    nlohmann::json j = nlohmann::json::parse(after.out);
    if (j["rejected"].get<int>() >= 2 && j["offers"].size() == static_cast<size_t>(n) + 1) break;
    std::this_thread::sleep_for(milliseconds(200));
  }
  nlohmann::json j = nlohmann::json::parse(after.out);
  EXPECT_GE(j["rejected"].get<int>(), 2) << after.out;
  ASSERT_EQ(j["offers"].size(), static_cast<size_t>(n) + 1) << after.out;
  EXPECT_EQ(j["offers"][0]["fingerprint"], tls::FormatFingerprint(hijacker_fp)) << after.out;
  for (const auto& o : j["offers"]) {
    if (o["addresses"][0] == cluster_->Address(0)) {
      EXPECT_EQ(o["fingerprint"], tls::FormatFingerprint(victim_fp));
    }
  }

  // Two suppliers offer the most space (2 GiB), then another customer
  // takes 1.9 GiB of each: their offers are stale for up to a minute (the
  // announcer re-checks every 60 s), so init --find tries them first, they
  // refuse, and it hires others.
  const int big1 = n - 1, big2 = n - 2;
  std::vector<std::string> big_flags = {"--dht-port=0", "--dht-listen=127.0.0.1",
                                        "--dht-bootstrap=" + boot_address_, "--disk-reserve=0",
                                        "--capacity=2GiB"};
  ASSERT_TRUE(cluster_->Restart(big1, big_flags).ok());
  ASSERT_TRUE(cluster_->Restart(big2, big_flags).ok());
  for (int i = 0; i < 100; ++i) {
    RunResult r = customer_.Sk({"suppliers", "find", "--min-free", "2GiB", "--json"});
    std::map<std::string, std::string> big = FoundAddresses(r);
    if (big.count(cluster_->Address(big1)) && big.count(cluster_->Address(big2))) break;
    std::this_thread::sleep_for(milliseconds(200));
  }
  Customer greedy("another customer's passphrase 1");
  RunResult g = greedy.Sk({"init", "--suppliers",
                           cluster_->Address(big1) + "," + cluster_->Address(big2), "--needed",
                           "1900MiB", "--data-shards", "1"});
  ASSERT_EQ(g.code, 0) << g.Describe();

  // init --find 4 hires four genuine suppliers (not the hijacker, though it
  // offers the most space; not the two full ones), pinned to their own keys.
  RunResult init = customer_.Sk({"init", "--find", "4", "--needed", "600MiB", "--block-size",
                                 "64KiB"});
  ASSERT_EQ(init.code, 0) << init.Describe();
  EXPECT_NE(init.err.find("skipped: " + cluster_->Address(big1)), std::string::npos) << init.err;
  EXPECT_NE(init.err.find("skipped: " + cluster_->Address(big2)), std::string::npos) << init.err;
  EXPECT_NE(init.err.find(cluster_->Address(1) + ": refusing the supplier: its TLS key"),
            std::string::npos)
      << init.err;
  // "  position P  ADDRESS  quota ..." then "  TLS key pinned: sha256:...".
  std::vector<int> hired;
  for (size_t p = init.out.find("position "); p != std::string::npos;
       p = init.out.find("position ", p + 1)) {
    std::istringstream line(init.out.substr(p));
    std::string word, address, pinned;
    int position = -1;
    line >> word >> position >> address;
    const size_t k = init.out.find("TLS key pinned: ", p);
    ASSERT_NE(k, std::string::npos);
    pinned = init.out.substr(k + 16, 71);
    ASSERT_TRUE(index_of.count(address)) << address;
    const int i = index_of[address];
    hired.push_back(i);
    EXPECT_EQ(pinned, tls::FormatFingerprint(Fingerprint(*cluster_, i))) << init.out;
    EXPECT_NE(pinned, tls::FormatFingerprint(hijacker_fp));
    EXPECT_NE(i, big1);
    EXPECT_NE(i, big2);
  }
  ASSERT_EQ(hired.size(), 4u);
  EXPECT_EQ(std::set<int>(hired.begin(), hired.end()).size(), 4u);

  // From here on the bootstrap node comes from <config-dir>/dht-bootstrap.
  WriteFile(customer_.config + "/dht-bootstrap", "# the test's node\n" + boot_address_ + "\n");
  customer_.env.erase("SHARDKEEP_DHT_BOOTSTRAP");

  const std::string src = TempDir("src");
  const std::string a = RandomBytes(300 << 10, 3);
  WriteFile(src + "/a.bin", a);
  RunResult b = customer_.Sk({"backup", src});
  ASSERT_EQ(b.code, 0) << b.Describe();
  std::string t = TempDir("restore1");
  RunResult r = customer_.Sk({"restore", "latest", "--target", t});
  ASSERT_EQ(r.code, 0) << r.Describe();
  EXPECT_TRUE(ReadFile(t + src + "/a.bin") == a);

  // Position 3's supplier comes back on a new port: the next command finds
  // it by its key in the DHT and records the new address, no command needed.
  const std::string old3 = cluster_->Address(hired[3]);
  std::vector<std::string> flags = {"--dht-port=0", "--dht-listen=127.0.0.1",
                                    "--dht-bootstrap=" + boot_address_, "--disk-reserve=0",
                                    "--listen=127.0.0.1:0"};
  ASSERT_TRUE(cluster_->Restart(hired[3], flags).ok());
  const std::string new3 = cluster_->Address(hired[3]);
  ASSERT_NE(old3, new3);
  // Its new offer must be in the DHT under its identity before a customer
  // can follow it (a lookup made before it re-announced there finds only
  // the old address; the offers key can show the new offer earlier, as the
  // two puts are separate searches), so the test waits for what the
  // customer looks up: the identity key.
  {
    dhtnet::DhtNodeOptions wo;
    wo.bind_ipv4 = "127.0.0.1";
    wo.bootstrap = {boot_address_};
    auto watcher = dhtnet::DhtNode::Start(wo);
    ASSERT_TRUE(watcher.ok());
    ASSERT_TRUE((*watcher)->WaitConnected(milliseconds(5000)));
    const std::string fp3 = Fingerprint(*cluster_, hired[3]);
    bool announced = false;
    for (int i = 0; i < 60 && !announced; ++i) {
      for (const std::string& w : (*watcher)->Get(offer::IdentityKey(fp3), milliseconds(3000), 64)) {
        auto o = offer::VerifyOffer(w);
        announced = announced || (o.ok() && o->fingerprint == fp3 && !o->addresses.empty() &&
                                  o->addresses.front() == new3);
      }
      if (!announced) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ASSERT_TRUE(announced) << "the restarted supplier's offer at " << new3
                           << " never showed under its identity";
  }
  WriteFile(src + "/b.txt", "after the move\n");
  b = customer_.Sk({"backup", src});
  ASSERT_EQ(b.code, 0) << b.Describe();
  EXPECT_NE(b.err.find("supplier " + old3 + " moved to " + new3), std::string::npos) << b.err;
  RunResult list = customer_.Sk({"suppliers", "list"});
  EXPECT_NE(list.out.find(new3), std::string::npos) << list.Describe();
  EXPECT_EQ(list.out.find(old3), std::string::npos) << list.Describe();

  // Fire/hire: position 2's supplier dies; replace --find hires another.
  ASSERT_TRUE(cluster_->Kill(hired[2]).ok());
  RunResult rep = customer_.Sk({"suppliers", "replace", "2", "--find"});
  ASSERT_EQ(rep.code, 0) << rep.Describe();
  // The disk is lost: config and cache gone. recover with only the vault ID
  // (and the passphrase) finds the suppliers through the vault's record.
  const size_t id_at = init.out.find("created vault ");
  ASSERT_NE(id_at, std::string::npos);
  const std::string vault_id = init.out.substr(id_at + 14, 32);
  ASSERT_EQ(std::system(("rm -rf '" + customer_.config + "' '" + customer_.cache + "'").c_str()), 0);
  customer_.env["SHARDKEEP_DHT_BOOTSTRAP"] = boot_address_;  // the config dir is gone
  RunResult rec = customer_.Sk({"recover", "--vault", vault_id});
  ASSERT_EQ(rec.code, 0) << rec.Describe();
  EXPECT_NE(rec.err.find("found the vault's record in the DHT"), std::string::npos) << rec.err;
  // Without the passphrase the record does not open.
  Customer wrong = customer_;
  wrong.config = TempDir("wrong-config");
  wrong.cache = TempDir("wrong-cache");
  RunResult bad = wrong.Sk({"recover", "--vault", vault_id}, "not the passphrase at all 99");
  EXPECT_EQ(bad.code, 12) << bad.Describe();

  // Whole with two of the other originals gone as well (k = 2).
  ASSERT_TRUE(cluster_->Kill(hired[0]).ok());
  ASSERT_TRUE(cluster_->Kill(hired[1]).ok());
  t = TempDir("restore2");
  r = customer_.Sk({"restore", "latest", "--target", t});
  ASSERT_EQ(r.code, 0) << r.Describe();
  EXPECT_TRUE(ReadFile(t + src + "/a.bin") == a);
  EXPECT_EQ(ReadFile(t + src + "/b.txt"), "after the move\n");

  // A stopped supplier's offer expires (value lifetime 3 minutes): slow, so
  // only with SHARDKEEP_LONG_TESTS=1.
  if (Env("SHARDKEEP_LONG_TESTS") == "1") {
    const std::string gone = cluster_->Address(hired[0]);
    bool still_there = true;
    for (int i = 0; i < 50 && still_there; ++i) {
      std::this_thread::sleep_for(std::chrono::seconds(5));
      still_there = FoundAddresses(customer_.Sk({"suppliers", "find", "--json"})).count(gone) > 0;
    }
    EXPECT_FALSE(still_there) << gone << " is still offered 250 s after it was killed";
  }
}

}  // namespace
}  // namespace shardkeep::cli_test

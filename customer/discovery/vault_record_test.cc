// The vault's DHT record over real OpenDHT nodes on loopback: the owner's
// record opens with the passphrase and gives the newest config; forged,
// decoy and older records are rejected or outranked; a wrong passphrase is
// kWrongPassphrase.
#include "customer/discovery/vault_record.h"

#include <gtest/gtest.h>

#include "common/crypto.h"
#include "common/error_kind.h"
#include "customer/vault/keys.h"
#include "nlohmann/json.hpp"

namespace shardkeep::customer {
namespace {

using std::chrono::milliseconds;

struct Owner {
  std::string master = crypto::RandomBytes(32);
  std::string vault_id = crypto::RandomBytes(16);
  vault::v1::KeyRecord record;
};

std::unique_ptr<Vault> MakeVault(const Owner& o, uint64_t generation, const std::string& address) {
  vault::v1::VaultConfig config;
  config.set_vault_id(o.vault_id);
  config.set_generation(generation);
  auto* s = config.add_suppliers();
  s->set_address(address);
  s->set_tls_fingerprint(std::string(32, 'f'));
  return Vault::FromParts("/nonexistent", "/nonexistent", config, o.record, o.master);
}

TEST(VaultRecordTest, NewestGenuineRecordWinsForgeriesAreRejected) {
  dhtnet::DhtNodeOptions opt;
  opt.bind_ipv4 = "127.0.0.1";
  auto boot = dhtnet::DhtNode::Start(opt);
  ASSERT_TRUE(boot.ok());
  opt.bootstrap = {"127.0.0.1:" + std::to_string((*boot)->port())};
  auto writer = dhtnet::DhtNode::Start(opt);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->WaitConnected(milliseconds(5000)));

  Owner owner;
  auto rec = WrapMasterKey(owner.master, owner.vault_id, "the passphrase",
                           KdfParams::CheapForTests(),
                           DeriveKeys(owner.master, owner.vault_id).identity_public);
  ASSERT_TRUE(rec.ok()) << rec.status();
  owner.record = *rec;
  const std::string key = VaultRecordKey(owner.vault_id);
  EXPECT_EQ(key.find(crypto::ToHex(owner.vault_id)), std::string::npos);
  auto put = [&](const std::string& wire) {
    ASSERT_TRUE((*writer)->PutOnce(key, wire, milliseconds(5000), dhtnet::Lifetime::kLong));
  };
  auto older = MakeVaultRecord(*MakeVault(owner, 2, "old:1"));
  auto newer = MakeVaultRecord(*MakeVault(owner, 3, "new:1"));
  ASSERT_TRUE(older.ok() && newer.ok());
  put(*older);
  put(*newer);
  // Forged: the genuine key record with a sealed part of the attacker's.
  nlohmann::json forged = nlohmann::json::parse(*newer);
  forged["sealed"] = crypto::ToHex(crypto::RandomBytes(100));
  put(forged.dump());
  // Decoy: a whole record of another vault (its own key record).
  Owner other;
  other.vault_id = owner.vault_id;  // claims the same vault
  auto other_rec = WrapMasterKey(other.master, other.vault_id, "attacker",
                                 KdfParams::CheapForTests(),
                                 DeriveKeys(other.master, other.vault_id).identity_public);
  ASSERT_TRUE(other_rec.ok());
  other.record = *other_rec;
  auto decoy = MakeVaultRecord(*MakeVault(other, 99, "evil:1"));
  ASSERT_TRUE(decoy.ok());
  put(*decoy);
  put("not json");

  auto pass = []() -> absl::StatusOr<std::string> { return std::string("the passphrase"); };
  auto located = LocateVault(**boot, owner.vault_id, pass, "");
  ASSERT_TRUE(located.ok()) << located.status();
  EXPECT_EQ(located->config.generation(), 3u);
  EXPECT_EQ(located->config.suppliers(0).address(), "new:1");
  EXPECT_EQ(located->records_seen, 5);
  EXPECT_EQ(located->records_rejected, 3);

  // The paper key opens it without a passphrase.
  auto by_master = LocateVault(**boot, owner.vault_id, nullptr, owner.master);
  ASSERT_TRUE(by_master.ok());
  EXPECT_EQ(by_master->config.generation(), 3u);

  auto wrong = LocateVault(
      **boot, owner.vault_id, []() -> absl::StatusOr<std::string> { return std::string("nope"); },
      "");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(KindOf(wrong.status()), ErrorKind::kWrongPassphrase);

  auto none = LocateVault(**boot, crypto::RandomBytes(16), pass, "");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace shardkeep::customer

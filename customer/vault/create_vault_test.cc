// CreateVault over in-memory suppliers (real quota and key-record rules),
// some broken on purpose by the fault-injecting wrapper.
#include "customer/vault/create_vault.h"

#include <stdlib.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error_kind.h"
#include "customer/net/fault_injecting_supplier_client.h"
#include "customer/net/mem_supplier_client.h"
#include "customer/vault/vault.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

std::string TempDir(const std::string& what) {
  const char* base = getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/" + what + "-XXXXXX";
  char* made = mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr);
  return tmpl;
}

class CreateVaultTest : public ::testing::Test {
 protected:
  void MakeSuppliers(int n, uint64_t capacity = uint64_t{1} << 30) {
    for (int i = 0; i < n; ++i) {
      std::string address = "10.0.0." + std::to_string(i + 1) + ":7700";
      suppliers_.push_back(std::make_unique<MemSupplier>(address, capacity));
      by_address_[address] = suppliers_.back().get();
      addresses_.push_back(address);
    }
  }
  CreateVaultRequest Request() {
    CreateVaultRequest r;
    r.supplier_addresses = addresses_;
    r.config_dir = TempDir("config") + "/vault";
    r.cache_dir = TempDir("cache");
    r.needed_bytes = uint64_t{1} << 20;
    r.passphrase = [this]() -> absl::StatusOr<std::string> {
      ++passphrase_asked_;
      return std::string("correct horse");
    };
    r.kdf = KdfParams::CheapForTests();  // cheap: this is not what the test is about
    return r;
  }
  // Customer keys that hold a contract at supplier i.
  uint64_t Used(int i, const std::string& customer_key) {
    return suppliers_[i]->UsedBytes(customer_key);
  }

  std::vector<std::unique_ptr<MemSupplier>> suppliers_;
  std::map<std::string, MemSupplier*> by_address_;
  std::vector<std::string> addresses_;
  int passphrase_asked_ = 0;
};

TEST_F(CreateVaultTest, CreatesAVaultThatOpensWithThePassphrase) {
  MakeSuppliers(4);
  CreateVaultRequest req = Request();
  auto made = CreateVault(req, MemConnector(by_address_));
  ASSERT_TRUE(made.ok()) << made.status();
  const vault::v1::VaultConfig& config = made->config;
  EXPECT_EQ(config.supplier_count(), 4u);
  EXPECT_EQ(config.data_shards(), 2u);  // ceil(n/2)
  ASSERT_EQ(config.suppliers_size(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(config.suppliers(i).position(), static_cast<uint32_t>(i));
    EXPECT_EQ(config.suppliers(i).address(), addresses_[i]);
    EXPECT_EQ(config.suppliers(i).supplier_id(), suppliers_[i]->supplier_id());
    EXPECT_EQ(config.suppliers(i).quota_bytes(), (uint64_t{1} << 20) / 2);  // ceil(needed / k)
  }
  EXPECT_EQ(passphrase_asked_, 1);

  auto vault = Vault::Open(req.config_dir, req.cache_dir, "correct horse");
  ASSERT_TRUE(vault.ok()) << vault.status();
  EXPECT_EQ((*vault)->vault_id(), made->config.vault_id());
  EXPECT_EQ((*vault)->config().supplier_count(), 4u);
  auto wrong = Vault::Open(req.config_dir, req.cache_dir, "wrong");
  EXPECT_EQ(KindOf(wrong.status()), ErrorKind::kWrongPassphrase);

  // Every supplier holds the key record (readable by vault ID) and the config.
  const std::string customer = (*vault)->keys().identity_public;
  for (int i = 0; i < 4; ++i) {
    auto record = suppliers_[i]->GetKeyRecord(made->config.vault_id());
    ASSERT_TRUE(record.ok()) << i << ": " << record.status();
    ASSERT_EQ(record->candidates_size(), 1) << i;
    EXPECT_EQ(record->candidates(0).customer_key(), customer) << i;
    EXPECT_TRUE(suppliers_[i]->GetObject(customer, "config").ok()) << i;
    EXPECT_GT(Used(i, customer), 0u) << i;
  }
  // A second vault in the same config dir is refused before any network.
  int before = passphrase_asked_;
  auto again = CreateVault(req, MemConnector(by_address_));
  EXPECT_TRUE(absl::IsAlreadyExists(again.status())) << again.status();
  EXPECT_EQ(passphrase_asked_, before);
}

TEST_F(CreateVaultTest, BadRequestsAreUsageErrorsBeforeThePassphrase) {
  MakeSuppliers(4);
  struct Case {
    std::function<void(CreateVaultRequest*)> change;
    std::string message;
  };
  std::vector<Case> cases = {
      {[&](CreateVaultRequest* r) { r->supplier_addresses.resize(1); }, "2 to 64"},
      {[&](CreateVaultRequest* r) { r->supplier_addresses[1] = "nohost"; }, "\"nohost\""},
      {[&](CreateVaultRequest* r) { r->supplier_addresses[1] = "h:99999"; }, "\"h:99999\""},
      {[&](CreateVaultRequest* r) { r->supplier_addresses[1] = "h:0"; }, "\"h:0\""},
      {[&](CreateVaultRequest* r) { r->supplier_addresses[1] = r->supplier_addresses[0]; },
       "appears twice"},
      {[&](CreateVaultRequest* r) { r->data_shards = 4; }, "1..3"},
      {[&](CreateVaultRequest* r) { r->block_size = 1000; }, "64KiB..256MiB"},
      {[&](CreateVaultRequest* r) { r->needed_bytes = 0; }, "more than 0"},
  };
  for (const Case& c : cases) {
    CreateVaultRequest req = Request();
    c.change(&req);
    auto made = CreateVault(req, MemConnector(by_address_));
    ASSERT_FALSE(made.ok()) << c.message;
    EXPECT_EQ(KindOf(made.status()), ErrorKind::kUsage) << made.status();
    EXPECT_NE(made.status().message().find(c.message), std::string::npos) << made.status();
    EXPECT_FALSE(Vault::Exists(req.config_dir));
  }
  EXPECT_EQ(passphrase_asked_, 0);
}

TEST_F(CreateVaultTest, TwoAddressesOfOneSupplierAreRefused) {
  MakeSuppliers(3);
  by_address_["alias:7700"] = suppliers_[0].get();
  CreateVaultRequest req = Request();
  req.supplier_addresses = {addresses_[0], addresses_[1], "alias:7700"};
  auto made = CreateVault(req, MemConnector(by_address_));
  EXPECT_EQ(KindOf(made.status()), ErrorKind::kUsage) << made.status();
  EXPECT_NE(made.status().message().find("are the same supplier"), std::string::npos);
  EXPECT_FALSE(Vault::Exists(req.config_dir));
}

TEST_F(CreateVaultTest, ASupplierDownIsUnreachableNamingIt) {
  MakeSuppliers(4);
  suppliers_[2]->Stop();
  CreateVaultRequest req = Request();
  auto made = CreateVault(req, MemConnector(by_address_));
  EXPECT_EQ(KindOf(made.status()), ErrorKind::kSuppliersUnreachable) << made.status();
  EXPECT_NE(made.status().message().find(addresses_[2]), std::string::npos) << made.status();
  EXPECT_FALSE(Vault::Exists(req.config_dir));
}

// One supplier too small: every refusal is named, and the contracts the
// others granted are given back (nothing stays reserved).
TEST_F(CreateVaultTest, ARefusedContractRollsBackTheOthers) {
  MakeSuppliers(3);
  suppliers_.push_back(std::make_unique<MemSupplier>("small:7700", uint64_t{1000}));
  by_address_["small:7700"] = suppliers_.back().get();
  addresses_.push_back("small:7700");
  CreateVaultRequest req = Request();
  auto made = CreateVault(req, MemConnector(by_address_));
  ASSERT_FALSE(made.ok());
  EXPECT_TRUE(absl::IsResourceExhausted(made.status())) << made.status();
  EXPECT_NE(made.status().message().find("small:7700"), std::string::npos) << made.status();
  EXPECT_NE(made.status().message().find("512.00 KiB"), std::string::npos) << made.status();
  EXPECT_FALSE(Vault::Exists(req.config_dir));
  // The capacity is free again: a vault that needs it all can be made.
  for (int i = 0; i < 3; ++i) {
    auto c = suppliers_[i]->RequestContract(std::string(32, 'z'), uint64_t{1} << 30, 0, 1);
    EXPECT_TRUE(c.ok()) << i << ": " << c.status();
  }
}

// Storing the config fails on one supplier after the contracts were
// granted: the contracts are cancelled, nothing is written locally.
TEST_F(CreateVaultTest, AFailureAfterTheContractsCancelsThem) {
  MakeSuppliers(4);
  auto faults = std::make_shared<SupplierFaults>();
  faults->Fail(SupplierMethod::kPutObject, absl::UnavailableError("disk on fire"));
  auto connector = WrapConnector(MemConnector(by_address_),
                                 [&](int, const std::string& address) {
                                   return address == addresses_[3] ? faults : nullptr;
                                 });
  CreateVaultRequest req = Request();
  auto made = CreateVault(req, connector);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.status().message().find("disk on fire"), std::string::npos) << made.status();
  EXPECT_FALSE(Vault::Exists(req.config_dir));
  for (int i = 0; i < 4; ++i) {
    auto c = suppliers_[i]->RequestContract(std::string(32, 'z'), uint64_t{1} << 30, 0, 1);
    EXPECT_TRUE(c.ok()) << i << ": capacity still held: " << c.status();
  }
}

}  // namespace
}  // namespace shardkeep::customer

namespace shardkeep::customer {
namespace {

// A weak passphrase is refused before any supplier is asked for anything;
// allow_weak_passphrase lets it through.
TEST_F(CreateVaultTest, WeakPassphraseRefusedUnlessAllowed) {
  MakeSuppliers(4);
  CreateVaultRequest req = Request();
  req.passphrase = [] { return absl::StatusOr<std::string>("password123"); };
  auto made = CreateVault(req, MemConnector(by_address_));
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(KindOf(made.status()), ErrorKind::kUsage) << made.status();
  EXPECT_NE(made.status().message().find("--allow-weak-passphrase"), std::string::npos)
      << made.status();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(suppliers_[i]->BytesReceived(), 0u) << i;
  req.allow_weak_passphrase = true;
  auto allowed = CreateVault(req, MemConnector(by_address_));
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_EQ(allowed->config.key_record_sha256().size(), 32u);
}

}  // namespace
}  // namespace shardkeep::customer

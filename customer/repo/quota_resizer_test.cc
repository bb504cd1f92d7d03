// ResizeQuotas over in-memory suppliers: what a mixed outcome (granted,
// refused, unreachable) leaves in the vault config, here and on the
// suppliers. The all-granted and all-refused cases against real suppliers
// are in tests/customer/quota_growth_test.cc.
#include "customer/repo/quota_resizer.h"

#include "customer/repo/mem_vault_for_test.h"
#include "customer/vault/names.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

using M = SupplierMethod;
using testing::MemVault;
using testing::MemVaultOptions;

constexpr uint64_t kMiB = 1 << 20;

vault::v1::VaultConfig ConfigAt(Repository& repo, int position) {
  vault::v1::VaultConfig config;
  auto sealed = repo.suppliers().at(position)->GetObject(kConfigObject);
  EXPECT_TRUE(sealed.ok()) << sealed.status();
  if (!sealed.ok()) return config;
  auto plain = repo.vault().OpenObject(kConfigObject, *sealed);
  EXPECT_TRUE(plain.ok()) << plain.status();
  if (plain.ok()) EXPECT_TRUE(config.ParseFromString(*plain));
  return config;
}

TEST(ResizeQuotas, MixedOutcomeRecordsWhatEachSupplierGranted) {
  MemVaultOptions o;
  o.n = 4;
  o.k = 2;
  o.quota_bytes = 8 * kMiB;
  o.supplier.capacity_bytes = 100 * kMiB;
  auto mv = MemVault::Create(o);
  ASSERT_TRUE(mv.ok()) << mv.status();
  {
    auto repo = (*mv)->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    // All grant: needed recorded, every quota ceil(needed / k).
    auto r = ResizeQuotas(**repo, 60 * kMiB + 1);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->per_supplier_bytes, 30 * kMiB + 1);
    EXPECT_EQ(r->refused, 0);
    EXPECT_TRUE(r->config_written);
    EXPECT_EQ((*repo)->config().needed_bytes(), 60 * kMiB + 1);
    for (const auto& s : (*repo)->config().suppliers()) EXPECT_EQ(s.quota_bytes(), 30 * kMiB + 1);
  }

  // Position 1 refuses (full), position 3 does not answer.
  (*mv)->faults(1).RefuseFull(M::kRequestContract, "supplier capacity exceeded: free 0 bytes");
  (*mv)->faults(3).Fail(M::kRequestContract, absl::UnavailableError("connection refused"));
  auto repo = (*mv)->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  const uint64_t generation = (*repo)->config().generation();
  auto r = ResizeQuotas(**repo, 80 * kMiB);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->refused, 1);
  EXPECT_EQ(r->unreachable, 1);
  EXPECT_TRUE(r->config_written);
  EXPECT_TRUE(r->suppliers[0].granted);
  EXPECT_FALSE(r->suppliers[1].granted);
  EXPECT_TRUE(r->suppliers[1].reachable);
  EXPECT_EQ(r->suppliers[1].previous_bytes, 30 * kMiB + 1);
  EXPECT_EQ(r->suppliers[1].quota_bytes, 30 * kMiB + 1);  // what it still grants
  EXPECT_NE(r->suppliers[1].error.find("capacity"), std::string::npos) << r->suppliers[1].error;
  EXPECT_FALSE(r->suppliers[3].reachable);

  // The config: the granted quotas, the old ones elsewhere, the old needed
  // (not every supplier holds its share), a new generation; the same on a
  // supplier as in the config dir.
  for (const vault::v1::VaultConfig& c :
       {(*repo)->config(), ConfigAt(**repo, 0), ConfigAt(**repo, 2)}) {
    EXPECT_EQ(c.generation(), generation + 1);
    EXPECT_EQ(c.needed_bytes(), 60 * kMiB + 1);
    EXPECT_EQ(c.suppliers(0).quota_bytes(), 40 * kMiB);
    EXPECT_EQ(c.suppliers(1).quota_bytes(), 30 * kMiB + 1);
    EXPECT_EQ(c.suppliers(2).quota_bytes(), 40 * kMiB);
    EXPECT_EQ(c.suppliers(3).quota_bytes(), 30 * kMiB + 1);
  }
  EXPECT_EQ(ResizeQuotas(**repo, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shardkeep::customer

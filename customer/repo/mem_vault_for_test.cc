#include "customer/repo/mem_vault_for_test.h"

#include <stdlib.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "customer/vault/keys.h"
#include "customer/vault/names.h"
#include "customer/vault/objects.h"
#include "customer/vault/vault.h"

namespace shardkeep::customer::testing {

std::string MakeTempDir(const std::string& what) {
  const char* root = getenv("TEST_TMPDIR");
  std::string t = absl::StrCat(root != nullptr ? root : "/tmp", "/", what, "-XXXXXX");
  if (mkdtemp(t.data()) == nullptr) abort();  // a test cannot go on without it
  return t;
}

absl::StatusOr<std::unique_ptr<MemVault>> MemVault::Create(const MemVaultOptions& options) {
  auto mv = std::unique_ptr<MemVault>(new MemVault());
  const int n = options.n;
  for (int i = 0; i < n; ++i) {
    mv->suppliers_.push_back(
        std::make_unique<MemSupplier>(absl::StrCat("mem-", i, ":7700"), options.supplier));
    mv->faults_.push_back(std::make_shared<SupplierFaults>());
  }
  mv->config_dir_ = MakeTempDir("config") + "/vault";  // Vault::Create makes it
  mv->cache_dir_ = MakeTempDir("cache");

  // What `shardkeep init` does (customer/cmd/cmd_init.cc), minus the flags.
  const std::string master = crypto::RandomBytes(kMasterKeySize);
  const std::string vault_id = crypto::RandomBytes(kVaultIdSize);
  const VaultKeys keys = DeriveKeys(master, vault_id);
  std::vector<std::unique_ptr<MemSupplierClient>> clients;
  vault::v1::VaultConfig config;
  config.set_version(1);
  config.set_vault_id(vault_id);
  config.set_supplier_count(n);
  config.set_data_shards(options.k);
  config.set_block_size(options.block_size);
  config.mutable_chunker()->set_min_size(options.chunker.min_size);
  config.mutable_chunker()->set_avg_size(options.chunker.avg_size);
  config.mutable_chunker()->set_max_size(options.chunker.max_size);
  config.set_compression_level(3);
  config.set_needed_bytes(options.quota_bytes * options.k);
  config.set_customer_key(keys.identity_public);
  for (int i = 0; i < n; ++i) {
    clients.push_back(
        std::make_unique<MemSupplierClient>(mv->suppliers_[i].get(), keys.identity_seed));
    ASSIGN_OR_RETURN(v1::Contract contract, clients[i]->RequestContract(options.quota_bytes, i, n));
    auto* s = config.add_suppliers();
    s->set_address(mv->address(i));
    s->set_supplier_id(mv->suppliers_[i]->supplier_id());
    s->set_position(i);
    s->set_quota_bytes(contract.quota_bytes());
  }
  // A cheap scrypt: the cost protects real passphrases, not test ones.
  ASSIGN_OR_RETURN(
      vault::v1::KeyRecord record,
      WrapMasterKey(master, vault_id, kPassphrase, ScryptParams{1024, 8, 1}, keys.identity_public));
  ASSIGN_OR_RETURN(std::string sealed_config, SealObject(keys.metadata_key, vault_id, kConfigObject,
                                                         config.SerializeAsString()));
  for (auto& c : clients) {
    RETURN_IF_ERROR(c->PutObject(kKeysObject, record.SerializeAsString(), vault_id));
    RETURN_IF_ERROR(c->PutObject(kConfigObject, sealed_config));
  }
  RETURN_IF_ERROR(Vault::Create(mv->config_dir_, mv->cache_dir_, config, record, master).status());
  return mv;
}

MemVault::~MemVault() {
  for (auto& f : faults_) f->ClearAll();
}

absl::StatusOr<std::unique_ptr<Repository>> MemVault::Open(int min_reachable,
                                                           std::chrono::milliseconds hedge_after) {
  ASSIGN_OR_RETURN(auto vault, Vault::Open(config_dir_, cache_dir_, kPassphrase));
  std::map<std::string, MemSupplier*> by_address;
  std::map<std::string, std::shared_ptr<SupplierFaults>> faults_by_address;
  for (int i = 0; i < n(); ++i) {
    by_address[address(i)] = suppliers_[i].get();
    faults_by_address[address(i)] = faults_[i];
  }
  // By address, not connection index: the faults follow the supplier.
  SupplierConnector connector =
      WrapConnector(MemConnector(by_address), [faults_by_address](int, const std::string& a) {
        auto it = faults_by_address.find(a);
        return it == faults_by_address.end() ? nullptr : it->second;
      });
  SupplierSet::Options set_options;
  set_options.hedge_after = hedge_after;
  ASSIGN_OR_RETURN(auto repo, Repository::Open(std::move(vault), connector, set_options));
  RETURN_IF_ERROR(repo->CheckSuppliers(min_reachable < 0 ? n() : min_reachable));
  RETURN_IF_ERROR(repo->LoadIndex());
  return repo;
}

}  // namespace shardkeep::customer::testing

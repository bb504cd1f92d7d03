#include "customer/repo/mem_vault_for_test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "customer/vault/create_vault.h"
#include "customer/vault/keys.h"
#include "customer/vault/vault.h"
#include "gtest/gtest.h"

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
  mv->config_dir_ = MakeTempDir("config") + "/vault";  // CreateVault makes it
  mv->cache_dir_ = MakeTempDir("cache");

  // Made as `shardkeep init` makes a vault: CreateVault, over the suppliers.
  std::map<std::string, MemSupplier*> by_address;
  CreateVaultRequest req;
  for (int i = 0; i < n; ++i) {
    by_address[mv->address(i)] = mv->suppliers_[i].get();
    req.supplier_addresses.push_back(mv->address(i));
  }
  req.data_shards = options.k;
  req.block_size = options.block_size;
  req.needed_bytes = options.quota_bytes * options.k;  // each supplier is asked needed / k
  req.chunker = options.chunker;
  req.config_dir = mv->config_dir_;
  req.cache_dir = mv->cache_dir_;
  req.passphrase = [] { return absl::StatusOr<std::string>(kPassphrase); };
  req.kdf = KdfParams::CheapForTests();  // cheap: the cost protects real passphrases
  req.allow_weak_passphrase = true;
  RETURN_IF_ERROR(CreateVault(req, MemConnector(by_address)).status());
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

void WriteFile(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ASSERT_EQ(close(fd), 0);
}

}  // namespace shardkeep::customer::testing

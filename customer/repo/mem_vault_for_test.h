// A whole vault in one process, for unit tests of the layers above net/: n
// MemSuppliers, a vault made by CreateVault as `shardkeep init` makes one
// (contracts requested through the clients, so quotas are real; the key record and the
// sealed config stored on every supplier; the config dir and cache dir under
// $TEST_TMPDIR), and Repositories opened over MemConnector with every client
// behind a FaultInjectingSupplierClient whose faults the test holds per
// position.
//
// Thread-safety: as MemSupplier and SupplierFaults (any thread); Create and
// Open from one thread.
#ifndef SHARDKEEP_CUSTOMER_REPO_MEM_VAULT_FOR_TEST_H_
#define SHARDKEEP_CUSTOMER_REPO_MEM_VAULT_FOR_TEST_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/chunker.h"
#include "common/status.h"
#include "customer/net/fault_injecting_supplier_client.h"
#include "customer/net/mem_supplier_client.h"
#include "customer/repo/repository.h"

namespace shardkeep::customer::testing {

struct MemVaultOptions {
  int n = 4;
  int k = 2;
  // Small blocks and chunks, so a test of a few hundred KiB makes many.
  uint64_t block_size = 64 << 10;
  chunker::Params chunker{4 << 10, 16 << 10, 64 << 10};
  uint64_t quota_bytes = 64 << 20;  // requested from each supplier
  MemSupplierOptions supplier;      // capacity, object and fragment limits
};

class MemVault {
 public:
  static constexpr char kPassphrase[] = "mem-vault-passphrase";

  static absl::StatusOr<std::unique_ptr<MemVault>> Create(const MemVaultOptions& options = {});
  // Clears every fault (so no call stays hung), then frees the suppliers.
  // REQUIRES: every Repository opened here is destroyed first.
  ~MemVault();
  MemVault(const MemVault&) = delete;
  MemVault& operator=(const MemVault&) = delete;

  // The vault unlocked from its config dir, over the suppliers (through the
  // faults), as a command opens it: CheckSuppliers(min_reachable; -1: n),
  // then LoadIndex. Each call is a fresh Repository (a new command).
  absl::StatusOr<std::unique_ptr<Repository>> Open(
      int min_reachable = -1, std::chrono::milliseconds hedge_after = std::chrono::seconds(1));

  int n() const { return static_cast<int>(suppliers_.size()); }
  MemSupplier& supplier(int position) { return *suppliers_[position]; }
  // Shared by every client of this position, in every Repository opened.
  SupplierFaults& faults(int position) { return *faults_[position]; }
  const std::string& address(int position) const { return suppliers_[position]->address(); }
  const std::string& config_dir() const { return config_dir_; }
  const std::string& cache_dir() const { return cache_dir_; }

 private:
  MemVault() = default;

  std::vector<std::unique_ptr<MemSupplier>> suppliers_;
  std::vector<std::shared_ptr<SupplierFaults>> faults_;
  std::string config_dir_, cache_dir_;
};

// A new empty directory under $TEST_TMPDIR (or /tmp); Bazel removes it with
// the test's tmpdir.
std::string MakeTempDir(const std::string& what);

// Writes `data` to `path` (created or truncated, 0644); a gtest failure if
// that does not work.
void WriteFile(const std::string& path, const std::string& data);

}  // namespace shardkeep::customer::testing

#endif  // SHARDKEEP_CUSTOMER_REPO_MEM_VAULT_FOR_TEST_H_

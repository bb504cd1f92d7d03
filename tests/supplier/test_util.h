// Helpers shared by the supplier's process-level tests.
#ifndef SHARDKEEP_TESTS_SUPPLIER_TEST_UTIL_H_
#define SHARDKEEP_TESTS_SUPPLIER_TEST_UTIL_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/harness/supplier_client.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::testing {

inline absl::StatusCode Code(const absl::Status& s) { return s.code(); }
template <typename T>
absl::StatusCode Code(const absl::StatusOr<T>& s) {
  return s.status().code();
}

// A customer seed that differs per letter.
inline std::string Seed(char c) { return std::string(32, c); }

inline std::string RandomData(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  for (; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

// Regular files under the supplier's fragment directory (committed and
// temporary; not those in fragments/quarantine/).
inline int FragmentFilesOnDisk(const SupplierCluster& c, int i) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(c.DataDir(i) + "/fragments", ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file() && it->path().parent_path().filename() != "quarantine") ++n;
  }
  return n;
}

// Files start-up reconciliation moved to fragments/quarantine/.
inline int QuarantinedFiles(const SupplierCluster& c, int i) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(c.DataDir(i) + "/fragments/quarantine", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    n += it->is_regular_file();
  }
  return n;
}

// Polls cond every 20 ms for up to timeout_ms.
inline bool WaitFor(const std::function<bool()>& cond, int timeout_ms = 10000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

inline std::unique_ptr<SupplierCluster> StartCluster(int n, SupplierClusterOptions o = {}) {
  auto c = SupplierCluster::Start(n, std::move(o));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? std::move(c).value() : nullptr;
}

inline std::unique_ptr<SupplierClient> Connect(const SupplierCluster& c, int i, char who) {
  auto client = SupplierClient::Connect(c.Address(i), Seed(who));
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(client).value() : nullptr;
}

}  // namespace shardkeep::testing

#endif  // SHARDKEEP_TESTS_SUPPLIER_TEST_UTIL_H_

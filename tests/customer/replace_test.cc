// `suppliers replace` through the real CLI against real suppliers: n = 4,
// two suppliers replaced in turn (by position, then by address), then the
// two originals left are killed: the restore is byte-identical from the two
// replacements. Each replace moves k fragments in and one out per block.
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;
using testing::SupplierClusterOptions;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// The number before `word` in `text` ("12 fragments stored" -> 12), -1 if absent.
long NumberBefore(const std::string& text, const std::string& word) {
  size_t p = text.find(" " + word);
  if (p == std::string::npos) return -1;
  size_t b = text.rfind(' ', p - 1);
  return std::stol(text.substr(b + 1, p - b - 1));
}

TEST(SuppliersReplace, TwoReplacedThenTheOriginalsLostRestoresEverything) {
  SupplierClusterOptions o;
  o.capacity_bytes = 1ULL << 30;
  auto started = SupplierCluster::Start(6, o);
  ASSERT_TRUE(started.ok()) << started.status();
  auto& cluster = *started;
  Customer c;
  const std::string first4 = absl::StrCat(cluster->Address(0), ",", cluster->Address(1), ",",
                                          cluster->Address(2), ",", cluster->Address(3));
  ASSERT_EQ(c.Sk({"init", "--suppliers", first4, "--needed", "256MiB", "--block-size", "64KiB"})
                .code,
            0);
  std::string src = TempDir("src");
  const std::string a = RandomBytes(400 << 10, 7);
  WriteFile(src + "/a.bin", a);
  WriteFile(src + "/b.txt", "bee\n");
  RunResult b = c.Sk({"backup", src});
  ASSERT_EQ(b.code, 0) << b.Describe();

  RunResult r1 = c.Sk({"suppliers", "replace", "1", "--with", cluster->Address(4)});
  ASSERT_EQ(r1.code, 0) << r1.Describe();
  EXPECT_NE(r1.out.find(absl::StrCat("the contract with ", cluster->Address(1), " is cancelled")),
            std::string::npos)
      << r1.out;
  // k = 2 fragments in, one out, per block.
  const long stored = NumberBefore(r1.out, "fragments stored");
  ASSERT_GT(stored, 0) << r1.out;
  EXPECT_LE(NumberBefore(r1.out, "fetched"), 2 * stored) << r1.out;
  RunResult check = c.Sk({"check", "--read-data"});
  EXPECT_EQ(check.code, 0) << check.Describe();
  RunResult list = c.Sk({"suppliers", "list"});
  EXPECT_NE(list.out.find(cluster->Address(4)), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find(cluster->Address(1)), std::string::npos) << list.out;

  RunResult r2 = c.Sk({"suppliers", "replace", cluster->Address(2), "--with", cluster->Address(5)});
  ASSERT_EQ(r2.code, 0) << r2.Describe();
  // Usage errors: an unknown one, a supplier already in the vault.
  EXPECT_EQ(c.Sk({"suppliers", "replace", "9", "--with", cluster->Address(1)}).code, 2);
  EXPECT_EQ(c.Sk({"suppliers", "replace", "0", "--with", cluster->Address(4)}).code, 2);

  // The two originals left die: 4 and 5 serve everything.
  ASSERT_TRUE(cluster->Kill(0).ok());
  ASSERT_TRUE(cluster->Kill(3).ok());
  ASSERT_TRUE(cluster->Kill(1).ok());
  ASSERT_TRUE(cluster->Kill(2).ok());
  std::string t = TempDir("restore");
  RunResult r = c.Sk({"restore", "latest", "--target", t});
  ASSERT_EQ(r.code, 0) << r.Describe();
  EXPECT_TRUE(ReadFile(t + src + "/a.bin") == a);
  EXPECT_EQ(ReadFile(t + src + "/b.txt"), "bee\n");
}

}  // namespace
}  // namespace shardkeep::cli_test

// `suppliers replace` through the real CLI against real suppliers: n = 4,
// two suppliers replaced in turn (by position, then by address), then the
// two originals left are killed: the restore is byte-identical from the two
// replacements, and after the disk is lost `recover` from a replacement
// brings the vault back. Each replace moves k fragments in and one out per
// block. A replace killed (kill -9) part-way is run again and the vault is
// whole.
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

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

// Starts `total` suppliers (1 GiB each) and makes a vault on the first four
// (64 KiB blocks, `init --json`): the others are the replacements.
std::unique_ptr<SupplierCluster> StartAndInit(int total, Customer& c, RunResult* init) {
  SupplierClusterOptions o;
  o.capacity_bytes = 1ULL << 30;
  auto started = SupplierCluster::Start(total, o);
  EXPECT_TRUE(started.ok()) << started.status();
  if (!started.ok()) return nullptr;
  std::unique_ptr<SupplierCluster> cluster = std::move(*started);
  const std::string first4 = absl::StrCat(cluster->Address(0), ",", cluster->Address(1), ",",
                                          cluster->Address(2), ",", cluster->Address(3));
  *init = c.Sk(
      {"init", "--suppliers", first4, "--needed", "256MiB", "--block-size", "64KiB", "--json"});
  return cluster;
}

// Kills the suppliers at `kill`, restores the latest snapshot and expects
// `src`/a.bin to come back as `a`: the ones left must hold k of every block.
void ExpectRestoreAfterKilling(SupplierCluster& cluster, const Customer& c,
                               const std::vector<int>& kill, const std::string& src,
                               const std::string& a) {
  for (int i : kill) ASSERT_TRUE(cluster.Kill(i).ok()) << "supplier " << i;
  std::string t = TempDir("restore");
  RunResult r = c.Sk({"restore", "latest", "--target", t});
  ASSERT_EQ(r.code, 0) << r.Describe();
  EXPECT_TRUE(ReadFile(t + src + "/a.bin") == a);
}

TEST(SuppliersReplace, TwoReplacedThenTheOriginalsLostRestoresEverything) {
  Customer c;
  RunResult init;
  auto cluster = StartAndInit(6, c, &init);
  ASSERT_NE(cluster, nullptr);
  ASSERT_EQ(init.code, 0) << init.Describe();
  const std::string vault = JsonField(init.out, "vault_id");
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

  // The disk is lost too: recover from a replacement alone. The config it
  // finds there names 4 and 5 at positions 1 and 2 (the originals at 0 and
  // 3 are dead): k = 2 answer, enough.
  ASSERT_EQ(RunCommand({"rm", "-rf", c.config, c.cache}, {}).code, 0);
  RunResult rec = c.Sk({"recover", "--vault", vault, "--supplier", cluster->Address(5), "--json"});
  ASSERT_EQ(rec.code, 0) << rec.Describe();
  EXPECT_EQ(JsonField(rec.out, "suppliers_reachable"), "2") << rec.out;
  std::string t2 = TempDir("restore");
  RunResult r3 = c.Sk({"restore", "latest", "--target", t2});
  ASSERT_EQ(r3.code, 0) << r3.Describe();
  EXPECT_TRUE(ReadFile(t2 + src + "/a.bin") == a);
  EXPECT_EQ(ReadFile(t2 + src + "/b.txt"), "bee\n");
}

// Fragment files the supplier's data dir holds (not uploads in progress).
int FragmentFiles(const SupplierCluster& cluster, int i) {
  RunResult r = RunCommand(
      {"/bin/bash", "-c",
       "find '" + cluster.DataDir(i) + "/fragments' -type f ! -name '*.tmp' | wc -l"},
      {});
  return r.code == 0 ? std::stoi(r.out) : -1;
}

// kill -9 of the customer during `suppliers replace`, once the new supplier
// holds some of the fragments (the upload rate is limited so that the
// replace takes seconds): the vault still names the old supplier; the same
// command run again finishes, rebuilds and sends only what was missing, and
// the vault is whole: check --read-data clean, and with two of the others dead the
// restore comes from the replacement and one original.
TEST(SuppliersReplace, KilledPartWayIsRunAgainAndTheVaultIsWhole) {
  Customer c;
  RunResult init;
  auto cluster = StartAndInit(5, c, &init);
  ASSERT_NE(cluster, nullptr);
  ASSERT_EQ(init.code, 0) << init.Describe();
  std::string src = TempDir("src");
  const std::string a = RandomBytes(16 << 20, 11);  // ~16 blocks (1 MiB chunks), 512 KiB fragments
  WriteFile(src + "/a.bin", a);
  ASSERT_EQ(c.Sk({"backup", src}).code, 0);

  // 1 MiB/s up: ~8 s for the 8 MiB of fragments. Killed after 3 landed.
  const std::string script = absl::StrCat(
      "\"$0\" --limit-upload 1MiB suppliers replace 2 --with ", cluster->Address(4),
      " & pid=$!; for i in $(seq 1 600); do ",
      "n=$(find '", cluster->DataDir(4), "/fragments' -type f ! -name '*.tmp' 2>/dev/null | wc -l); ",
      "if [ \"$n\" -ge 3 ]; then kill -9 $pid; wait $pid; echo killed at $n; exit 0; fi; ",
      "kill -0 $pid 2>/dev/null || { wait $pid; echo finished; exit 1; }; sleep 0.05; done; exit 2");
  RunResult killed =
      RunCommand({"/bin/bash", "-c", script, Runfile("customer/shardkeep")}, c.Env());
  ASSERT_EQ(killed.code, 0) << killed.Describe();
  const int landed = FragmentFiles(*cluster, 4);
  // Supplier 3 holds one fragment of every block: the number to reach.
  const int blocks = FragmentFiles(*cluster, 3);
  ASSERT_GE(landed, 3);
  ASSERT_LT(landed, blocks) << "the replace finished before the kill";

  // Not yet replaced: the vault still names supplier 2.
  RunResult list = c.Sk({"suppliers", "list"});
  EXPECT_NE(list.out.find(cluster->Address(2)), std::string::npos) << list.out;

  RunResult again = c.Sk({"suppliers", "replace", "2", "--with", cluster->Address(4)});
  ASSERT_EQ(again.code, 0) << again.Describe();
  // What had landed is neither rebuilt nor sent again.
  const long stored = NumberBefore(again.out, "fragments stored");
  const long present = NumberBefore(again.out, "already there");
  EXPECT_GT(stored, 0) << again.out;
  EXPECT_GE(present, landed) << again.out;
  EXPECT_EQ(stored + present, blocks) << again.out;
  EXPECT_EQ(NumberBefore(again.out, "fetched"), 2 * stored) << again.out;
  EXPECT_EQ(FragmentFiles(*cluster, 4), blocks);

  RunResult check = c.Sk({"check", "--read-data"});
  EXPECT_EQ(check.code, 0) << check.Describe();
  ExpectRestoreAfterKilling(*cluster, c, {2, 0, 1}, src, a);
}

// Replace holds the vault's lock exclusively: while a backup runs (its
// blocks would go to the supplier being replaced), replace stops with
// exit 11 naming it; once the backup is done, the same replace runs and
// the snapshot restores from the replacement and one original.
TEST(SuppliersReplace, StopsWhileABackupRunsThenReplaces) {
  Customer c;
  RunResult init;
  auto cluster = StartAndInit(5, c, &init);
  ASSERT_NE(cluster, nullptr);
  ASSERT_EQ(init.code, 0) << init.Describe();
  std::string src = TempDir("src");
  const std::string a = RandomBytes(6 << 20, 13);
  WriteFile(src + "/a.bin", a);
  // 1 MiB/s up: the 12 MiB of fragments take ~12 s; the lock is held from the start.
  const std::string out = TempDir("out") + "/backup.out";
  int pid = SpawnSk(c, {"--limit-upload", "1MiB", "backup", src}, out);
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 400 && CachedIndexPieces(c) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(CachedIndexPieces(c), 0) << "the backup stored no checkpoint: " << ReadFile(out);
  RunResult locked = c.Sk({"suppliers", "replace", "3", "--with", cluster->Address(4)});
  EXPECT_EQ(locked.code, 11) << locked.Describe();
  EXPECT_NE(locked.err.find("locked by backup on host"), std::string::npos) << locked.err;
  ASSERT_EQ(WaitExit(pid), 0) << ReadFile(out);

  RunResult r = c.Sk({"suppliers", "replace", "3", "--with", cluster->Address(4)});
  ASSERT_EQ(r.code, 0) << r.Describe();
  // Only the replacement and one original left: k = 2 of every block.
  ExpectRestoreAfterKilling(*cluster, c, {3, 0, 1}, src, a);
}

}  // namespace
}  // namespace shardkeep::cli_test

// Restore after disk loss (issue 8), as a user does it: the real `shardkeep`
// binary against real shardkeep-supplier processes (tests/harness). The
// config dir and the cache dir are deleted entirely; `recover` gets them back
// from the suppliers with the vault ID and the passphrase (or the paper key).
//
// What a real supplier will not do (serve an altered key record, leave a
// snapshot out of its listing) is injected with the fault-injecting client
// around the real gRPC client, running the CLI in-process (RunCli).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "customer/cmd/app.h"
#include "customer/net/fault_injecting_supplier_client.h"
#include "customer/net/grpc_supplier_client.h"
#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_client.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;

std::unique_ptr<SupplierCluster> StartCluster(int n) {
  testing::SupplierClusterOptions o;
  o.capacity_bytes = 2ULL << 30;
  auto c = SupplierCluster::Start(n, o);
  if (!c.ok()) {
    ADD_FAILURE() << c.status();
    return nullptr;
  }
  return std::move(*c);
}

void ExpectSameTree(const std::string& src, const std::string& dst) {
  RunResult r = RunCommand({"/bin/bash", Runfile("tests/fidelity/compare.sh"), src, dst}, {});
  EXPECT_EQ(r.code, 0) << "compare.sh " << src << " " << dst << ":\n" << r.out << r.err;
}

// A small tree with a few MiB of random data and many small files.
std::string MakeTree() {
  std::string dir = TempDir("src") + "/home";
  RunResult r = Shell(absl::StrCat(
      "set -e; mkdir -p ", dir, "/docs ", dir, "/photos; ",
      "for i in $(seq 1 200); do echo \"note $i\" > ", dir, "/docs/n$i.txt; done; ",
      "head -c 3000000 /dev/urandom > ", dir, "/photos/a.raw; ",
      "head -c 1000000 /dev/urandom > ", dir, "/photos/b.raw; ",
      "ln -s docs/n1.txt ", dir, "/link"));
  EXPECT_EQ(r.code, 0) << r.Describe();
  return dir;
}

std::string Backup(const Customer& c, const std::string& path, std::string* json = nullptr) {
  RunResult r = c.Sk({"backup", "--json", path});
  EXPECT_EQ(r.code, 0) << r.Describe();
  if (json) *json = r.out;
  return JsonField(r.out, "snapshot_id");
}

// The vault ID, from `init --json`.
std::string Init(const Customer& c, const SupplierCluster& cluster) {
  RunResult r = c.Sk({"init", "--suppliers", cluster.AddressList(), "--needed", "1GiB", "--json"});
  EXPECT_EQ(r.code, 0) << r.Describe();
  return JsonField(r.out, "vault_id");
}

// `restore latest` into a new directory gives back `src` as it was.
void ExpectLatestRestores(const Customer& c, const std::string& src) {
  const std::string target = TempDir("restore");
  RunResult res = c.Sk({"restore", "latest", "--target", target});
  ASSERT_EQ(res.code, 0) << res.Describe();
  ExpectSameTree(src, target + src);
}

// What most tests start from: n suppliers, a vault, one backup of MakeTree().
struct BackedUp {
  std::unique_ptr<SupplierCluster> cluster;
  std::string vault, src;
};
BackedUp BackUpATree(const Customer& c, int n) {
  BackedUp b;
  b.cluster = StartCluster(n);
  if (b.cluster == nullptr) return b;
  b.vault = Init(c, *b.cluster);
  b.src = MakeTree();
  Backup(c, b.src);
  return b;
}

// The disk is gone: nothing of the config dir or the cache dir is left.
void LoseDisk(const Customer& c) {
  ASSERT_EQ(Shell("rm -rf '" + c.config + "' '" + c.cache + "'").code, 0);
}

bool DirEmptyOrMissing(const std::string& dir) {
  RunResult r = Shell("test ! -e '" + dir + "' || [ -z \"$(ls -A '" + dir + "')\" ]");
  return r.code == 0;
}

// Back up, lose the disk, recover from ONE supplier with the real key
// derivation, restore latest: the same tree; the next backup of the same
// paths finds its parent and stores almost nothing.
TEST(Recover, AfterDiskLossFromOneSupplier) {
  auto cluster = StartCluster(4);
  ASSERT_NE(cluster, nullptr);
  Customer c;
  c.cheap_kdf = false;  // the real Argon2id cost, as a user pays it
  const std::string vault = Init(c, *cluster);
  ASSERT_EQ(vault.size(), 32u);
  const std::string src = MakeTree();
  const std::string id = Backup(c, src);
  LoseDisk(c);

  RunResult rec = c.Sk({"recover", "--vault", vault, "--supplier", cluster->Address(2), "--json"});
  ASSERT_EQ(rec.code, 0) << rec.Describe();
  EXPECT_EQ(JsonField(rec.out, "latest"), id) << rec.out;
  EXPECT_EQ(JsonField(rec.out, "suppliers_reachable"), "4") << rec.out;
  EXPECT_NE(JsonField(rec.out, "safe_until"), "") << rec.out;

  ExpectLatestRestores(c, src);

  // Same paths again: the parent is found, no file is read, (almost)
  // nothing is stored.
  std::string json;
  Backup(c, src, &json);
  EXPECT_EQ(JsonField(json, "files_new"), "0") << json;
  EXPECT_EQ(JsonField(json, "files_changed"), "0") << json;
  EXPECT_LT(std::stoull(JsonField(json, "bytes_stored")), 64u << 10) << json;
}

// The first supplier named is dead: the next one named is used, and the
// message names the dead one. A vault already in the config dir is kept
// unless --force.
TEST(Recover, FirstNamedSupplierKilled) {
  Customer c;
  BackedUp b = BackUpATree(c, 4);
  ASSERT_NE(b.cluster, nullptr);
  auto& cluster = b.cluster;
  const std::string& vault = b.vault;
  const std::string& src = b.src;

  RunResult exists = c.Sk({"recover", "--vault", vault, "--supplier", cluster->Address(0)});
  EXPECT_EQ(exists.code, 1) << exists.Describe();
  EXPECT_NE(exists.err.find("already exists"), std::string::npos) << exists.err;

  LoseDisk(c);
  ASSERT_TRUE(cluster->Kill(0).ok());
  RunResult rec = c.Sk({"recover", "--vault", vault, "--supplier", cluster->Address(0),
                        "--supplier", cluster->Address(1)});
  ASSERT_EQ(rec.code, 0) << rec.Describe();
  EXPECT_NE(rec.err.find(cluster->Address(0)), std::string::npos) << rec.err;
  ExpectLatestRestores(c, src);
}

// A wrong passphrase: exit 12, and nothing written.
TEST(Recover, WrongPassphraseWritesNothing) {
  auto cluster = StartCluster(2);
  ASSERT_NE(cluster, nullptr);
  Customer c;
  const std::string vault = Init(c, *cluster);
  Backup(c, MakeTree());
  LoseDisk(c);
  RunResult rec = c.Sk({"recover", "--vault", vault, "--supplier", cluster->Address(0)},
                       "not the passphrase at all");
  EXPECT_EQ(rec.code, 12) << rec.Describe();
  EXPECT_NE(rec.err.find("wrong passphrase"), std::string::npos) << rec.err;
  EXPECT_TRUE(DirEmptyOrMissing(c.config));
  EXPECT_TRUE(DirEmptyOrMissing(c.cache));
  // Unknown vault ID: not found, nothing written either.
  RunResult unknown = c.Sk({"recover", "--vault", std::string(32, 'a'), "--supplier",
                            cluster->Address(0)});
  EXPECT_NE(unknown.code, 0);
  EXPECT_TRUE(DirEmptyOrMissing(c.config));
  // A malformed ID is a usage error.
  EXPECT_EQ(c.Sk({"recover", "--vault", "xyz", "--supplier", cluster->Address(0)}).code, 2);
}

// key passwd: the old passphrase stops recovering the vault, the new one
// does. A supplier down during passwd still holds the old record, but the
// config on the others names the new one, so the old passphrase is refused
// there too; the supplier gets the new record at the next command.
TEST(Recover, KeyPasswdRetiresTheOldPassphrase) {
  Customer c;
  BackedUp b = BackUpATree(c, 4);
  ASSERT_NE(b.cluster, nullptr);
  auto& cluster = b.cluster;
  const std::string& vault = b.vault;
  const std::string& src = b.src;

  ASSERT_TRUE(cluster->Stop(3).ok());
  c.env["SHARDKEEP_NEW_PASSWORD"] = "password123";
  RunResult weak = c.Sk({"key", "passwd"});
  EXPECT_EQ(weak.code, 2) << weak.Describe();
  c.env["SHARDKEEP_NEW_PASSWORD"] = "a second passphrase for this vault";
  RunResult pw = c.Sk({"key", "passwd", "--json"});
  ASSERT_EQ(pw.code, 0) << pw.Describe();
  EXPECT_NE(pw.out.find(cluster->Address(3)), std::string::npos) << pw.out;  // pending
  const std::string old_pw = c.password;
  c.password = "a second passphrase for this vault";

  // The supplier that missed it holds the old record; recovering through it
  // with the old passphrase is refused because the others' config names
  // the new record.
  ASSERT_TRUE(cluster->Restart(3).ok());
  {
    Customer other;
    other.password = old_pw;
    RunResult old = other.Sk({"recover", "--vault", vault, "--supplier", cluster->Address(3)});
    EXPECT_EQ(old.code, 12) << old.Describe();
    EXPECT_TRUE(DirEmptyOrMissing(other.config));
  }
  // The next command that reaches it gives it the new record.
  RunResult snaps = c.Sk({"snapshots"});
  ASSERT_EQ(snaps.code, 0) << snaps.Describe();
  EXPECT_NE(snaps.err.find(cluster->Address(3)), std::string::npos) << snaps.err;

  LoseDisk(c);
  RunResult old = c.Sk({"recover", "--vault", vault, "--supplier", cluster->Address(3)}, old_pw);
  EXPECT_EQ(old.code, 12) << old.Describe();
  RunResult rec = c.Sk({"recover", "--vault", vault, "--supplier", cluster->Address(3)});
  ASSERT_EQ(rec.code, 0) << rec.Describe();
  ExpectLatestRestores(c, src);
}

// The paper key recovers without the passphrase; a new passphrase is set,
// and the forgotten one no longer works.
TEST(Recover, PaperKeyWithoutThePassphrase) {
  Customer c;
  BackedUp b = BackUpATree(c, 4);
  ASSERT_NE(b.cluster, nullptr);
  auto& cluster = b.cluster;
  const std::string& vault = b.vault;
  const std::string& src = b.src;
  RunResult exported = c.Sk({"key", "export", "--paper"});
  ASSERT_EQ(exported.code, 0) << exported.Describe();
  const std::string key_file = TempDir("paper") + "/key.txt";
  WriteFile(key_file, exported.out);

  LoseDisk(c);
  const std::string forgotten = c.password;
  c.password = "";  // no passphrase at all
  c.env["SHARDKEEP_NEW_PASSWORD"] = "the passphrase after the paper key";
  RunResult rec = c.Sk({"recover", "--vault", vault, "--supplier", cluster->Address(1),
                        "--key-file", key_file});
  ASSERT_EQ(rec.code, 0) << rec.Describe();
  c.password = "the passphrase after the paper key";
  ExpectLatestRestores(c, src);

  Customer other;
  other.password = forgotten;
  EXPECT_EQ(other.Sk({"recover", "--vault", vault, "--supplier", cluster->Address(0)}).code, 12);

  // A mistyped paper key is refused before any supplier is asked.
  std::string typo = exported.out;
  size_t at = typo.find("key:") + 8;
  typo[at] = typo[at] == 'A' ? 'B' : 'A';
  WriteFile(key_file, typo);
  Customer third;
  RunResult bad = third.Sk({"recover", "--vault", vault, "--supplier", cluster->Address(0),
                            "--key-file", key_file});
  EXPECT_EQ(bad.code, 2) << bad.Describe();
}

// A squatter who learned the vault ID stores its own key record under it at
// a supplier: recovery through that supplier still finds the owner's.
TEST(Recover, SquattedVaultIdDoesNotBlockRecovery) {
  Customer c;
  BackedUp b = BackUpATree(c, 2);
  ASSERT_NE(b.cluster, nullptr);
  auto& cluster = b.cluster;
  const std::string& vault = b.vault;
  const std::string& src = b.src;

  std::string vault_bytes;
  for (size_t i = 0; i + 1 < vault.size(); i += 2) {
    vault_bytes.push_back(static_cast<char>(std::stoi(vault.substr(i, 2), nullptr, 16)));
  }
  auto squatter = testing::SupplierClient::Connect(cluster->Address(0), crypto::RandomBytes(32));
  ASSERT_TRUE(squatter.ok()) << squatter.status();
  ASSERT_TRUE((*squatter)->RequestContract(1 << 20).ok());
  auto squat = (*squatter)->PutObject("keys", "not a key record", vault_bytes);
  ASSERT_TRUE(squat.ok()) << squat.status();  // a claim is per customer: it is let in, and harmless
  auto candidates = (*squatter)->GetKeyRecord(vault_bytes);
  ASSERT_TRUE(candidates.ok()) << candidates.status();
  ASSERT_EQ(candidates->candidates_size(), 2);  // the owner's first, then the squatter's

  LoseDisk(c);
  RunResult rec = c.Sk({"recover", "--vault", vault, "--supplier", cluster->Address(0)});
  ASSERT_EQ(rec.code, 0) << rec.Describe();
  ExpectLatestRestores(c, src);
}

// ---- in-process, with faults a real supplier will not produce

struct InProcess {
  std::map<std::string, std::string> env;
  int Run(std::vector<std::string> args, customer::SupplierConnector connector, std::string* out,
          std::string* err) {
    char* out_buf = nullptr;
    char* err_buf = nullptr;
    size_t out_len = 0, err_len = 0;
    FILE* o = open_memstream(&out_buf, &out_len);
    FILE* e = open_memstream(&err_buf, &err_len);
    customer::CliEnv cli;
    cli.connector = std::move(connector);
    cli.out = o;
    cli.err = e;
    auto vars = env;
    cli.env = [vars](const std::string& name) {
      auto it = vars.find(name);
      return it == vars.end() ? std::string() : it->second;
    };
    int code = customer::RunCli(args, cli);
    fclose(o);
    fclose(e);
    *out = std::string(out_buf, out_len);
    *err = std::string(err_buf, err_len);
    free(out_buf);
    free(err_buf);
    return code;
  }
};

// One supplier serves an altered key record and leaves the newest snapshot
// out of its listing: recovery uses another supplier's record, names the
// bad one, gives it the right record, and `latest` is still the newest.
TEST(Recover, AlteredKeyRecordAndHiddenSnapshotAreNamed) {
  Customer c;
  BackedUp b = BackUpATree(c, 4);
  ASSERT_NE(b.cluster, nullptr);
  auto& cluster = b.cluster;
  const std::string& vault = b.vault;
  const std::string& src = b.src;
  ASSERT_EQ(Shell("echo more >> '" + src + "/docs/n1.txt'").code, 0);
  const std::string newest = Backup(c, src);
  LoseDisk(c);

  const std::string bad = cluster->Address(0);
  auto faults = std::make_shared<customer::SupplierFaults>();
  faults->Corrupt(customer::SupplierMethod::kGetKeyRecord, 4);
  faults->DropListed([&](const std::string& name) { return name == "snapshots/" + newest; });
  auto connector = customer::WrapConnector(
      customer::DefaultConnector(),
      [&](int, const std::string& address) -> std::shared_ptr<customer::SupplierFaults> {
        return address == bad ? faults : nullptr;
      });
  InProcess cli;
  cli.env = {{"SHARDKEEP_CONFIG_DIR", c.config},
             {"SHARDKEEP_CACHE_DIR", c.cache},
             {"SHARDKEEP_PASSWORD", c.password}};
  std::string out, err;
  int code = cli.Run({"recover", "--vault", vault, "--supplier", bad, "--supplier",
                      cluster->Address(1), "--json"},
                     connector, &out, &err);
  ASSERT_EQ(code, 0) << out << err;
  EXPECT_EQ(JsonField(out, "key_record_from"), cluster->Address(1)) << out;
  EXPECT_EQ(JsonField(out, "latest"), newest) << out;
  // Named: the record that does not open, and the listing that leaves out
  // the newest snapshot.
  EXPECT_NE(err.find("supplier " + bad + " holds no key record that opens"), std::string::npos)
      << err;
  EXPECT_NE(err.find("supplier " + bad + " (position 0) does not list 1 of 2 snapshots"),
            std::string::npos)
      << err;

  // Every supplier hides the newest snapshot from now on: this machine has
  // seen it, so `snapshots` says the vault looks rolled back.
  auto all = std::make_shared<customer::SupplierFaults>();
  all->DropListed([&](const std::string& name) { return name == "snapshots/" + newest; });
  auto rolled_back = customer::WrapConnector(
      customer::DefaultConnector(),
      [&](int, const std::string&) -> std::shared_ptr<customer::SupplierFaults> { return all; });
  code = cli.Run({"snapshots"}, rolled_back, &out, &err);
  ASSERT_EQ(code, 0) << out << err;
  EXPECT_NE(err.find("newer than any snapshot the suppliers list now"), std::string::npos) << err;
  EXPECT_NE(err.find(newest.substr(0, 8)), std::string::npos) << err;
}

}  // namespace
}  // namespace shardkeep::cli_test

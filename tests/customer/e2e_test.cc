// End-to-end tests of the `shardkeep` CLI as a user runs it: the real binary
// against real shardkeep-supplier processes on loopback (tests/harness), for
// n = 2, 4 and 7 suppliers. Restores are compared with the source by
// tests/fidelity/compare.sh (bsdtar mtree: type, mode, uid, gid, size, time,
// link, nlink, sha256; plus hard-link groups, xattrs and sparseness).
//
// Runs unsandboxed (tags = no-sandbox) so that, as root, owners and device
// nodes are part of the fidelity tree.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/customer/cli_test_util.h"
#include "tests/harness/supplier_client.h"
#include "tests/harness/supplier_cluster.h"

// In cli_test, so that the helpers of cli_test_util.h need no qualification.
namespace shardkeep::cli_test {
namespace {

using testing::SupplierCluster;
using testing::SupplierClusterOptions;

std::unique_ptr<SupplierCluster> StartCluster(int n) {
  SupplierClusterOptions o;
  o.capacity_bytes = 4ULL << 30;
  auto c = SupplierCluster::Start(n, o);
  if (!c.ok()) {
    ADD_FAILURE() << c.status();
    return nullptr;
  }
  return std::move(*c);
}

RunResult Init(const Customer& c, const SupplierCluster& cluster,
               std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"init", "--suppliers", cluster.AddressList(), "--needed",
                                   "1GiB"};
  args.insert(args.end(), extra.begin(), extra.end());
  return c.Sk(args);
}

// Backs up `paths`, returns the snapshot ID (fails the test otherwise).
std::string Backup(const Customer& c, std::vector<std::string> paths, int want_code = 0,
                   std::string* json_out = nullptr) {
  std::vector<std::string> args = {"backup", "--json"};
  args.insert(args.end(), paths.begin(), paths.end());
  RunResult r = c.Sk(args);
  EXPECT_EQ(r.code, want_code) << r.Describe();
  if (json_out) *json_out = r.out;
  std::string id = JsonField(r.out, "snapshot_id");
  EXPECT_EQ(id.size(), 32u) << r.Describe();
  return id;
}

void ExpectSameTree(const std::string& src, const std::string& dst) {
  RunResult r = RunCommand({"/bin/bash", Runfile("tests/fidelity/compare.sh"), src, dst}, {});
  EXPECT_EQ(r.code, 0) << "compare.sh " << src << " " << dst << ":\n" << r.out << r.err;
}

std::string MakeFidelityTree() {
  std::string dir = TempDir("src") + "/tree";
  RunResult r = RunCommand({"/bin/bash", Runfile("tests/fidelity/make_tree.sh"), dir}, {});
  EXPECT_EQ(r.code, 0) << r.Describe();
  return dir;
}

// ------------------------------------------------------------------ tests

class FidelityTest : public ::testing::TestWithParam<int> {};

// Every fidelity case of issue 4 comes back bit for bit, for n = 2, 4, 7.
TEST_P(FidelityTest, BackupRestoreCompare) {
  const int n = GetParam();
  auto cluster = StartCluster(n);
  ASSERT_NE(cluster, nullptr);
  Customer ann;
  RunResult init = Init(ann, *cluster);
  ASSERT_EQ(init.code, 0) << init.Describe();
  EXPECT_NE(init.out.find("vault ID:"), std::string::npos);

  std::string src = MakeFidelityTree();
  std::string json;
  std::string id = Backup(ann, {src}, 0, &json);
  EXPECT_NE(json.find("\"partial\":false"), std::string::npos) << json;

  RunResult snaps = ann.Sk({"snapshots", "--json"});
  ASSERT_EQ(snaps.code, 0) << snaps.Describe();
  EXPECT_EQ(JsonField(snaps.out, "id"), id);

  // Restoring by ID prefix; paths are absolute below the target.
  std::string target = TempDir("restore");
  RunResult r = ann.Sk({"restore", id.substr(0, 10), "--target", target});
  ASSERT_EQ(r.code, 0) << r.Describe();
  ExpectSameTree(src, target + src);

  // ls shows every entry once, with absolute paths.
  RunResult ls = ann.Sk({"ls", "latest", src + "/links"});
  ASSERT_EQ(ls.code, 0) << ls.Describe();
  EXPECT_NE(ls.out.find(src + "/links\n"), std::string::npos) << ls.out;
  EXPECT_EQ(ls.out.find(src + "/files/"), std::string::npos) << ls.out;
}

INSTANTIATE_TEST_SUITE_P(Suppliers, FidelityTest, ::testing::Values(2, 4, 7),
                         [](const auto& info) { return absl::StrCat("n", info.param); });

// Thousands of small files share blocks; a second backup reads none of
// them again; one changed file is seen as changed; both snapshots restore.
TEST(CustomerE2E, ThousandsOfSmallFilesAndIncremental) {
  auto cluster = StartCluster(4);
  ASSERT_NE(cluster, nullptr);
  Customer c;
  ASSERT_EQ(Init(c, *cluster).code, 0);
  std::string src = TempDir("small");
  // 9000 tiny files with distinct contents: more chunks than one block holds.
  RunResult mk = Shell(absl::StrCat(
      "python3 -c 'import os,sys\nfor d in range(30):\n  os.mkdir(\"%s/d%d\" % (sys.argv[1], d))\n"
      "  for f in range(300):\n    open(\"%s/d%d/f%d.txt\" % (sys.argv[1], d, f), \"w\")"
      ".write(\"file %d/%d\\n\" % (d, f))' ",
      src));
  ASSERT_EQ(mk.code, 0) << mk.Describe();

  std::string json1;
  std::string id1 = Backup(c, {src}, 0, &json1);
  EXPECT_EQ(JsonField(json1, "files_new"), "9000") << json1;
  // 9000 files in a handful of blocks (not one upload per file); a block
  // holds at most 8192 chunks, so the data takes two.
  EXPECT_GE(std::stoi(JsonField(json1, "blocks")), 3) << json1;
  EXPECT_LE(std::stoi(JsonField(json1, "blocks")), 4) << json1;

  ASSERT_EQ(Shell(absl::StrCat("echo changed >> ", src, "/d7/f7.txt")).code, 0);
  std::string json2;
  std::string id2 = Backup(c, {src}, 0, &json2);
  EXPECT_EQ(JsonField(json2, "files_unchanged"), "8999") << json2;
  EXPECT_EQ(JsonField(json2, "files_changed"), "1") << json2;
  EXPECT_EQ(JsonField(json2, "parent"), id1) << json2;
  EXPECT_LT(std::stoull(JsonField(json2, "bytes_read")), 1000u) << json2;

  std::string t1 = TempDir("restore"), t2 = TempDir("restore");
  ASSERT_EQ(c.Sk({"restore", id2, "--target", t2}).code, 0);
  ExpectSameTree(src, t2 + src);
  ASSERT_EQ(c.Sk({"restore", id1, "--target", t1}).code, 0);
  EXPECT_EQ(ReadFile(t1 + src + "/d7/f7.txt").find("changed"), std::string::npos);
  EXPECT_NE(ReadFile(t2 + src + "/d7/f7.txt").find("changed"), std::string::npos);

  RunResult snaps = c.Sk({"snapshots"});
  EXPECT_NE(snaps.out.find(id1.substr(0, 8)), std::string::npos) << snaps.Describe();
  EXPECT_NE(snaps.out.find("2 snapshots"), std::string::npos) << snaps.Describe();
}

// --include restores a subset (and the directories above it), nothing else.
TEST(CustomerE2E, IncludeRestoresSubset) {
  auto cluster = StartCluster(4);
  ASSERT_NE(cluster, nullptr);
  Customer c;
  ASSERT_EQ(Init(c, *cluster).code, 0);
  std::string src = MakeFidelityTree();
  Backup(c, {src});
  std::string target = TempDir("restore");
  RunResult r = c.Sk({"restore", "latest", "--target", target, "--include", src + "/names",
                      "--include", src + "/files/empty"});
  ASSERT_EQ(r.code, 0) << r.Describe();
  ExpectSameTree(src + "/names", target + src + "/names");
  struct stat st;
  EXPECT_EQ(lstat((target + src + "/files/empty").c_str(), &st), 0);
  EXPECT_NE(lstat((target + src + "/files/random-20m").c_str(), &st), 0);
  EXPECT_NE(lstat((target + src + "/links").c_str(), &st), 0);
  EXPECT_NE(lstat((target + src + "/sparse").c_str(), &st), 0);

  // A path the snapshot does not hold is an error naming it, for --include
  // (the rest is still restored) and for ls, not a silent empty result.
  std::string target2 = TempDir("restore");
  RunResult typo = c.Sk({"restore", "latest", "--target", target2, "--include",
                         src + "/files/empty", "--include", src + "/no-such-dir"});
  EXPECT_EQ(typo.code, 1) << typo.Describe();
  EXPECT_NE(typo.err.find(src + "/no-such-dir: not in the snapshot"), std::string::npos)
      << typo.Describe();
  EXPECT_EQ(lstat((target2 + src + "/files/empty").c_str(), &st), 0);
  RunResult ls = c.Sk({"ls", "latest", src + "/no-such-dir"});
  EXPECT_EQ(ls.code, 1) << ls.Describe();
  EXPECT_NE(ls.err.find(src + "/no-such-dir is not in snapshot"), std::string::npos)
      << ls.Describe();
  EXPECT_EQ(c.Sk({"ls", "latest", src + "/names"}).code, 0);
}

// Two customers on the same suppliers see only their own vault.
TEST(CustomerE2E, TwoVaultsDoNotSeeEachOther) {
  auto cluster = StartCluster(4);
  ASSERT_NE(cluster, nullptr);
  Customer ann("ann's passphrase"), bob("bob's passphrase");
  ASSERT_EQ(Init(ann, *cluster).code, 0);
  ASSERT_EQ(Init(bob, *cluster).code, 0);
  std::string a_src = TempDir("ann"), b_src = TempDir("bob");
  ASSERT_EQ(Shell("echo ann-secret > " + a_src + "/a.txt").code, 0);
  ASSERT_EQ(Shell("echo bob-secret > " + b_src + "/b.txt").code, 0);
  std::string a_id = Backup(ann, {a_src});
  std::string b_id = Backup(bob, {b_src});

  RunResult a_snaps = ann.Sk({"snapshots", "--json"});
  RunResult b_snaps = bob.Sk({"snapshots", "--json"});
  EXPECT_NE(a_snaps.out.find(a_id), std::string::npos);
  EXPECT_EQ(a_snaps.out.find(b_id), std::string::npos) << a_snaps.out;
  EXPECT_NE(b_snaps.out.find(b_id), std::string::npos);
  EXPECT_EQ(b_snaps.out.find(a_id), std::string::npos) << b_snaps.out;

  std::string t = TempDir("restore");
  RunResult cross = bob.Sk({"restore", a_id, "--target", t});
  EXPECT_NE(cross.code, 0);
  EXPECT_NE(cross.err.find("no snapshot"), std::string::npos) << cross.Describe();
  // Bob's passphrase does not open Ann's vault either.
  Customer ann_with_bobs_pw = ann;
  ann_with_bobs_pw.password = bob.password;
  EXPECT_EQ(ann_with_bobs_pw.Sk({"snapshots"}).code, 12);
}

// With n-k suppliers gone (killed, or one wiped), restore still gives
// identical data; a backup with one supplier down commits in degraded mode;
// with too many down it fails with exit 13 naming them.
TEST(CustomerE2E, SurvivesLosingNMinusKSuppliers) {
  auto cluster = StartCluster(7);  // k = 4: any 3 may go
  ASSERT_NE(cluster, nullptr);
  Customer c;
  ASSERT_EQ(Init(c, *cluster).code, 0);
  std::string src = MakeFidelityTree();
  std::string id = Backup(c, {src});

  // Data fragments (positions 0..3) lost first: parity must stand in.
  ASSERT_TRUE(cluster->Kill(0).ok());
  ASSERT_TRUE(cluster->Kill(2).ok());
  ASSERT_TRUE(cluster->Wipe(3).ok());
  std::string target = TempDir("restore");
  RunResult r = c.Sk({"restore", id, "--target", target});
  ASSERT_EQ(r.code, 0) << r.Describe();
  ExpectSameTree(src, target + src);

  // A fourth loss is one too many for a backup (needs k+1 = 5 of 7).
  ASSERT_TRUE(cluster->Kill(6).ok());
  RunResult b = c.Sk({"backup", src});
  EXPECT_EQ(b.code, 13) << b.Describe();
  EXPECT_NE(b.err.find(cluster->Address(6)), std::string::npos) << b.err;

  // Three of them back: degraded backup with a warning, then a full restore.
  ASSERT_TRUE(cluster->Restart(0).ok());
  ASSERT_TRUE(cluster->Restart(2).ok());
  ASSERT_TRUE(cluster->Restart(6).ok());
  ASSERT_EQ(Shell("echo more > " + src + "/files/new-file").code, 0);
  std::string json;
  std::string id2 = Backup(c, {src}, 0, &json);
  EXPECT_NE(JsonField(json, "blocks_degraded"), "0") << json;
  std::string target2 = TempDir("restore");
  RunResult r2 = c.Sk({"restore", id2, "--target", target2});
  ASSERT_EQ(r2.code, 0) << r2.Describe();
  ExpectSameTree(src, target2 + src);
}

// Fragments that fail their hash check come from parity instead; a supplier
// that hangs (SIGSTOP) is routed around.
TEST(CustomerE2E, CorruptFragmentsAndHungSupplier) {
  auto cluster = StartCluster(4);
  ASSERT_NE(cluster, nullptr);
  Customer c;
  ASSERT_EQ(Init(c, *cluster).code, 0);
  std::string src = MakeFidelityTree();
  std::string id = Backup(c, {src});
  // Flip one byte in the middle of every fragment file of position 0 (data).
  RunResult flip = Shell(
      absl::StrCat("set -e; n=0; for f in $(find ", cluster->DataDir(0), "/fragments -type f); do ",
                   "python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,\"rb\").read()); "
                   "b[len(b)//2]^=1; open(p,\"wb\").write(b)' $f; n=$((n+1)); done; echo $n"));
  ASSERT_EQ(flip.code, 0) << flip.Describe();
  ASSERT_GT(std::stoi(flip.out), 0) << "no fragment files found";
  ASSERT_TRUE(cluster->Pause(3).ok());
  std::string target = TempDir("restore");
  RunResult r = c.Sk({"restore", id, "--target", target});
  ASSERT_TRUE(cluster->Resume(3).ok());
  ASSERT_EQ(r.code, 0) << r.Describe();
  ExpectSameTree(src, target + src);
}

// --exclude / --exclude-file leave matching paths out; tags are recorded.
TEST(CustomerE2E, ExcludesAndTags) {
  auto cluster = StartCluster(2);
  ASSERT_NE(cluster, nullptr);
  Customer c;
  ASSERT_EQ(Init(c, *cluster).code, 0);
  std::string src = TempDir("src");
  ASSERT_EQ(Shell("set -e; cd " + src +
                  "; mkdir -p a/b cache logs; echo k > a/keep.txt; echo o > a/b/x.o; "
                  "echo c > cache/c; echo l > logs/l.log; echo 'logs' > ../excl-" +
                  src.substr(src.rfind('/') + 1))
                .code,
            0);
  std::string exclude_file =
      src.substr(0, src.rfind('/')) + "/excl-" + src.substr(src.rfind('/') + 1);
  RunResult b = c.Sk({"backup", src, "--exclude", "*.o", "--exclude", src + "/cache",
                      "--exclude-file", exclude_file, "--tag", "nightly", "--json"});
  ASSERT_EQ(b.code, 0) << b.Describe();
  RunResult ls = c.Sk({"ls", "latest", src});
  ASSERT_EQ(ls.code, 0) << ls.Describe();
  EXPECT_NE(ls.out.find(src + "/a/keep.txt\n"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find(src + "/a/b\n"), std::string::npos) << ls.out;
  EXPECT_EQ(ls.out.find("x.o"), std::string::npos) << ls.out;
  EXPECT_EQ(ls.out.find(src + "/cache"), std::string::npos) << ls.out;
  EXPECT_EQ(ls.out.find(src + "/logs"), std::string::npos) << ls.out;
  RunResult snaps = c.Sk({"snapshots", "--json"});
  EXPECT_NE(snaps.out.find("\"tags\":[\"nightly\"]"), std::string::npos) << snaps.out;
}

// A supplier that refuses the contract is named with the quota; what the
// others granted is given back, and no vault is left half made.
TEST(CustomerE2E, RefusedContractIsNamedAndGrantsAreGivenBack) {
  SupplierClusterOptions o;
  o.capacity_bytes = 4ULL << 30;
  auto started = SupplierCluster::Start(3, o);
  ASSERT_TRUE(started.ok()) << started.status();
  auto& cluster = *started;
  Customer x, y;
  RunResult rx = x.Sk({"init", "--suppliers", cluster->Address(1) + "," + cluster->Address(2),
                       "--data-shards", "1", "--needed", "3GiB"});
  ASSERT_EQ(rx.code, 0) << rx.Describe();
  // y asks 2 GiB of each; supplier 1 has only 1 GiB left.
  RunResult ry = y.Sk({"init", "--suppliers", cluster->Address(0) + "," + cluster->Address(1),
                       "--data-shards", "1", "--needed", "2GiB"});
  EXPECT_EQ(ry.code, 1) << ry.Describe();
  EXPECT_NE(ry.err.find(cluster->Address(1)), std::string::npos) << ry.err;
  EXPECT_NE(ry.err.find("2.00 GiB"), std::string::npos) << ry.err;
  auto info_client = testing::SupplierClient::Connect(cluster->Address(0), std::string(32, 'x'));
  ASSERT_TRUE(info_client.ok()) << info_client.status();
  auto info = (*info_client)->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->granted_bytes(), 0u);
  EXPECT_EQ(y.Sk({"snapshots"}).code, 10);
}

// Exit codes a script can rely on.
TEST(CustomerE2E, ExitCodes) {
  auto cluster = StartCluster(2);
  ASSERT_NE(cluster, nullptr);
  Customer c;
  // Not initialised: 10, before any passphrase is needed.
  RunResult none = c.Sk({"snapshots"});
  EXPECT_EQ(none.code, 10) << none.Describe();
  EXPECT_NE(none.err.find(c.config), std::string::npos) << none.err;
  // Usage: 2.
  EXPECT_EQ(c.Sk({"backup", "--no-such-flag", "/tmp"}).code, 2);
  // A path that does not exist: an error naming it, before anything else.
  RunResult missing = c.Sk({"backup", "/no/such/path"});
  EXPECT_EQ(missing.code, 1) << missing.Describe();
  EXPECT_NE(missing.err.find("/no/such/path"), std::string::npos) << missing.err;
  EXPECT_EQ(c.Sk({"init"}).code, 2);
  // A malformed supplier address is a usage error naming it, not "unreachable".
  for (const std::string bad : {"127.0.0.1:99999", "garbage", ":7700", "host:"}) {
    RunResult r = c.Sk({"init", "--suppliers", cluster->Address(0) + "," + bad});
    EXPECT_EQ(r.code, 2) << bad << "\n" << r.Describe();
    EXPECT_NE(r.err.find("\"" + bad + "\""), std::string::npos) << r.err;
  }
  RunResult twice = c.Sk({"init", "--suppliers", cluster->Address(0) + "," + cluster->Address(0)});
  EXPECT_EQ(twice.code, 2) << twice.Describe();
  EXPECT_NE(twice.err.find(cluster->Address(0)), std::string::npos) << twice.err;
  RunResult zero_block = c.Sk({"init", "--suppliers", cluster->AddressList(), "--block-size", "0"});
  EXPECT_EQ(zero_block.code, 2) << zero_block.Describe();
  EXPECT_EQ(c.Sk({"frobnicate"}).code, 2);
  // Every subcommand has --help, listing the exit codes.
  for (const char* cmd : {"init", "backup", "snapshots", "ls", "restore"}) {
    RunResult h = c.Sk({cmd, "--help"});
    EXPECT_EQ(h.code, 0) << cmd;
    EXPECT_NE(h.out.find("Exit codes"), std::string::npos) << cmd << h.out;
  }
  ASSERT_EQ(Init(c, *cluster).code, 0);
  // Init twice in one config dir is refused.
  EXPECT_EQ(Init(c, *cluster).code, 1);
  // Wrong passphrase: 12.
  RunResult wrong = c.Sk({"snapshots"}, "not the passphrase");
  EXPECT_EQ(wrong.code, 12) << wrong.Describe();
  // Suppliers unreachable: 13, naming them.
  std::string src = TempDir("src");
  ASSERT_EQ(Shell("echo x > " + src + "/x").code, 0);
  ASSERT_TRUE(cluster->Kill(0).ok());
  ASSERT_TRUE(cluster->Kill(1).ok());
  RunResult down = c.Sk({"backup", src});
  EXPECT_EQ(down.code, 13) << down.Describe();
  EXPECT_NE(down.err.find(cluster->Address(0)), std::string::npos) << down.err;
  EXPECT_EQ(c.Sk({"snapshots"}).code, 13);
}

// An unreadable file: the backup finishes, names it, exits 3 ("partial").
TEST(CustomerE2E, UnreadableFileMakesPartialBackup) {
  auto cluster = StartCluster(2);
  ASSERT_NE(cluster, nullptr);
  Customer c;
  std::string src = TempDir("src");
  std::string shared;  // as root: dirs the unprivileged customer can reach
  ASSERT_EQ(Shell("echo ok > " + src + "/readable && echo no > " + src + "/secret && chmod 000 " +
                  src + "/secret")
                .code,
            0);
  std::vector<std::string> prefix;
  if (geteuid() == 0) {
    // Root reads anything: run the customer as nobody instead, in dirs under
    // /tmp (the test's own tmpdir may sit below a 0700 /root).
    char tmpl[] = "/tmp/shardkeep-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    shared = tmpl;
    ASSERT_EQ(Shell("chmod 755 " + shared + " && mv " + src + " " + shared + "/src").code, 0);
    src = shared + "/src";
    c.config = shared + "/config";
    c.cache = shared + "/cache";
    ASSERT_EQ(
        Shell("mkdir " + c.config + " " + c.cache + " && chown -R 65534:65534 " + shared + "/*")
            .code,
        0);
    prefix = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
  }
  auto sk = [&](std::vector<std::string> args) {
    args.insert(args.begin(), Runfile("customer/shardkeep"));
    args.insert(args.begin(), prefix.begin(), prefix.end());
    return RunCommand(args, {{"SHARDKEEP_CONFIG_DIR", c.config},
                             {"SHARDKEEP_CACHE_DIR", c.cache},
                             {"SHARDKEEP_PASSWORD", c.password}});
  };
  RunResult init = sk({"init", "--suppliers", cluster->AddressList(), "--needed", "1GiB"});
  ASSERT_EQ(init.code, 0) << init.Describe();
  RunResult b = sk({"backup", src});
  EXPECT_EQ(b.code, 3) << b.Describe();
  EXPECT_NE(b.err.find(src + "/secret"), std::string::npos) << b.err;
  EXPECT_NE(b.out.find("snapshot "), std::string::npos) << b.out;
  RunResult ls = sk({"ls", "latest", src});
  EXPECT_NE(ls.out.find(src + "/readable"), std::string::npos) << ls.Describe();
  EXPECT_EQ(ls.out.find(src + "/secret"), std::string::npos) << ls.out;
  if (!shared.empty()) Shell("rm -rf " + shared);
}

}  // namespace
}  // namespace shardkeep::cli_test

// Restore never writes outside --target, whatever the snapshot holds. The
// test writes a hostile snapshot straight into a vault through the library
// (names with "..", "/", ".", empty names; a symlink to a directory outside
// the target followed by a directory of the same name with a file in it),
// then runs the real `shardkeep restore` on it.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "customer/vault/block.h"
#include "customer/net/grpc_supplier_client.h"
#include "customer/vault/objects.h"
#include "customer/repo/repository.h"
#include "customer/repo/tree_node.h"
#include "customer/vault/vault.h"
#include "common/workers.h"
#include "gtest/gtest.h"
#include "tests/harness/supplier_cluster.h"

extern char** environ;

namespace shardkeep::customer {
namespace {

using vault::v1::Tree;
using vault::v1::TreeNode;

std::string Env(const char* n) { return getenv(n) ? getenv(n) : ""; }

std::string Binary() {
  for (const std::string& root : {Env("TEST_SRCDIR"), Env("RUNFILES_DIR")}) {
    std::string p = root + "/shardkeep/customer/shardkeep";
    if (!root.empty() && access(p.c_str(), X_OK) == 0) return p;
  }
  return "customer/shardkeep";
}

std::string TempDir(const std::string& what) {
  std::string root = Env("TEST_TMPDIR").empty() ? "/tmp" : Env("TEST_TMPDIR");
  std::string t = root + "/" + what + "-XXXXXX";
  if (mkdtemp(t.data()) == nullptr) abort();
  return t;
}

// Runs the CLI with the vault's env; returns the exit code, stderr in *err.
int Shardkeep(const std::vector<std::string>& args, const std::string& config,
              const std::string& cache, std::string* err) {
  std::string err_path = TempDir("err") + "/stderr";
  std::vector<std::string> env = {"SHARDKEEP_CONFIG_DIR=" + config, "SHARDKEEP_CACHE_DIR=" + cache,
                                  "SHARDKEEP_PASSWORD=pw", "SHARDKEEP_INSECURE_TEST_KDF=1",
                                  "PATH=/usr/bin:/bin",
                                  "HOME=" + Env("HOME")};
  std::vector<std::string> argv = {Binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> a, e;
  for (auto& s : argv) a.push_back(s.data());
  a.push_back(nullptr);
  for (auto& s : env) e.push_back(s.data());
  e.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT, 0644);
  pid_t pid;
  int spawned = posix_spawn(&pid, a[0], &fa, nullptr, a.data(), e.data());
  posix_spawn_file_actions_destroy(&fa);
  if (spawned != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream f(err_path);
  std::stringstream ss;
  ss << f.rdbuf();
  *err = ss.str();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Writes chunks into blocks and blocks, index and a snapshot into a vault,
// the way a (hostile) client could.
class SnapshotWriter {
 public:
  explicit SnapshotWriter(Repository& repo) : repo_(repo) {}

  vault::v1::ChunkRef AddChunk(vault::v1::BlockKind kind, const std::string& data) {
    auto& b = kind == vault::v1::BLOCK_KIND_TREE ? tree_ : data_;
    if (!b) b = std::make_unique<BlockBuilder>(kind, crypto::RandomBytes(kBlockIdSize), 1 << 20);
    std::string id = crypto::ChunkId(repo_.vault().keys().chunk_id_key, data);
    b->Add(id, data, data.size(), false);
    vault::v1::ChunkRef ref;
    ref.set_id(id);
    ref.set_length(data.size());
    return ref;
  }
  vault::v1::ChunkRef AddTree(const Tree& tree) {
    return AddChunk(vault::v1::BLOCK_KIND_TREE, SerializeTree(tree));
  }

  absl::StatusOr<std::string> Commit(const vault::v1::ChunkRef& root) {
    vault::v1::IndexPiece piece;
    piece.set_version(1);
    for (auto* b : {&data_, &tree_}) {
      if (!*b) continue;
      vault::v1::BlockRecord rec;
      rec.set_block_id((*b)->block_id());
      rec.set_kind((*b)->table().kind());
      *rec.mutable_chunks() = (*b)->table().chunks();
      std::string plain = (*b)->Finish();
      ASSIGN_OR_RETURN(std::string sealed,
                       SealBlock(repo_.vault().keys().block_key, rec.block_id(), plain));
      rec.set_sealed_size(sealed.size());
      ASSIGN_OR_RETURN(auto fragments, repo_.codec().Encode(sealed));
      rec.set_fragment_size(fragments[0].size());
      std::vector<std::string> shas;
      for (const auto& f : fragments) {
        shas.push_back(crypto::Sha256(f));
        rec.add_fragment_sha256(shas.back());
      }
      Latch latch(repo_.n());
      std::mutex mu;
      absl::Status first_error;
      repo_.suppliers().PutFragmentsAsync(rec.block_id(), &fragments, shas,
                                          [&](int, absl::Status s) {
                                            {
                                              std::lock_guard<std::mutex> lock(mu);
                                              if (!s.ok() && first_error.ok()) first_error = s;
                                            }
                                            latch.CountDown();
                                          });
      latch.Wait();
      RETURN_IF_ERROR(first_error);
      rec.set_stored_mask((uint64_t{1} << repo_.n()) - 1);
      *piece.add_blocks() = std::move(rec);
    }
    vault::v1::Snapshot snap;
    snap.set_id(crypto::RandomBytes(16));
    snap.set_time_ns(1);
    snap.add_paths("/hostile");
    *snap.add_root() = root;
    std::string hex = crypto::ToHex(snap.id());
    RETURN_IF_ERROR(repo_.PutObject("index/" + hex + ".0", piece.SerializeAsString(), false));
    RETURN_IF_ERROR(repo_.PutObject("snapshots/" + hex, snap.SerializeAsString(), false));
    return hex;
  }

 private:
  Repository& repo_;
  std::unique_ptr<BlockBuilder> data_, tree_;
};

TreeNode File(const std::string& name, const vault::v1::ChunkRef& content) {
  TreeNode n;
  n.set_name(name);
  n.set_type(vault::v1::NODE_TYPE_FILE);
  n.set_mode(0644);
  n.set_size(content.length());
  n.set_nlink(1);
  auto* c = n.add_content();
  c->set_offset(0);
  c->set_id(content.id());
  c->set_length(content.length());
  return n;
}

TreeNode Dir(const std::string& name, const vault::v1::ChunkRef& subtree) {
  TreeNode n;
  n.set_name(name);
  n.set_type(vault::v1::NODE_TYPE_DIR);
  n.set_mode(0755);
  *n.add_subtree() = subtree;
  return n;
}

TreeNode Symlink(const std::string& name, const std::string& target) {
  TreeNode n;
  n.set_name(name);
  n.set_type(vault::v1::NODE_TYPE_SYMLINK);
  n.set_mode(0777);
  n.set_symlink_target(target);
  return n;
}

TEST(RestoreSafetyTest, HostileSnapshotStaysInsideTarget) {
  auto cluster = testing::SupplierCluster::Start(2);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::string config = TempDir("config"), cache = TempDir("cache"), err;
  ASSERT_EQ(Shardkeep({"init", "--suppliers", (*cluster)->AddressList(), "--needed", "1GiB",
                       "--allow-weak-passphrase"},
                      config, cache, &err),
            0)
      << err;
  auto vault = Vault::Open(config, cache, "pw");
  ASSERT_TRUE(vault.ok()) << vault.status();
  auto repo = Repository::Open(std::move(*vault), ConnectGrpcSupplier);
  ASSERT_TRUE(repo.ok()) << repo.status();
  ASSERT_TRUE((*repo)->CheckSuppliers(2).ok());

  // outside/ holds the target; nothing may appear in outside/ except target/.
  std::string outside = TempDir("outside");
  std::string target = outside + "/target";
  std::string elsewhere = TempDir("elsewhere");

  SnapshotWriter w(**repo);
  auto payload = w.AddChunk(vault::v1::BLOCK_KIND_DATA, "pwned\n");
  Tree inner;
  *inner.add_nodes() = File("pwned", payload);
  auto inner_ref = w.AddTree(inner);
  Tree t;
  const std::vector<std::string> bad_names = {
      "..", "../escape", "/abs", "a/b", ".", "", std::string("nul\0x", 5)};
  for (const std::string& bad : bad_names) {
    *t.add_nodes() = File(bad, payload);
  }
  *t.add_nodes() = Dir("..", inner_ref);
  *t.add_nodes() = Symlink("link", elsewhere);  // absolute, outside
  *t.add_nodes() = Dir("link", inner_ref);      // same name: must not follow the link
  *t.add_nodes() = Symlink("up", "..");
  *t.add_nodes() = Dir("up", inner_ref);
  *t.add_nodes() = File("ok", payload);
  auto t_ref = w.AddTree(t);
  Tree root;
  *root.add_nodes() = Dir("..", t_ref);  // the top level tries too
  *root.add_nodes() = Dir("t", t_ref);
  auto root_ref = w.AddTree(root);
  auto id = w.Commit(root_ref);
  ASSERT_TRUE(id.ok()) << id.status();

  int code = Shardkeep({"restore", *id, "--target", target}, config, cache, &err);
  EXPECT_EQ(code, 1) << err;  // reported as errors, never silently
  EXPECT_NE(err.find("unsafe name"), std::string::npos) << err;

  // The safe parts are there.
  std::ifstream ok(target + "/t/ok");
  std::string line;
  std::getline(ok, line);
  EXPECT_EQ(line, "pwned");
  // Nothing outside the target: not next to it, not where the links point.
  auto entries = [](const std::string& dir) {
    std::string out;
    std::string cmd = "ls -A " + dir;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[256];
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
    return out;
  };
  EXPECT_EQ(entries(outside), "target\n");
  EXPECT_EQ(entries(elsewhere), "");
  struct stat st;
  EXPECT_NE(lstat((outside + "/escape").c_str(), &st), 0);
  EXPECT_NE(lstat("/abs", &st), 0);
}

}  // namespace
}  // namespace shardkeep::customer

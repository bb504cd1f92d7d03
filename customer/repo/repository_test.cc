// Repository over in-memory suppliers: names in a hostile supplier's
// listing never reach a path (vault/names.h), and are reported.
#include "customer/repo/repository.h"

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "customer/repo/block_writer.h"
#include "customer/repo/mem_vault_for_test.h"
#include "customer/vault/names.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

using testing::MemVault;

TEST(RepositoryTest, ListedNamesThatDoNotParseAreSkippedWithAWarning) {
  auto vault = MemVault::Create();
  ASSERT_TRUE(vault.ok()) << vault.status();
  // One honest snapshot record and index piece, written as a backup does.
  const std::string snap_id(16, '\x5a');
  {
    auto repo = (*vault)->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    vault::v1::Snapshot snap;
    snap.set_id(snap_id);
    snap.set_time_ns(1);
    ASSERT_TRUE((*repo)->PutObject(SnapshotObjectName(snap_id), snap.SerializeAsString(), true)
                    .ok());
  }
  const std::vector<std::string> hostile = {
      "snapshots/../../../../tmp/owned",
      "snapshots/" + std::string(32, 'A'),
      "index/../../escape.0",
      "index/5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a.01",
      std::string("snapshots/\n") + std::string(31, 'a'),
  };
  (*vault)->faults(1).AddListed(hostile);

  auto repo = (*vault)->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  std::vector<std::string> warnings;
  (*repo)->set_warning_sink([&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE((*repo)->LoadIndex().ok());
  auto snaps = (*repo)->LoadSnapshots();
  ASSERT_TRUE(snaps.ok()) << snaps.status();
  ASSERT_EQ(snaps->size(), 1u);  // the honest one, and only it
  EXPECT_EQ(snaps->front().id(), snap_id);

  // Every hostile name was reported once per listing that carried it.
  for (const std::string& name : hostile) {
    bool named = false;
    for (const auto& w : warnings) named |= w.find(PrintableName(name)) != std::string::npos;
    EXPECT_TRUE(named) << "no warning names " << PrintableName(name);
  }
  // The fault adds them to all three listings (index/, forgotten/ and
  // snapshots/): each listing reports each bad name once.
  EXPECT_EQ(warnings.size(), 3 * hostile.size());
  EXPECT_FALSE(std::filesystem::exists("/tmp/owned"));
  // The cache holds only names of the exact patterns (and the local index
  // store's own files, named by RocksDB, never by a supplier).
  const std::regex ok("^(snapshots/[0-9a-f]{32}|index/[0-9a-f]{32}\\.(0|[1-9][0-9]*)|"
                      "blocks/[0-9a-f]{32}|index\\.db/[A-Za-z0-9._-]+)$");
  for (const auto& e : std::filesystem::recursive_directory_iterator((*vault)->cache_dir())) {
    if (!e.is_regular_file()) continue;
    std::string rel = std::filesystem::relative(e.path(), (*vault)->cache_dir()).string();
    rel = rel.substr(rel.find('/') + 1);  // below <vault-id-hex>/
    EXPECT_TRUE(std::regex_match(rel, ok)) << rel;
  }
}

// A hostile supplier lists names of the right form that nobody can serve
// (phantoms): the index and snapshots still load from the honest suppliers,
// and the warning names the supplier that listed them.
TEST(RepositoryTest, PhantomNamesAreSkippedNamingTheSupplier) {
  auto vault = MemVault::Create();
  ASSERT_TRUE(vault.ok()) << vault.status();
  const std::string snap_id(16, '\x5a');
  {
    auto repo = (*vault)->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    vault::v1::Snapshot snap;
    snap.set_id(snap_id);
    snap.set_time_ns(1);
    ASSERT_TRUE((*repo)->PutObject(SnapshotObjectName(snap_id), snap.SerializeAsString(), true)
                    .ok());
  }
  const std::string phantom_snap = "snapshots/" + std::string(32, 'e');
  const std::string phantom_index = "index/" + std::string(32, 'e') + ".0";
  (*vault)->faults(2).AddListed({phantom_snap, phantom_index});

  auto repo = (*vault)->Open();  // loads the index: must not fail on the phantom
  ASSERT_TRUE(repo.ok()) << repo.status();
  std::vector<std::string> warnings;
  (*repo)->set_warning_sink([&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE((*repo)->LoadIndex().ok());
  auto snaps = (*repo)->LoadSnapshots();
  ASSERT_TRUE(snaps.ok()) << snaps.status();
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_EQ(snaps->front().id(), snap_id);
  // The fault adds both names to all three listings (index/, forgotten/,
  // snapshots/): in each, a name of another kind does not fit, and the one
  // that fits cannot be served.
  ASSERT_EQ(warnings.size(), 6u);
  for (const std::string& name : {phantom_index, phantom_snap}) {
    bool named = false;
    for (const auto& w : warnings) {
      named |= w == "skipping object " + name + " listed by " + (*vault)->address(2) +
                        ": no supplier serves a valid copy";
    }
    EXPECT_TRUE(named) << "no warning names " << name << " and its supplier";
  }
}

// A supplier whose listing fails (as an endless or oversized listing does,
// see grpc_supplier_client) is named and the others' listings are used.
TEST(RepositoryTest, FailingListingIsNamedAndTheOthersServe) {
  auto vault = MemVault::Create();
  ASSERT_TRUE(vault.ok()) << vault.status();
  const std::string snap_id(16, '\x33');
  {
    auto repo = (*vault)->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    vault::v1::Snapshot snap;
    snap.set_id(snap_id);
    ASSERT_TRUE((*repo)->PutObject(SnapshotObjectName(snap_id), snap.SerializeAsString(), true)
                    .ok());
  }
  auto repo = (*vault)->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  (*vault)->faults(0).Fail(SupplierMethod::kListObjects,
                           absl::DataLossError("ListObjects snapshots/: more than 1048576 names"));
  std::vector<std::string> warnings;
  (*repo)->set_warning_sink([&](const std::string& w) { warnings.push_back(w); });
  auto snaps = (*repo)->LoadSnapshots();
  ASSERT_TRUE(snaps.ok()) << snaps.status();
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_TRUE((*repo)->suppliers().IsDown(0));
  bool named = false;
  for (const auto& w : warnings) {
    // The first listing of LoadSnapshots (tombstones, forgotten/) is the one
    // that fails and names it.
    named |= w.find("supplier " + (*vault)->address(0) + ": listing forgotten/ failed") !=
             std::string::npos;
  }
  EXPECT_TRUE(named);
}

// A fragment of another size than the index records is refused (it never
// reaches the decoder) and counted as corrupt for that supplier; the block
// still comes back from the others.
TEST(RepositoryTest, FragmentOfTheWrongSizeIsRefusedAndCounted) {
  auto vault = MemVault::Create();
  ASSERT_TRUE(vault.ok()) << vault.status();
  auto repo = (*vault)->Open();
  ASSERT_TRUE(repo.ok()) << repo.status();
  BlockWriter writer(**repo, BlockWriter::Options{1}, nullptr, nullptr);
  const std::string raw = crypto::RandomBytes(20000);
  const std::string id = crypto::RandomBytes(32);
  ASSERT_TRUE(writer.Add(vault::v1::BLOCK_KIND_DATA, id, raw, raw.size(), false).ok());
  ASSERT_TRUE(writer.Flush().ok());
  ASSERT_TRUE(writer.Wait().ok());
  ASSERT_EQ((*repo)->index().block_count(), 1u);
  const vault::v1::BlockRecord rec = (*repo)->index().block(0);
  // Position 0 now holds a longer fragment under the same key.
  const std::string big(rec.fragment_size() + 4096, 'x');
  ASSERT_TRUE((*repo)->suppliers().at(0)->PutFragment(FragmentKey(rec.block_id(), 0), big,
                                                      crypto::Sha256(big)).ok());
  auto plain = (*repo)->LoadBlock(0);
  ASSERT_TRUE(plain.ok()) << plain.status();
  auto troubles = (*repo)->suppliers().FetchTroubles();
  EXPECT_EQ(troubles[0].corrupt, 1u);
  EXPECT_NE(troubles[0].first_error.find("the index expects"), std::string::npos)
      << troubles[0].first_error;
}

}  // namespace
}  // namespace shardkeep::customer

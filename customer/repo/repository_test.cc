// Repository over in-memory suppliers: names in a hostile supplier's
// listing never reach a path (vault/names.h), and are reported.
#include "customer/repo/repository.h"

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

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
  // The fault adds them to both listings (index/ and snapshots/): each
  // listing reports each bad name once.
  EXPECT_EQ(warnings.size(), 2 * hostile.size());
  EXPECT_FALSE(std::filesystem::exists("/tmp/owned"));
  // The cache holds only names of the exact patterns.
  const std::regex ok("^(snapshots/[0-9a-f]{32}|index/[0-9a-f]{32}\\.(0|[1-9][0-9]*)|"
                      "blocks/[0-9a-f]{32})$");
  for (const auto& e : std::filesystem::recursive_directory_iterator((*vault)->cache_dir())) {
    if (!e.is_regular_file()) continue;
    std::string rel = std::filesystem::relative(e.path(), (*vault)->cache_dir()).string();
    rel = rel.substr(rel.find('/') + 1);  // below <vault-id-hex>/
    EXPECT_TRUE(std::regex_match(rel, ok)) << rel;
  }
}

}  // namespace
}  // namespace shardkeep::customer

// Start-up safety against real supplier processes (issue 11): a data dir
// whose fragments are not there, or whose database is an older copy, must
// not be "reconciled" into an empty supplier.
#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/supplier/test_util.h"

namespace shardkeep::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(SupplierStartup, AMissingFragmentsDirectoryRefusesToStartAndIsNotRecreated) {
  auto cluster = StartCluster(1);
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a && a->RequestContract(1 << 20).ok());
  const std::string data = RandomData(50000, 1);
  ASSERT_TRUE(a->PutFragment("f", data).ok());
  ASSERT_TRUE(cluster->Stop(0).ok());
  // The disk that holds the fragments is "not mounted".
  const std::string frags = cluster->DataDir(0) + "/fragments";
  fs::rename(frags, cluster->DataDir(0) + "/elsewhere");
  absl::Status s = cluster->Restart(0);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("exit code 2"));
  EXPECT_THAT(cluster->LogTail(0), HasSubstr("has a database but no fragments directory"));
  EXPECT_FALSE(fs::exists(frags)) << "the fragments directory was recreated";
  // Mounted again: everything is there.
  fs::rename(cluster->DataDir(0) + "/elsewhere", frags);
  ASSERT_TRUE(cluster->Restart(0).ok()) << cluster->LogTail(0);
  a = Connect(*cluster, 0, 'a');
  EXPECT_EQ(*a->GetFragment("f"), data);
}

TEST(SupplierStartup, AnOlderDatabaseCopyRefusesToStartAndNothingIsDeleted) {
  auto cluster = StartCluster(1);
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a && a->RequestContract(16 << 20).ok());
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(a->PutFragment("old" + std::to_string(i), "x").ok());
  // The operator's backup of the database (taken while stopped).
  ASSERT_TRUE(cluster->Stop(0).ok());
  const std::string db = cluster->DataDir(0) + "/db";
  const std::string backup = cluster->base_dir() + "/db-backup";
  fs::copy(db, backup, fs::copy_options::recursive);
  ASSERT_TRUE(cluster->Restart(0).ok());
  a = Connect(*cluster, 0, 'a');
  // Later: 15 old fragments deleted, 20 new ones stored.
  std::vector<std::string> doomed;
  for (int i = 0; i < 15; ++i) doomed.push_back("old" + std::to_string(i));
  ASSERT_TRUE(a->DeleteFragments(doomed).ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(a->PutFragment("new" + std::to_string(i), "y").ok());
  ASSERT_TRUE(cluster->Stop(0).ok());
  const int files_before = FragmentFilesOnDisk(*cluster, 0);
  ASSERT_EQ(files_before, 35);
  // The database is restored from the older copy.
  fs::remove_all(db);
  fs::copy(backup, db, fs::copy_options::recursive);
  absl::Status s = cluster->Restart(0);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(cluster->LogTail(0), HasSubstr("15 of the 30 indexed fragment files are missing"));
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), files_before);
  EXPECT_EQ(QuarantinedFiles(*cluster, 0), 0);
  // The operator accepts the loss: the 15 records are dropped, the 20 newer
  // files (which the old database does not know) are quarantined, not deleted.
  ASSERT_TRUE(cluster->Restart(0, {"--accept-missing-files"}).ok()) << cluster->LogTail(0);
  EXPECT_EQ(QuarantinedFiles(*cluster, 0), 20);
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), 15);
  a = Connect(*cluster, 0, 'a');
  EXPECT_EQ(*a->GetFragment("old20"), "x");
  EXPECT_EQ(a->ListFragments()->fragments_size(), 15);
}

}  // namespace
}  // namespace shardkeep::testing

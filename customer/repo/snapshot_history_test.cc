#include "customer/repo/snapshot_history.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shardkeep::customer {
namespace {

vault::v1::Snapshot Snap(char id, uint64_t seq, char pred, int64_t t) {
  vault::v1::Snapshot s;
  s.set_id(std::string(16, id));
  s.set_sequence(seq);
  if (pred != 0) s.set_predecessor(std::string(16, pred));
  s.set_time_ns(t);
  return s;
}

const std::vector<std::string> kAddresses = {"a:1", "b:2", "c:3", "d:4"};

std::string Joined(const SnapshotHistory& h) {
  std::string out;
  for (const auto& p : h.problems) out += p + "\n";
  return out;
}

TEST(SnapshotHistory, CompleteChainListedByAllIsQuiet) {
  std::vector<vault::v1::Snapshot> snaps = {Snap('a', 1, 0, 10), Snap('b', 2, 'a', 20),
                                            Snap('c', 3, 'b', 30)};
  std::map<std::string, uint64_t> listed = {{std::string(16, 'a'), 0xf},
                                            {std::string(16, 'b'), 0xf},
                                            {std::string(16, 'c'), 0xf}};
  vault::v1::SeenState seen;
  seen.set_newest_sequence(3);
  SnapshotHistory h = CheckSnapshotHistory(snaps, listed, 0xf, kAddresses, seen);
  EXPECT_TRUE(h.problems.empty()) << Joined(h);
  EXPECT_EQ(h.newest_sequence, 3u);
  EXPECT_EQ(h.newest_id, std::string(16, 'c'));
}

TEST(SnapshotHistory, ASupplierLeavingOutTheNewestIsNamed) {
  std::vector<vault::v1::Snapshot> snaps = {Snap('a', 1, 0, 10), Snap('b', 2, 'a', 20)};
  std::map<std::string, uint64_t> listed = {{std::string(16, 'a'), 0xf},
                                            {std::string(16, 'b'), 0xd}};  // c:3... bit 1 clear
  SnapshotHistory h = CheckSnapshotHistory(snaps, listed, 0xf, kAddresses, {});
  ASSERT_EQ(h.problems.size(), 1u) << Joined(h);
  EXPECT_NE(h.problems[0].find("supplier b:2 (position 1) does not list 1 of 2"),
            std::string::npos)
      << Joined(h);
  // A supplier that did not answer is not blamed.
  h = CheckSnapshotHistory(snaps, listed, 0xd, kAddresses, {});
  EXPECT_TRUE(h.problems.empty()) << Joined(h);
}

TEST(SnapshotHistory, GapAndRememberedNewerAreReported) {
  // Sequence 2 is missing everywhere: 3 names it as its predecessor.
  std::vector<vault::v1::Snapshot> snaps = {Snap('a', 1, 0, 10), Snap('c', 3, 'b', 30)};
  std::map<std::string, uint64_t> listed = {{std::string(16, 'a'), 0xf},
                                            {std::string(16, 'c'), 0xf}};
  vault::v1::SeenState seen;
  seen.set_newest_sequence(4);
  seen.set_newest_snapshot_id(std::string(16, 'd'));
  seen.set_newest_time_ns(40);
  SnapshotHistory h = CheckSnapshotHistory(snaps, listed, 0xf, kAddresses, seen);
  ASSERT_EQ(h.problems.size(), 2u) << Joined(h);
  EXPECT_NE(Joined(h).find("which no supplier lists"), std::string::npos);
  EXPECT_NE(Joined(h).find("newer than any snapshot the suppliers list now"), std::string::npos);
  // The next snapshot follows the remembered one, not the rolled-back view.
  EXPECT_EQ(h.newest_sequence, 4u);
  EXPECT_EQ(h.newest_id, std::string(16, 'd'));
}

// The same gap and remembered snapshot, but the owner forgot them: the
// tombstones explain both, and the next snapshot still numbers after them.
TEST(SnapshotHistory, TombstonesExplainGapsAndForgottenNewest) {
  std::vector<vault::v1::Snapshot> snaps = {Snap('a', 1, 0, 10), Snap('c', 3, 'b', 30)};
  std::map<std::string, uint64_t> listed = {{std::string(16, 'a'), 0xf},
                                            {std::string(16, 'c'), 0xf}};
  vault::v1::SeenState seen;
  seen.set_newest_sequence(4);
  seen.set_newest_snapshot_id(std::string(16, 'd'));
  seen.set_newest_time_ns(40);
  std::map<std::string, vault::v1::Forgotten> forgotten;
  for (auto [id, seq] : {std::pair<char, uint64_t>{'b', 2}, {'d', 4}}) {
    vault::v1::Forgotten f;
    f.set_snapshot_id(std::string(16, id));
    f.set_sequence(seq);
    f.set_time_ns(seq * 10);
    forgotten[f.snapshot_id()] = f;
  }
  SnapshotHistory h = CheckSnapshotHistory(snaps, listed, 0xf, kAddresses, seen, forgotten);
  EXPECT_TRUE(h.problems.empty()) << Joined(h);
  EXPECT_EQ(h.newest_sequence, 4u);
  EXPECT_EQ(h.newest_id, std::string(16, 'd'));
  // Without the tombstone of 'b', the gap is reported again.
  forgotten.erase(std::string(16, 'b'));
  h = CheckSnapshotHistory(snaps, listed, 0xf, kAddresses, seen, forgotten);
  ASSERT_EQ(h.problems.size(), 1u) << Joined(h);
  EXPECT_NE(Joined(h).find("which no supplier lists"), std::string::npos);
}

TEST(SnapshotHistory, OldRecordsWithoutSequenceAndConcurrentBackupsAreQuiet) {
  // Records older than 0.2 (sequence 0), then two backups started at once
  // from two machines (same predecessor, same sequence).
  std::vector<vault::v1::Snapshot> snaps = {Snap('a', 0, 0, 10), Snap('b', 1, 'a', 20),
                                            Snap('c', 2, 'b', 30), Snap('d', 2, 'b', 31)};
  std::map<std::string, uint64_t> listed;
  for (const auto& s : snaps) listed[s.id()] = 0x3;
  SnapshotHistory h = CheckSnapshotHistory(snaps, listed, 0x3, kAddresses, {});
  EXPECT_TRUE(h.problems.empty()) << Joined(h);
  EXPECT_EQ(h.newest_sequence, 2u);
  EXPECT_EQ(h.newest_id, std::string(16, 'd'));  // the later of the two
}

}  // namespace
}  // namespace shardkeep::customer

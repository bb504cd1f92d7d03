#include "customer/ui/json.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

const std::string kId(16, '\x3f');  // "3f3f..."
const std::string kIdHex = "3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f";

vault::v1::Snapshot Snapshot() {
  vault::v1::Snapshot s;
  s.set_id(kId);
  s.set_time_ns(1709298309LL * 1000000000 + 5);
  s.set_hostname("host");
  s.set_username("ann");
  s.add_paths("/home/ann");
  s.add_paths("/etc");
  s.add_tags("nightly");
  s.set_program("shardkeep 0.1.0");
  s.set_partial(true);
  auto* m = s.mutable_summary();
  m->set_files_new(1);
  m->set_files_changed(2);
  m->set_files_unchanged(3);
  m->set_dirs(4);
  m->set_other_nodes(5);
  m->set_bytes_total(6);
  m->set_bytes_read(7);
  m->set_chunks_new(8);
  m->set_bytes_new_raw(9);
  m->set_bytes_stored(10);
  m->set_blocks(11);
  m->set_blocks_degraded(12);
  m->set_errors(13);
  m->set_warnings(14);
  m->set_seconds(6.0123456);
  auto* b = m->add_supplier_bytes();
  b->set_position(0);
  b->set_address("127.0.0.1:7701");
  b->set_bytes(15);
  return s;
}

TEST(JsonTest, Snapshot) {
  EXPECT_EQ(DumpJson(SnapshotJson(Snapshot(), absl::FixedTimeZone(3600))),
            "{\"id\":\"" + kIdHex +
                "\",\"short_id\":\"3f3f3f3f\","
                "\"time\":\"2024-03-01T14:05:09.000000005+01:00\",\"hostname\":\"host\","
                "\"username\":\"ann\",\"paths\":[\"/home/ann\",\"/etc\"],\"tags\":[\"nightly\"],"
                "\"parent\":\"\",\"partial\":true,\"program\":\"shardkeep 0.1.0\","
                "\"summary\":{\"files\":6,\"files_new\":1,\"files_changed\":2,"
                "\"files_unchanged\":3,\"dirs\":4,\"bytes_total\":6,\"bytes_stored\":10,"
                "\"errors\":13,\"seconds\":6.012}}");
}

TEST(JsonTest, SnapshotWithoutPathsOrTagsHasEmptyArrays) {
  vault::v1::Snapshot s;
  std::string json = DumpJson(SnapshotJson(s, absl::UTCTimeZone()));
  EXPECT_NE(json.find("\"paths\":[],\"tags\":[]"), std::string::npos) << json;
}

TEST(JsonTest, BackupSummary) {
  vault::v1::Snapshot s = Snapshot();
  s.set_parent(std::string(16, '\x01'));
  EXPECT_EQ(DumpJson(BackupSummaryJson(s)),
            "{\"message_type\":\"summary\",\"snapshot_id\":\"" + kIdHex +
                "\",\"parent\":\"01010101010101010101010101010101\",\"files_new\":1,"
                "\"files_changed\":2,\"files_unchanged\":3,\"dirs\":4,\"other_nodes\":5,"
                "\"bytes_total\":6,\"bytes_read\":7,\"chunks_new\":8,\"bytes_new_raw\":9,"
                "\"bytes_stored\":10,\"blocks\":11,\"blocks_degraded\":12,\"errors\":13,"
                "\"warnings\":14,\"partial\":true,\"seconds\":6.012,\"supplier_bytes\":["
                "{\"position\":0,\"address\":\"127.0.0.1:7701\",\"bytes\":15}]}");
}

TEST(JsonTest, RestoreSummary) {
  RestoreResult r;
  r.files = 1;
  r.dirs = 2;
  r.others = 3;
  r.hardlinks = 4;
  r.bytes = 5;
  r.blocks = 6;
  r.errors = 7;
  r.warnings = 8;
  r.lost_files = {"home/a"};
  r.supplier_report = {"supplier x: down"};
  r.margin = 1;
  r.full_margin = 2;
  r.seconds = 0.1;
  EXPECT_EQ(DumpJson(RestoreSummaryJson(kIdHex, "/tmp/r", r)),
            "{\"message_type\":\"summary\",\"snapshot_id\":\"" + kIdHex +
                "\",\"target\":\"/tmp/r\",\"files\":1,\"dirs\":2,\"other_nodes\":3,"
                "\"hardlinks\":4,\"bytes\":5,\"blocks\":6,\"errors\":7,\"warnings\":8,"
                "\"lost_files\":[\"home/a\"],\"suppliers\":[\"supplier x: down\"],"
                "\"margin\":1,\"full_margin\":2,\"seconds\":0.1}");
}

TEST(JsonTest, SecondsAreRoundedToMilliseconds) {
  EXPECT_DOUBLE_EQ(RoundSeconds(1.2345678), 1.235);
  EXPECT_DOUBLE_EQ(RoundSeconds(1.2344), 1.234);
  EXPECT_DOUBLE_EQ(RoundSeconds(0), 0);
  RestoreResult r;
  r.seconds = 12.0004;
  std::string json = DumpJson(RestoreSummaryJson("", "", r));
  EXPECT_NE(json.find("\"seconds\":12.0}"), std::string::npos) << json;
}

TEST(JsonTest, LsEntry) {
  vault::v1::TreeNode n;
  n.set_name("x");
  n.set_type(vault::v1::NODE_TYPE_SYMLINK);
  n.set_mode(0777);
  n.set_uid(1000);
  n.set_gid(100);
  n.set_size(3);
  n.set_mtime_ns(-5);
  n.set_symlink_target("../y");
  EXPECT_EQ(DumpJson(LsEntryJson("/a/x", n)),
            "{\"path\":\"/a/x\",\"name\":\"x\",\"type\":\"symlink\",\"mode\":511,\"uid\":1000,"
            "\"gid\":100,\"size\":3,\"mtime_ns\":-5,\"link_target\":\"../y\"}");
  n.set_type(vault::v1::NODE_TYPE_FILE);
  EXPECT_EQ(DumpJson(LsEntryJson("/a/x", n)).find("link_target"), std::string::npos);
}

// Names on disk need not be UTF-8: each bad byte becomes U+FFFD, valid
// UTF-8 and escapes pass as JSON requires.
TEST(JsonTest, InvalidUtf8BecomesReplacementCharacter) {
  vault::v1::TreeNode n;
  n.set_name(
      "a\xff"
      "b\xc3"
      "c");
  std::string json = DumpJson(LsEntryJson("/d/\xc3\xa9\"\n", n));
  EXPECT_NE(json.find("\"name\":\"a\xef\xbf\xbd"
                      "b\xef\xbf\xbd"
                      "c\""),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"path\":\"/d/\xc3\xa9\\\"\\n\""), std::string::npos) << json;
}

TEST(JsonTest, InitResult) {
  vault::v1::VaultConfig c;
  c.set_vault_id(kId);
  c.set_supplier_count(2);
  c.set_data_shards(1);
  c.set_block_size(8 << 20);
  c.set_needed_bytes(9007199254740993ULL);
  for (int i = 0; i < 2; ++i) {
    auto* s = c.add_suppliers();
    s->set_position(i);
    s->set_address(i == 0 ? "a:1" : "b:2");
    s->set_supplier_id(std::string(2, static_cast<char>(0xa0 + i)));
    s->set_quota_bytes(100 + i);
    if (i == 0) s->set_tls_fingerprint(std::string(32, '\xab'));
  }
  EXPECT_EQ(DumpJson(InitResultJson("/cfg", c)),
            "{\"vault_id\":\"" + kIdHex +
                "\",\"config_dir\":\"/cfg\",\"supplier_count\":2,\"data_shards\":1,"
                "\"block_size\":8388608,\"needed_bytes\":9007199254740993,\"suppliers\":["
                "{\"position\":0,\"address\":\"a:1\",\"supplier_id\":\"a0a0\","
                "\"quota_bytes\":100,\"tls_fingerprint\":\"sha256:"
                "abababababababababababababababababababababababababababababababab\"},"
                "{\"position\":1,\"address\":\"b:2\",\"supplier_id\":\"a1a1\","
                "\"quota_bytes\":101,\"tls_fingerprint\":\"\"}]}");
}

}  // namespace
}  // namespace shardkeep::customer

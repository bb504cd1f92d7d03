#include "customer/ui/json.h"

#include <cmath>

#include "common/crypto.h"
#include "common/tls_fingerprint.h"
#include "customer/ui/format.h"

namespace shardkeep::customer {

std::string DumpJson(const Json& json) {
  // error_handler_t::replace: dump() would throw type_error on bytes that
  // are not UTF-8; names on disk need not be. ensure_ascii=false keeps valid
  // UTF-8 as it is.
  return json.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

double RoundSeconds(double seconds) { return std::round(seconds * 1000.0) / 1000.0; }

Json SnapshotJson(const vault::v1::Snapshot& s, absl::TimeZone tz) {
  const auto& m = s.summary();
  const std::string id = crypto::ToHex(s.id());
  Json j;
  j["id"] = id;
  j["short_id"] = id.substr(0, 8);
  j["time"] = FormatIsoTime(s.time_ns(), tz);
  j["hostname"] = s.hostname();
  j["username"] = s.username();
  j["paths"] = Json::array();
  for (const auto& p : s.paths()) j["paths"].push_back(p);
  j["tags"] = Json::array();
  for (const auto& t : s.tags()) j["tags"].push_back(t);
  j["parent"] = crypto::ToHex(s.parent());
  j["partial"] = s.partial();
  j["program"] = s.program();
  Json& summary = j["summary"];
  summary["files"] = m.files_new() + m.files_changed() + m.files_unchanged();
  summary["files_new"] = m.files_new();
  summary["files_changed"] = m.files_changed();
  summary["files_unchanged"] = m.files_unchanged();
  summary["dirs"] = m.dirs();
  summary["bytes_total"] = m.bytes_total();
  summary["bytes_stored"] = m.bytes_stored();
  summary["errors"] = m.errors();
  summary["seconds"] = RoundSeconds(m.seconds());
  return j;
}

Json BackupSummaryJson(const vault::v1::Snapshot& snap) {
  const auto& s = snap.summary();
  Json j;
  j["message_type"] = "summary";
  j["snapshot_id"] = crypto::ToHex(snap.id());
  j["parent"] = crypto::ToHex(snap.parent());
  j["files_new"] = s.files_new();
  j["files_changed"] = s.files_changed();
  j["files_unchanged"] = s.files_unchanged();
  j["dirs"] = s.dirs();
  j["other_nodes"] = s.other_nodes();
  j["bytes_total"] = s.bytes_total();
  j["bytes_read"] = s.bytes_read();
  j["chunks_new"] = s.chunks_new();
  j["bytes_new_raw"] = s.bytes_new_raw();
  j["bytes_stored"] = s.bytes_stored();
  j["blocks"] = s.blocks();
  j["blocks_degraded"] = s.blocks_degraded();
  j["errors"] = s.errors();
  j["warnings"] = s.warnings();
  j["partial"] = snap.partial();
  j["seconds"] = RoundSeconds(s.seconds());
  j["supplier_bytes"] = Json::array();
  for (const auto& b : s.supplier_bytes()) {
    Json e;
    e["position"] = b.position();
    e["address"] = b.address();
    e["bytes"] = b.bytes();
    j["supplier_bytes"].push_back(std::move(e));
  }
  return j;
}

Json RestoreSummaryJson(const std::string& snapshot_id_hex, const std::string& target,
                        const RestoreResult& r) {
  Json j;
  j["message_type"] = "summary";
  j["snapshot_id"] = snapshot_id_hex;
  j["target"] = target;
  j["files"] = r.files;
  j["dirs"] = r.dirs;
  j["other_nodes"] = r.others;
  j["hardlinks"] = r.hardlinks;
  j["bytes"] = r.bytes;
  j["blocks"] = r.blocks;
  j["errors"] = r.errors;
  j["warnings"] = r.warnings;
  j["lost_files"] = r.lost_files;
  j["suppliers"] = r.supplier_report;
  j["margin"] = r.margin;
  j["full_margin"] = r.full_margin;
  j["seconds"] = RoundSeconds(r.seconds);
  return j;
}

Json LsEntryJson(const std::string& path, const vault::v1::TreeNode& n) {
  Json j;
  j["path"] = path;
  j["name"] = n.name();
  j["type"] = TypeName(n.type());
  j["mode"] = n.mode();
  j["uid"] = n.uid();
  j["gid"] = n.gid();
  j["size"] = n.size();
  j["mtime_ns"] = n.mtime_ns();
  if (n.type() == vault::v1::NODE_TYPE_SYMLINK) j["link_target"] = n.symlink_target();
  return j;
}

Json InitResultJson(const std::string& config_dir, const vault::v1::VaultConfig& config) {
  Json j;
  j["vault_id"] = crypto::ToHex(config.vault_id());
  j["config_dir"] = config_dir;
  j["supplier_count"] = config.supplier_count();
  j["data_shards"] = config.data_shards();
  j["block_size"] = config.block_size();
  j["needed_bytes"] = config.needed_bytes();
  j["suppliers"] = Json::array();
  for (const auto& s : config.suppliers()) {
    Json e;
    e["position"] = s.position();
    e["address"] = s.address();
    e["supplier_id"] = crypto::ToHex(s.supplier_id());
    e["quota_bytes"] = s.quota_bytes();
    // What init pinned ("sha256:<hex>"); "" when the vault speaks plaintext.
    e["tls_fingerprint"] =
        s.tls_fingerprint().empty() ? "" : tls::FormatFingerprint(s.tls_fingerprint());
    j["suppliers"].push_back(std::move(e));
  }
  return j;
}

}  // namespace shardkeep::customer

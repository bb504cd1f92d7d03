// The JSON that `--json` prints, for scripts (docs/CLI.md). Each printer
// returns an ordered object: fields keep the order and names they have
// always had. Print with DumpJson, which turns bytes that are not UTF-8
// (file names, hostnames) into U+FFFD instead of failing.
#ifndef SHARDKEEP_CUSTOMER_UI_JSON_H_
#define SHARDKEEP_CUSTOMER_UI_JSON_H_

#include <string>

#include "absl/time/time.h"
#include "customer/restore/restorer.h"
#include "nlohmann/json.hpp"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

using Json = nlohmann::ordered_json;

// One line of JSON text (no newline); invalid UTF-8 becomes U+FFFD.
// Never throws.
std::string DumpJson(const Json& json);

// Seconds as printed: rounded to milliseconds ("6.012").
double RoundSeconds(double seconds);

// One element of `snapshots --json`: id, short_id, time (FormatIsoTime in
// `tz`), hostname, username, paths, tags, parent, partial, program, summary.
Json SnapshotJson(const vault::v1::Snapshot& snapshot, absl::TimeZone tz = absl::LocalTimeZone());

// `backup --json`: {"message_type":"summary", snapshot_id, parent, counts,
// partial, seconds, supplier_bytes: [{position, address, bytes}]}.
Json BackupSummaryJson(const vault::v1::Snapshot& snapshot);

// `restore --json`: {"message_type":"summary", snapshot_id, target, counts,
// seconds}. `snapshot_id` is the full ID in hex.
Json RestoreSummaryJson(const std::string& snapshot_id_hex, const std::string& target,
                        const RestoreResult& result);

// One line of `ls --json`: path, name, type, mode, uid, gid, size, mtime_ns,
// and link_target for symlinks only.
Json LsEntryJson(const std::string& path, const vault::v1::TreeNode& node);

// `init --json`: vault_id, config_dir, supplier_count, data_shards,
// block_size, needed_bytes, suppliers: [{position, address, supplier_id,
// quota_bytes}] (the quota each supplier granted), all from the new vault's
// configuration.
Json InitResultJson(const std::string& config_dir, const vault::v1::VaultConfig& config);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_UI_JSON_H_

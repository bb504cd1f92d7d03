// How the CLI spells a tree node's type and mode and a snapshot's time, the
// same way in the text and JSON outputs. Pure functions; thread-safe.
#ifndef SHARDKEEP_CUSTOMER_UI_FORMAT_H_
#define SHARDKEEP_CUSTOMER_UI_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

// "drwxr-xr-x", "-rwsr-x--T": the type letter of repo/tree_node.h and the
// permission bits as ls(1) prints them (s/S, t/T for setuid, setgid, sticky).
std::string ModeString(const vault::v1::TreeNode& node);

// "file", "dir", "symlink", "fifo", "chardev", "blockdev": the `type` of
// `ls --json` (anything unknown is "file", as before).
const char* TypeName(vault::v1::NodeType type);

// "2024-03-01 14:05:09" in `tz`: whole seconds (rounded down) since the
// epoch + `ns`. For the snapshot table and `ls --long`.
std::string FormatLocalTime(int64_t ns, absl::TimeZone tz = absl::LocalTimeZone());

// "2024-03-01T14:05:09.123456789+01:00" in `tz`: RFC 3339 with nine decimals
// and the zone's offset ("+00:00" for UTC). For `snapshots --json`.
std::string FormatIsoTime(int64_t ns, absl::TimeZone tz = absl::LocalTimeZone());

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_UI_FORMAT_H_

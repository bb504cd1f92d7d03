// Which snapshots a retention policy keeps (`forget --keep-*`), with
// restic's semantics (docs/CLI.md, "forget", says where they differ):
//
// Snapshots are grouped (by host and paths unless told otherwise); within a
// group, newest first, a snapshot is kept when any rule wants it:
//  - --keep-last N: the N newest;
//  - --keep-hourly/daily/weekly/monthly/yearly N: the newest snapshot of
//    each of the N most recent hours/days/ISO weeks/months/years that have
//    one (in the local time zone);
//  - --keep-within D: those younger than D before the group's newest;
//  - --keep-tag T: those carrying tag T.
// Every rule sees every snapshot (a snapshot one rule keeps still uses up
// another rule's bucket), as in restic. A count of -1 means unlimited.
//
// Pure: no I/O, so it is tested on its own (forget_policy_test.cc).
#ifndef SHARDKEEP_CUSTOMER_REPO_FORGET_POLICY_H_
#define SHARDKEEP_CUSTOMER_REPO_FORGET_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

struct ForgetPolicy {
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  int64_t within_ns = 0;
  std::vector<std::string> keep_tags;
  // True if no rule is given (forget then needs snapshot IDs).
  bool empty() const;
};

struct GroupBy {
  bool host = true, paths = true, tags = false;
};

struct ForgetGroup {
  std::string description;  // "host h, paths /a /b" for people
  // Newest first.
  std::vector<vault::v1::Snapshot> keep, remove;
  std::vector<std::string> keep_reasons;  // parallel to keep: "last", "daily", ...
};

// The decision for every group, groups in order of their newest snapshot.
std::vector<ForgetGroup> ApplyForgetPolicy(const std::vector<vault::v1::Snapshot>& snapshots,
                                           const ForgetPolicy& policy, const GroupBy& group_by,
                                           absl::TimeZone tz);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_FORGET_POLICY_H_

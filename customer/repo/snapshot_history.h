// Rollback detection (docs/SECURITY.md, "Rollback"): a supplier, or several
// colluding, that leave newer snapshot records out of their listings must
// not make `latest` silently older. Each record carries a sequence and its
// predecessor's ID (vault.proto, Snapshot); this machine remembers the
// newest it has seen (<config-dir>/seen). From the records every answering
// supplier lists, CheckSnapshotHistory says what looks held back, naming
// the suppliers.
#ifndef SHARDKEEP_CUSTOMER_REPO_SNAPSHOT_HISTORY_H_
#define SHARDKEEP_CUSTOMER_REPO_SNAPSHOT_HISTORY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "proto/vault.pb.h"

namespace shardkeep::customer {

struct SnapshotHistory {
  // One line each, naming the supplier or the snapshot: empty when nothing
  // looks held back.
  std::vector<std::string> problems;
  // The newest snapshot by sequence (then time) among `snapshots`, or the
  // remembered one if that is newer: what the next snapshot follows.
  uint64_t newest_sequence = 0;
  std::string newest_id;
  int64_t newest_time_ns = 0;
};

// `snapshots`: the records loaded (any order). `listed_by`: snapshot ID ->
// bit mask of the positions whose listing named it. `answered`: mask of the
// positions that answered the listing. `addresses`: by position, for
// messages. `seen`: what this machine remembers. `forgotten`: the
// tombstones (by snapshot ID) of snapshots the owner forgot: they explain a
// gap or a remembered snapshot that is no longer listed, and their
// sequences count for the newest.
//
// Reports: (1) a supplier that answered but does not list snapshots others
// list (how many, the newest); (2) a record whose predecessor no supplier
// lists (a gap in the chain); (3) a remembered newest snapshot newer than
// every record listed now.
SnapshotHistory CheckSnapshotHistory(const std::vector<vault::v1::Snapshot>& snapshots,
                                     const std::map<std::string, uint64_t>& listed_by,
                                     uint64_t answered, const std::vector<std::string>& addresses,
                                     const vault::v1::SeenState& seen,
                                     const std::map<std::string, vault::v1::Forgotten>& forgotten = {});

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_SNAPSHOT_HISTORY_H_

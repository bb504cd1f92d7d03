#include "customer/repo/snapshot_history.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/crypto.h"

namespace shardkeep::customer {
namespace {

std::string Short(const std::string& id) { return crypto::ToHex(id).substr(0, 8); }

std::string When(int64_t time_ns) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixNanos(time_ns),
                          absl::UTCTimeZone());
}

bool Newer(const vault::v1::Snapshot& a, const vault::v1::Snapshot& b) {
  if (a.sequence() != b.sequence()) return a.sequence() > b.sequence();
  return a.time_ns() > b.time_ns();
}

}  // namespace

SnapshotHistory CheckSnapshotHistory(const std::vector<vault::v1::Snapshot>& snapshots,
                                     const std::map<std::string, uint64_t>& listed_by,
                                     uint64_t answered, const std::vector<std::string>& addresses,
                                     const vault::v1::SeenState& seen,
                                     const std::map<std::string, vault::v1::Forgotten>& forgotten) {
  SnapshotHistory h;
  const vault::v1::Snapshot* newest = nullptr;
  std::set<std::string> ids;
  for (const auto& s : snapshots) {
    ids.insert(s.id());
    if (newest == nullptr || Newer(s, *newest)) newest = &s;
  }
  if (newest != nullptr) {
    h.newest_sequence = newest->sequence();
    h.newest_id = newest->id();
    h.newest_time_ns = newest->time_ns();
  }
  // A forgotten snapshot newer than every record left still numbers the
  // chain: the next backup follows it.
  for (const auto& [id, f] : forgotten) {
    if (f.sequence() > h.newest_sequence ||
        (f.sequence() == h.newest_sequence && h.newest_id.empty())) {
      h.newest_sequence = f.sequence();
      h.newest_id = id;
      h.newest_time_ns = f.time_ns();
    }
  }

  // (1) Listings that leave out what the others list.
  for (size_t pos = 0; pos < addresses.size() && pos < 64; ++pos) {
    if ((answered >> pos & 1) == 0) continue;
    int missing = 0;
    const vault::v1::Snapshot* newest_missing = nullptr;
    for (const auto& s : snapshots) {
      auto it = listed_by.find(s.id());
      if (it == listed_by.end() || (it->second >> pos & 1)) continue;
      ++missing;
      if (newest_missing == nullptr || Newer(s, *newest_missing)) newest_missing = &s;
    }
    if (missing > 0) {
      h.problems.push_back(absl::StrCat(
          "supplier ", addresses[pos], " (position ", pos, ") does not list ", missing, " of ",
          snapshots.size(), " snapshots that other suppliers list, the newest ",
          Short(newest_missing->id()), " of ", When(newest_missing->time_ns()),
          ": it missed them while down (repair copies them) or it holds them back"));
    }
  }

  // (2) Gaps in the chain.
  for (const auto& s : snapshots) {
    if (!s.predecessor().empty() && ids.count(s.predecessor()) == 0 &&
        forgotten.count(s.predecessor()) == 0) {
      h.problems.push_back(absl::StrCat(
          "snapshot ", Short(s.id()), " (sequence ", s.sequence(), ") follows snapshot ",
          Short(s.predecessor()), ", which no supplier lists: a record is held back by every "
          "supplier that answered, or was deleted"));
    }
  }

  // (3) Older than what this machine has seen.
  if (seen.newest_sequence() > h.newest_sequence &&
      forgotten.count(seen.newest_snapshot_id()) == 0) {
    h.problems.push_back(absl::StrCat(
        "this machine has seen snapshot ", Short(seen.newest_snapshot_id()), " (sequence ",
        seen.newest_sequence(), ", ", When(seen.newest_time_ns()),
        "), newer than any snapshot the suppliers list now (newest sequence ", h.newest_sequence,
        "): the suppliers that answered may be rolling the vault back; `latest` is older than "
        "the newest backup"));
    h.newest_sequence = seen.newest_sequence();
    h.newest_id = seen.newest_snapshot_id();
    h.newest_time_ns = seen.newest_time_ns();
  }
  return h;
}

}  // namespace shardkeep::customer

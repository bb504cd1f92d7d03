// What forget and prune could not delete at a supplier that was down or
// failed, kept in <cache-dir>/<vault-id-hex>/pending-deletes and retried by
// the next prune or maintain (docs/FORMAT.md, "Prune"). Losing the file
// loses nothing that matters: the next prune lists every supplier and finds
// the same leftovers again (stale index pieces, tombstoned snapshot records,
// fragments no index names); the file only makes it sooner and cheaper.
#ifndef SHARDKEEP_CUSTOMER_REPO_PENDING_DELETES_H_
#define SHARDKEEP_CUSTOMER_REPO_PENDING_DELETES_H_

#include <string>
#include <vector>

#include "common/status.h"
#include "customer/repo/repository.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

// Adds to the file what position `position` still has to delete.
// Best effort (a warning through the repository's sink on failure).
void AddPendingDeletes(Repository& repo, int position, const std::vector<std::string>& fragment_keys,
                       const std::vector<std::string>& object_names);

// Deletes what is pending at every position that is up; what fails stays.
// Returns how many positions were cleared.
int ApplyPendingDeletes(Repository& repo);

// What the file holds (empty if none).
vault::v1::PendingDeletes LoadPendingDeletes(const Repository& repo);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_PENDING_DELETES_H_

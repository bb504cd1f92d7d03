// `shardkeep maintain` below the CLI: the nightly job after a backup.
//  1. renews every reachable supplier's lease (RenewContract);
//  2. repairs (RepairVault) after a check that audits every supplier and
//     reads one seventh of the blocks, the seventh chosen by the day, so a
//     week of nightly runs reads every block once (--read-data-subset D/7
//     with D = 1 + days since the epoch mod 7).
#ifndef SHARDKEEP_CUSTOMER_REPO_MAINTAINER_H_
#define SHARDKEEP_CUSTOMER_REPO_MAINTAINER_H_

#include <string>
#include <vector>

#include "common/status.h"
#include "customer/repo/progress.h"
#include "customer/repo/repairer.h"
#include "customer/repo/repository.h"

namespace shardkeep::customer {

struct MaintainResult {
  int leases_renewed = 0;
  std::vector<std::string> lease_errors;  // one per supplier whose renewal failed
  uint32_t read_group = 0;                // D of D/7
  RepairResult repair;
};

absl::StatusOr<MaintainResult> MaintainVault(Repository& repo, Progress& progress);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_MAINTAINER_H_

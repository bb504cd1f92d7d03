#include "customer/repo/maintainer.h"

#include "absl/time/clock.h"

namespace shardkeep::customer {

absl::StatusOr<MaintainResult> MaintainVault(Repository& repo, Progress& progress) {
  MaintainResult r;
  RETURN_IF_ERROR(repo.CheckSuppliers(repo.k()));
  for (int i = 0; i < repo.n(); ++i) {
    if (repo.suppliers().IsDown(i)) continue;
    auto c = repo.suppliers().at(i)->RenewContract();
    if (c.ok()) {
      r.leases_renewed++;
    } else if (!absl::IsUnimplemented(c.status())) {
      r.lease_errors.push_back(std::string(c.status().message()));
      progress.Warn("warning: " + r.lease_errors.back());
    }
  }
  RepairOptions opts;
  opts.check.read_data = CheckOptions::ReadData::kSubset;
  opts.check.subset_m = 7;
  opts.check.subset_n = 1 + static_cast<uint32_t>((absl::ToUnixSeconds(absl::Now()) / 86400) % 7);
  r.read_group = opts.check.subset_n;
  ASSIGN_OR_RETURN(r.repair, RepairVault(repo, opts, progress));
  return r;
}

}  // namespace shardkeep::customer

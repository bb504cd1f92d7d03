// What `suppliers list` and `status` report: per supplier its contract
// (quota, usage, lease), whether it answers, and its last audit from the
// cache's audit history; for `status` also a check (listings and audits:
// per-snapshot margins), the age of the last backup and of the last check,
// and the things that need attention.
#ifndef SHARDKEEP_CUSTOMER_REPO_VAULT_STATUS_H_
#define SHARDKEEP_CUSTOMER_REPO_VAULT_STATUS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "customer/repo/checker.h"
#include "customer/repo/progress.h"
#include "customer/repo/repository.h"

namespace shardkeep::customer {

struct SupplierStatus {
  int position = 0;
  std::string address;
  std::string supplier_id_hex;  // as the vault config records it
  bool reachable = false;
  std::string error;            // why not, or why the contract could not be read
  uint64_t quota_bytes = 0, used_bytes = 0, fragments = 0;
  int64_t lease_expires_ms = 0;  // 0: unknown
  int64_t last_seen_s = 0;       // now if reachable, else 0 (unknown)
  // From <cache>/<vault>/audit-history: the last line for this position.
  int64_t last_audit_s = 0;      // 0: never audited from this cache
  uint64_t last_audited = 0, last_audit_failed = 0;
  bool last_audit_unreachable = false;
  // "ok", "unreachable", "failing audits", "lease ending"
  std::string health;
};

// Contracts (GetContract on each supplier, in parallel) and audit history.
// Never fails for a supplier that does not answer: it is reported.
std::vector<SupplierStatus> ListSuppliers(Repository& repo);

struct StatusOptions {
  int64_t lease_warning_s = 7 * 86400;        // a lease ending sooner needs attention
  int64_t max_backup_age_s = 2 * 86400;       // an older last backup needs attention
  CheckOptions check;                          // listings and audits by default
};

struct VaultStatusReport {
  std::vector<SupplierStatus> suppliers;
  CheckResult check;
  int64_t last_backup_s = 0;  // time of the newest snapshot (0: none)
  int64_t now_s = 0;
  // One line per thing that needs attention; empty: all is well.
  std::vector<std::string> attention;
};

// k suppliers answering (else kSuppliersUnreachable), CheckVault, then
// ListSuppliers and the ages.
absl::StatusOr<VaultStatusReport> VaultStatus(Repository& repo, const StatusOptions& options,
                                              Progress& progress);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_VAULT_STATUS_H_

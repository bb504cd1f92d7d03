#include "customer/repo/vault_status.h"

#include <stdio.h>

#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto.h"

namespace shardkeep::customer {
namespace {

// The last audit-history line of every position (see checker.h).
std::map<int, SupplierStatus> ReadAuditHistory(const std::string& path) {
  std::map<int, SupplierStatus> last;
  FILE* f = fopen(path.c_str(), "r");
  if (f == nullptr) return last;
  char buf[1024];
  while (fgets(buf, sizeof buf, f) != nullptr) {
    std::istringstream in(buf);
    int64_t t = 0;
    int pos = -1;
    std::string addr, a, b;
    if (!(in >> t >> pos >> addr >> a) || pos < 0 || pos > 255) continue;
    SupplierStatus& s = last[pos];
    s.last_audit_s = t;
    s.last_audit_unreachable = a == "unreachable";
    s.last_audited = 0;
    s.last_audit_failed = 0;
    if (!s.last_audit_unreachable && (in >> b)) {
      sscanf(a.c_str(), "audited=%lu", &s.last_audited);
      sscanf(b.c_str(), "failed=%lu", &s.last_audit_failed);
    }
  }
  fclose(f);
  return last;
}

}  // namespace

std::vector<SupplierStatus> ListSuppliers(Repository& repo) {
  const int n = repo.n();
  std::vector<SupplierStatus> out(n);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  auto history = ReadAuditHistory(repo.vault().cache_path() + "/audit-history");
  std::vector<absl::StatusOr<v1::Contract>> contracts = repo.Contracts();
  for (int i = 0; i < n; ++i) {
    SupplierStatus& s = out[i];
    s.position = i;
    s.address = repo.suppliers().address(i);
    if (i < repo.config().suppliers_size()) {
      s.supplier_id_hex = crypto::ToHex(repo.config().suppliers(i).supplier_id());
    }
    auto h = history.find(i);
    if (h != history.end()) {
      s.last_audit_s = h->second.last_audit_s;
      s.last_audited = h->second.last_audited;
      s.last_audit_failed = h->second.last_audit_failed;
      s.last_audit_unreachable = h->second.last_audit_unreachable;
    }
    if (repo.suppliers().IsDown(i)) {
      s.error = std::string(repo.suppliers().DownReason(i).message());
      continue;
    }
    const absl::StatusOr<v1::Contract>& c = contracts[i];
    if (!c.ok()) {
      s.error = std::string(c.status().message());
      s.reachable = !absl::IsUnavailable(c.status()) && !absl::IsDeadlineExceeded(c.status());
      continue;
    }
    s.reachable = true;
    s.last_seen_s = now;
    s.quota_bytes = c->quota_bytes();
    s.used_bytes = c->used_bytes();
    s.fragments = c->fragments();
    s.lease_expires_ms = c->lease_expires_ms();
  }
  for (auto& s : out) {
    if (!s.reachable) {
      s.health = "unreachable";
    } else if (s.last_audit_failed > 0) {
      s.health = "failing audits";
    } else if (s.lease_expires_ms > 0 && s.lease_expires_ms / 1000 - now < 7 * 86400) {
      s.health = "lease ending";
    } else {
      s.health = "ok";
    }
  }
  return out;
}

absl::StatusOr<VaultStatusReport> VaultStatus(Repository& repo, const StatusOptions& options,
                                              Progress& progress) {
  VaultStatusReport r;
  ASSIGN_OR_RETURN(r.check, CheckVault(repo, options.check, progress));
  r.suppliers = ListSuppliers(repo);
  r.now_s = absl::ToUnixSeconds(absl::Now());
  ASSIGN_OR_RETURN(auto snaps, repo.LoadSnapshots());
  if (!snaps.empty()) r.last_backup_s = snaps.back().time_ns() / 1000000000;

  const int full = r.check.n - r.check.k;
  for (const auto& s : r.check.snapshots) {
    if (s.state == SnapshotCheck::State::kDamaged) {
      r.attention.push_back(absl::StrCat("snapshot ", s.id_hex.substr(0, 8), " is damaged: ",
                                         s.damaged_files.size(), " files cannot be restored"));
    } else if (s.state == SnapshotCheck::State::kDegraded) {
      r.attention.push_back(absl::StrCat("snapshot ", s.id_hex.substr(0, 8), " survives only ",
                                         s.margin, " more supplier losses (of ", full,
                                         "): run `shardkeep repair`"));
    }
  }
  for (const auto& s : r.suppliers) {
    if (!s.reachable) {
      r.attention.push_back(absl::StrCat("supplier ", s.address, " (position ", s.position,
                                         ") does not answer: ", s.error));
    }
  }
  for (const auto& s : r.check.suppliers) {
    if (s.audit_failed > 0) {
      r.attention.push_back(absl::StrCat("supplier ", s.address, " failed ", s.audit_failed,
                                         " of ", s.audited + s.audit_failed, " audits"));
    }
  }
  for (const auto& s : r.suppliers) {
    if (s.reachable && s.lease_expires_ms > 0 &&
        s.lease_expires_ms / 1000 - r.now_s < options.lease_warning_s) {
      r.attention.push_back(absl::StrCat("supplier ", s.address, ": the lease ends in ",
                                         (s.lease_expires_ms / 1000 - r.now_s) / 3600, " h"));
    }
  }
  if (r.last_backup_s == 0) {
    r.attention.push_back("no backup yet");
  } else if (r.now_s - r.last_backup_s > options.max_backup_age_s) {
    r.attention.push_back(absl::StrCat("the last backup is ", (r.now_s - r.last_backup_s) / 3600,
                                       " h old"));
  }
  return r;
}

}  // namespace shardkeep::customer

#include "customer/repo/quota_resizer.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/error_kind.h"
#include "customer/vault/names.h"

namespace shardkeep::customer {

absl::StatusOr<ResizeResult> ResizeQuotas(Repository& repo, uint64_t needed_bytes) {
  if (needed_bytes == 0) return UsageError("--needed must be more than 0");
  repo.CheckSuppliers(0).IgnoreError();  // marks the silent ones down; each is reported
  const int n = repo.n();
  const uint64_t k = static_cast<uint64_t>(repo.k());
  ResizeResult r;
  r.needed_bytes = needed_bytes;
  r.per_supplier_bytes = needed_bytes / k + (needed_bytes % k != 0 ? 1 : 0);

  std::vector<absl::StatusOr<v1::Contract>> before = repo.Contracts();
  r.suppliers.resize(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    QuotaChange& c = r.suppliers[i];
    c.position = i;
    c.address = repo.suppliers().address(i);
    c.asked_bytes = r.per_supplier_bytes;
    if (before[i].ok()) {
      c.previous_bytes = before[i]->quota_bytes();
    } else {
      c.previous_bytes = repo.config().suppliers(i).quota_bytes();
    }
    c.quota_bytes = c.previous_bytes;
    if (repo.suppliers().IsDown(i)) {
      c.error = std::string(before[i].status().message());
      continue;
    }
    threads.emplace_back([&repo, &c, i, n] {
      absl::StatusOr<v1::Contract> got = repo.suppliers().at(i)->RequestContract(
          c.asked_bytes, static_cast<uint32_t>(i), static_cast<uint32_t>(n));
      // A refusal is an answer: the supplier is reachable and keeps its quota.
      c.reachable = got.ok() || absl::IsResourceExhausted(got.status()) ||
                    absl::IsFailedPrecondition(got.status()) ||
                    absl::IsPermissionDenied(got.status()) || absl::IsInvalidArgument(got.status());
      if (got.ok()) {
        c.granted = true;
        c.quota_bytes = got->quota_bytes();
      } else {
        c.error = std::string(got.status().message());
      }
    });
  }
  for (auto& t : threads) t.join();

  bool changed = false;
  vault::v1::VaultConfig next = repo.config();
  for (const QuotaChange& c : r.suppliers) {
    if (!c.reachable) {
      r.unreachable++;
    } else if (!c.granted) {
      r.refused++;
    }
    if (c.granted && next.suppliers(c.position).quota_bytes() != c.quota_bytes) {
      next.mutable_suppliers(c.position)->set_quota_bytes(c.quota_bytes);
      changed = true;
    }
  }
  if (r.refused == 0 && r.unreachable == 0 && next.needed_bytes() != needed_bytes) {
    next.set_needed_bytes(needed_bytes);
    changed = true;
  }
  if (!changed) return r;

  // recover takes the highest generation it can open, so a supplier down
  // now keeps an older config that loses to this one.
  next.set_generation(next.generation() + 1);
  ASSIGN_OR_RETURN(std::string sealed,
                   repo.vault().SealObject(kConfigObject, next.SerializeAsString()));
  int stored = 0;
  for (int i = 0; i < n; ++i) {
    if (repo.suppliers().IsDown(i)) continue;
    absl::Status s = repo.suppliers().at(i)->PutObject(kConfigObject, sealed);
    if (s.ok()) {
      stored++;
    } else {
      r.suppliers[i].error += absl::StrCat(r.suppliers[i].error.empty() ? "" : "; ",
                                           "new config not stored: ", s.message());
    }
  }
  if (stored == 0) {
    return WithKind(absl::UnavailableError(
                        "the new config could not be stored on any supplier: nothing changed "
                        "in the config dir"),
                    ErrorKind::kSuppliersUnreachable);
  }
  RETURN_IF_ERROR(repo.mutable_vault().SaveConfig(next));
  r.config_written = true;
  return r;
}

}  // namespace shardkeep::customer

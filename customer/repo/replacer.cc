#include "customer/repo/replacer.h"

#include <chrono>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "customer/repo/vault_lock.h"
#include "customer/vault/names.h"
#include "proto/limits.h"

namespace shardkeep::customer {
namespace {

// The fragment of block `rec` at `pos`, rebuilt from k good ones elsewhere.
absl::StatusOr<std::string> Rebuild(Repository& repo, const vault::v1::BlockRecord& rec, int pos,
                                    uint64_t* fetched) {
  std::map<int, std::string> good;
  std::string errors;
  for (int i = 0; i < repo.n() && static_cast<int>(good.size()) < repo.k(); ++i) {
    if (i == pos || repo.suppliers().IsDown(i)) continue;
    const bool stored = rec.stored_mask() == 0 || ((rec.stored_mask() >> i) & 1);
    if (!stored) continue;
    auto data = repo.suppliers().at(i)->GetFragmentOfSize(FragmentKey(rec.block_id(), i),
                                                          rec.fragment_size());
    if (!data.ok()) {
      absl::StrAppend(&errors, "; ", data.status().message());
      continue;
    }
    ++*fetched;
    if (crypto::Sha256(*data) != rec.fragment_sha256(i)) {
      absl::StrAppend(&errors, "; ", repo.suppliers().address(i), ": fragment fails its hash");
      continue;
    }
    good.emplace(i, std::move(*data));
  }
  if (static_cast<int>(good.size()) < repo.k()) {
    return absl::DataLossError(absl::StrCat("block ", crypto::ToHex(rec.block_id()), ": only ",
                                            good.size(), " good fragments elsewhere", errors));
  }
  ASSIGN_OR_RETURN(std::string sealed, repo.codec().Decode(good));
  ASSIGN_OR_RETURN(std::vector<std::string> all, repo.codec().Encode(sealed));
  if (crypto::Sha256(all[pos]) != rec.fragment_sha256(pos)) {
    return absl::DataLossError(absl::StrCat("block ", crypto::ToHex(rec.block_id()),
                                            ": the rebuilt fragment does not match the index"));
  }
  return std::move(all[pos]);
}

}  // namespace

absl::StatusOr<ReplaceResult> ReplaceSupplier(Repository& repo, const std::string& which,
                                              const std::string& new_address,
                                              const SupplierConnector& connector,
                                              Progress& progress) {
  auto start = std::chrono::steady_clock::now();
  const vault::v1::VaultConfig& config = repo.config();
  const int n = repo.n();
  int pos = -1;
  uint32_t p = 0;
  if (absl::SimpleAtoi(which, &p) && p < static_cast<uint32_t>(n)) pos = static_cast<int>(p);
  for (int i = 0; pos < 0 && i < n; ++i) {
    if (config.suppliers(i).address() == which) pos = i;
  }
  if (pos < 0) {
    return UsageError(absl::StrCat(which, " is neither a position (0..", n - 1,
                                   ") nor a supplier address of this vault"));
  }
  for (int i = 0; i < n; ++i) {
    if (config.suppliers(i).address() == new_address) {
      return UsageError(absl::StrCat(new_address, " is already the vault's supplier at position ", i));
    }
  }
  ReplaceResult r;
  r.position = pos;
  r.old_address = config.suppliers(pos).address();
  r.new_address = new_address;

  // The others must serve k of every block.
  repo.CheckSuppliers(0).IgnoreError();
  int up = 0;
  for (int i = 0; i < n; ++i) up += (i != pos && !repo.suppliers().IsDown(i)) ? 1 : 0;
  if (up < repo.k()) {
    return WithKind(absl::UnavailableError(absl::StrCat(
                        "only ", up, " of the other suppliers answered, ", repo.k(),
                        " needed: ", repo.suppliers().DownSummary())),
                    ErrorKind::kSuppliersUnreachable);
  }
  // Exclusive: a backup running meanwhile would send its new blocks'
  // fragments to the supplier being replaced, and prune could delete blocks
  // being rebuilt.
  ASSIGN_OR_RETURN(std::unique_ptr<VaultLock> lock,
                   VaultLock::AcquireForHealing(repo, VaultLock::Kind::kExclusive, "replace",
                                                [&](const std::string& m) { progress.Warn(m); }));
  RETURN_IF_ERROR(repo.LoadIndex());

  // 1. The new supplier and its contract.
  ASSIGN_OR_RETURN(std::unique_ptr<SupplierClient> fresh,
                   connector(new_address, repo.vault().keys().identity_seed, ""));
  ASSIGN_OR_RETURN(v1::InfoResponse info, fresh->Info());
  uint64_t quota = config.suppliers(pos).quota_bytes();
  if (quota == 0) quota = (config.needed_bytes() + repo.k() - 1) / repo.k();
  ASSIGN_OR_RETURN(v1::Contract contract,
                   fresh->RequestContract(quota, static_cast<uint32_t>(pos),
                                          static_cast<uint32_t>(n)));

  // 2. Metadata objects: the key record as this machine holds it (it claims
  // the vault ID, so `recover` works from the new supplier), the others
  // copied as stored (sealed; each must open under the vault's key).
  RETURN_IF_ERROR(fresh->PutObject(kKeysObject, repo.vault().key_record().SerializeAsString(),
                                   repo.vault().vault_id()));
  r.objects_copied++;
  std::map<std::string, uint64_t> listed;
  ASSIGN_OR_RETURN(std::vector<std::string> names, repo.suppliers().ListObjectsUnion("", &listed));
  for (const std::string& name : names) {
    ObjectName parsed;
    // Never copy what this vault does not use; the key record is done.
    if (!ParseObjectName(name, &parsed) || parsed.kind == ObjectKind::kKeys) continue;
    auto data = repo.suppliers().GetObjectAny(name, [&](const std::string& d) -> absl::Status {
      return repo.vault().OpenObject(name, d).status();
    });
    if (!data.ok()) {
      progress.Warn(absl::StrCat("warning: object ", name, " not copied: ", data.status().message()));
      continue;
    }
    RETURN_IF_ERROR(fresh->PutObject(name, *data));
    r.objects_copied++;
  }

  // 3. This position's fragment of every block. After an interruption the
  // new supplier already lists some, with the size and hash it checked at
  // upload: those are neither rebuilt (k fetched) nor sent again. Rot after
  // upload is for check --read-data and audits, as for every supplier.
  std::map<std::string, v1::FragmentInfo> held;
  if (auto listed = fresh->ListFragments(""); listed.ok()) {
    for (v1::FragmentInfo& f : *listed) held[f.key()] = std::move(f);
  }
  const VaultIndex& index = repo.index();
  progress.total_files = index.block_count();
  progress.totals_known = true;
  for (uint32_t b = 0; b < index.block_count(); ++b) {
    const vault::v1::BlockRecord& rec = index.block(b);
    auto h = held.find(FragmentKey(rec.block_id(), pos));
    if (h != held.end() && h->second.size() == rec.fragment_size() &&
        h->second.sha256() == rec.fragment_sha256(pos)) {
      r.fragments_present++;
      progress.files++;
      continue;
    }
    ASSIGN_OR_RETURN(std::string frag, Rebuild(repo, rec, pos, &r.fragments_fetched));
    RETURN_IF_ERROR(
        fresh->PutFragment(FragmentKey(rec.block_id(), pos), frag, rec.fragment_sha256(pos)));
    r.fragments_written++;
    r.fragment_bytes += frag.size();
    progress.files++;
  }

  // 4. The config names the new supplier: locally and on every supplier.
  vault::v1::VaultConfig next = config;
  // recover takes the highest generation it can open (a supplier that was
  // down now keeps an older config).
  next.set_generation(config.generation() + 1);
  vault::v1::SupplierEntry* e = next.mutable_suppliers(pos);
  e->set_address(new_address);
  e->set_supplier_id(info.supplier_id());
  // The TLS key the new supplier presented on the connection that answered
  // Info: pinned with its ID, as init pins (docs/NETWORK.md).
  e->set_tls_fingerprint(fresh->TlsFingerprint());
  e->set_quota_bytes(contract.quota_bytes());
  ASSIGN_OR_RETURN(std::string sealed, repo.vault().SealObject(kConfigObject, next.SerializeAsString()));
  RETURN_IF_ERROR(fresh->PutObject(kConfigObject, sealed));
  for (int i = 0; i < n; ++i) {
    if (i == pos || repo.suppliers().IsDown(i)) continue;
    absl::Status s = repo.suppliers().at(i)->PutObject(kConfigObject, sealed);
    if (!s.ok()) progress.Warn(absl::StrCat("warning: new config not stored: ", s.message()));
  }
  RETURN_IF_ERROR(repo.mutable_vault().SaveConfig(next));

  // 5. Fire the old one.
  if (!repo.suppliers().IsDown(pos)) {
    absl::Status s = repo.suppliers().at(pos)->CancelContract();
    r.old_cancelled = s.ok();
    if (!s.ok()) r.cancel_error = std::string(s.message());
  } else {
    r.cancel_error = std::string(repo.suppliers().DownReason(pos).message());
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace shardkeep::customer

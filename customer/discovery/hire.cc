#include "customer/discovery/hire.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/error_kind.h"
#include "common/tls_fingerprint.h"

namespace shardkeep::customer {
namespace {

// Reachable over TLS with the offered key, and the offered supplier ID.
absl::Status Probe(const offer::Offer& o, const SupplierConnector& connector) {
  const std::string& address = o.addresses.front();
  ASSIGN_OR_RETURN(std::unique_ptr<SupplierClient> c, connector(address, "", ""));
  c->PinTlsFingerprint(o.fingerprint);
  ASSIGN_OR_RETURN(v1::InfoResponse info, c->Info());
  if (info.supplier_id() != o.supplier_id) {
    return absl::PermissionDeniedError(
        absl::StrCat(address, ": answers with another supplier ID than its offer"));
  }
  if (c->TlsFingerprint() != o.fingerprint) {
    return absl::PermissionDeniedError(absl::StrCat(
        address, ": presented TLS key ", tls::FormatFingerprint(c->TlsFingerprint()),
        ", the offer was signed by ", tls::FormatFingerprint(o.fingerprint)));
  }
  return absl::OkStatus();
}

}  // namespace

SupplierConnector PinnedToOffers(SupplierConnector base, const std::vector<offer::Offer>& offers) {
  auto pins = std::make_shared<std::map<std::string, std::string>>();
  for (const offer::Offer& o : offers) {
    for (const std::string& a : o.addresses) (*pins)[a] = o.fingerprint;
  }
  return [base = std::move(base), pins](const std::string& address,
                                        const std::string& identity_seed,
                                        const std::string& supplier_id)
             -> absl::StatusOr<std::unique_ptr<SupplierClient>> {
    ASSIGN_OR_RETURN(std::unique_ptr<SupplierClient> c, base(address, identity_seed, supplier_id));
    auto it = pins->find(address);
    if (it != pins->end()) c->PinTlsFingerprint(it->second);
    return c;
  };
}

std::vector<offer::Offer> Eligible(const std::vector<offer::Offer>& offers, uint64_t quota,
                                   const std::map<std::string, std::string>& invites,
                                   const std::vector<std::string>& exclude) {
  std::set<std::string> excluded(exclude.begin(), exclude.end());
  std::vector<offer::Offer> out;
  for (const offer::Offer& o : offers) {
    const std::string& address = o.addresses.front();
    if (excluded.count(o.fingerprint) || excluded.count(o.supplier_id) ||
        excluded.count(address)) {
      continue;
    }
    if (o.invite_required && !invites.count(address)) continue;
    if (o.max_quota_bytes != 0 && o.max_quota_bytes < quota) continue;
    if (o.free_bytes < quota) continue;
    out.push_back(o);
  }
  return out;
}

absl::StatusOr<CreatedVault> CreateVaultFromOffers(CreateVaultRequest request, int count,
                                                   const std::vector<offer::Offer>& offers,
                                                   const SupplierConnector& connector,
                                                   std::vector<std::string>* skipped) {
  if (count < 2) {
    return WithKind(absl::InvalidArgumentError("--find wants at least 2 suppliers"),
                    ErrorKind::kUsage);
  }
  const int k = request.data_shards > 0 ? request.data_shards : (count + 1) / 2;
  const uint64_t quota = (request.needed_bytes + k - 1) / k;
  std::vector<offer::Offer> candidates = Eligible(offers, quota, request.invites, {});
  if (static_cast<int>(candidates.size()) < count) {
    return WithKind(absl::InvalidArgumentError(absl::StrCat(
                        "the DHT has ", candidates.size(), " eligible offers (of ", offers.size(),
                        " found) for a quota of ", quota, " bytes each; ", count, " needed")),
                    ErrorKind::kUsage);
  }
  // Ask for the passphrase once, however many rounds it takes.
  auto ask = request.passphrase;
  auto cached = std::make_shared<std::optional<absl::StatusOr<std::string>>>();
  request.passphrase = [ask, cached]() -> absl::StatusOr<std::string> {
    if (!cached->has_value()) *cached = ask();
    return cached->value();
  };
  size_t next = 0;
  std::vector<std::string> chosen;
  std::vector<offer::Offer> chosen_offers;  // two offers may claim one address: pin the probed
  std::set<std::string> taken;  // addresses and supplier IDs hired or tried
  for (int round = 0; round < 3; ++round) {
    while (static_cast<int>(chosen.size()) < count && next < candidates.size()) {
      const offer::Offer& o = candidates[next++];
      if (taken.count(o.addresses.front()) || taken.count(o.supplier_id)) continue;
      absl::Status s = Probe(o, connector);
      if (s.ok()) {
        chosen_offers.push_back(o);
        taken.insert(o.addresses.front());
        taken.insert(o.supplier_id);
        chosen.push_back(o.addresses.front());
      } else if (skipped != nullptr) {
        skipped->push_back(std::string(s.message()));
      }
    }
    if (static_cast<int>(chosen.size()) < count) {
      return WithKind(absl::UnavailableError(absl::StrCat(
                          "only ", chosen.size(), " of the ", candidates.size(),
                          " eligible offered suppliers answered with their offered key; ", count,
                          " needed")),
                      ErrorKind::kSuppliersUnreachable);
    }
    request.supplier_addresses = chosen;
    auto created = CreateVault(request, PinnedToOffers(connector, chosen_offers));
    if (created.ok() || KindOf(created.status()) == ErrorKind::kUsage) return created;
    // Drop the suppliers the error names (refused a contract, went away) and
    // try again with the next candidates.
    const std::string message(created.status().message());
    std::vector<std::string> kept;
    for (const std::string& a : chosen) {
      if (message.find(a) == std::string::npos) {
        kept.push_back(a);
      } else if (skipped != nullptr) {
        skipped->push_back(absl::StrCat(a, ": ", message));
      }
    }
    if (kept.size() == chosen.size() || round == 2) return created.status();
    chosen = std::move(kept);
    std::vector<offer::Offer> kept_offers;
    for (const offer::Offer& o : chosen_offers) {
      if (std::find(chosen.begin(), chosen.end(), o.addresses.front()) != chosen.end()) {
        kept_offers.push_back(o);
      }
    }
    chosen_offers = std::move(kept_offers);
  }
  return absl::InternalError("unreachable");
}

absl::StatusOr<ReplaceResult> ReplaceFromOffers(Repository& repo, const std::string& which,
                                                const std::vector<offer::Offer>& offers,
                                                const SupplierConnector& connector,
                                                Progress& progress,
                                                std::vector<std::string>* skipped) {
  const vault::v1::VaultConfig& config = repo.config();
  std::vector<std::string> in_vault;
  uint64_t quota = (config.needed_bytes() + config.data_shards() - 1) / config.data_shards();
  for (const auto& s : config.suppliers()) {
    in_vault.push_back(s.address());
    in_vault.push_back(s.supplier_id());
    if (!s.tls_fingerprint().empty()) in_vault.push_back(s.tls_fingerprint());
  }
  std::vector<offer::Offer> candidates = Eligible(offers, quota, {}, in_vault);
  if (candidates.empty()) {
    return WithKind(absl::InvalidArgumentError(absl::StrCat(
                        "no eligible offer in the DHT (", offers.size(),
                        " found, none new to this vault with ", quota, " bytes free)")),
                    ErrorKind::kUsage);
  }
  absl::Status last = absl::UnavailableError("no offered supplier answered");
  for (const offer::Offer& o : candidates) {
    absl::Status probe = Probe(o, connector);
    if (!probe.ok()) {
      if (skipped != nullptr) skipped->push_back(std::string(probe.message()));
      last = probe;
      continue;
    }
    auto r = ReplaceSupplier(repo, which, o.addresses.front(), PinnedToOffers(connector, {o}),
                             progress);
    if (r.ok()) return r;
    // Only a failure of the new supplier itself is worth another candidate.
    if (r.status().message().find(o.addresses.front()) == std::string::npos) return r.status();
    if (skipped != nullptr) skipped->push_back(std::string(r.status().message()));
    last = r.status();
  }
  return WithKind(last, ErrorKind::kSuppliersUnreachable);
}

}  // namespace shardkeep::customer

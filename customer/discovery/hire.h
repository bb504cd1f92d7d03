// Hiring suppliers from DHT offers (docs/DISCOVERY.md): `init --find N`
// and `suppliers replace POSITION --find`.
//
// Safety: every client to an offered address is pinned to the offer's
// fingerprint before its first call (PinnedToOffers), so the TLS handshake
// refuses anyone but the key that signed the offer, and the supplier ID
// its Info returns must be the offer's. A flood of forged or impostor
// offers therefore costs lookups, never a hire of the wrong key.
#ifndef SHARDKEEP_CUSTOMER_DISCOVERY_HIRE_H_
#define SHARDKEEP_CUSTOMER_DISCOVERY_HIRE_H_

#include <map>
#include <string>
#include <vector>

#include "common/offer.h"
#include "common/status.h"
#include "customer/net/supplier_client.h"
#include "customer/repo/progress.h"
#include "customer/repo/replacer.h"
#include "customer/repo/repository.h"
#include "customer/vault/create_vault.h"

namespace shardkeep::customer {

// `base`, with clients for the offers' addresses pinned to the offers'
// fingerprints (other addresses unchanged).
SupplierConnector PinnedToOffers(SupplierConnector base, const std::vector<offer::Offer>& offers);

// The offers (in the given order, most free space first) that may be asked
// for `quota` bytes: no invitation needed (unless `invites` has one for
// its address), a large enough max quota and free space, and none of
// `exclude` (fingerprints, supplier IDs or addresses).
std::vector<offer::Offer> Eligible(const std::vector<offer::Offer>& offers, uint64_t quota,
                                   const std::map<std::string, std::string>& invites,
                                   const std::vector<std::string>& exclude);

// init --find: creates a vault on `count` suppliers taken from `offers`.
// Candidates are checked first (reachable over TLS with the offered key,
// the offered supplier ID); those that fail, and those CreateVault names in
// a refusal, are replaced by the next candidates (three rounds at most).
// `request.supplier_addresses` is ignored. kUsage if fewer than `count`
// offers are eligible; kSuppliersUnreachable if fewer than `count` answer.
absl::StatusOr<CreatedVault> CreateVaultFromOffers(CreateVaultRequest request, int count,
                                                   const std::vector<offer::Offer>& offers,
                                                   const SupplierConnector& connector,
                                                   std::vector<std::string>* skipped);

// suppliers replace POSITION --find: replaces `which` with the first
// eligible offer (not already in the vault) that answers and accepts.
absl::StatusOr<ReplaceResult> ReplaceFromOffers(Repository& repo, const std::string& which,
                                                const std::vector<offer::Offer>& offers,
                                                const SupplierConnector& connector,
                                                Progress& progress,
                                                std::vector<std::string>* skipped);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_DISCOVERY_HIRE_H_

#include "customer/discovery/offers.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/error_kind.h"

namespace shardkeep::customer {

absl::StatusOr<std::unique_ptr<dhtnet::DhtNode>> JoinDht(const std::vector<std::string>& bootstrap,
                                                         std::chrono::milliseconds timeout) {
  if (bootstrap.empty()) {
    return WithKind(absl::InvalidArgumentError(
                        "no DHT bootstrap node: give --dht-bootstrap HOST:PORT (or set "
                        "SHARDKEEP_DHT_BOOTSTRAP)"),
                    ErrorKind::kUsage);
  }
  dhtnet::DhtNodeOptions options;
  options.bootstrap = bootstrap;
  auto node = dhtnet::DhtNode::Start(options);
  if (!node.ok()) {
    return node.status().code() == absl::StatusCode::kInvalidArgument
               ? WithKind(node.status(), ErrorKind::kUsage)
               : node.status();
  }
  if (!(*node)->WaitConnected(timeout)) {
    return absl::UnavailableError(absl::StrCat("no DHT node answered within ", timeout.count(),
                                               " ms (bootstrap: ",
                                               absl::StrJoin(bootstrap, ", "), ")"));
  }
  return node;
}

std::vector<offer::Offer> NewestDistinct(std::vector<offer::Offer> offers) {
  std::sort(offers.begin(), offers.end(), [](const offer::Offer& a, const offer::Offer& b) {
    return a.published_ms > b.published_ms;
  });
  // Per identity (the signing key) only: deduplicating by address or
  // supplier ID would let anyone hide a genuine offer behind a newer one of
  // its own claiming the same address or ID. Those are settled when hiring
  // (the TLS key on the address must be the offer's).
  std::map<std::string, bool> seen;
  std::vector<offer::Offer> out;
  for (offer::Offer& o : offers) {
    if (seen[o.fingerprint]) continue;
    seen[o.fingerprint] = true;
    out.push_back(std::move(o));
  }
  return out;
}

FoundOffers FindOffers(dhtnet::DhtNode& node, uint64_t min_free, size_t max_count) {
  const auto start = std::chrono::steady_clock::now();
  FoundOffers found;
  std::vector<offer::Offer> verified;
  for (const std::string& wire :
       node.Get(offer::kOffersKey, std::chrono::milliseconds(5000), kMaxOffersRead,
                kQuietAfterValues)) {
    auto o = offer::VerifyOffer(wire);
    if (!o.ok()) {
      ++found.rejected;
      continue;
    }
    verified.push_back(std::move(o).value());
  }
  for (offer::Offer& o : NewestDistinct(std::move(verified))) {
    if (o.free_bytes >= min_free) found.offers.push_back(std::move(o));
  }
  std::stable_sort(found.offers.begin(), found.offers.end(),
                   [](const offer::Offer& a, const offer::Offer& b) {
                     return a.free_bytes > b.free_bytes;
                   });
  if (max_count > 0 && found.offers.size() > max_count) found.offers.resize(max_count);
  found.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return found;
}

std::optional<offer::Offer> LookupIdentity(dhtnet::DhtNode& node, const std::string& fingerprint) {
  std::optional<offer::Offer> best;
  for (const std::string& wire :
       // No early end once values arrive: the first node to answer may hold
       // only the offer of the old address, and this lookup exists to find
       // the newest (it runs once, on a failure path, so waiting is cheap).
       node.Get(offer::IdentityKey(fingerprint), std::chrono::milliseconds(5000), 64,
                std::chrono::milliseconds(0))) {
    auto o = offer::VerifyOffer(wire);
    // Only the pinned key's own offers count: anyone may store values under
    // the identity key.
    if (!o.ok() || o->fingerprint != fingerprint) continue;
    if (!best || o->published_ms > best->published_ms) best = std::move(o).value();
  }
  return best;
}

}  // namespace shardkeep::customer

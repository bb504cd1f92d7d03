// Looking suppliers up in the DHT (docs/DISCOVERY.md): the customer's side
// of offers. A DHT node lives for one command (JoinDht); every value read
// is verified (common/offer.h) and bounded before use.
#ifndef SHARDKEEP_CUSTOMER_DISCOVERY_OFFERS_H_
#define SHARDKEEP_CUSTOMER_DISCOVERY_OFFERS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/dht_node.h"
#include "common/offer.h"
#include "common/status.h"

namespace shardkeep::customer {

// At most this many values are read from the market key per lookup: a
// flooded key costs a bounded amount of memory and verification time.
inline constexpr size_t kMaxOffersRead = 2000;
// A lookup ends once values stopped arriving for this long (DhtNode::Get).
inline constexpr std::chrono::milliseconds kQuietAfterValues{300};

// Joins the DHT through `bootstrap` (HOST:PORT each) and waits up to
// `timeout` for a node to answer. kUsage if the list is empty or malformed;
// Unavailable naming the bootstrap nodes if none answered.
absl::StatusOr<std::unique_ptr<dhtnet::DhtNode>> JoinDht(
    const std::vector<std::string>& bootstrap,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

struct FoundOffers {
  std::vector<offer::Offer> offers;  // verified; most free space first
  int rejected = 0;                  // values that failed verification
  double seconds = 0;                // the lookup's time
};

// Verified offers from the market key: one per identity (the newest), with at least `min_free` bytes free, sorted by free space, at most
// `max_count` (0: all).
FoundOffers FindOffers(dhtnet::DhtNode& node, uint64_t min_free, size_t max_count);

// The newest verified offer of the supplier whose TLS key hashes to
// `fingerprint`, from its identity key; nullopt if none.
std::optional<offer::Offer> LookupIdentity(dhtnet::DhtNode& node, const std::string& fingerprint);

// Keeps the newest offer per fingerprint (exposed for tests).
std::vector<offer::Offer> NewestDistinct(std::vector<offer::Offer> offers);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_DISCOVERY_OFFERS_H_

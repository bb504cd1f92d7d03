// Announces the supplier's signed offer in the DHT while the daemon runs
// (docs/DISCOVERY.md). The offer goes under offer::kOffersKey (the market)
// and offer::IdentityKey(fingerprint) (customers looking for this supplier
// after it moved). OpenDHT refreshes the announced values itself (permanent
// puts, re-sent before the value type's 3-minute lifetime ends); this
// thread only rebuilds the offer every `check_interval` and, when it
// changed materially (addresses, admission, terms, or free space by more
// than 1/16 or 1 GiB), withdraws the old values and announces new ones.
// When the daemon stops, nothing refreshes them and they expire.
#ifndef SHARDKEEP_SUPPLIER_ANNOUNCER_H_
#define SHARDKEEP_SUPPLIER_ANNOUNCER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/dht_node.h"
#include "common/offer.h"

namespace shardkeep::supplier {

class Announcer {
 public:
  // `make_offer` is called from the announcer's thread; it fills everything
  // but the fingerprint (taken from the key). `key_pem` is the TLS private
  // key. Announces once before returning; errors (a key that does not
  // parse) are returned by Start.
  static absl::StatusOr<std::unique_ptr<Announcer>> Start(
      dhtnet::DhtNode* node, std::string key_pem, std::function<offer::Offer()> make_offer,
      std::chrono::milliseconds check_interval);
  ~Announcer();  // stops the thread and withdraws the offer

  const std::string& fingerprint() const { return fingerprint_; }

 private:
  Announcer() = default;
  absl::Status AnnounceIfChanged(bool force);
  void Run();

  dhtnet::DhtNode* node_ = nullptr;
  std::string key_pem_;
  std::function<offer::Offer()> make_offer_;
  std::chrono::milliseconds interval_{60000};
  std::string fingerprint_;
  offer::Offer last_;
  std::vector<std::pair<std::string, uint64_t>> announced_;  // key, value id
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_ANNOUNCER_H_

#include "supplier/announcer.h"

#include <cstdlib>

#include "glog/logging.h"

namespace shardkeep::supplier {
namespace {

bool Differs(const offer::Offer& a, const offer::Offer& b) {
  if (a.addresses != b.addresses || a.invite_required != b.invite_required ||
      a.max_quota_bytes != b.max_quota_bytes || a.lease_ms != b.lease_ms ||
      a.grace_ms != b.grace_ms || a.version != b.version || a.supplier_id != b.supplier_id) {
    return true;
  }
  const uint64_t delta =
      a.free_bytes > b.free_bytes ? a.free_bytes - b.free_bytes : b.free_bytes - a.free_bytes;
  return delta > std::max<uint64_t>(a.free_bytes / 16, uint64_t{1} << 30) ||
         (a.free_bytes == 0) != (b.free_bytes == 0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Announcer>> Announcer::Start(
    dhtnet::DhtNode* node, std::string key_pem, std::function<offer::Offer()> make_offer,
    std::chrono::milliseconds check_interval) {
  std::unique_ptr<Announcer> a(new Announcer());
  a->node_ = node;
  a->key_pem_ = std::move(key_pem);
  a->make_offer_ = std::move(make_offer);
  a->interval_ = check_interval;
  RETURN_IF_ERROR(a->AnnounceIfChanged(/*force=*/true));
  a->thread_ = std::thread([p = a.get()] { p->Run(); });
  return a;
}

Announcer::~Announcer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (const auto& [key, id] : announced_) node_->Withdraw(key, id);
}

absl::Status Announcer::AnnounceIfChanged(bool force) {
  offer::Offer next = make_offer_();
  if (!force && !Differs(next, last_)) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string wire, offer::SignOffer(next, key_pem_));
  ASSIGN_OR_RETURN(offer::Offer signed_offer, offer::VerifyOffer(wire));
  fingerprint_ = signed_offer.fingerprint;
  for (const auto& [key, id] : announced_) node_->Withdraw(key, id);
  announced_.clear();
  for (const std::string& key : {std::string(offer::kOffersKey),
                                 offer::IdentityKey(signed_offer.fingerprint)}) {
    ASSIGN_OR_RETURN(uint64_t id, node_->Announce(key, wire));
    announced_.emplace_back(key, id);
  }
  last_ = std::move(next);
  LOG(INFO) << "dht: announced offer (" << last_.addresses.front() << ", free "
            << last_.free_bytes << " bytes)";
  return absl::OkStatus();
}

void Announcer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
    lock.unlock();
    absl::Status s = AnnounceIfChanged(/*force=*/false);
    if (!s.ok()) LOG(WARNING) << "dht: cannot announce the offer: " << s.message();
    lock.lock();
  }
}

}  // namespace shardkeep::supplier

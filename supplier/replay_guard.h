// ReplayGuard: refuses signed requests whose timestamp is outside the
// supplier's window around its clock, and requests whose (customer, nonce)
// was already seen. A nonce is remembered until its timestamp leaves the
// window, so a captured request can never be replayed: while it is fresh its
// nonce is known, afterwards its timestamp is stale.
//
// Restarts: seen nonces are written to the Store (column family "nonces") and
// loaded back at start, so a restart does not reopen the window. The write is
// not synced by itself, but RocksDB hands it to the kernel before the request
// proceeds, so it survives kill -9; and every mutating request is followed by
// a synced write of the same WAL, which makes its nonce durable before the
// mutation is acknowledged. Only a read-only request's nonce can be lost, and
// only by a machine crash (docs/PROTOCOL.md, "Replay protection").
// Thread-safe.
#ifndef SHARDKEEP_SUPPLIER_REPLAY_GUARD_H_
#define SHARDKEEP_SUPPLIER_REPLAY_GUARD_H_

#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>

#include "absl/synchronization/mutex.h"
#include "common/status.h"
#include "proto/supplier.pb.h"
#include "supplier/clock.h"
#include "supplier/store.h"

namespace shardkeep::supplier {

class ReplayGuard {
 public:
  // window_ms: accepted |request timestamp - supplier clock|. max_entries
  // bounds memory; beyond it requests are refused with UNAVAILABLE until old
  // nonces age out (a flood, not normal use: 1M entries ~ 100 MB).
  ReplayGuard(Store* store, Clock* clock, int64_t window_ms, size_t max_entries = 1000000);
  ReplayGuard(const ReplayGuard&) = delete;
  ReplayGuard& operator=(const ReplayGuard&) = delete;

  // Loads the nonces still inside the window from the store. Call once before serving.
  absl::Status Load();
  // UNAUTHENTICATED if the timestamp is stale or too far ahead, or the nonce
  // was seen; otherwise records the nonce. Call only after the signature
  // verified (unsigned garbage must not fill the table).
  absl::Status Check(const shardkeep::v1::Auth& auth);
  // Forgets nonces whose timestamp left the window (memory and store).
  absl::Status Purge();
  size_t size();

 private:
  Store* const store_;
  Clock* const clock_;
  const int64_t window_ms_;
  const size_t max_entries_;
  absl::Mutex mu_;
  std::unordered_set<std::string> seen_ ABSL_GUARDED_BY(mu_);  // customer || nonce
  std::multimap<int64_t, std::string> by_time_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_REPLAY_GUARD_H_

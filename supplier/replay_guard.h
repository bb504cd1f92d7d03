// ReplayGuard: refuses signed requests whose timestamp is outside the
// supplier's window around its clock, and requests whose (customer, nonce)
// was already seen. A nonce is remembered until its timestamp leaves the
// window, so a captured request can never be replayed: while it is fresh its
// nonce is known, afterwards its timestamp is stale.
//
// Bounded per customer, so nobody can lock others out by filling the table
// (issue 11): a customer with a contract may have at most
// max_per_customer nonces in the window; customers without a contract share
// max_newcomers (their only call that reaches the guard is RequestContract,
// the service refuses their other calls before recording anything); and the
// whole table holds at most max_entries. Past a bound only the calls that
// would add to it are refused (UNAVAILABLE, saying which bound), and expired
// nonces are purged as requests come in, not only by the periodic Purge.
//
// Clock steps backwards: the lower edge of the window does not move back by
// up to an hour. Once nonces older than T are forgotten (Purge, or as
// requests come in), a timestamp below T is refused as stale even if the
// clock is stepped back, so the supplier does not accept replays of requests
// whose nonces it purged; the floor is persisted with the purge. A step back
// of more than an hour resets the floor (logged): that is a wrong clock
// being corrected, and refusing everyone for that long would be worse.
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
#include <unordered_map>
#include <unordered_set>

#include "absl/synchronization/mutex.h"
#include "common/status.h"
#include "proto/supplier.pb.h"
#include "supplier/clock.h"
#include "supplier/store.h"

namespace shardkeep::supplier {

struct ReplayGuardLimits {
  // The whole table (memory: about 100 bytes a nonce).
  size_t max_entries = 1000000;
  // One customer with a contract: 100,000 in a 10-minute window is ~170
  // requests a second, far above a backup's rate.
  size_t max_per_customer = 100000;
  // All customers without a contract together (RequestContract only).
  size_t max_newcomers = 10000;
};

class ReplayGuard {
 public:
  // window_ms: accepted |request timestamp - supplier clock|.
  ReplayGuard(Store* store, Clock* clock, int64_t window_ms, ReplayGuardLimits limits = {});
  ReplayGuard(const ReplayGuard&) = delete;
  ReplayGuard& operator=(const ReplayGuard&) = delete;

  // Loads the nonces still inside the window from the store. Call once before serving.
  absl::Status Load();
  // UNAUTHENTICATED if the timestamp is stale or too far ahead, or the nonce
  // was seen; UNAVAILABLE if recording it would pass a bound; otherwise
  // records the nonce. Call only after the signature verified (unsigned
  // garbage must not fill the table) and, for a customer without a contract,
  // only for a call that may create one (has_contract = false).
  absl::Status Check(const shardkeep::v1::Auth& auth, bool has_contract = true);
  // Only the timestamp part of Check (no state read or written).
  absl::Status CheckTimestamp(const shardkeep::v1::Auth& auth);
  // Forgets nonces whose timestamp left the window (memory and store).
  absl::Status Purge();
  size_t size();
  // Nonces of one customer in the window.
  size_t CountFor(const std::string& customer);

 private:
  struct Entry {
    std::string key;  // customer || nonce
    bool newcomer;
  };
  // Drops entries whose timestamp is before cutoff. REQUIRES: mu_ held.
  void ForgetBeforeLocked(int64_t cutoff) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Store* const store_;
  Clock* const clock_;
  const int64_t window_ms_;
  const ReplayGuardLimits limits_;
  absl::Mutex mu_;
  std::unordered_set<std::string> seen_ ABSL_GUARDED_BY(mu_);  // customer || nonce
  std::multimap<int64_t, Entry> by_time_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, size_t> per_customer_ ABSL_GUARDED_BY(mu_);
  // Timestamps below this were forgotten: refused even if the clock steps
  // back (persisted by Purge before the nonces are deleted).
  int64_t floor_ms_ ABSL_GUARDED_BY(mu_) = INT64_MIN;
  size_t newcomers_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_REPLAY_GUARD_H_

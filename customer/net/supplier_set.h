// The vault's n suppliers by position, and the operations that span them:
// storing a block's fragments on all of them, fetching any k back (data
// positions first, falling back to parity on error, timeout or a hash
// mismatch), and keeping metadata objects on every one.
//
// Each position has its own small thread pool, so fragments move to and from
// all suppliers at once while calls to one supplier stay few. A supplier that
// fails during a command is marked down for the rest of it (its error kept
// for messages): uploads skip it, fetches try it last. A fetch whose
// suppliers stay silent for a few seconds after another one answered asks
// one more supplier (a hedge) and marks the silent ones slow: later fetches
// try them last. (Not when none has answered yet: that is a slow link, where
// a hedge would only steal bandwidth; see FetchFragments.)
//
// Thread-safe.
#ifndef SHARDKEEP_CUSTOMER_NET_SUPPLIER_SET_H_
#define SHARDKEEP_CUSTOMER_NET_SUPPLIER_SET_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/workers.h"
#include "customer/net/supplier_client.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

// Fragments needed to commit a block (docs/FORMAT.md, "Commit rule"): all n
// normally; when some suppliers fail, at least k + 1 (capped at n), so a
// degraded block can still lose one more fragment.
int CommitThreshold(int n, int k);

class SupplierSet {
 public:
  struct Options {
    int threads_per_supplier = 2;
    // A fetch whose other suppliers stay silent this long (or twice the
    // recent fetch time, if longer) after one of them answered asks one
    // more supplier (tests shorten it).
    std::chrono::milliseconds hedge_after{5000};
  };

  // Clients for every supplier of `config` (no network traffic yet).
  static absl::StatusOr<std::unique_ptr<SupplierSet>> Connect(const vault::v1::VaultConfig& config,
                                                              const std::string& identity_seed,
                                                              const SupplierConnector& connector,
                                                              Options options);
  // Same, for clients made by the caller (init, tests). `clients` by position.
  SupplierSet(std::vector<std::unique_ptr<SupplierClient>> clients, int k, Options options);
  ~SupplierSet();
  SupplierSet(const SupplierSet&) = delete;
  SupplierSet& operator=(const SupplierSet&) = delete;

  int n() const { return static_cast<int>(clients_.size()); }
  int k() const { return k_; }
  SupplierClient* at(int position) const { return clients_[position].get(); }
  const std::string& address(int position) const { return clients_[position]->address(); }

  // Calls Info on every supplier in parallel; marks down those that do not
  // answer (or answer with another supplier ID than `expected_ids[i]`, if
  // given). Returns kSuppliersUnreachable naming them if fewer than
  // `min_reachable` answered.
  absl::Status CheckReachable(int min_reachable, const std::vector<std::string>& expected_ids = {});

  void MarkDown(int position, const absl::Status& why);
  // A supplier that once did not answer a fetch in time: fetches ask it last
  // (uploads still go to it).
  void MarkSlow(int position);
  bool IsSlow(int position) const;
  bool IsDown(int position) const;
  int UpCount() const;
  // Why `position` was marked down (OK if it is up).
  absl::Status DownReason(int position) const;
  // "host:port (reason); host:port (reason)" for the positions marked down.
  std::string DownSummary() const;

  // The smallest max_object_bytes the suppliers reported in CheckReachable
  // (1 MiB if none reported).
  uint64_t max_object_bytes() const;

  // How fetches from one position went wrong during this command, for a
  // one-line-per-supplier summary (restore, check) instead of one per block.
  struct FetchTrouble {
    uint64_t unreachable = 0;  // UNAVAILABLE / DEADLINE_EXCEEDED answers
    uint64_t slow = 0;         // fetches hedged because it did not answer in time
    uint64_t corrupt = 0;      // fragments of the wrong size or failing their hash
    uint64_t other = 0;        // any other error (NOT_FOUND, PERMISSION_DENIED, ...)
    std::string first_error;   // the first message, naming the supplier
    bool any() const { return unreachable + slow + corrupt + other > 0; }
  };
  // By position.
  std::vector<FetchTrouble> FetchTroubles() const;

  // Bytes of fragments and objects sent to each position so far.
  uint64_t BytesSent(int position) const { return sent_[position].load(); }

  // ---- Objects
  // Puts `data` as object `name` on every supplier that is up, in parallel.
  // OK if at least `min_ok` stored it; otherwise an error naming the
  // suppliers that failed (kSuppliersUnreachable if they were unreachable).
  absl::Status PutObjectEverywhere(const std::string& name, const std::string& data, int min_ok,
                                   const std::string& vault_id = {});
  // The first copy of `name` that `accept` takes (suppliers in position
  // order, down ones last). NotFound if no supplier has a valid copy.
  absl::StatusOr<std::string> GetObjectAny(
      const std::string& name, const std::function<absl::Status(const std::string&)>& accept);
  // Union of the object names under `prefix` over every supplier that is up
  // and answers (one whose listing fails is marked down). kSuppliersUnreachable
  // if none does. With `listed_by`, each name's positions that listed it
  // (bit i: position i).
  absl::StatusOr<std::vector<std::string>> ListObjectsUnion(
      const std::string& prefix, std::map<std::string, uint64_t>* listed_by = nullptr);

  // ---- Fragments
  // Uploads fragment i of block `block_id` to position i for every position
  // that is up, on the per-position pools; calls `done(position, status)` once
  // per position (immediately with Unavailable for positions already down).
  // `fragments` must stay alive until every `done` has run.
  void PutFragmentsAsync(const std::string& block_id, const std::vector<std::string>* fragments,
                         const std::vector<std::string>& sha256s,
                         std::function<void(int, absl::Status)> done);

  // Fetches k verified fragments of `block` (data positions first, then
  // parity; positions not stored at commit are skipped). DataLoss naming
  // every failing supplier if fewer than k can be had.
  absl::StatusOr<std::map<int, std::string>> FetchFragments(const vault::v1::BlockRecord& block);

 private:
  ThreadPool* pool(int position);
  void NoteFetchError(int position, const absl::Status& err);
  // A successful fragment fetch took `took` (from leaving the queue).
  void NoteFetchTime(std::chrono::steady_clock::duration took);
  // options_.hedge_after, or twice the recent fetch time if longer.
  std::chrono::milliseconds HedgeAfter() const;

  std::vector<std::unique_ptr<SupplierClient>> clients_;
  int k_;
  Options options_;
  mutable std::mutex mu_;
  std::vector<absl::Status> down_;  // OK = up
  std::vector<bool> slow_;
  std::vector<FetchTrouble> troubles_;  // guarded by mu_
  std::vector<std::unique_ptr<ThreadPool>> pools_;
  std::unique_ptr<std::atomic<uint64_t>[]> sent_;
  uint64_t max_object_bytes_ = 0;  // guarded by mu_; 0 = not known
  double fetch_ms_ = 0;            // guarded by mu_: moving average of fetch times
};

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_NET_SUPPLIER_SET_H_

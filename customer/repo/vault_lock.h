// A lock on a vault that cannot go stale for good (docs/FORMAT.md, "Locks"):
// a lease stored as object locks/<id> on every supplier, refreshed by a
// thread while its holder runs, and dead once its expiry has passed.
//
// Backups, forget and repair hold shared locks (any number at once: they
// only add records, or remove snapshot records); prune holds an exclusive
// one (it deletes blocks and fragments no index names, which a running
// backup may be writing), and so does `suppliers replace` (a backup would
// send its new fragments to the supplier being replaced). Acquire writes the lock, then lists the others: a live lock that
// conflicts makes it delete its own and stop (or wait, if asked), naming the
// holder's host, PID and command. Two that race both see each other and both
// back off; neither proceeds while the other may.
//
// The rule a user needs (no `unlock` command exists): a lock is dead when
//  - its expiry (refreshed every minute, 5 minutes ahead) is more than the
//    allowed clock skew (2 minutes) in the past, or
//  - it was taken on this host by a process that no longer runs.
// So a crashed or killed command blocks others for at most about 7 minutes.
//
// A holder whose refreshes fail (suppliers unreachable, or the machine slept
// past the expiry) can no longer be sure it excludes anyone: Held() says so,
// and a backup then stops before it writes an index piece or a snapshot.
#ifndef SHARDKEEP_CUSTOMER_REPO_VAULT_LOCK_H_
#define SHARDKEEP_CUSTOMER_REPO_VAULT_LOCK_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "customer/repo/repository.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

class VaultLock {
 public:
  enum class Kind { kShared, kExclusive };
  struct Options {
    int64_t lease_ms = 5 * 60 * 1000;
    int64_t refresh_ms = 60 * 1000;
    int64_t skew_ms = 2 * 60 * 1000;  // how far another machine's clock may be off
    int64_t wait_ms = 0;              // keep retrying a conflict this long (--retry-lock)
    Clock* clock = nullptr;           // null: RealClock()
  };

  // Takes the lock for `command` ("backup", "prune", ...). kLocked naming
  // the holder when a conflicting live lock stays past wait_ms; other errors
  // when the lock cannot be stored (fewer than the commit threshold of
  // suppliers took it). Dead locks found on the way are deleted.
  static absl::StatusOr<std::unique_ptr<VaultLock>> Acquire(Repository& repo, Kind kind,
                                                            const std::string& command,
                                                            const Options& options);
  static absl::StatusOr<std::unique_ptr<VaultLock>> Acquire(Repository& repo, Kind kind,
                                                            const std::string& command) {
    return Acquire(repo, kind, command, Options());
  }
  // For the commands that heal a vault (repair, suppliers replace), which
  // must work when suppliers are lost: a live conflicting lock stops them
  // (kLocked, as Acquire), but a lock that cannot be stored (too few
  // suppliers answer) does not. Then `warn` is told and null is returned:
  // the command runs unlocked, as it would have before locks existed.
  static absl::StatusOr<std::unique_ptr<VaultLock>> AcquireForHealing(
      Repository& repo, Kind kind, const std::string& command,
      const std::function<void(const std::string&)>& warn);
  // Releases it (best effort: a lock left behind dies by itself).
  ~VaultLock();
  VaultLock(const VaultLock&) = delete;
  VaultLock& operator=(const VaultLock&) = delete;

  // OK while the last successful store of the lease is less than lease_ms
  // old by this machine's boot-time clock (which counts suspend); kLocked
  // saying why once it may have lapsed.
  absl::Status Held() const;

  const vault::v1::Lock& record() const { return record_; }

  // "prune on host h (PID 12, since 2026-11-29 03:10:00 UTC)" for messages.
  static std::string Describe(const vault::v1::Lock& lock);

 private:
  VaultLock(Repository& repo, vault::v1::Lock record, Options options);
  void RefreshMain();
  absl::Status Store();

  Repository& repo_;
  vault::v1::Lock record_;
  const Options options_;
  std::string name_;
  std::atomic<int64_t> stored_boot_ms_{0};  // boot-time clock at the last good store
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread refresher_;
};

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_VAULT_LOCK_H_

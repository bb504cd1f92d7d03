#include "customer/repo/vault_lock.h"

#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "common/hostname.h"
#include "customer/net/supplier_set.h"
#include "customer/vault/names.h"

namespace shardkeep::customer {
namespace {

// Milliseconds of a clock that keeps counting while the machine sleeps
// (CLOCK_BOOTTIME): a laptop that slept past its lease must notice.
int64_t BootMs() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

std::string When(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

// Dead: expired beyond the skew, or taken here by a process that is gone.
bool IsDead(const vault::v1::Lock& l, int64_t now_ms, int64_t skew_ms, const std::string& host) {
  if (l.expires_ms() + skew_ms < now_ms) return true;
  if (l.hostname() == host && l.pid() > 0 &&
      kill(static_cast<pid_t>(l.pid()), 0) != 0 && errno == ESRCH) {
    return true;
  }
  return false;
}

}  // namespace

std::string VaultLock::Describe(const vault::v1::Lock& l) {
  return absl::StrCat(l.command().empty() ? "a command" : l.command(), " on host ",
                      PrintableName(l.hostname()), " (PID ", l.pid(), ", since ",
                      When(l.created_ms()), ", lease until ", When(l.expires_ms()), ")");
}

VaultLock::VaultLock(Repository& repo, vault::v1::Lock record, Options options)
    : repo_(repo), record_(std::move(record)), options_(options) {
  name_ = LockObjectName(record_.id());
}

absl::Status VaultLock::Store() {
  Clock* clock = options_.clock != nullptr ? options_.clock : RealClock();
  const int64_t boot = BootMs();
  record_.set_expires_ms(clock->NowMs() + options_.lease_ms);
  RETURN_IF_ERROR(repo_.PutObject(name_, record_.SerializeAsString(), /*cache=*/false));
  stored_boot_ms_ = boot;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<VaultLock>> VaultLock::Acquire(Repository& repo, Kind kind,
                                                              const std::string& command,
                                                              const Options& options) {
  Clock* clock = options.clock != nullptr ? options.clock : RealClock();
  const std::string host = shardkeep::Hostname();
  const int64_t give_up = BootMs() + std::max<int64_t>(0, options.wait_ms);
  for (int attempt = 0;; ++attempt) {
    vault::v1::Lock rec;
    rec.set_id(crypto::RandomBytes(kNameIdSize));
    rec.set_exclusive(kind == Kind::kExclusive);
    rec.set_hostname(host);
    rec.set_pid(static_cast<uint32_t>(getpid()));
    rec.set_command(command);
    rec.set_created_ms(clock->NowMs());
    std::unique_ptr<VaultLock> lock(new VaultLock(repo, std::move(rec), options));
    RETURN_IF_ERROR(lock->Store());

    // Every other lock listed anywhere.
    std::map<std::string, uint64_t> listed_by;
    auto names = repo.ListNames(kLockPrefix, ObjectKind::kLock, &listed_by);
    if (!names.ok()) {
      repo.DeleteObjects({lock->name_});
      return names.status();
    }
    const vault::v1::Lock* conflict = nullptr;
    std::vector<vault::v1::Lock> others;
    std::vector<std::string> dead;
    for (const std::string& name : *names) {
      if (name == lock->name_) continue;
      auto plain = repo.GetObjectFresh(name);
      if (!plain.ok()) continue;  // deleted meanwhile, or no valid copy: not a lock
      vault::v1::Lock other;
      if (!other.ParseFromString(*plain) || LockObjectName(other.id()) != name) continue;
      if (IsDead(other, clock->NowMs(), options.skew_ms, host)) {
        dead.push_back(name);
        continue;
      }
      others.push_back(std::move(other));
    }
    if (!dead.empty()) repo.DeleteObjects(dead);
    for (const auto& other : others) {
      if (kind == Kind::kExclusive || other.exclusive()) {
        conflict = &other;
        break;
      }
    }
    if (conflict == nullptr) {
      lock->refresher_ = std::thread([l = lock.get()] { l->RefreshMain(); });
      return lock;
    }
    const std::string holder = Describe(*conflict);
    lock.reset();  // deletes our own
    if (BootMs() >= give_up) {
      return WithKind(
          absl::FailedPreconditionError(absl::StrCat(
              "the vault is locked by ", holder,
              ": it renews its lock while it runs, and the lock dies by itself within ",
              (options.lease_ms + options.skew_ms) / 60000,
              " minutes if that process is gone; try again later, or wait with --retry-lock")),
          ErrorKind::kLocked);
    }
    // Back off (with jitter: two that raced must not retry in step).
    const int64_t pause = std::min<int64_t>(
        give_up - BootMs(), 1000 + static_cast<int64_t>(crypto::RandomBytes(1)[0]) * 8);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max<int64_t>(pause, 1)));
  }
}

absl::StatusOr<std::unique_ptr<VaultLock>> VaultLock::AcquireForHealing(
    Repository& repo, Kind kind, const std::string& command,
    const std::function<void(const std::string&)>& warn) {
  auto lock = Acquire(repo, kind, command);
  if (lock.ok() || KindOf(lock.status()) == ErrorKind::kLocked) return lock;
  if (warn) {
    warn(absl::StrCat("warning: no vault lock could be stored (", lock.status().message(),
                      "); going on unlocked: run no backup or prune meanwhile"));
  }
  return std::unique_ptr<VaultLock>();
}

void VaultLock::RefreshMain() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    cv_.wait_for(lk, std::chrono::milliseconds(options_.refresh_ms), [this] { return stop_; });
    if (stop_) break;
    lk.unlock();
    Store().IgnoreError();  // Held() turns false if this keeps failing
    lk.lock();
  }
}

absl::Status VaultLock::Held() const {
  const int64_t age = BootMs() - stored_boot_ms_.load();
  if (age < options_.lease_ms) return absl::OkStatus();
  return WithKind(absl::FailedPreconditionError(absl::StrCat(
                      "this command's lock on the vault was last renewed ", age / 1000,
                      " s ago (the lease is ", options_.lease_ms / 1000,
                      " s; the machine slept, or the suppliers stopped answering): another "
                      "command may have taken the vault meanwhile, so this one stops here; "
                      "run it again")),
                  ErrorKind::kLocked);
}

VaultLock::~VaultLock() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  repo_.DeleteObjects({name_});
}

}  // namespace shardkeep::customer

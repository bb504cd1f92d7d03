// Admission: who may open a new contract at this supplier (issue 11). A
// supplier on the open internet would otherwise hand its capacity to any key
// that asks. The operator's policy (docs/OPERATING.md, "Admission"):
//   - open (default): anyone, at most new_contracts_per_hour new contracts;
//   - invite: a new customer needs an invitation token (`shardkeep-supplier
//     invite`, carried in ContractRequest.invite) or a key on the allow-list.
// Existing contracts (resize, renew) are never asked again. The caps on
// customers and on one customer's quota are the Store's (StoreOptions).
//
// Invitation tokens are issued without the running daemon's database (the
// daemon holds its lock): "ski1-" + hex(expiry_ms be64 || id 8 bytes ||
// HMAC-SHA256(secret, expiry || id)[0:16]), with the secret in
// <data-dir>/invite.key (32 random bytes, created on first use, mode 0600).
// The Store records a token's id with the contract it opened, in the same
// batch, so a token opens one contract.
// Thread-safe.
#ifndef SHARDKEEP_SUPPLIER_ADMISSION_H_
#define SHARDKEEP_SUPPLIER_ADMISSION_H_

#include <cstdint>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "common/status.h"
#include "supplier/clock.h"

namespace shardkeep::supplier {

struct AdmissionOptions {
  bool require_invite = false;
  // Customer keys (32 bytes) admitted without an invite.
  std::set<std::string> allowed;
  // New contracts per hour (a token bucket of this size, refilled evenly);
  // 0: no limit.
  uint32_t new_contracts_per_hour = 100;
  // The invite secret (32 bytes); empty: invites cannot be checked.
  std::string invite_secret;
};

class Admission {
 public:
  Admission(AdmissionOptions options, Clock* clock);

  // For a customer without a contract asking for one. OK with *invite_id set
  // to the token's id (empty if none was needed or given), or
  // PermissionDenied (invite required, bad or expired token) or Unavailable
  // (rate limit; the message says when to retry). A refused request does not
  // use up the rate.
  absl::Status AdmitNew(const std::string& customer, const std::string& invite,
                        std::string* invite_id);

 private:
  const AdmissionOptions options_;
  Clock* const clock_;
  absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  int64_t last_refill_ms_ ABSL_GUARDED_BY(mu_);
};

// Reads <data_dir>/invite.key, creating it (32 random bytes, 0600) if absent.
absl::StatusOr<std::string> LoadOrCreateInviteSecret(const std::string& data_dir);
// A token valid until expires_ms.
std::string MakeInvite(const std::string& secret, int64_t expires_ms);
// The token's id if it is well formed, signed with `secret` and not expired at
// now_ms; PermissionDenied otherwise.
absl::StatusOr<std::string> CheckInvite(const std::string& secret, const std::string& token,
                                        int64_t now_ms);
// Allow-list file: one customer key per line, 64 hex digits; '#' comments.
absl::StatusOr<std::set<std::string>> ReadAllowList(const std::string& path);

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_ADMISSION_H_

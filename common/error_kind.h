// The few kinds of failure a caller must tell apart beyond absl's codes:
// a bad command line, no vault, a wrong passphrase, too few suppliers.
//
// Libraries mark an error with its kind (WithKind); the kind is a Status
// payload, so it survives RETURN_IF_ERROR and stays out of the message.
// Only the command layer (customer/cmd/exit_codes.h) turns kinds into exit
// codes: libraries never know about exit codes.
#ifndef SHARDKEEP_COMMON_ERROR_KIND_H_
#define SHARDKEEP_COMMON_ERROR_KIND_H_

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace shardkeep {

enum class ErrorKind : int {
  kOther = 0,              // unmarked
  kUsage,                  // bad input from the user (flags, addresses, sizes)
  kNotInitialized,         // no vault in the config dir
  kWrongPassphrase,        // the passphrase does not unlock the key record
  kSuppliersUnreachable,   // too few suppliers answered to do the job
  kInterrupted,            // the user stopped it (Ctrl-C, SIGTERM); what was done is kept
  kLocked,                 // another command holds a conflicting lock on the vault
  kQuotaExceeded,          // a supplier's quota has no room for what must be stored
  kLast = kQuotaExceeded,  // the highest kind KindOf accepts: keep it the last one
};

// Returns `status` marked with `kind`. An OK status becomes Unknown (a
// marked success would be a bug at the caller).
absl::Status WithKind(absl::Status status, ErrorKind kind);

// The kind `status` was marked with; kOther if none (or OK).
ErrorKind KindOf(const absl::Status& status);

// InvalidArgument marked kUsage.
absl::Status UsageError(absl::string_view message);

}  // namespace shardkeep

#endif  // SHARDKEEP_COMMON_ERROR_KIND_H_

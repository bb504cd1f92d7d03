// Exit codes of the `shardkeep` CLI (stable; documented in docs/CLI.md and
// in --help) and how an absl::Status carries one up to main().
//
// Libraries mark the errors that have their own exit code with
// WithExitCode(); everything else maps to kError. The mark is a Status
// payload, so it survives RETURN_IF_ERROR and is invisible in messages.
#ifndef SHARDKEEP_CUSTOMER_EXIT_CODES_H_
#define SHARDKEEP_CUSTOMER_EXIT_CODES_H_

#include "common/status.h"

namespace shardkeep::customer {

enum ExitCode : int {
  kSuccess = 0,
  kError = 1,                  // any other error
  kUsage = 2,                  // bad command line
  kPartial = 3,                // backup finished, but some files could not be read
  kNotInitialized = 10,        // no vault in the config dir
  kWrongPassphrase = 12,       // the passphrase does not unlock the key record
  kSuppliersUnreachable = 13,  // too few suppliers answered to do the job
};

// Returns `status` (which must not be OK) marked with `code`.
absl::Status WithExitCode(absl::Status status, ExitCode code);

// The exit code for a finished command: kSuccess for OK, the mark set by
// WithExitCode, or kError.
ExitCode ExitCodeOf(const absl::Status& status);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_EXIT_CODES_H_

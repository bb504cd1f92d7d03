// Exit codes of the `shardkeep` CLI (stable; documented in docs/CLI.md, the
// README and --help). The command layer is the only place that knows them:
// libraries mark errors with an ErrorKind (common/error_kind.h) and this
// file maps kinds to codes.
#ifndef SHARDKEEP_CUSTOMER_CMD_EXIT_CODES_H_
#define SHARDKEEP_CUSTOMER_CMD_EXIT_CODES_H_

#include "common/error_kind.h"
#include "common/status.h"

namespace shardkeep::customer {

enum ExitCode : int {
  kSuccess = 0,
  kError = 1,                  // any other error
  kUsage = 2,                  // bad command line
  kPartial = 3,                // finished, but some files are missing: backup could not
                               // read them, or restore lost them (fewer than k fragments)
  kDegraded = 4,               // check: everything restorable, with less margin than n-k
  kDamaged = 5,                // check: some files cannot be restored
  kNotInitialized = 10,        // no vault in the config dir
  kLocked = 11,                // another command holds a conflicting lock (it is named)
  kWrongPassphrase = 12,       // the passphrase does not unlock the key record
  kSuppliersUnreachable = 13,  // too few suppliers answered to do the job
  kQuotaExceeded = 14,         // backup: a supplier's quota has no room for the next block
  kInterrupted = 130,          // stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells do)
};

// The exit code for a finished command: kSuccess for OK, the code of the
// error's kind, or kError.
ExitCode ExitCodeOf(const absl::Status& status);

// The table above for --help: "Exit codes:\n" and one line a code.
extern const char kExitCodesHelp[];

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_CMD_EXIT_CODES_H_

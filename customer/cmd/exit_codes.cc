#include "customer/cmd/exit_codes.h"

namespace shardkeep::customer {

const char kExitCodesHelp[] =
    "Exit codes:\n"
    "  0   success\n"
    "  1   error\n"
    "  2   usage (bad command line)\n"
    "  3   partial: backup saved the snapshot, but some files could not be read;\n"
    "      restore restored everything else, but the files it names are lost\n"
    "  4   check: degraded (everything can be restored, with less margin than n-k)\n"
    "  5   check, repair: damaged (some files cannot be restored; they are named)\n"
    "  10  no vault in the config dir (run `shardkeep init`)\n"
    "  11  locked: another command (named) holds a conflicting lock on the vault\n"
    "  12  wrong passphrase\n"
    "  13  suppliers unreachable (too few answered)\n"
    "  14  quota: backup stopped before a block a supplier's quota cannot hold\n"
    "      (run `suppliers resize` or `forget --prune`)\n"
    "  130 interrupted (Ctrl-C, SIGTERM): a backup keeps what it stored for the next one\n";

ExitCode ExitCodeOf(const absl::Status& status) {
  if (status.ok()) return kSuccess;
  switch (KindOf(status)) {
    case ErrorKind::kUsage:
      return kUsage;
    case ErrorKind::kNotInitialized:
      return kNotInitialized;
    case ErrorKind::kWrongPassphrase:
      return kWrongPassphrase;
    case ErrorKind::kSuppliersUnreachable:
      return kSuppliersUnreachable;
    case ErrorKind::kInterrupted:
      return kInterrupted;
    case ErrorKind::kLocked:
      return kLocked;
    case ErrorKind::kQuotaExceeded:
      return kQuotaExceeded;
    case ErrorKind::kOther:
      break;
  }
  return kError;
}

}  // namespace shardkeep::customer

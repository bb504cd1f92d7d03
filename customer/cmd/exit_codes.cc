#include "customer/cmd/exit_codes.h"

namespace shardkeep::customer {

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
    case ErrorKind::kOther:
      break;
  }
  return kError;
}

}  // namespace shardkeep::customer

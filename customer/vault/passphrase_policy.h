// Whether a new passphrase is strong enough to protect a key record that
// every supplier holds (docs/SECURITY.md: a supplier can guess offline at
// the cost of one key derivation per guess). init and key passwd ask.
#ifndef SHARDKEEP_CUSTOMER_VAULT_PASSPHRASE_POLICY_H_
#define SHARDKEEP_CUSTOMER_VAULT_PASSPHRASE_POLICY_H_

#include <string_view>

#include "common/status.h"

namespace shardkeep::customer {

// libpwquality's check with its system defaults (/etc/security/pwquality.conf:
// length, character classes, the cracklib dictionary). A usage error
// (ErrorKind::kUsage) quoting libpwquality's reason and naming
// --allow-weak-passphrase when it calls the passphrase weak.
absl::Status CheckPassphraseStrength(std::string_view passphrase);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_VAULT_PASSPHRASE_POLICY_H_

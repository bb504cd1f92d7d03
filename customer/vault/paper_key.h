// The master key on paper: `key export --paper` prints it, `recover
// --key-file` reads it back (docs/SECURITY.md says what it is worth: the
// whole vault, without any passphrase).
//
// Text form (docs/FORMAT.md, "Paper key"):
//   ShardKeep paper key
//   vault: <32 hex digits>
//   key:   XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX
//          XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX
// The 56 characters are Crockford base32 of the 32-byte master key followed
// by a 3-byte check (SHA-256 of "shardkeep/v1/paper-key", the vault ID and
// the key). Reading ignores case, spaces and dashes and takes O for 0 and
// I or L for 1, so what a person types back is what they wrote down.
#ifndef SHARDKEEP_CUSTOMER_VAULT_PAPER_KEY_H_
#define SHARDKEEP_CUSTOMER_VAULT_PAPER_KEY_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace shardkeep::customer {

// REQUIRES: vault_id 16 bytes, master 32 bytes.
std::string EncodePaperKey(std::string_view vault_id, std::string_view master);

// The master key in `text` (the form above; only the "key:" part is needed).
// InvalidArgument naming the problem: no key, a character outside the
// alphabet, a wrong length, a check that fails (a typo), or a "vault:" line
// naming another vault than `vault_id`.
absl::StatusOr<std::string> DecodePaperKey(std::string_view text, std::string_view vault_id);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_VAULT_PAPER_KEY_H_

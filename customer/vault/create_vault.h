// CreateVault: `init`'s algorithm as a library function, so that `recover`
// and `key passwd` can reuse its pieces and tests can run it over in-memory
// suppliers (customer/net/mem_supplier_client.h).
//
// Steps, in order (each failure is returned, nothing is left behind):
//  1. Check the request: 2..64 distinct HOST:PORT addresses (port 1..65535),
//     1 <= k < n, block size 64 KiB..256 MiB, needed > 0 (usage errors,
//     ErrorKind::kUsage, naming the bad value); no vault in the config dir
//     yet (AlreadyExists naming it). No passphrase is asked before this.
//  2. Ask for the passphrase (the callback; refused if libpwquality calls
//     it weak, unless allow_weak_passphrase), make a master key, a vault ID
//     and the keys derived from them (customer/vault/keys.h).
//  3. Reach every supplier (kSuppliersUnreachable naming those that do not
//     answer) and refuse two addresses of one supplier (same supplier ID).
//  4. Ask all n for a contract of ceil(needed / k) at once; if any refuses,
//     cancel those granted and fail naming every refusal.
//  5. Store the key record and the sealed config on every supplier, then
//     write the config dir. If anything after step 4 fails, the contracts
//     are cancelled (a retry makes a new identity, so they would only hold
//     space until their leases ran out).
#ifndef SHARDKEEP_CUSTOMER_VAULT_CREATE_VAULT_H_
#define SHARDKEEP_CUSTOMER_VAULT_CREATE_VAULT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/chunker.h"
#include "common/clock.h"
#include "common/status.h"
#include "customer/net/supplier_client.h"
#include "customer/vault/keys.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

struct CreateVaultRequest {
  std::vector<std::string> supplier_addresses;  // by position
  int data_shards = 0;                          // k; 0: ceil(n/2)
  uint64_t block_size = uint64_t{8} << 20;
  uint64_t needed_bytes = uint64_t{10} << 30;  // after dedup and compression
  chunker::Params chunker;                      // FastCDC sizes (tests use small ones)
  std::string config_dir;
  std::string cache_dir;
  // Asked once the request has been checked (a prompt, the environment).
  std::function<absl::StatusOr<std::string>()> passphrase;
  KdfParams kdf;             // tests use KdfParams::CheapForTests()
  // Invitation tokens by supplier address, for suppliers that admit new
  // customers only by invitation (`shardkeep-supplier invite`).
  std::map<std::string, std::string> invites;
  // Skips CheckPassphraseStrength (vault/passphrase_policy.h).
  bool allow_weak_passphrase = false;
  Clock* clock = nullptr;    // the config's created_ms; null: RealClock()
};

struct CreatedVault {
  // As stored (locally and, sealed, on every supplier): vault ID, n, k,
  // sizes, and each position's address, supplier ID and granted quota.
  vault::v1::VaultConfig config;
  // The earliest lease end the suppliers granted: until when the data is
  // kept without any activity (0: not told).
  int64_t safe_until_ms = 0;
};

// Checks a list of supplier addresses as step 1 does. kUsage naming the
// first bad or repeated one.
absl::Status CheckSupplierAddresses(const std::vector<std::string>& addresses);

// Creates a vault as the file comment says.
absl::StatusOr<CreatedVault> CreateVault(const CreateVaultRequest& request,
                                         const SupplierConnector& connector);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_VAULT_CREATE_VAULT_H_

// The vault's record in the DHT (docs/DISCOVERY.md, "Recovery without
// addresses"): lets `recover --vault ID` find the vault's suppliers with only
// the vault ID and the passphrase.
//
// Key: "shardkeep/vault/v1/" + hex(SHA-256("shardkeep vault locator\n" +
// vault_id)), so the DHT key does not show the vault ID. Value (JSON, at
// most dhtnet::kMaxDhtValueBytes):
//   {"v": 1, "key_record": HEX(KeyRecord as stored on the suppliers),
//    "nonce": HEX(12 bytes), "sealed": HEX(AES-256-GCM(config))}
// sealed under HKDF(metadata_key, vault_id, "shardkeep/v1/dht-vault-record")
// with aad "shardkeep vault record v1\n" + vault_id + key_record bytes: the
// vault config (suppliers' addresses, IDs and pinned keys, generation).
// Only the holder of the master key can make a record that opens; the key
// record is what any supplier already hands out to anyone knowing the vault
// ID (GetKeyRecord), so an observer who knows the vault ID learns nothing it
// could not learn from one supplier, and without the passphrase nothing
// more: not the suppliers, not their number.
//
// Lifetime: the long-lived value type (dhtnet::kLongValueLifetime, 30
// days), put again at every backup, maintain and `suppliers replace`.
#ifndef SHARDKEEP_CUSTOMER_DISCOVERY_VAULT_RECORD_H_
#define SHARDKEEP_CUSTOMER_DISCOVERY_VAULT_RECORD_H_

#include <functional>
#include <string>
#include <vector>

#include "common/dht_node.h"
#include "common/status.h"
#include "customer/net/supplier_client.h"
#include "customer/repo/recover.h"
#include "customer/vault/vault.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

std::string VaultRecordKey(std::string_view vault_id);

// The record of `vault` (exposed for tests).
absl::StatusOr<std::string> MakeVaultRecord(const Vault& vault);

// Joins the DHT and stores the record; an error says why (callers warn).
absl::Status PublishVaultRecord(const std::vector<std::string>& bootstrap, const Vault& vault);

struct LocatedVault {
  vault::v1::VaultConfig config;  // as sealed by the owner (the highest generation)
  int records_seen = 0;
  int records_rejected = 0;       // malformed, or not opening under the passphrase
};

// Reads the records under the vault's key (at most 256), opens them with
// `passphrase` (asked once; one key derivation per distinct key record, at
// most two) and returns the newest config that opens. NotFound if there is
// no record; kWrongPassphrase if none opens.
// With a non-empty `master_key` (the paper key) no passphrase is asked.
absl::StatusOr<LocatedVault> LocateVault(dhtnet::DhtNode& node, std::string_view vault_id,
                                         const std::function<absl::StatusOr<std::string>()>& passphrase,
                                         std::string_view master_key);

// recover --vault ID without --supplier: finds the vault's config in the DHT
// (LocateVault), follows each supplier's key to its newest offered address
// (LookupIdentity), and runs RecoverVault on those addresses with clients
// pinned to the keys the config names. The passphrase is asked once.
absl::StatusOr<RecoveredVault> RecoverVaultFromDht(RecoverRequest request,
                                                   const std::vector<std::string>& bootstrap,
                                                   const SupplierConnector& connector);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_DISCOVERY_VAULT_RECORD_H_

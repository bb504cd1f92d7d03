#include "customer/discovery/vault_record.h"

#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "customer/discovery/hire.h"
#include "customer/discovery/offers.h"
#include "customer/vault/keys.h"
#include "nlohmann/json.hpp"

namespace shardkeep::customer {
namespace {

using Json = nlohmann::json;
constexpr size_t kMaxRecordsRead = 256;

std::string RecordKey(const VaultKeys& keys, std::string_view vault_id) {
  return crypto::Hkdf(keys.metadata_key, vault_id, "shardkeep/v1/dht-vault-record", 32);
}

std::string RecordAad(std::string_view vault_id, std::string_view key_record) {
  return absl::StrCat("shardkeep vault record v1\n", std::string(vault_id),
                      std::string(key_record));
}

}  // namespace

std::string VaultRecordKey(std::string_view vault_id) {
  return absl::StrCat("shardkeep/vault/v1/",
                      crypto::ToHex(crypto::Sha256(absl::StrCat(
                          "shardkeep vault locator\n", std::string(vault_id)))));
}

absl::StatusOr<std::string> MakeVaultRecord(const Vault& vault) {
  const std::string key_record = vault.key_record().SerializeAsString();
  const std::string nonce = crypto::RandomBytes(12);
  std::string sealed;
  RETURN_IF_ERROR(crypto::AeadSeal(RecordKey(vault.keys(), vault.vault_id()), nonce,
                                   RecordAad(vault.vault_id(), key_record),
                                   vault.config().SerializeAsString(), &sealed));
  std::string wire = Json{{"v", 1},
                          {"key_record", crypto::ToHex(key_record)},
                          {"nonce", crypto::ToHex(nonce)},
                          {"sealed", crypto::ToHex(sealed)}}
                         .dump();
  if (wire.size() > dhtnet::kMaxDhtValueBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the vault's DHT record is ", wire.size(),
                                                   " bytes, more than ",
                                                   dhtnet::kMaxDhtValueBytes));
  }
  return wire;
}

absl::Status PublishVaultRecord(const std::vector<std::string>& bootstrap, const Vault& vault) {
  ASSIGN_OR_RETURN(std::string wire, MakeVaultRecord(vault));
  ASSIGN_OR_RETURN(auto node, JoinDht(bootstrap));
  if (!node->PutOnce(VaultRecordKey(vault.vault_id()), wire, std::chrono::milliseconds(5000),
                     dhtnet::Lifetime::kLong)) {
    return absl::UnavailableError("no DHT node stored the vault's record");
  }
  return absl::OkStatus();
}

absl::StatusOr<LocatedVault> LocateVault(
    dhtnet::DhtNode& node, std::string_view vault_id,
    const std::function<absl::StatusOr<std::string>()>& passphrase, std::string_view master_key) {
  LocatedVault out;
  std::vector<std::string> values =
      // The whole lookup, not the first answers: an older record names
      // suppliers since replaced.
      node.Get(VaultRecordKey(vault_id), std::chrono::milliseconds(5000), kMaxRecordsRead,
               std::chrono::milliseconds(0));
  if (values.empty()) {
    return absl::NotFoundError(absl::StrCat("no record of vault ", crypto::ToHex(vault_id),
                                            " in the DHT"));
  }
  out.records_seen = static_cast<int>(values.size());
  std::optional<std::string> pass;
  std::map<std::string, std::string> master_by_record;  // "" : did not open
  bool found = false;
  for (const std::string& wire : values) {
    Json j = Json::parse(wire, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || j.value("v", 0) != 1 || !j["key_record"].is_string() ||
        !j["nonce"].is_string() || !j["sealed"].is_string()) {
      ++out.records_rejected;
      continue;
    }
    auto record_bytes = crypto::FromHex(j["key_record"].get<std::string>());
    auto nonce = crypto::FromHex(j["nonce"].get<std::string>());
    auto sealed = crypto::FromHex(j["sealed"].get<std::string>());
    vault::v1::KeyRecord record;
    if (!record_bytes.ok() || !nonce.ok() || !sealed.ok() ||
        !record.ParseFromString(*record_bytes) || !CheckKeyRecord(record).ok()) {
      ++out.records_rejected;
      continue;
    }
    auto known = master_by_record.find(*record_bytes);
    if (known == master_by_record.end()) {
      // Two derivations at most: an observer may store records with decoy
      // key records, each costing a derivation (as recover bounds it).
      if (master_by_record.size() >= 2) {
        ++out.records_rejected;
        continue;
      }
      if (!master_key.empty()) {
        known = master_by_record.emplace(*record_bytes, std::string(master_key)).first;
      } else {
        if (!pass) {
          ASSIGN_OR_RETURN(std::string p, passphrase());
          pass = std::move(p);
        }
        auto master = UnwrapMasterKey(record, *pass);
        known = master_by_record.emplace(*record_bytes, master.ok() ? *master : "").first;
      }
    }
    if (known->second.empty()) {
      ++out.records_rejected;
      continue;
    }
    std::string plain;
    const VaultKeys keys = DeriveKeys(known->second, vault_id);
    vault::v1::VaultConfig config;
    if (!crypto::AeadOpen(RecordKey(keys, vault_id), *nonce, RecordAad(vault_id, *record_bytes),
                          *sealed, &plain)
             .ok() ||
        !config.ParseFromString(plain) || config.vault_id() != vault_id) {
      ++out.records_rejected;
      continue;
    }
    if (!found || config.generation() > out.config.generation()) {
      out.config = std::move(config);
      found = true;
    }
  }
  if (!found) {
    return WithKind(absl::PermissionDeniedError(absl::StrCat(
                        "none of the ", out.records_seen,
                        " DHT records of this vault opens with this passphrase")),
                    ErrorKind::kWrongPassphrase);
  }
  return out;
}

absl::StatusOr<RecoveredVault> RecoverVaultFromDht(RecoverRequest request,
                                                   const std::vector<std::string>& bootstrap,
                                                   const SupplierConnector& connector) {
  ASSIGN_OR_RETURN(auto node, JoinDht(bootstrap));
  // Asked once: LocateVault needs it first, RecoverVault again.
  auto ask = request.passphrase;
  auto cached = std::make_shared<std::optional<absl::StatusOr<std::string>>>();
  request.passphrase = [ask, cached]() -> absl::StatusOr<std::string> {
    if (!cached->has_value()) *cached = ask();
    return cached->value();
  };
  ASSIGN_OR_RETURN(LocatedVault located,
                   LocateVault(*node, request.vault_id, request.passphrase, request.master_key));
  if (request.step) {
    request.step(absl::StrCat("found the vault's record in the DHT (", located.records_seen,
                              " records, ", located.records_rejected, " rejected): ",
                              located.config.suppliers_size(), " suppliers"));
  }
  std::vector<offer::Offer> pins;
  request.supplier_addresses.clear();
  for (const auto& s : located.config.suppliers()) {
    offer::Offer o;
    o.fingerprint = s.tls_fingerprint();
    o.addresses = {s.address()};
    if (s.tls_fingerprint().size() == 32) {
      // A supplier that moved since the record was sealed.
      std::optional<offer::Offer> now = LookupIdentity(*node, s.tls_fingerprint());
      if (now && now->supplier_id == s.supplier_id()) o.addresses = {now->addresses.front()};
      pins.push_back(o);
    }
    request.supplier_addresses.push_back(o.addresses.front());
  }
  return RecoverVault(request, PinnedToOffers(connector, pins));
}

}  // namespace shardkeep::customer

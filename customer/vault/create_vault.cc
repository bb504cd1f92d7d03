#include "customer/vault/create_vault.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/chunker.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "common/units.h"
#include "customer/net/supplier_set.h"
#include "customer/vault/names.h"
#include "customer/vault/objects.h"
#include "customer/vault/passphrase_policy.h"
#include "customer/vault/vault.h"
#include "raid/codec.h"

namespace shardkeep::customer {
namespace {

constexpr uint64_t kMinBlockSize = 64 << 10;
constexpr uint64_t kMaxBlockSize = 256 << 20;

absl::Status CheckRequest(const CreateVaultRequest& r, int* k) {
  const int n = static_cast<int>(r.supplier_addresses.size());
  if (n < 2 || n > 64) {
    return UsageError(absl::StrCat("a vault needs 2 to 64 supplier addresses, got ", n));
  }
  RETURN_IF_ERROR(CheckSupplierAddresses(r.supplier_addresses));
  *k = r.data_shards == 0 ? raid::DefaultDataShards(n) : r.data_shards;
  if (*k < 1 || *k >= n) {
    return UsageError(
        absl::StrCat("data shards (k) must be 1..", n - 1, " for ", n, " suppliers"));
  }
  if (r.block_size < kMinBlockSize || r.block_size > kMaxBlockSize) {
    return UsageError(absl::StrCat("block size must be 64KiB..256MiB, got ", r.block_size,
                                   " bytes"));
  }
  if (r.needed_bytes == 0) return UsageError("needed space must be more than 0");
  for (const auto& [address, token] : r.invites) {
    if (std::find(r.supplier_addresses.begin(), r.supplier_addresses.end(), address) ==
        r.supplier_addresses.end()) {
      return UsageError(absl::StrCat("an invitation for ", address,
                                     ", which is not one of the suppliers"));
    }
  }
  if (Vault::Exists(r.config_dir)) {
    return absl::AlreadyExistsError(absl::StrCat("a vault already exists in ", r.config_dir,
                                                 " (use another --config-dir)"));
  }
  if (!r.passphrase) return absl::InvalidArgumentError("no passphrase source");
  return absl::OkStatus();
}

// Asks every supplier for a contract at once. On any refusal, cancels the
// contracts granted and returns an error naming every refusal.
absl::StatusOr<std::vector<uint64_t>> RequestContracts(SupplierSet& set, uint64_t quota,
                                                       int64_t* safe_until_ms) {
  const int n = set.n();
  std::vector<uint64_t> granted(n);
  *safe_until_ms = 0;
  std::vector<std::string> refusals;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      auto c = set.at(i)->RequestContract(quota, i, n);
      std::lock_guard<std::mutex> lock(mu);
      if (c.ok()) {
        granted[i] = c->quota_bytes();
        const int64_t until = c->lease_expires_ms();
        if (until > 0 && (*safe_until_ms == 0 || until < *safe_until_ms)) *safe_until_ms = until;
      } else {
        std::string m(c.status().message());
        const std::string& address = set.address(i);
        refusals.push_back(m.rfind(address, 0) == 0 ? m : absl::StrCat(address, ": ", m));
      }
    });
  }
  for (auto& t : threads) t.join();
  if (!refusals.empty()) {
    // Give back what was granted: nothing of this vault will be stored.
    for (int i = 0; i < n; ++i) {
      if (granted[i] > 0) set.at(i)->CancelContract().IgnoreError();
    }
    return absl::ResourceExhaustedError(absl::StrCat("contract for a quota of ",
                                                     FormatByteSize(quota), " (", quota,
                                                     " bytes) refused: ",
                                                     absl::StrJoin(refusals, "; ")));
  }
  return granted;
}

}  // namespace

absl::Status CheckSupplierAddresses(const std::vector<std::string>& addresses) {
  std::set<std::string> seen;
  for (const std::string& a : addresses) {
    // HOST:PORT with a port gRPC will not silently wrap (99999 would dial
    // 34463) and a host it will not take for a DNS name ("garbage" would be
    // reported as "suppliers unreachable", exit 13, instead of a typo).
    size_t colon = a.rfind(':');
    uint32_t port = 0;
    if (colon == std::string::npos || colon == 0 ||
        !absl::SimpleAtoi(absl::string_view(a).substr(colon + 1), &port) || port == 0 ||
        port > 65535) {
      return UsageError(absl::StrCat("bad supplier address \"", a,
                                     "\" (want HOST:PORT, port 1..65535)"));
    }
    if (!seen.insert(a).second) {
      return UsageError(absl::StrCat("supplier address ", a, " appears twice"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CreatedVault> CreateVault(const CreateVaultRequest& request,
                                         const SupplierConnector& connector) {
  int k = 0;
  RETURN_IF_ERROR(CheckRequest(request, &k));
  const std::vector<std::string>& addresses = request.supplier_addresses;
  const int n = static_cast<int>(addresses.size());
  ASSIGN_OR_RETURN(std::string pass, request.passphrase());
  if (!request.allow_weak_passphrase) RETURN_IF_ERROR(CheckPassphraseStrength(pass));

  const std::string master = crypto::RandomBytes(kMasterKeySize);
  const std::string vault_id = crypto::RandomBytes(kVaultIdSize);
  const VaultKeys keys = DeriveKeys(master, vault_id);

  std::vector<std::unique_ptr<SupplierClient>> clients;
  for (const auto& a : addresses) {
    ASSIGN_OR_RETURN(auto c, connector(a, keys.identity_seed, ""));
    auto invite = request.invites.find(a);
    if (invite != request.invites.end()) c->SetInvite(invite->second);
    clients.push_back(std::move(c));
  }
  SupplierSet set(std::move(clients), k, SupplierSet::Options{});
  RETURN_IF_ERROR(set.CheckReachable(n));

  std::vector<std::string> ids(n);
  for (int i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(auto info, set.at(i)->Info());
    ids[i] = info.supplier_id();
    for (int j = 0; j < i; ++j) {
      if (ids[j] == ids[i]) {
        return UsageError(
            absl::StrCat(addresses[j], " and ", addresses[i], " are the same supplier"));
      }
    }
  }

  const uint64_t quota = (request.needed_bytes + k - 1) / k;
  int64_t safe_until_ms = 0;
  ASSIGN_OR_RETURN(std::vector<uint64_t> granted, RequestContracts(set, quota, &safe_until_ms));

  // From here on a failure gives the contracts back.
  struct CancelOnError {
    SupplierSet& set;
    bool armed = true;
    ~CancelOnError() {
      if (!armed) return;
      for (int i = 0; i < set.n(); ++i) set.at(i)->CancelContract().IgnoreError();
    }
  } cancel_on_error{set};

  Clock* clock = request.clock != nullptr ? request.clock : RealClock();
  vault::v1::VaultConfig config;
  config.set_version(1);
  config.set_vault_id(vault_id);
  config.set_supplier_count(n);
  config.set_data_shards(k);
  config.set_block_size(request.block_size);
  config.mutable_chunker()->set_min_size(request.chunker.min_size);
  config.mutable_chunker()->set_avg_size(request.chunker.avg_size);
  config.mutable_chunker()->set_max_size(request.chunker.max_size);
  config.set_compression_level(3);
  config.set_needed_bytes(request.needed_bytes);
  config.set_created_ms(clock->NowMs());
  config.set_customer_key(keys.identity_public);
  for (int i = 0; i < n; ++i) {
    auto* s = config.add_suppliers();
    s->set_address(addresses[i]);
    s->set_supplier_id(ids[i]);
    s->set_position(i);
    s->set_quota_bytes(granted[i]);
    // The key this supplier presented on the connection that answered Info
    // with ids[i]: pinned with it (docs/NETWORK.md).
    s->set_tls_fingerprint(set.at(i)->TlsFingerprint());
  }
  ASSIGN_OR_RETURN(vault::v1::KeyRecord record,
                   WrapMasterKey(master, vault_id, pass, request.kdf, keys.identity_public));
  config.set_key_record_sha256(crypto::Sha256(record.SerializeAsString()));
  RETURN_IF_ERROR(ValidateConfig(config));

  RETURN_IF_ERROR(set.PutObjectEverywhere(kKeysObject, record.SerializeAsString(), n, vault_id));
  ASSIGN_OR_RETURN(std::string sealed_config, SealObject(keys.metadata_key, vault_id, kConfigObject,
                                                         config.SerializeAsString()));
  RETURN_IF_ERROR(set.PutObjectEverywhere(kConfigObject, sealed_config, n));
  ASSIGN_OR_RETURN(auto vault, Vault::Create(request.config_dir, request.cache_dir, config, record,
                                             master));
  cancel_on_error.armed = false;

  CreatedVault out;
  out.config = std::move(config);
  out.safe_until_ms = safe_until_ms;
  return out;
}

}  // namespace shardkeep::customer

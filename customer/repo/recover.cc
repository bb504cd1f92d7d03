#include "customer/repo/recover.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "customer/repo/key_records.h"
#include "customer/repo/repository.h"
#include "customer/vault/create_vault.h"
#include "customer/vault/names.h"
#include "customer/vault/objects.h"
#include "customer/vault/vault.h"
#include "proto/limits.h"

namespace shardkeep::customer {
namespace {

// A key record is a few hundred bytes; a supplier answering more is not
// answering a key record. At most this many candidates are looked at per
// supplier (the daemon keeps at most 16).
constexpr size_t kMaxKeyRecordBytes = protocol::kMaxKeyRecordBytes;
constexpr int kMaxCandidates = 16;
// Key derivations spent on one supplier's candidates. The owner's record is
// the oldest claim, listed first by an honest supplier; a hostile one that
// lists costly decoys first wastes at most this many (each bounded by
// CheckKdfBounds) before the next supplier is asked.
constexpr int kMaxDerivationsPerSupplier = 2;

bool Unreachable(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ||
         KindOf(s) == ErrorKind::kSuppliersUnreachable;
}

class Recovery {
 public:
  Recovery(const RecoverRequest& req, const SupplierConnector& connector)
      : req_(req), connector_(connector) {}

  absl::StatusOr<RecoveredVault> Run();

 private:
  void Step(const std::string& s) const {
    if (req_.step) req_.step(s);
  }
  void Problem(std::string p) {
    if (req_.warn) req_.warn(p);
    out_.problems.push_back(std::move(p));
  }
  absl::Status CheckRequest() const;
  // Step 2 with the passphrase: sets master_, record_, record_bytes_.
  absl::Status UnlockWithPassphrase();
  // Step 3: the newest config the named suppliers hold that opens, then
  // the newest among every supplier that config names (a named supplier
  // may have been down when the config last changed).
  absl::StatusOr<vault::v1::VaultConfig> FetchConfig();
  std::optional<vault::v1::VaultConfig> ConfigAt(const std::string& address,
                                                 const VaultKeys& keys, std::string* failure,
                                                 bool* answered);
  // Step 4, on the repository of the config.
  absl::Status RenewLeases(Repository& repo);
  void HealKeyRecords(Repository& repo);

  const RecoverRequest& req_;
  const SupplierConnector& connector_;
  RecoveredVault out_;
  std::string master_;
  vault::v1::KeyRecord record_;
  std::string record_bytes_;
};

absl::Status Recovery::CheckRequest() const {
  if (req_.vault_id.size() != kVaultIdSize) {
    return UsageError("a vault ID is 32 hex digits (as `init` printed it)");
  }
  if (req_.supplier_addresses.empty()) {
    return UsageError("name at least one supplier of the vault (--supplier HOST:PORT)");
  }
  if (req_.supplier_addresses.size() > 64) return UsageError("at most 64 suppliers");
  RETURN_IF_ERROR(CheckSupplierAddresses(req_.supplier_addresses));
  if (!req_.overwrite && Vault::Exists(req_.config_dir)) {
    return absl::AlreadyExistsError(
        absl::StrCat("a vault already exists in ", req_.config_dir,
                     " (use another --config-dir, or --force to replace it)"));
  }
  if (req_.master_key.empty() ? !req_.passphrase : !req_.new_passphrase) {
    return absl::InvalidArgumentError("no passphrase source");
  }
  return absl::OkStatus();
}

absl::Status Recovery::UnlockWithPassphrase() {
  std::optional<std::string> passphrase;
  // One derivation per distinct salt and parameters: the same record at
  // several suppliers costs one.
  std::map<std::string, std::string> keks;
  std::set<std::string> tried;  // record bytes already tried
  std::vector<std::string> failures;     // per supplier, for the final message
  std::vector<std::string> not_opening;  // suppliers whose records did not open
  int answered = 0;
  for (const std::string& address : req_.supplier_addresses) {
    Step(absl::StrCat("asking ", address, " for the key record"));
    auto client = connector_(address, "", "");
    if (!client.ok()) {
      failures.push_back(std::string(client.status().message()));
      continue;
    }
    auto got = (*client)->GetKeyRecord(req_.vault_id);
    if (!got.ok()) {
      failures.push_back(absl::StrCat(address, ": ", got.status().message()));
      if (!Unreachable(got.status())) ++answered;
      continue;
    }
    ++answered;
    int looked = 0;
    int derived_here = 0;
    for (const auto& candidate : got->candidates()) {
      if (++looked > kMaxCandidates) break;
      const std::string& bytes = candidate.data();
      vault::v1::KeyRecord record;
      if (bytes.size() > kMaxKeyRecordBytes || !record.ParseFromString(bytes)) {
        Problem(absl::StrCat("supplier ", address, " served a key record that does not parse"));
        continue;
      }
      if (record.vault_id() != req_.vault_id) {
        Problem(absl::StrCat("supplier ", address, " served a key record of another vault"));
        continue;
      }
      if (absl::Status b = CheckKeyRecord(record); !b.ok()) {
        Problem(absl::StrCat("supplier ", address, " served an unusable key record: ",
                             b.message()));
        continue;
      }
      if (!tried.insert(bytes).second) {
        continue;
      }
      if (!passphrase) {
        ASSIGN_OR_RETURN(std::string p, req_.passphrase());
        passphrase = std::move(p);
      }
      const std::string params = KeyRecordAad(record);  // salt and parameters, bound
      auto kek = keks.find(params);
      if (kek == keks.end()) {
        if (derived_here++ >= kMaxDerivationsPerSupplier) {
          Problem(absl::StrCat("supplier ", address, " lists more key records than are worth ",
                               "deriving; the rest of them were skipped"));
          break;
        }
        Step("deriving the key from the passphrase");
        auto k = DeriveKek(record, *passphrase);
        if (!k.ok()) {
          Problem(absl::StrCat("supplier ", address, " served a key record that cannot be used: ",
                               k.status().message()));
          continue;
        }
        kek = keks.emplace(params, std::move(*k)).first;
      }
      auto master = UnwrapMasterKeyWithKek(record, kek->second);
      if (!master.ok()) {
        continue;
      }
      master_ = std::move(*master);
      record_ = std::move(record);
      record_bytes_ = bytes;
      out_.key_from = address;
      for (const auto& bad : not_opening) {
        Problem(absl::StrCat("supplier ", bad, " holds no key record that opens with the "
                             "passphrase while ", address, "'s does: altered, old or withheld"));
      }
      return absl::OkStatus();
    }
    // Nothing this supplier served opened (altered, old, malformed or none).
    not_opening.push_back(address);
  }
  if (passphrase) {
    return WithKind(
        absl::PermissionDeniedError(absl::StrCat(
            "wrong passphrase: no key record of vault ", crypto::ToHex(req_.vault_id),
            " opens with it (asked ", absl::StrJoin(req_.supplier_addresses, ", "),
            failures.empty() ? "" : absl::StrCat("; ", absl::StrJoin(failures, "; ")), ")")),
        ErrorKind::kWrongPassphrase);
  }
  absl::Status err = absl::NotFoundError(
      absl::StrCat("no usable key record of vault ", crypto::ToHex(req_.vault_id), ": ",
                   absl::StrJoin(failures, "; ")));
  if (answered == 0) return WithKind(err, ErrorKind::kSuppliersUnreachable);
  return err;
}

std::optional<vault::v1::VaultConfig> Recovery::ConfigAt(const std::string& address,
                                                         const VaultKeys& keys,
                                                         std::string* failure, bool* answered) {
  *answered = false;
  auto client = connector_(address, keys.identity_seed, "");
  if (!client.ok()) {
    *failure = std::string(client.status().message());
    return std::nullopt;
  }
  auto sealed = (*client)->GetObject(kConfigObject);
  if (!sealed.ok()) {
    *failure = std::string(sealed.status().message());
    *answered = !Unreachable(sealed.status());
    return std::nullopt;
  }
  *answered = true;
  auto plain = OpenObject(keys.metadata_key, req_.vault_id, kConfigObject, *sealed);
  vault::v1::VaultConfig config;
  if (!plain.ok() || !config.ParseFromString(*plain) || !ValidateConfig(config).ok() ||
      config.vault_id() != req_.vault_id || config.customer_key() != keys.identity_public) {
    Problem(absl::StrCat("supplier ", address,
                         " holds a vault config that does not open or check: altered"));
    *failure = absl::StrCat(address, ": altered config");
    return std::nullopt;
  }
  return config;
}

absl::StatusOr<vault::v1::VaultConfig> Recovery::FetchConfig() {
  const VaultKeys keys = DeriveKeys(master_, req_.vault_id);
  std::optional<vault::v1::VaultConfig> best;
  std::vector<std::string> failures;
  int answered = 0;
  std::set<std::string> asked;
  for (const std::string& address : req_.supplier_addresses) {
    Step(absl::StrCat("fetching the vault config from ", address));
    asked.insert(address);
    std::string failure;
    bool ok_answer = false;
    auto config = ConfigAt(address, keys, &failure, &ok_answer);
    if (ok_answer) ++answered;
    if (!config) {
      failures.push_back(failure);
      continue;
    }
    if (!best || config->generation() > best->generation()) best = std::move(config);
  }
  if (!best) {
    absl::Status err = absl::NotFoundError(absl::StrCat(
        "no supplier named holds a vault config that opens: ", absl::StrJoin(failures, "; ")));
    if (answered == 0) return WithKind(err, ErrorKind::kSuppliersUnreachable);
    return err;
  }
  const vault::v1::VaultConfig named_best = *best;
  for (const auto& entry : named_best.suppliers()) {
    if (!asked.insert(entry.address()).second) continue;
    std::string failure;
    bool ok_answer = false;
    auto config = ConfigAt(entry.address(), keys, &failure, &ok_answer);
    if (config && config->generation() > best->generation()) best = std::move(config);
  }
  return *best;
}

absl::Status Recovery::RenewLeases(Repository& repo) {
  SupplierSet& set = repo.suppliers();
  // Any authenticated call renews the lease; the contract also says until when.
  std::vector<absl::StatusOr<v1::Contract>> contracts = repo.Contracts();
  for (int i = 0; i < set.n(); ++i) {
    if (set.IsDown(i)) {
      Problem(absl::StrCat("supplier ", set.address(i), " (position ", i,
                           ") does not answer: its lease was not renewed"));
      continue;
    }
    const absl::StatusOr<v1::Contract>& contract = contracts[i];
    if (!contract.ok()) {
      Problem(absl::StrCat("supplier ", set.address(i), " (position ", i,
                           "): no contract: ", contract.status().message()));
      continue;
    }
    ++out_.suppliers_reachable;
    const int64_t until = contract->lease_expires_ms();
    if (until > 0 && (out_.safe_until_ms == 0 || until < out_.safe_until_ms)) {
      out_.safe_until_ms = until;
    }
  }
  return absl::OkStatus();
}

void Recovery::HealKeyRecords(Repository& repo) {
  SupplierSet& set = repo.suppliers();
  const std::string& customer = repo.vault().keys().identity_public;
  for (int i = 0; i < set.n(); ++i) {
    if (set.IsDown(i)) continue;
    auto got = set.at(i)->GetKeyRecord(req_.vault_id);
    bool current = false;
    if (got.ok()) {
      for (const auto& c : got->candidates()) {
        if (c.customer_key() == customer && c.data() == record_bytes_) current = true;
      }
    }
    if (current) continue;
    absl::Status s = set.at(i)->PutObject(kKeysObject, record_bytes_, req_.vault_id);
    Problem(absl::StrCat("supplier ", set.address(i), " (position ", i, ") held ",
                         got.ok() ? "another key record (altered or old)" : "no key record",
                         s.ok() ? "; it has the current one now"
                                : absl::StrCat("; storing the current one failed: ", s.message())));
  }
}

absl::StatusOr<RecoveredVault> Recovery::Run() {
  RETURN_IF_ERROR(CheckRequest());
  const bool paper = !req_.master_key.empty();
  if (paper) {
    if (req_.master_key.size() != kMasterKeySize) {
      return absl::InvalidArgumentError("the paper key is not 32 bytes");
    }
    master_ = req_.master_key;
  } else {
    RETURN_IF_ERROR(UnlockWithPassphrase());
  }
  ASSIGN_OR_RETURN(vault::v1::VaultConfig config, FetchConfig());
  if (!paper && !config.key_record_sha256().empty() &&
      config.key_record_sha256() != crypto::Sha256(record_bytes_)) {
    return WithKind(absl::PermissionDeniedError(absl::StrCat(
                        "the passphrase opens an old key record (held by ", out_.key_from,
                        "), replaced since by `key passwd`: use the current passphrase")),
                    ErrorKind::kWrongPassphrase);
  }
  if (paper) {
    // The forgotten passphrase is replaced: a new record, and the config
    // naming it (published below, once the suppliers are reached).
    ASSIGN_OR_RETURN(std::string pass, req_.new_passphrase());
    const VaultKeys keys = DeriveKeys(master_, req_.vault_id);
    ASSIGN_OR_RETURN(record_, WrapMasterKey(master_, req_.vault_id, pass, req_.kdf,
                                            keys.identity_public));
    record_bytes_ = record_.SerializeAsString();
    config = ConfigForKeyRecord(config, record_);
  }

  auto vault = Vault::FromParts(req_.config_dir, req_.cache_dir, config, record_, master_);
  ASSIGN_OR_RETURN(auto repo, Repository::Open(std::move(vault), connector_, req_.options));
  repo->set_warning_sink([this](const std::string& w) { Problem(w); });
  Step(absl::StrCat("reaching the vault's ", config.supplier_count(), " suppliers"));
  RETURN_IF_ERROR(repo->CheckSuppliers(1));
  RETURN_IF_ERROR(RenewLeases(*repo));
  std::vector<uint32_t> pending;
  if (paper) {
    Step("storing the new key record on the suppliers");
    ASSIGN_OR_RETURN(pending, PublishKeyRecord(*repo, record_, config));
  } else {
    HealKeyRecords(*repo);
  }
  Step("loading the index");
  RETURN_IF_ERROR(repo->LoadIndex());
  Step("loading the snapshot records");
  ASSIGN_OR_RETURN(std::vector<vault::v1::Snapshot> snapshots, repo->LoadSnapshots());

  Step(absl::StrCat("writing ", req_.config_dir));
  RETURN_IF_ERROR(repo->mutable_vault().Save(req_.overwrite));
  vault::v1::SeenState seen;
  seen.set_newest_sequence(repo->history().newest_sequence);
  seen.set_newest_snapshot_id(repo->history().newest_id);
  seen.set_newest_time_ns(repo->history().newest_time_ns);
  for (uint32_t pos : pending) seen.add_key_record_pending(pos);
  RETURN_IF_ERROR(repo->vault().SaveSeen(seen));

  out_.config = repo->config();
  out_.blocks = repo->index().block_count();
  out_.snapshots = snapshots.size();
  if (!snapshots.empty()) out_.latest = snapshots.back();
  return std::move(out_);
}

}  // namespace

absl::StatusOr<RecoveredVault> RecoverVault(const RecoverRequest& request,
                                            const SupplierConnector& connector) {
  Recovery recovery(request, connector);
  return recovery.Run();
}

}  // namespace shardkeep::customer

#include "customer/discovery/relocating_client.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/dht_node.h"
#include "customer/discovery/offers.h"
#include "customer/vault/vault.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

void MoveLog::Add(SupplierMove move) {
  std::lock_guard<std::mutex> lock(mu_);
  moves_.push_back(std::move(move));
}

std::vector<SupplierMove> MoveLog::moves() const {
  std::lock_guard<std::mutex> lock(mu_);
  return moves_;
}

namespace {

// One DHT node for all clients of a command, joined on first use.
class SharedDht {
 public:
  explicit SharedDht(std::vector<std::string> bootstrap) : bootstrap_(std::move(bootstrap)) {}
  // The newest verified offer of `fingerprint`, nullopt if none (or no DHT).
  std::optional<offer::Offer> Lookup(const std::string& fingerprint) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!tried_) {
      tried_ = true;
      auto node = JoinDht(bootstrap_);
      if (node.ok()) node_ = std::move(node).value();
    }
    if (!node_) return std::nullopt;
    return LookupIdentity(*node_, fingerprint);
  }

 private:
  std::mutex mu_;
  std::vector<std::string> bootstrap_;
  bool tried_ = false;
  std::unique_ptr<dhtnet::DhtNode> node_;
};

class RelocatingClient : public SupplierClient {
 public:
  RelocatingClient(std::unique_ptr<SupplierClient> inner, SupplierConnector base,
                   std::string identity_seed, std::string supplier_id,
                   std::shared_ptr<SharedDht> dht, std::shared_ptr<MoveLog> log)
      : address_(inner->address()),
        inner_(std::move(inner)),
        base_(std::move(base)),
        seed_(std::move(identity_seed)),
        supplier_id_(std::move(supplier_id)),
        dht_(std::move(dht)),
        log_(std::move(log)) {}

  // The address the vault knows it by (messages of the inner client name
  // where it actually went).
  const std::string& address() const override { return address_; }

  absl::StatusOr<v1::InfoResponse> Info() override {
    return Call([&](SupplierClient& c) { return c.Info(); });
  }
  absl::StatusOr<v1::Contract> RequestContract(uint64_t needed, uint32_t position,
                                               uint32_t count) override {
    return Call([&](SupplierClient& c) { return c.RequestContract(needed, position, count); });
  }
  absl::StatusOr<v1::Contract> GetContract() override {
    return Call([&](SupplierClient& c) { return c.GetContract(); });
  }
  absl::Status CancelContract() override {
    return Call([&](SupplierClient& c) { return c.CancelContract(); });
  }
  absl::Status PutFragment(const std::string& key, std::string_view data,
                           std::string_view sha256) override {
    return Call([&](SupplierClient& c) { return c.PutFragment(key, data, sha256); });
  }
  absl::StatusOr<std::string> GetFragment(const std::string& key) override {
    return Call([&](SupplierClient& c) { return c.GetFragment(key); });
  }
  absl::StatusOr<std::string> GetFragmentOfSize(const std::string& key, uint64_t size) override {
    return Call([&](SupplierClient& c) { return c.GetFragmentOfSize(key, size); });
  }
  absl::StatusOr<std::vector<v1::FragmentInfo>> ListFragments(const std::string& prefix) override {
    return Call([&](SupplierClient& c) { return c.ListFragments(prefix); });
  }
  absl::Status DeleteFragment(const std::string& key) override {
    return Call([&](SupplierClient& c) { return c.DeleteFragment(key); });
  }
  absl::Status DeleteFragments(const std::vector<std::string>& keys) override {
    return Call([&](SupplierClient& c) { return c.DeleteFragments(keys); });
  }
  absl::Status DeleteObjects(const std::vector<std::string>& names) override {
    return Call([&](SupplierClient& c) { return c.DeleteObjects(names); });
  }
  absl::StatusOr<v1::AuditPieceResponse> AuditPiece(const std::string& key,
                                                    uint64_t piece) override {
    return Call([&](SupplierClient& c) { return c.AuditPiece(key, piece); });
  }
  absl::StatusOr<v1::Contract> RenewContract() override {
    return Call([&](SupplierClient& c) { return c.RenewContract(); });
  }
  absl::Status PutObject(const std::string& name, std::string_view data,
                         std::string_view vault_id) override {
    return Call([&](SupplierClient& c) { return c.PutObject(name, data, vault_id); });
  }
  absl::StatusOr<std::string> GetObject(const std::string& name) override {
    return Call([&](SupplierClient& c) { return c.GetObject(name); });
  }
  absl::StatusOr<std::vector<v1::ObjectInfo>> ListObjects(const std::string& prefix) override {
    return Call([&](SupplierClient& c) { return c.ListObjects(prefix); });
  }
  absl::StatusOr<v1::GetKeyRecordResponse> GetKeyRecord(std::string_view vault_id) override {
    return Call([&](SupplierClient& c) { return c.GetKeyRecord(vault_id); });
  }
  void PinTlsFingerprint(const std::string& fingerprint) override {
    std::lock_guard<std::mutex> lock(mu_);
    pinned_ = fingerprint;
    inner_->PinTlsFingerprint(fingerprint);
  }
  std::string TlsFingerprint() const override { return Current()->TlsFingerprint(); }
  void SetInvite(const std::string& token) override {
    std::lock_guard<std::mutex> lock(mu_);
    invite_ = token;
    inner_->SetInvite(token);
  }

 private:
  std::shared_ptr<SupplierClient> Current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_;
  }

  static const absl::Status& StatusOf(const absl::Status& s) { return s; }
  template <typename T>
  static const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
    return s.status();
  }

  template <typename F>
  auto Call(F f) -> decltype(f(std::declval<SupplierClient&>())) {
    std::shared_ptr<SupplierClient> c = Current();
    auto result = f(*c);
    if (StatusOf(result).code() != absl::StatusCode::kUnavailable || !Relocate(c)) return result;
    return f(*Current());
  }

  // True if the client now points somewhere new (call again).
  bool Relocate(const std::shared_ptr<SupplierClient>& failed) {
    std::unique_lock<std::mutex> lock(relocate_mu_);
    {
      std::lock_guard<std::mutex> l(mu_);
      if (inner_ != failed) return true;  // another thread moved it already
      if (pinned_.size() != 32 || looked_up_) return false;
      looked_up_ = true;
    }
    std::optional<offer::Offer> o = dht_->Lookup(pinned_);
    if (!o || o->addresses.front() == failed->address()) return false;
    if (!supplier_id_.empty() && o->supplier_id != supplier_id_) return false;
    auto fresh = base_(o->addresses.front(), seed_, supplier_id_);
    if (!fresh.ok()) return false;
    std::shared_ptr<SupplierClient> next = std::move(fresh).value();
    next->PinTlsFingerprint(pinned_);  // only the same key may answer there
    std::string invite;
    {
      std::lock_guard<std::mutex> l(mu_);
      invite = invite_;
    }
    if (!invite.empty()) next->SetInvite(invite);
    // Prove it before switching: the pinned key answers at the new address.
    if (!next->Info().ok() || next->TlsFingerprint() != pinned_) return false;
    {
      std::lock_guard<std::mutex> l(mu_);
      inner_ = next;
    }
    log_->Add({pinned_, address_, o->addresses.front()});
    return true;
  }

  const std::string address_;
  mutable std::mutex mu_;
  std::shared_ptr<SupplierClient> inner_;
  std::string pinned_, invite_;
  bool looked_up_ = false;
  std::mutex relocate_mu_;
  SupplierConnector base_;
  std::string seed_, supplier_id_;
  std::shared_ptr<SharedDht> dht_;
  std::shared_ptr<MoveLog> log_;
};

}  // namespace

SupplierConnector RelocatingConnector(SupplierConnector base, std::vector<std::string> bootstrap,
                                      std::shared_ptr<MoveLog> log) {
  auto dht = std::make_shared<SharedDht>(std::move(bootstrap));
  return [base = std::move(base), dht, log](const std::string& address,
                                            const std::string& identity_seed,
                                            const std::string& supplier_id)
             -> absl::StatusOr<std::unique_ptr<SupplierClient>> {
    ASSIGN_OR_RETURN(std::unique_ptr<SupplierClient> c, base(address, identity_seed, supplier_id));
    return std::unique_ptr<SupplierClient>(
        new RelocatingClient(std::move(c), base, identity_seed, supplier_id, dht, log));
  };
}

absl::StatusOr<int> RecordMoves(const std::string& config_dir,
                                const std::vector<SupplierMove>& moves) {
  if (moves.empty()) return 0;
  const std::string path = config_dir + "/config";
  std::ifstream in(path, std::ios::binary);
  std::stringstream data;
  data << in.rdbuf();
  vault::v1::VaultConfig config;
  if (!in || !config.ParseFromString(data.str())) {
    return absl::DataLossError(absl::StrCat("cannot read the vault config ", path));
  }
  int changed = 0;
  for (const SupplierMove& m : moves) {
    for (auto& s : *config.mutable_suppliers()) {
      if (s.tls_fingerprint() == m.fingerprint && s.address() == m.old_address) {
        s.set_address(m.new_address);
        ++changed;
      }
    }
  }
  if (changed == 0) return 0;
  config.set_generation(config.generation() + 1);
  RETURN_IF_ERROR(ValidateConfig(config));
  RETURN_IF_ERROR(WriteFileAtomically(path, config.SerializeAsString(), 0600));
  return changed;
}

}  // namespace shardkeep::customer

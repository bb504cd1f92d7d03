#include "customer/net/mem_supplier_client.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto.h"
#include "common/merkle.h"
#include "proto/limits.h"
#include "common/units.h"

namespace shardkeep::customer {
namespace {

// The daemon's limits (supplier/limits.h, docs/PROTOCOL.md "Limits"); net/
// may not depend on supplier/, so the few it needs are repeated here.
constexpr size_t kSupplierIdSize = 16;
constexpr size_t kMaxFragmentKeyLength = 128;
constexpr size_t kMaxObjectNameLength = 200;
constexpr size_t kMaxVaultIdLength = 64;
constexpr uint32_t kMaxSupplierCount = 256;
constexpr int64_t kLeaseMs = 30LL * 24 * 3600 * 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool KeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}
bool NameChar(char c) { return KeyChar(c) || c == '/'; }

absl::Status CheckFragmentKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxFragmentKeyLength ||
      !std::all_of(key.begin(), key.end(), KeyChar)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad fragment key (%d bytes): must be 1..%d characters of [A-Za-z0-9._-]",
                        key.size(), kMaxFragmentKeyLength));
  }
  return absl::OkStatus();
}

absl::Status CheckObjectName(std::string_view name) {
  if (name.empty() || name.size() > kMaxObjectNameLength ||
      !std::all_of(name.begin(), name.end(), NameChar)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad object name (%d bytes): must be 1..%d characters of [A-Za-z0-9._/-]",
                        name.size(), kMaxObjectNameLength));
  }
  return absl::OkStatus();
}

std::string Short(std::string_view customer) { return crypto::ToHex(customer.substr(0, 4)); }

}  // namespace

struct MemSupplier::Customer {
  v1::Contract contract;  // used_bytes, fragments and objects kept current
  std::map<std::string, std::pair<std::string, std::string>> fragments;  // key -> (bytes, sha)
  std::map<std::string, std::string> objects;                            // name -> bytes
  std::string vault_id;                                                  // claimed; empty: none
};

namespace {

std::string QuotaMessage(const v1::Contract& c, uint64_t asked, std::string_view what) {
  return absl::StrFormat(
      "quota exceeded: %s needs %d bytes, but the quota is %d bytes (%s) with %d bytes used (%s)",
      std::string(what), asked, c.quota_bytes(), FormatByteSize(c.quota_bytes()), c.used_bytes(),
      FormatByteSize(c.used_bytes()));
}

}  // namespace

MemSupplier::MemSupplier(std::string address, MemSupplierOptions options)
    : address_(std::move(address)),
      options_(std::move(options)),
      supplier_id_(options_.supplier_id.empty() ? crypto::RandomBytes(kSupplierIdSize)
                                                : options_.supplier_id) {}

MemSupplier::MemSupplier(std::string address, uint64_t capacity_bytes)
    : MemSupplier(std::move(address), [capacity_bytes] {
        MemSupplierOptions o;
        o.capacity_bytes = capacity_bytes;
        return o;
      }()) {}

MemSupplier::~MemSupplier() = default;

void MemSupplier::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
}

void MemSupplier::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = false;
}

bool MemSupplier::stopped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_;
}

uint64_t MemSupplier::BytesReceived() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_received_;
}

uint64_t MemSupplier::BytesSent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_sent_;
}

int MemSupplier::FragmentCount(std::string_view customer_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = customers_.find(std::string(customer_key));
  return it == customers_.end() ? 0 : static_cast<int>(it->second->fragments.size());
}

uint64_t MemSupplier::UsedBytes(std::string_view customer_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = customers_.find(std::string(customer_key));
  return it == customers_.end() ? 0 : it->second->contract.used_bytes();
}

absl::Status MemSupplier::CheckRunning() const {
  if (stopped_) {
    return absl::UnavailableError("connection refused: the in-memory supplier is stopped");
  }
  return absl::OkStatus();
}

absl::StatusOr<MemSupplier::Customer*> MemSupplier::Find(std::string_view customer) const {
  auto it = customers_.find(std::string(customer));
  if (it == customers_.end()) {
    return absl::PermissionDeniedError(
        absl::StrCat("customer ", Short(customer),
                     "... has no contract with this supplier (RequestContract first)"));
  }
  return it->second.get();
}

absl::StatusOr<v1::InfoResponse> MemSupplier::Info() const {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  v1::InfoResponse r;
  r.set_version(absl::StrCat("shardkeep-supplier ", protocol::kVersion, " (in memory)"));
  r.set_supplier_id(supplier_id_);
  r.set_capacity_bytes(options_.capacity_bytes);
  r.set_granted_bytes(granted_bytes_);
  uint64_t used = 0;
  for (const auto& [key, c] : customers_) used += c->contract.used_bytes();
  r.set_used_bytes(used);
  r.set_customers(static_cast<uint32_t>(customers_.size()));
  r.set_now_ms(NowMs());
  r.set_max_fragment_bytes(options_.max_fragment_bytes);
  r.set_max_object_bytes(options_.max_object_bytes);
  r.set_max_message_bytes(protocol::kMaxMessageBytes);
  return r;
}

absl::StatusOr<v1::Contract> MemSupplier::RequestContract(std::string_view customer,
                                                          uint64_t needed_bytes, uint32_t position,
                                                          uint32_t supplier_count) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  if (supplier_count == 0 || supplier_count > kMaxSupplierCount || position >= supplier_count) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "position %d of supplier_count %d: need 1 <= supplier_count <= %d and position < "
        "supplier_count",
        position, supplier_count, kMaxSupplierCount));
  }
  if (needed_bytes == 0) return absl::InvalidArgumentError("needed_bytes must be > 0");
  auto it = customers_.find(std::string(customer));
  Customer* c = it == customers_.end() ? nullptr : it->second.get();
  const uint64_t old_quota = c ? c->contract.quota_bytes() : 0;
  const uint64_t others = granted_bytes_ - old_quota;
  if (others + needed_bytes > options_.capacity_bytes || others + needed_bytes < others) {
    const uint64_t free =
        options_.capacity_bytes > granted_bytes_ ? options_.capacity_bytes - granted_bytes_ : 0;
    return absl::ResourceExhaustedError(absl::StrFormat(
        "supplier capacity exceeded: asked for a quota of %d bytes (%s); capacity %d bytes (%s), "
        "granted %d bytes, free %d bytes (%s)%s",
        needed_bytes, FormatByteSize(needed_bytes), options_.capacity_bytes,
        FormatByteSize(options_.capacity_bytes), granted_bytes_, free, FormatByteSize(free),
        c ? absl::StrFormat(" plus this contract's current %d bytes", old_quota) : ""));
  }
  if (c && needed_bytes < c->contract.used_bytes()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("cannot shrink the quota to %d bytes: %d bytes are in use and 0 reserved "
                        "by uploads",
                        needed_bytes, c->contract.used_bytes()));
  }
  const int64_t now = NowMs();
  if (!c) {
    auto fresh = std::make_unique<Customer>();
    fresh->contract.set_customer_key(std::string(customer));
    fresh->contract.set_created_ms(now);
    c = fresh.get();
    customers_.emplace(std::string(customer), std::move(fresh));
  }
  c->contract.set_quota_bytes(needed_bytes);
  c->contract.set_position(position);
  c->contract.set_supplier_count(supplier_count);
  c->contract.set_lease_expires_ms(now + kLeaseMs);
  granted_bytes_ = others + needed_bytes;
  return c->contract;
}

absl::StatusOr<v1::Contract> MemSupplier::GetContract(std::string_view customer) const {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  auto it = customers_.find(std::string(customer));
  if (it == customers_.end()) {
    return absl::NotFoundError(
        absl::StrCat("customer ", Short(customer), "... has no contract with this supplier"));
  }
  return it->second->contract;
}

absl::StatusOr<uint64_t> MemSupplier::CancelContract(std::string_view customer) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  ASSIGN_OR_RETURN(Customer * c, Find(customer));
  const uint64_t freed = c->contract.used_bytes();
  ReleaseClaim(customer, c->vault_id);
  granted_bytes_ -= c->contract.quota_bytes();
  customers_.erase(std::string(customer));
  return freed;
}

absl::Status MemSupplier::PutFragment(std::string_view customer, std::string_view key,
                                      std::string_view data, std::string_view sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  RETURN_IF_ERROR(CheckFragmentKey(key));
  ASSIGN_OR_RETURN(Customer * c, Find(customer));
  if (data.size() > options_.max_fragment_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "fragment of %d bytes exceeds this supplier's limit of %d bytes (%s)", data.size(),
        options_.max_fragment_bytes, FormatByteSize(options_.max_fragment_bytes)));
  }
  if (sha256.size() != crypto::kSha256Size) {
    return absl::InvalidArgumentError(
        absl::StrFormat("sha256 must be 32 bytes, got %d", sha256.size()));
  }
  auto old = c->fragments.find(std::string(key));
  if (old != c->fragments.end() && old->second.first.size() == data.size() &&
      old->second.second == sha256) {
    return absl::OkStatus();  // already_present: nothing is received or charged
  }
  v1::Contract& k = c->contract;
  if (k.used_bytes() + data.size() > k.quota_bytes()) {
    return absl::ResourceExhaustedError(
        QuotaMessage(k, data.size(), absl::StrCat("fragment ", std::string(key))));
  }
  const std::string digest = crypto::Sha256(data);
  if (digest != sha256) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "fragment %s: SHA-256 of the %d bytes received is %s, the header declared %s; nothing "
        "stored",
        std::string(key), data.size(), crypto::ToHex(digest), crypto::ToHex(sha256)));
  }
  bytes_received_ += data.size();
  if (old != c->fragments.end()) {
    k.set_used_bytes(k.used_bytes() - old->second.first.size() + data.size());
    old->second = {std::string(data), std::string(sha256)};
  } else {
    k.set_used_bytes(k.used_bytes() + data.size());
    k.set_fragments(k.fragments() + 1);
    c->fragments.emplace(std::string(key), std::make_pair(std::string(data), std::string(sha256)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemSupplier::GetFragment(std::string_view customer,
                                                     std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  RETURN_IF_ERROR(CheckFragmentKey(key));
  ASSIGN_OR_RETURN(Customer * c, Find(customer));
  auto it = c->fragments.find(std::string(key));
  if (it == c->fragments.end()) {
    return absl::NotFoundError(absl::StrCat("no fragment ", std::string(key)));
  }
  bytes_sent_ += it->second.first.size();
  return it->second.first;
}

absl::Status MemSupplier::PutObject(std::string_view customer, std::string_view name,
                                    std::string_view data, std::string_view vault_id) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  RETURN_IF_ERROR(CheckObjectName(name));
  if (vault_id.size() > kMaxVaultIdLength) {
    return absl::InvalidArgumentError(
        absl::StrFormat("vault_id must be at most %d bytes", kMaxVaultIdLength));
  }
  ASSIGN_OR_RETURN(Customer * c, Find(customer));
  if (data.size() > options_.max_object_bytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("object %s of %d bytes exceeds this supplier's limit of %d bytes",
                        std::string(name), data.size(), options_.max_object_bytes));
  }
  if (!vault_id.empty() && name != protocol::kKeysObjectName) {
    return absl::InvalidArgumentError(absl::StrCat("vault_id may only be given with the key ",
                                                   "record object \"", protocol::kKeysObjectName,
                                                   "\""));
  }
  if (name == protocol::kKeysObjectName && data.size() > protocol::kMaxKeyRecordBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("key record object of %d bytes exceeds the limit of %d bytes", data.size(),
                        protocol::kMaxKeyRecordBytes));
  }
  v1::Contract& k = c->contract;
  auto old = c->objects.find(std::string(name));
  const uint64_t old_size = old == c->objects.end() ? 0 : old->second.size();
  const uint64_t used_after = k.used_bytes() - old_size + data.size();
  if (used_after > k.quota_bytes()) {
    return absl::ResourceExhaustedError(
        QuotaMessage(k, data.size(), absl::StrCat("object ", std::string(name))));
  }
  if (!vault_id.empty() && vault_id != c->vault_id) {
    std::vector<std::string>& claims = vault_claims_[std::string(vault_id)];
    if (claims.size() >= protocol::kMaxKeyRecordCandidates) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "vault ID %s already has %d key record claims on this supplier (the limit)",
          crypto::ToHex(vault_id), claims.size()));
    }
    claims.push_back(std::string(customer));
    ReleaseClaim(customer, c->vault_id);
    c->vault_id = std::string(vault_id);
  }
  bytes_received_ += data.size();
  k.set_used_bytes(used_after);
  if (old == c->objects.end()) {
    k.set_objects(k.objects() + 1);
    c->objects.emplace(std::string(name), std::string(data));
  } else {
    old->second.assign(data.data(), data.size());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemSupplier::GetObject(std::string_view customer,
                                                   std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  RETURN_IF_ERROR(CheckObjectName(name));
  ASSIGN_OR_RETURN(Customer * c, Find(customer));
  auto it = c->objects.find(std::string(name));
  if (it == c->objects.end())
    return absl::NotFoundError(absl::StrCat("no object ", std::string(name)));
  bytes_sent_ += it->second.size();
  return it->second;
}

absl::Status MemSupplier::DeleteFragment(std::string_view customer, std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  RETURN_IF_ERROR(CheckFragmentKey(key));
  ASSIGN_OR_RETURN(Customer * c, Find(customer));
  auto it = c->fragments.find(std::string(key));
  if (it == c->fragments.end()) return absl::OkStatus();
  v1::Contract& k = c->contract;
  k.set_used_bytes(k.used_bytes() - it->second.first.size());
  k.set_fragments(k.fragments() - 1);
  c->fragments.erase(it);
  return absl::OkStatus();
}

absl::Status MemSupplier::DeleteObject(std::string_view customer, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  RETURN_IF_ERROR(CheckObjectName(name));
  ASSIGN_OR_RETURN(Customer * c, Find(customer));
  auto it = c->objects.find(std::string(name));
  if (it == c->objects.end()) return absl::OkStatus();
  v1::Contract& k = c->contract;
  k.set_used_bytes(k.used_bytes() - it->second.size());
  k.set_objects(k.objects() - 1);
  c->objects.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<v1::AuditPieceResponse> MemSupplier::AuditPiece(std::string_view customer,
                                                               std::string_view key,
                                                               uint64_t piece) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  RETURN_IF_ERROR(CheckFragmentKey(key));
  ASSIGN_OR_RETURN(Customer * c, Find(customer));
  auto it = c->fragments.find(std::string(key));
  if (it == c->fragments.end()) {
    return absl::NotFoundError(absl::StrCat("no fragment ", std::string(key)));
  }
  const std::string& data = it->second.first;
  const uint64_t ps = protocol::kAuditPieceBytes;
  const uint64_t count = merkle::PieceCount(data.size(), ps);
  if (piece >= count) {
    return absl::InvalidArgumentError(absl::StrCat("piece ", piece, " of a fragment of ",
                                                   data.size(), " bytes: only ", count, " pieces"));
  }
  std::vector<std::string> leaves;
  for (uint64_t i = 0; i < count; ++i) leaves.push_back(merkle::LeafHash(data.substr(i * ps, ps)));
  v1::AuditPieceResponse r;
  r.set_size(data.size());
  r.set_data(data.substr(piece * ps, ps));
  for (auto& h : merkle::Proof(leaves, piece)) r.add_proof(std::move(h));
  bytes_sent_ += r.data().size();
  return r;
}

absl::StatusOr<std::vector<v1::FragmentInfo>> MemSupplier::ListFragments(
    std::string_view customer, std::string_view prefix) const {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  ASSIGN_OR_RETURN(Customer * c, Find(customer));
  std::vector<v1::FragmentInfo> out;
  for (auto it = c->fragments.lower_bound(std::string(prefix));
       it != c->fragments.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix;
       ++it) {
    v1::FragmentInfo info;
    info.set_key(it->first);
    info.set_size(it->second.first.size());
    info.set_sha256(it->second.second);
    out.push_back(std::move(info));
  }
  return out;
}

absl::StatusOr<std::vector<v1::ObjectInfo>> MemSupplier::ListObjects(
    std::string_view customer, std::string_view prefix) const {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  ASSIGN_OR_RETURN(Customer * c, Find(customer));
  std::vector<v1::ObjectInfo> out;
  for (auto it = c->objects.lower_bound(std::string(prefix));
       it != c->objects.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix;
       ++it) {
    v1::ObjectInfo info;
    info.set_name(it->first);
    info.set_size(it->second.size());
    out.push_back(std::move(info));
  }
  return out;
}

absl::StatusOr<v1::GetKeyRecordResponse> MemSupplier::GetKeyRecord(std::string_view vault_id) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CheckRunning());
  if (vault_id.empty() || vault_id.size() > kMaxVaultIdLength) {
    return absl::InvalidArgumentError(
        absl::StrFormat("vault_id must be 1..%d bytes", kMaxVaultIdLength));
  }
  auto not_found = [&] {
    return absl::NotFoundError(
        absl::StrCat("no key record for vault ", crypto::ToHex(vault_id), " on this supplier"));
  };
  auto claims = vault_claims_.find(std::string(vault_id));
  if (claims == vault_claims_.end()) return not_found();
  v1::GetKeyRecordResponse r;
  for (const std::string& customer : claims->second) {
    auto c = customers_.find(customer);
    if (c == customers_.end()) continue;
    auto keys = c->second->objects.find(protocol::kKeysObjectName);
    if (keys == c->second->objects.end()) continue;
    v1::KeyRecordCandidate* out = r.add_candidates();
    out->set_data(keys->second);
    out->set_customer_key(customer);
    bytes_sent_ += keys->second.size();
  }
  if (r.candidates_size() == 0) return not_found();
  return r;
}

void MemSupplier::ReleaseClaim(std::string_view customer, const std::string& vault_id) {
  if (vault_id.empty()) return;
  auto it = vault_claims_.find(vault_id);
  if (it == vault_claims_.end()) return;
  auto& v = it->second;
  v.erase(std::remove(v.begin(), v.end(), customer), v.end());
  if (v.empty()) vault_claims_.erase(it);
}

// ---- MemSupplierClient

MemSupplierClient::MemSupplierClient(MemSupplier* supplier, std::string identity_seed,
                                     std::string supplier_id)
    : supplier_(supplier),
      seed_(std::move(identity_seed)),
      customer_(seed_.size() == crypto::kEd25519SeedSize ? crypto::Ed25519PublicKey(seed_) : ""),
      signed_for_(std::move(supplier_id)) {}

MemSupplierClient::~MemSupplierClient() = default;

const std::string& MemSupplierClient::address() const { return supplier_->address(); }

absl::Status MemSupplierClient::Prefix(const absl::Status& s, const std::string& what) const {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(address(), ": ", what, ": ", s.message()));
}

absl::Status MemSupplierClient::CheckIdentity() const {
  if (customer_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(address(), ": no identity to sign with"));
  }
  if (!signed_for_.empty() && signed_for_ != supplier_->supplier_id()) {
    // The daemon verifies the signature against its own ID; a request signed
    // for another supplier does not verify. (Unless it is stopped: then the
    // request never arrives.)
    if (supplier_->stopped()) {
      return absl::UnavailableError(
          absl::StrCat(address(), ": connection refused: the in-memory supplier is stopped"));
    }
    return absl::UnauthenticatedError(absl::StrCat(
        address(), ": signature does not verify: signed for supplier ", crypto::ToHex(signed_for_),
        ", this is ", crypto::ToHex(supplier_->supplier_id())));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::InfoResponse> MemSupplierClient::Info() {
  auto r = supplier_->Info();
  if (!r.ok()) return Prefix(r.status(), "Info");
  return r;
}

absl::StatusOr<v1::Contract> MemSupplierClient::RequestContract(uint64_t needed_bytes,
                                                                uint32_t position,
                                                                uint32_t supplier_count) {
  RETURN_IF_ERROR(CheckIdentity());
  auto r = supplier_->RequestContract(customer_, needed_bytes, position, supplier_count);
  if (!r.ok()) return Prefix(r.status(), "RequestContract");
  return r;
}

absl::StatusOr<v1::Contract> MemSupplierClient::GetContract() {
  RETURN_IF_ERROR(CheckIdentity());
  auto r = supplier_->GetContract(customer_);
  if (!r.ok()) return Prefix(r.status(), "GetContract");
  return r;
}

absl::Status MemSupplierClient::CancelContract() {
  RETURN_IF_ERROR(CheckIdentity());
  return Prefix(supplier_->CancelContract(customer_).status(), "CancelContract");
}

absl::Status MemSupplierClient::PutFragment(const std::string& key, std::string_view data,
                                            std::string_view sha256) {
  RETURN_IF_ERROR(CheckIdentity());
  return Prefix(supplier_->PutFragment(customer_, key, data, sha256),
                absl::StrCat("PutFragment ", key));
}

absl::StatusOr<std::string> MemSupplierClient::GetFragment(const std::string& key) {
  RETURN_IF_ERROR(CheckIdentity());
  auto r = supplier_->GetFragment(customer_, key);
  if (!r.ok()) return Prefix(r.status(), absl::StrCat("GetFragment ", key));
  return r;
}

absl::Status MemSupplierClient::PutObject(const std::string& name, std::string_view data,
                                          std::string_view vault_id) {
  RETURN_IF_ERROR(CheckIdentity());
  return Prefix(supplier_->PutObject(customer_, name, data, vault_id),
                absl::StrCat("PutObject ", name));
}

absl::StatusOr<std::string> MemSupplierClient::GetObject(const std::string& name) {
  RETURN_IF_ERROR(CheckIdentity());
  auto r = supplier_->GetObject(customer_, name);
  if (!r.ok()) return Prefix(r.status(), absl::StrCat("GetObject ", name));
  return r;
}

absl::StatusOr<std::vector<v1::ObjectInfo>> MemSupplierClient::ListObjects(
    const std::string& prefix) {
  RETURN_IF_ERROR(CheckIdentity());
  auto r = supplier_->ListObjects(customer_, prefix);
  if (!r.ok()) return Prefix(r.status(), absl::StrCat("ListObjects ", prefix));
  return r;
}

absl::StatusOr<v1::AuditPieceResponse> MemSupplierClient::AuditPiece(const std::string& key,
                                                                     uint64_t piece) {
  RETURN_IF_ERROR(CheckIdentity());
  auto r = supplier_->AuditPiece(customer_, key, piece);
  if (!r.ok()) return Prefix(r.status(), absl::StrCat("AuditPiece ", key));
  return r;
}

absl::Status MemSupplierClient::DeleteFragment(const std::string& key) {
  RETURN_IF_ERROR(CheckIdentity());
  absl::Status s = supplier_->DeleteFragment(customer_, key);
  if (!s.ok()) return Prefix(s, absl::StrCat("DeleteFragments ", key));
  return s;
}

absl::Status MemSupplierClient::DeleteObjects(const std::vector<std::string>& names) {
  RETURN_IF_ERROR(CheckIdentity());
  for (const std::string& name : names) {
    absl::Status s = supplier_->DeleteObject(customer_, name);
    if (!s.ok()) return Prefix(s, absl::StrCat("DeleteObjects ", name));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::FragmentInfo>> MemSupplierClient::ListFragments(
    const std::string& prefix) {
  RETURN_IF_ERROR(CheckIdentity());
  auto r = supplier_->ListFragments(customer_, prefix);
  if (!r.ok()) return Prefix(r.status(), absl::StrCat("ListFragments ", prefix));
  return r;
}

absl::StatusOr<v1::GetKeyRecordResponse> MemSupplierClient::GetKeyRecord(
    std::string_view vault_id) {
  auto r = supplier_->GetKeyRecord(vault_id);
  if (!r.ok()) return Prefix(r.status(), "GetKeyRecord");
  return r;
}

namespace {

// What the gRPC client is for an address where nothing listens: every call
// Unavailable, naming the address.
class UnreachableClient : public SupplierClient {
 public:
  explicit UnreachableClient(std::string address) : address_(std::move(address)) {}
  const std::string& address() const override { return address_; }
  absl::StatusOr<v1::InfoResponse> Info() override { return Down("Info"); }
  absl::StatusOr<v1::Contract> RequestContract(uint64_t, uint32_t, uint32_t) override {
    return Down("RequestContract");
  }
  absl::StatusOr<v1::Contract> GetContract() override { return Down("GetContract"); }
  absl::Status CancelContract() override { return Down("CancelContract"); }
  absl::Status PutFragment(const std::string& key, std::string_view, std::string_view) override {
    return Down(absl::StrCat("PutFragment ", key));
  }
  absl::StatusOr<std::string> GetFragment(const std::string& key) override {
    return Down(absl::StrCat("GetFragment ", key));
  }
  absl::Status PutObject(const std::string& name, std::string_view, std::string_view) override {
    return Down(absl::StrCat("PutObject ", name));
  }
  absl::StatusOr<std::string> GetObject(const std::string& name) override {
    return Down(absl::StrCat("GetObject ", name));
  }
  absl::StatusOr<std::vector<v1::ObjectInfo>> ListObjects(const std::string& prefix) override {
    return Down(absl::StrCat("ListObjects ", prefix));
  }
  absl::StatusOr<v1::GetKeyRecordResponse> GetKeyRecord(std::string_view) override {
    return Down("GetKeyRecord");
  }
  absl::StatusOr<std::vector<v1::FragmentInfo>> ListFragments(const std::string& prefix) override {
    return Down(absl::StrCat("ListFragments ", prefix));
  }
  absl::Status DeleteFragment(const std::string& key) override {
    return Down(absl::StrCat("DeleteFragments ", key));
  }
  absl::Status DeleteObjects(const std::vector<std::string>&) override {
    return Down("DeleteObjects");
  }
  absl::StatusOr<v1::AuditPieceResponse> AuditPiece(const std::string& key, uint64_t) override {
    return Down(absl::StrCat("AuditPiece ", key));
  }

 private:
  absl::Status Down(const std::string& what) const {
    return absl::UnavailableError(
        absl::StrCat(address_, ": ", what, ": no in-memory supplier at this address"));
  }
  const std::string address_;
};

}  // namespace

SupplierConnector MemConnector(std::map<std::string, MemSupplier*> suppliers) {
  return [suppliers = std::move(suppliers)](
             const std::string& address, const std::string& identity_seed,
             const std::string& supplier_id) -> absl::StatusOr<std::unique_ptr<SupplierClient>> {
    if (address.empty()) return absl::InvalidArgumentError("empty supplier address");
    auto it = suppliers.find(address);
    if (it == suppliers.end() || it->second == nullptr) {
      return std::unique_ptr<SupplierClient>(new UnreachableClient(address));
    }
    return std::unique_ptr<SupplierClient>(
        new MemSupplierClient(it->second, identity_seed, supplier_id));
  };
}

}  // namespace shardkeep::customer

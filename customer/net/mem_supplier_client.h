// An in-memory supplier and the SupplierClient that reaches it, in the spirit
// of LevelDB's NewMemEnv: the vault logic runs unchanged over suppliers that
// live in the test's own process, with no sockets, no RocksDB and no files.
//
// MemSupplier keeps the daemon's semantics (supplier/store.h and
// docs/PROTOCOL.md): contracts per customer identity (the Ed25519 public key
// of the identity seed) with a quota, the sum of quotas never above the
// capacity; fragments checked against the SHA-256 they are declared with;
// metadata objects listed by prefix in name order; "keys" objects claiming a
// vault ID readable without a contract through GetKeyRecord (every claimant). The status
// codes are the daemon's. What it leaves out: signatures, nonces and
// timestamps (the identity is trusted), leases (contracts never expire) and
// the calls SupplierClient does not offer (AuditFragment, RenewContract).
//
// Thread-safety: every method of both classes may be called from several
// threads at once (one mutex per MemSupplier).
#ifndef SHARDKEEP_CUSTOMER_NET_MEM_SUPPLIER_CLIENT_H_
#define SHARDKEEP_CUSTOMER_NET_MEM_SUPPLIER_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "customer/net/supplier_client.h"
#include "proto/limits.h"
#include "proto/supplier.pb.h"

namespace shardkeep::customer {

struct MemSupplierOptions {
  // Sum of the quotas this supplier grants (--capacity).
  uint64_t capacity_bytes = 1ULL << 30;
  // Largest fragment accepted (--max-fragment-size).
  uint64_t max_fragment_bytes = 64ULL << 20;
  // Largest metadata object accepted.
  uint64_t max_object_bytes = protocol::kMaxObjectBytes;
  // 16 bytes; empty: 16 random bytes.
  std::string supplier_id;
};

// One in-process supplier. The methods named after RPCs take the caller's
// customer key (32 bytes, the Ed25519 public key) and answer as the daemon
// does, with the daemon's status codes; their messages do not name the
// address (MemSupplierClient adds it, as the gRPC client does).
class MemSupplier {
 public:
  MemSupplier(std::string address, MemSupplierOptions options);
  MemSupplier(std::string address, uint64_t capacity_bytes);
  ~MemSupplier();
  MemSupplier(const MemSupplier&) = delete;
  MemSupplier& operator=(const MemSupplier&) = delete;

  const std::string& address() const { return address_; }
  const std::string& supplier_id() const { return supplier_id_; }

  // ---- Test hooks
  // While stopped, every call (through any client) fails with Unavailable;
  // the data is kept. Start() answers again.
  void Stop();
  void Start();
  bool stopped() const;
  // Bytes accepted by PutFragment and PutObject / returned by GetFragment,
  // GetObject and GetKeyRecord, over all customers, since construction.
  uint64_t BytesReceived() const;
  uint64_t BytesSent() const;
  // Fragments stored for `customer_key` (0 without a contract).
  int FragmentCount(std::string_view customer_key) const;
  // Quota bytes used by `customer_key` (0 without a contract).
  uint64_t UsedBytes(std::string_view customer_key) const;

  // ---- The RPCs, as the daemon answers them (docs/PROTOCOL.md, "Calls").
  // Unavailable while stopped. Authenticated calls without a contract are
  // PermissionDenied, except RequestContract and GetContract (NotFound).
  absl::StatusOr<v1::InfoResponse> Info() const;
  // InvalidArgument for needed_bytes == 0, supplier_count outside 1..256 or
  // position >= supplier_count; ResourceExhausted naming capacity, granted
  // and free bytes if the capacity cannot cover it; FailedPrecondition when
  // shrinking below the bytes in use.
  absl::StatusOr<v1::Contract> RequestContract(std::string_view customer, uint64_t needed_bytes,
                                               uint32_t position, uint32_t supplier_count);
  absl::StatusOr<v1::Contract> GetContract(std::string_view customer) const;
  // Deletes all of the customer's fragments, objects and its vault ID claim;
  // returns the bytes freed.
  absl::StatusOr<uint64_t> CancelContract(std::string_view customer);
  // InvalidArgument for a bad key, a size above max_fragment_bytes, a hash
  // that is not 32 bytes or does not match `data`; ResourceExhausted naming
  // quota and usage if the fragment does not fit (an overwrite needs room for
  // the full new size, as on the daemon). The same key with the same bytes
  // is accepted without charging anything again.
  absl::Status PutFragment(std::string_view customer, std::string_view key, std::string_view data,
                           std::string_view sha256);
  // NotFound for an unknown key.
  absl::StatusOr<std::string> GetFragment(std::string_view customer, std::string_view key);
  // InvalidArgument for a bad name, data above max_object_bytes, a vault ID
  // over 64 bytes or given with another name than "keys"; ResourceExhausted
  // if the net growth does not fit the quota; ResourceExhausted if 16 other
  // customers already claim the vault ID (claims are per customer: nobody can
  // replace another's). A "keys" object is at most kMaxKeyRecordBytes.
  // Claiming a new vault ID releases the previous one; "keys" without a vault
  // ID keeps the claim.
  absl::Status PutObject(std::string_view customer, std::string_view name, std::string_view data,
                         std::string_view vault_id);
  // NotFound if absent.
  absl::StatusOr<std::string> GetObject(std::string_view customer, std::string_view name);
  // Every object whose name starts with `prefix`, in byte order of the name.
  absl::Status DeleteFragment(std::string_view customer, std::string_view key);
  // Absent names are fine; the usage falls by what they held.
  absl::Status DeleteObject(std::string_view customer, std::string_view name);
  absl::StatusOr<v1::AuditPieceResponse> AuditPiece(std::string_view customer,
                                                    std::string_view key, uint64_t piece);
  absl::StatusOr<std::vector<v1::FragmentInfo>> ListFragments(std::string_view customer,
                                                              std::string_view prefix) const;
  absl::StatusOr<std::vector<v1::ObjectInfo>> ListObjects(std::string_view customer,
                                                          std::string_view prefix) const;
  // Unauthenticated. Every claimant's "keys" object, oldest claim first
  // (stored_ms is 0: MemSupplier keeps no clock). InvalidArgument for an
  // empty or over-long vault ID; NotFound if nobody (with a contract) claimed it.
  absl::StatusOr<v1::GetKeyRecordResponse> GetKeyRecord(std::string_view vault_id);

 private:
  struct Customer;
  absl::Status CheckRunning() const;  // REQUIRES: mu_ held
  // Drops the customer's claim on vault_id (empty: none). REQUIRES: mu_ held.
  void ReleaseClaim(std::string_view customer, const std::string& vault_id);
  // The customer's contract or PermissionDenied. REQUIRES: mu_ held.
  absl::StatusOr<Customer*> Find(std::string_view customer) const;

  const std::string address_;
  const MemSupplierOptions options_;
  const std::string supplier_id_;
  mutable std::mutex mu_;
  bool stopped_ = false;
  uint64_t granted_bytes_ = 0;
  uint64_t bytes_received_ = 0;
  mutable uint64_t bytes_sent_ = 0;
  std::map<std::string, std::unique_ptr<Customer>> customers_;  // by customer key
  // vault ID -> the customers claiming it, oldest claim first
  std::map<std::string, std::vector<std::string>> vault_claims_;
};

// One customer identity's view of one MemSupplier: the in-memory twin of
// ConnectGrpcSupplier's client. Error messages start with the supplier's
// address and the call, as the gRPC client's do. The supplier must outlive
// the client.
class MemSupplierClient : public SupplierClient {
 public:
  // `identity_seed` as for ConnectGrpcSupplier: 32 bytes, or empty (then
  // only Info and GetKeyRecord work; the others are FailedPrecondition).
  // `supplier_id` non-empty and not the supplier's: every signed call is
  // Unauthenticated, as the daemon answers a request signed for another
  // supplier.
  MemSupplierClient(MemSupplier* supplier, std::string identity_seed, std::string supplier_id = {});
  ~MemSupplierClient() override;

  // The customer key this client acts as (empty without a seed).
  const std::string& customer_key() const { return customer_; }

  const std::string& address() const override;
  absl::StatusOr<v1::InfoResponse> Info() override;
  absl::StatusOr<v1::Contract> RequestContract(uint64_t needed_bytes, uint32_t position,
                                               uint32_t supplier_count) override;
  absl::StatusOr<v1::Contract> GetContract() override;
  absl::Status CancelContract() override;
  absl::Status PutFragment(const std::string& key, std::string_view data,
                           std::string_view sha256) override;
  absl::StatusOr<std::string> GetFragment(const std::string& key) override;
  absl::Status PutObject(const std::string& name, std::string_view data,
                         std::string_view vault_id = {}) override;
  absl::StatusOr<std::string> GetObject(const std::string& name) override;
  absl::StatusOr<std::vector<v1::ObjectInfo>> ListObjects(const std::string& prefix) override;
  absl::StatusOr<std::vector<v1::FragmentInfo>> ListFragments(const std::string& prefix) override;
  absl::Status DeleteFragment(const std::string& key) override;
  absl::Status DeleteObjects(const std::vector<std::string>& names) override;
  absl::StatusOr<v1::AuditPieceResponse> AuditPiece(const std::string& key,
                                                    uint64_t piece) override;
  absl::StatusOr<v1::GetKeyRecordResponse> GetKeyRecord(std::string_view vault_id) override;

 private:
  // OK if signed calls can be made; the error to return otherwise.
  absl::Status CheckIdentity() const;
  // `s` with "<address>: <what>: " before its message (OK stays OK).
  absl::Status Prefix(const absl::Status& s, const std::string& what) const;

  MemSupplier* const supplier_;
  const std::string seed_;
  const std::string customer_;
  const std::string signed_for_;  // supplier ID the caller gave; empty: any
};

// A SupplierConnector over in-memory suppliers keyed by address (not owned;
// they must outlive every client made). As with ConnectGrpcSupplier, an
// empty address is InvalidArgument and connecting itself never fails
// otherwise: for an address that is not in the map the client answers every
// call with Unavailable naming the address (nothing listens there), so a
// SupplierSet over it connects and finds that position down.
SupplierConnector MemConnector(std::map<std::string, MemSupplier*> suppliers);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_NET_MEM_SUPPLIER_CLIENT_H_

// The customer's view of one supplier: the narrow seam between the vault
// logic (archiver, restorer, init) and the network, in the spirit of
// LevelDB's Env. The gRPC client (grpc_supplier_client.h) is the real
// implementation; mem_supplier_client.h is an in-process supplier with the
// daemon's semantics, and fault_injecting_supplier_client.h wraps any of them
// to fail, hang, corrupt or refuse calls (docs/TESTING.md).
//
// Thread-safety: every method may be called from several threads at once.
// Errors are absl::Status with the gRPC code carried over and a message that
// names the supplier's address.
#ifndef SHARDKEEP_CUSTOMER_NET_SUPPLIER_CLIENT_H_
#define SHARDKEEP_CUSTOMER_NET_SUPPLIER_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "proto/supplier.pb.h"

namespace shardkeep::customer {

class SupplierClient {
 public:
  virtual ~SupplierClient() = default;

  // HOST:PORT, for messages.
  virtual const std::string& address() const = 0;

  // Unauthenticated: version, supplier ID, limits.
  virtual absl::StatusOr<v1::InfoResponse> Info() = 0;

  // Asks for (or resizes) this customer's contract.
  virtual absl::StatusOr<v1::Contract> RequestContract(uint64_t needed_bytes, uint32_t position,
                                                       uint32_t supplier_count) = 0;
  virtual absl::StatusOr<v1::Contract> GetContract() = 0;
  // Ends the contract; the supplier deletes this customer's data at once.
  virtual absl::Status CancelContract() = 0;

  // Stores a fragment under `key`; `sha256` is its SHA-256 (checked by the
  // supplier before anything is stored). Streams in messages of <= 1 MiB.
  virtual absl::Status PutFragment(const std::string& key, std::string_view data,
                                   std::string_view sha256) = 0;
  // The fragment's bytes as the supplier returns them (NOT verified here:
  // the caller checks them against the hash it recorded).
  virtual absl::StatusOr<std::string> GetFragment(const std::string& key) = 0;
  // The fragment, which the index says has exactly `size` bytes: an answer
  // announcing another size, or sending more, is refused (DataLoss naming
  // the supplier) before more than `size` bytes are held. What every fetch
  // of an indexed fragment uses. The default checks after GetFragment (fine
  // for in-process clients); the gRPC client bounds the stream itself.
  virtual absl::StatusOr<std::string> GetFragmentOfSize(const std::string& key, uint64_t size);

  // Every fragment of this customer whose key starts with `prefix` (all
  // pages), sorted by key, with the size and SHA-256 declared at upload (the
  // supplier checked the bytes against it then; it does not re-read them
  // here). Bounded as ListObjects. The default is Unimplemented (clients
  // made for one test).
  virtual absl::StatusOr<std::vector<v1::FragmentInfo>> ListFragments(const std::string& prefix) {
    return absl::UnimplementedError(absl::StrCat(address(), ": ListFragments not offered"));
  }

  // Deletes the fragment under `key` (OK if there was none). Repair uses it
  // before storing a rebuilt fragment over one that rotted: a supplier
  // answers a PutFragment of the size and hash it has on record as
  // "already present" without reading its copy. Default Unimplemented.
  virtual absl::Status DeleteFragment(const std::string& key) {
    return absl::UnimplementedError(absl::StrCat(address(), ": DeleteFragments not offered"));
  }

  // Deletes every fragment in `keys` (any number: sent in batches the
  // supplier accepts; keys it does not hold are fine). Prune uses it. The
  // default deletes one at a time.
  virtual absl::Status DeleteFragments(const std::vector<std::string>& keys) {
    for (const std::string& key : keys) {
      absl::Status s = DeleteFragment(key);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // Deletes the objects in `names` (absent ones are fine); forget and prune
  // use it. Default Unimplemented.
  virtual absl::Status DeleteObjects(const std::vector<std::string>& names) {
    return absl::UnimplementedError(absl::StrCat(address(), ": DeleteObjects not offered"));
  }

  // Piece `piece` of fragment `key` with its Merkle proof (NOT verified
  // here: the caller checks it against the root it keeps). Default
  // Unimplemented.
  virtual absl::StatusOr<v1::AuditPieceResponse> AuditPiece(const std::string& key,
                                                            uint64_t piece) {
    return absl::UnimplementedError(absl::StrCat(address(), ": AuditPiece not offered"));
  }

  // Moves the contract's lease to a full lease from now. Default
  // Unimplemented (the in-memory supplier has no leases).
  virtual absl::StatusOr<v1::Contract> RenewContract() {
    return absl::UnimplementedError(absl::StrCat(address(), ": RenewContract not offered"));
  }

  // Small metadata objects. `vault_id` only for the "keys" object.
  virtual absl::Status PutObject(const std::string& name, std::string_view data,
                                 std::string_view vault_id = {}) = 0;
  virtual absl::StatusOr<std::string> GetObject(const std::string& name) = 0;
  // Every object whose name starts with `prefix` (all pages), sorted by name.
  // At most protocol::kMaxListedObjects names: a longer (or endless, or
  // unsorted) listing is DataLoss naming the supplier.
  virtual absl::StatusOr<std::vector<v1::ObjectInfo>> ListObjects(const std::string& prefix) = 0;

  // Unauthenticated: the key record stored for `vault_id`.
  virtual absl::StatusOr<v1::GetKeyRecordResponse> GetKeyRecord(std::string_view vault_id) = 0;

  // TLS pinning (docs/NETWORK.md, "TLS and pinned suppliers"). From now on
  // the client refuses a supplier whose TLS public key does not hash to
  // `fingerprint` (32 bytes, common/tls_fingerprint.h): its calls fail with
  // PERMISSION_DENIED naming both fingerprints. Empty: any key (trust on
  // first use, as init does). Clients without TLS ignore it.
  virtual void PinTlsFingerprint(const std::string& fingerprint) { (void)fingerprint; }
  // The fingerprint of the key the supplier presented at the last TLS
  // handshake; empty before one (or without TLS).
  virtual std::string TlsFingerprint() const { return {}; }

  // An invitation token from the supplier's operator (`shardkeep-supplier
  // invite`), sent with the next RequestContract calls: a supplier that
  // admits new customers only by invitation needs it for a new contract.
  // Clients that do not reach a daemon ignore it.
  virtual void SetInvite(const std::string& token) { (void)token; }
};

inline absl::StatusOr<std::string> SupplierClient::GetFragmentOfSize(const std::string& key,
                                                                     uint64_t size) {
  ASSIGN_OR_RETURN(std::string data, GetFragment(key));
  if (data.size() != size) {
    return absl::DataLossError(absl::StrCat(address(), ": GetFragment ", key, " sent ",
                                            data.size(), " bytes, the index expects ", size));
  }
  return data;
}

// How commands reach suppliers: the address, the customer's Ed25519 identity
// seed (empty: only unauthenticated calls work), and the supplier's ID if
// known (empty: learned from Info on first use). Tests substitute their own
// to wrap the real client.
using SupplierConnector = std::function<absl::StatusOr<std::unique_ptr<SupplierClient>>(
    const std::string& address, const std::string& identity_seed, const std::string& supplier_id)>;

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_NET_SUPPLIER_CLIENT_H_

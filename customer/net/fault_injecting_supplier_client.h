// A SupplierClient that forwards to another one and breaks calls on request,
// in the spirit of LevelDB's EnvWrapper and fault_injection_test: the vault
// logic is tested against suppliers that fail, hang, corrupt, refuse, or list
// too little or too much, whether the wrapped client is the gRPC one (real
// supplier processes) or an in-memory one (mem_supplier_client.h).
//
// The faults live in a SupplierFaults object shared between the test and the
// wrapper (the wrapper is usually owned by a SupplierSet, so the test keeps a
// std::shared_ptr<SupplierFaults> as its handle). Faults are per method and
// may be set, changed or cleared at any time from any thread; a call sees the
// faults in force when it starts (a hang also ends when Release() is called).
//
// One call of method M, in order:
//   1. Calls(M) is incremented;
//   2. if M hangs: block until Release() or the hang's duration has passed;
//   3. if M fails: once the fault's `after` calls have gone through, every
//      call returns the fault's status (the wrapped client is not called);
//   4. the wrapped client is called;
//   5. on success: GetFragment / GetObject / GetKeyRecord data are corrupted
//      if M corrupts; ListObjects entries are dropped or added.
//
// Thread-safety: SupplierFaults and the wrapper may be used from several
// threads at once.
#ifndef SHARDKEEP_CUSTOMER_NET_FAULT_INJECTING_SUPPLIER_CLIENT_H_
#define SHARDKEEP_CUSTOMER_NET_FAULT_INJECTING_SUPPLIER_CLIENT_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "customer/net/supplier_client.h"

namespace shardkeep::customer {

// The methods of SupplierClient (address() aside).
enum class SupplierMethod : int {
  kInfo = 0,
  kRequestContract,
  kGetContract,
  kCancelContract,
  kPutFragment,
  kGetFragment,
  kPutObject,
  kGetObject,
  kListObjects,
  kGetKeyRecord,
  kListFragments,
  kDeleteFragment,
  kAuditPiece,
  kDeleteObjects,
};
inline constexpr int kSupplierMethodCount = 14;

// "PutFragment", ... for messages.
const char* SupplierMethodName(SupplierMethod method);

class SupplierFaults {
 public:
  // A hang without a duration lasts until Release().
  static constexpr std::chrono::milliseconds kUntilReleased{-1};

  SupplierFaults() = default;
  SupplierFaults(const SupplierFaults&) = delete;
  SupplierFaults& operator=(const SupplierFaults&) = delete;

  // Every call of `method` returns `status` (not OK) without reaching the
  // wrapped client, except the first `after` calls made from now on, which
  // go through (whatever they answer): `after` = 3 breaks a supplier in the
  // middle of a backup, after it took three fragments. The message gets
  // "<address>: " in front unless it starts with the address already, as the
  // gRPC client's messages do.
  void Fail(SupplierMethod method, absl::Status status, int after = 0);
  // Fail with PermissionDenied or ResourceExhausted (a supplier that refuses
  // the customer, or is full) and `message`.
  void RefusePermission(SupplierMethod method, std::string message, int after = 0);
  void RefuseFull(SupplierMethod method, std::string message, int after = 0);

  // Calls of `method` block until Release() or `max_wait` has passed, then
  // go on (to a failure, if one is set, or to the wrapped client): a supplier
  // that stops answering. Callers must Release() before destroying what
  // waits on the hung calls (a SupplierSet's destructor waits for them).
  void Hang(SupplierMethod method, std::chrono::milliseconds max_wait = kUntilReleased);
  // Wakes every hung call and ends every hang fault (later calls do not hang).
  void Release();
  // Calls blocked in a hang right now.
  int Hanging() const;

  // Flips `bytes` bytes (XOR 0x40, spread evenly) of the data a successful
  // GetFragment, GetObject or GetKeyRecord returns; empty data gets one byte
  // appended instead. No effect on other methods.
  void Corrupt(SupplierMethod method, int bytes = 1);

  // ListObjects leaves out every entry whose name `drop` returns true for.
  void DropListed(std::function<bool(const std::string& name)> drop);
  // ListObjects leaves out its first `count` entries.
  void DropFirstListed(int count);
  // ListObjects adds entries (size 0) with these names, whatever the prefix
  // asked: a hostile supplier ("snapshots/../../etc/passwd"). The result is
  // kept sorted by name.
  void AddListed(std::vector<std::string> names);

  // Ends every fault of `method` (a hang: its hung calls go on).
  void Clear(SupplierMethod method);
  // Ends every fault (and releases every hang); counters stay.
  void ClearAll();

  // Calls of `method` since construction or ResetCounters(), including the
  // ones that were failed, hung or are still in progress.
  int Calls(SupplierMethod method) const;
  // Calls of `method` that returned an injected failure.
  int Injected(SupplierMethod method) const;
  void ResetCounters();

 private:
  friend class FaultInjectingSupplierClient;

  struct MethodFaults {
    std::optional<absl::Status> fail;
    int fail_after = 0;  // calls still let through before `fail` applies
    bool hang = false;
    std::chrono::milliseconds hang_max = kUntilReleased;
    uint64_t release_generation = 0;  // bumped by Release() and Clear()
    int corrupt_bytes = 0;
    int calls = 0;
    int injected = 0;
  };
  struct ListFaults {
    std::function<bool(const std::string&)> drop;
    int drop_first = 0;
    std::vector<std::string> add;
  };

  // Steps 1-3 for one call: the injected failure to return, or OK to go on;
  // *corrupt_bytes is set for step 5.
  absl::Status Before(SupplierMethod method, const std::string& address, int* corrupt_bytes);
  ListFaults list_faults() const;
  void CountInjected(SupplierMethod method);

  mutable std::mutex mu_;
  std::condition_variable released_;
  // All guarded by mu_.
  int hanging_ = 0;
  MethodFaults methods_[kSupplierMethodCount];
  ListFaults list_;
};

class FaultInjectingSupplierClient : public SupplierClient {
 public:
  // Wraps `real` (required). `faults` null: a fresh SupplierFaults (reach it
  // through faults()).
  explicit FaultInjectingSupplierClient(std::unique_ptr<SupplierClient> real,
                                        std::shared_ptr<SupplierFaults> faults = nullptr);
  ~FaultInjectingSupplierClient() override;

  const std::shared_ptr<SupplierFaults>& faults() const { return faults_; }
  SupplierClient* wrapped() const { return real_.get(); }

  const std::string& address() const override;
  void SetInvite(const std::string& token) override { real_->SetInvite(token); }
  void PinTlsFingerprint(const std::string& fingerprint) override {
    real_->PinTlsFingerprint(fingerprint);
  }
  std::string TlsFingerprint() const override { return real_->TlsFingerprint(); }
  absl::StatusOr<v1::InfoResponse> Info() override;
  absl::StatusOr<v1::Contract> RequestContract(uint64_t needed_bytes, uint32_t position,
                                               uint32_t supplier_count) override;
  absl::StatusOr<v1::Contract> GetContract() override;
  absl::Status CancelContract() override;
  absl::Status PutFragment(const std::string& key, std::string_view data,
                           std::string_view sha256) override;
  absl::StatusOr<std::string> GetFragment(const std::string& key) override;
  // Same faults as GetFragment (counted as kGetFragment), over the real
  // client's bounded fetch.
  absl::StatusOr<std::string> GetFragmentOfSize(const std::string& key, uint64_t size) override;
  absl::Status PutObject(const std::string& name, std::string_view data,
                         std::string_view vault_id = {}) override;
  absl::StatusOr<std::string> GetObject(const std::string& name) override;
  absl::StatusOr<std::vector<v1::ObjectInfo>> ListObjects(const std::string& prefix) override;
  // Fail/Hang/Refuse faults only (the listing faults are ListObjects').
  absl::StatusOr<std::vector<v1::FragmentInfo>> ListFragments(const std::string& prefix) override;
  absl::Status DeleteFragment(const std::string& key) override;
  absl::Status DeleteFragments(const std::vector<std::string>& keys) override;
  absl::Status DeleteObjects(const std::vector<std::string>& names) override;
  // Corrupt flips bytes of the piece returned.
  absl::StatusOr<v1::AuditPieceResponse> AuditPiece(const std::string& key,
                                                    uint64_t piece) override;
  absl::StatusOr<v1::GetKeyRecordResponse> GetKeyRecord(std::string_view vault_id) override;

 private:
  std::unique_ptr<SupplierClient> real_;
  std::shared_ptr<SupplierFaults> faults_;
};

// Picks the faults for one connection: `index` counts the connector's calls
// from 0 (SupplierSet::Connect connects in position order, so for one
// Repository::Open it is the position); `address` is the supplier's. Null:
// the client is returned unwrapped.
using FaultChooser =
    std::function<std::shared_ptr<SupplierFaults>(int index, const std::string& address)>;

// A connector that connects through `real` and wraps every client in a
// FaultInjectingSupplierClient with the faults `choose` returns. Errors of
// `real` are returned as they are. Each copy of the returned connector
// shares one call counter.
SupplierConnector WrapConnector(SupplierConnector real, FaultChooser choose);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_NET_FAULT_INJECTING_SUPPLIER_CLIENT_H_

// Store: the supplier's record of truth. RocksDB under --data-dir holds the
// contracts, the usage accounting, the fragment index, the customers' small
// metadata objects, the key-record claims (vault ID, customer) and recently seen
// request nonces; fragment bytes live in files (FragmentFiles) named by the
// index. Layout, encodings and the crash-safety argument: docs/STORAGE.md.
//
// What the Store guarantees (and the service relies on):
//   - Sum of granted quotas <= capacity (RequestContract refuses otherwise).
//   - A customer's used bytes never exceed its quota, even with concurrent
//     puts: quota is reserved, under the customer's mutex, before any byte of
//     a fragment is written, and released on failure.
//   - A fragment, its index record and its usage accounting become visible
//     together (one synced RocksDB WriteBatch, written after the fragment file
//     is durable). Nothing is visible before; a failed or cut-off upload
//     leaves nothing.
//   - Every method either succeeds completely or changes nothing visible.
//
// Customer identities are 32-byte Ed25519 public keys; the Store does not
// authenticate (the service does) and trusts the key it is given.
// Thread-safety: all methods are safe to call concurrently.
#ifndef SHARDKEEP_SUPPLIER_STORE_H_
#define SHARDKEEP_SUPPLIER_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/status.h"
#include "proto/limits.h"
#include "supplier/clock.h"
#include "supplier/fragment_files.h"
#include "supplier/records.pb.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace shardkeep::supplier {

inline constexpr size_t kSupplierIdSize = 16;
inline constexpr size_t kCustomerKeySize = 32;
// The key record object: the only object readable without a signature, by
// vault ID (GetKeyRecord).
inline constexpr const char* kKeyRecordName = protocol::kKeysObjectName;

struct StoreOptions {
  uint64_t capacity_bytes = 0;
  // Data is kept at least lease_ms + grace_ms after the customer's last
  // authenticated call (docs/PROTOCOL.md, "Leases"): a user who loses the
  // laptop must be able to recover months later.
  int64_t lease_ms = 90LL * 24 * 3600 * 1000;
  int64_t grace_ms = 7LL * 24 * 3600 * 1000;
  uint64_t max_fragment_bytes = 64ULL << 20;
  uint64_t max_object_bytes = 1ULL << 20;
  // What an item costs against quota: max(size, min_item_charge) + the bytes
  // of its key or name (ItemCharge). A fragment is a file, an inode and index
  // records whatever its size: zero-byte items must not be free (issue 11).
  uint64_t min_item_charge = 4096;
  // Fragments + objects one contract may hold; 0: no limit.
  uint64_t max_items_per_contract = 1000000;
  // Grants must fit the free disk: a grant that grows the space promised but
  // not yet used (granted - used, all contracts) beyond the file system's
  // free space less this reserve is refused. 0 and no free_disk: not checked.
  uint64_t disk_reserve_bytes = 1ULL << 30;
  // Puts (fragments and objects) are refused, "disk full", when they would
  // leave less than this free on the data dir's file system: the database's
  // own writes (nonces, records, flushes) need room, and RocksDB 7.8 aborts
  // the process on the write after a WAL write that failed for lack of
  // space. 0: not checked (the file system's ENOSPC is still refused).
  uint64_t min_free_disk_bytes = 64ULL << 20;
  // The data dir's file system's free bytes (statvfs f_bavail). Null: statvfs
  // of the data dir. Tests inject a fake.
  std::function<absl::StatusOr<uint64_t>()> free_disk_bytes;
  // Time source for leases and the reaper. Not owned; must outlive the Store.
  Clock* clock = nullptr;
  // Where fragment bytes go. Null: PosixFragmentFiles under <data_dir>/fragments
  // (with direct_io as below).
  std::unique_ptr<FragmentFiles> files;
  bool direct_io = true;
  // Start-up safety (docs/STORAGE.md): Open refuses (FailedPrecondition,
  // nothing changed) when more index records lost their file than
  // max(max_missing_files, max_missing_share * fragments): that is an
  // unmounted disk or a database restored from an older copy, not a crash.
  // accept_missing_files drops them anyway (the operator's decision).
  uint64_t max_missing_files = 10;
  double max_missing_share = 0.01;
  bool accept_missing_files = false;
  // Admission caps (docs/PROTOCOL.md, "Admission"): contracts in force, and
  // one contract's quota; 0: no limit.
  uint32_t max_customers = 10000;
  uint64_t max_quota_per_customer = 0;
  // Tests: called while a cancelled or reaped customer's records are
  // walked, with no store-wide lock held.
  std::function<void(const std::string& customer)> on_customer_walk;
};

struct Totals {
  uint64_t capacity_bytes = 0;
  uint64_t granted_bytes = 0;
  uint64_t used_bytes = 0;
  uint32_t customers = 0;
};

// What start-up reconciliation found and repaired (all zero after a clean run).
struct OpenReport {
  int temporaries_removed = 0;
  int orphan_files_removed = 0;  // quarantined (fragments/quarantine/), not deleted
  int missing_files = 0;         // index records whose file was gone: dropped
  int usage_corrected = 0;       // contracts whose usage did not match the index
  uint64_t fragments = 0;
  uint64_t objects = 0;
  // Where start-up time went (Store::Open logs them): opening RocksDB
  // (after a crash: replaying its log), reading the fragment directories,
  // and walking the index against them. All grow with the data dir.
  int64_t db_open_ms = 0;
  int64_t file_scan_ms = 0;
  int64_t index_check_ms = 0;
};

// What one item (fragment or object) of `size` bytes named `name` costs
// against quota (StoreOptions::min_item_charge).
uint64_t ItemCharge(uint64_t size, size_t name_bytes, uint64_t min_item_charge);

struct Usage {
  uint64_t used_bytes = 0;
  uint64_t quota_bytes = 0;
};

struct FragmentEntry {
  std::string key;
  uint64_t size = 0;
  std::string sha256;
};

struct DeleteResult {
  uint32_t deleted = 0;
  uint64_t freed_bytes = 0;
  std::vector<std::string> not_found;
};

struct ReapResult {
  int contracts_reaped = 0;
  uint64_t freed_bytes = 0;
  // Expired contracts left for a later run because of max_contracts.
  int contracts_deferred = 0;
};

// One customer's claim on a vault ID (GetKeyRecord).
struct KeyRecordCandidate {
  std::string data;          // the customer's "keys" object
  std::string customer_key;  // 32 bytes
  int64_t registered_ms = 0;
  int64_t stored_ms = 0;
};

// What `shardkeep-supplier status --data-dir` shows (Store::ReadStatus).
struct DataDirStatus {
  std::string supplier_id;
  std::string format;
  uint32_t customers = 0;
  uint64_t granted_bytes = 0;
  uint64_t used_bytes = 0;
  uint64_t fragments = 0;
  uint64_t objects = 0;
  uint32_t leases_expired = 0;       // lease over, in grace or awaiting the reaper
  uint32_t leases_expiring_14d = 0;  // lease ends within 14 days
  int64_t next_lease_expiry_ms = 0;  // 0: none
  uint32_t key_claims = 0;
  std::optional<int64_t> reaper_last_seen_ms;
};

class Store {
 public:
  struct Customer;  // in-memory state of one contract (store.cc)

  // Reads the database under data_dir read-only (works while a daemon
  // serves it; RocksDB read-only instances take no lock) and summarises it.
  static absl::StatusOr<DataDirStatus> ReadStatus(const std::string& data_dir, int64_t now_ms);

  // Opens (creating if needed) the store under data_dir, removes crash
  // leftovers and checks the index against the files (OpenReport). Refuses
  // (FailedPrecondition, changing nothing) a data dir whose database exists
  // but whose fragments directory does not, one with fragment files but no
  // database, and one where too many indexed files are missing (StoreOptions).
  // REQUIRES: options.clock != nullptr.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& data_dir,
                                                     StoreOptions options,
                                                     OpenReport* report = nullptr);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // 16 random bytes created with the data dir; part of every signed request.
  const std::string& supplier_id() const { return supplier_id_; }
  const StoreOptions& options() const { return options_; }
  Totals GetTotals();

  // ---- Contracts ----
  // Grants a new contract of needed_bytes, or resizes the existing one (and
  // renews its lease). ResourceExhausted if the capacity cannot cover it
  // (message names capacity, granted and free bytes), or if growing it would
  // promise more than the free disk less the reserve; FailedPrecondition when
  // shrinking below the current usage; InvalidArgument for needed_bytes == 0.
  // invite_id (new contracts only): the invitation's id, recorded with the
  // contract so one invitation opens one contract (PermissionDenied if used).
  // ResourceExhausted also past max_customers or max_quota_per_customer.
  absl::StatusOr<ContractRecord> RequestContract(std::string_view customer, uint64_t needed_bytes,
                                                 uint32_t position, uint32_t supplier_count,
                                                 std::string_view invite_id = {});
  // NotFound if the customer has no contract.
  absl::StatusOr<ContractRecord> GetContract(std::string_view customer);
  // Whether the customer has a contract in force (cheap: memory only).
  bool HasContract(std::string_view customer);
  // Renews the lease of an existing contract from now (as any activity does).
  // PermissionDenied if the customer has no contract.
  absl::StatusOr<ContractRecord> RenewContract(std::string_view customer);
  // Ends the contract and deletes all the customer's fragments and objects.
  // Returns the bytes freed. PermissionDenied if there is no contract.
  absl::StatusOr<uint64_t> CancelContract(std::string_view customer);
  // Deletes contracts whose lease expired more than the grace period before
  // now_ms, the longest-expired first, at most max_contracts of them (the
  // rest are counted in contracts_deferred). The caller (Reaper) decides
  // whether now_ms can be trusted.
  absl::StatusOr<ReapResult> ReapExpired(int64_t now_ms, size_t max_contracts = SIZE_MAX);

  // ---- Small persistent settings of the daemon (default column family) ----
  // The reaper's last trusted wall-clock reading; nullopt if never written.
  absl::StatusOr<std::optional<int64_t>> ReaperLastSeenMs();
  absl::Status SetReaperLastSeenMs(int64_t ms);
  // The replay guard's floor: request timestamps below it were forgotten
  // (their nonces purged) and must stay refused; nullopt if never written.
  absl::StatusOr<std::optional<int64_t>> NonceFloorMs();
  absl::Status SetNonceFloorMs(int64_t ms);

  // ---- Fragments ----
  class FragmentUpload;
  struct BeginResult {
    // Null when the same key with the same size and hash is already stored
    // (nothing to upload; already_present is true).
    std::unique_ptr<FragmentUpload> upload;
    bool already_present = false;
    Usage usage;
  };
  // Starts storing `size` bytes under `key` with the declared SHA-256. Reserves
  // ItemCharge(size, key) of quota first: ResourceExhausted naming quota, usage
  // and reservations if it does not fit, or if a new key would pass
  // max_items_per_contract. (Overwriting a key reserves the full new
  // size; the old bytes are released when the new ones are committed.)
  // PermissionDenied without a contract; InvalidArgument for a size above
  // max_fragment_bytes or a hash that is not 32 bytes.
  absl::StatusOr<BeginResult> BeginFragment(std::string_view customer, std::string_view key,
                                            uint64_t size, std::string_view sha256);

  struct OpenedFragment {
    FragmentRecord record;
    std::unique_ptr<FragmentFileReader> reader;
  };
  // NotFound if the customer has no such fragment.
  absl::StatusOr<OpenedFragment> OpenFragment(std::string_view customer, std::string_view key);
  // Up to `limit` fragments with keys starting with `prefix`, in key order,
  // after `start_after`. *more tells whether further ones exist.
  absl::StatusOr<std::vector<FragmentEntry>> ListFragments(std::string_view customer,
                                                           std::string_view prefix,
                                                           std::string_view start_after,
                                                           uint32_t limit, bool* more);
  absl::StatusOr<DeleteResult> DeleteFragments(std::string_view customer,
                                               const std::vector<std::string>& keys);

  // ---- Small metadata objects ----
  // Stores (replacing) an object; the quota check counts the replacement's
  // net growth. vault_id non-empty only for name == kKeyRecordName: registers
  // this customer's claim on the vault ID (releasing a claim it held on
  // another one); ResourceExhausted if kMaxKeyRecordCandidates other
  // customers already claim it. The key record object is at most
  // kMaxKeyRecordBytes (InvalidArgument).
  absl::StatusOr<Usage> PutObject(std::string_view customer, std::string_view name,
                                  std::string_view data, std::string_view vault_id);
  absl::StatusOr<std::string> GetObject(std::string_view customer, std::string_view name);
  struct ObjectEntry {
    std::string name;
    uint64_t size = 0;
  };
  absl::StatusOr<std::vector<ObjectEntry>> ListObjects(std::string_view customer,
                                                       std::string_view prefix,
                                                       std::string_view start_after, uint32_t limit,
                                                       bool* more);
  absl::StatusOr<DeleteResult> DeleteObjects(std::string_view customer,
                                             const std::vector<std::string>& names);
  // Every claim on vault_id with its customer's key record, oldest
  // registration first (at most kMaxKeyRecordCandidates). NotFound if none.
  absl::StatusOr<std::vector<KeyRecordCandidate>> GetKeyRecord(std::string_view vault_id);

  // ---- Activity ----
  // Renews the lease of the customer's contract if it has one (persisting the
  // new expiry only when it moved by more than a small slack, so reads do not
  // cost a write each). PermissionDenied if there is no contract.
  absl::Status Touch(std::string_view customer);

  // ---- Request nonces (for the replay guard) ----
  // Records a nonce seen at timestamp_ms. Not synced by itself: the next
  // synced write (every mutation is one) makes it durable; a process crash
  // (kill -9) never loses it because RocksDB has handed it to the kernel.
  absl::Status RememberNonce(int64_t timestamp_ms, std::string_view customer,
                             std::string_view nonce);
  struct NonceEntry {
    int64_t timestamp_ms;
    std::string customer;
    std::string nonce;
  };
  absl::StatusOr<std::vector<NonceEntry>> LoadNonces(int64_t min_timestamp_ms);
  absl::Status ForgetNoncesBefore(int64_t timestamp_ms);

 private:
  friend class FragmentUpload;
  Store(std::string data_dir, StoreOptions options);
  absl::Status OpenDb(OpenReport* report);
  // Format 1 -> 2: "vaults" (vault_id -> customer) becomes "key_claims".
  absl::Status MigrateVaultsToKeyClaims();
  absl::Status Reconcile(OpenReport* report);

  std::shared_ptr<Customer> FindCustomer(std::string_view customer);
  absl::Status WriteSynced(void* batch /* rocksdb::WriteBatch* */);
  // ResourceExhausted ("disk full: ...", naming the data dir and the free
  // space) if storing `bytes` more would leave less than
  // min_free_disk_bytes free.
  absl::Status CheckFreeDisk(uint64_t bytes, std::string_view what) const;
  // Deletes all of a customer's records in one synced batch and returns the
  // bytes freed; appends the fragment files to unlink (by RemoveFiles).
  // REQUIRES: no store lock held; the customer marked gone (no writer left).
  absl::StatusOr<uint64_t> DeleteCustomerRecords(const std::string& customer,
                                                 const ContractRecord& record,
                                                 std::vector<std::string>* files);
  // DeleteCustomerRecords, then drops the contract from memory and the
  // totals; on failure clears `gone` again. REQUIRES: c->gone set by the
  // caller (under c->mu); no lock held.
  absl::StatusOr<uint64_t> RetireCustomer(const std::string& customer,
                                          const std::shared_ptr<Customer>& c,
                                          std::vector<std::string>* files);
  void RemoveFiles(const std::vector<std::string>& files);
  std::string NewFileId();

  const std::string data_dir_;
  StoreOptions options_;
  std::string supplier_id_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* contracts_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* fragments_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* objects_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* vaults_cf_ = nullptr;  // format 1 only; empty after migration
  rocksdb::ColumnFamilyHandle* claims_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* nonces_cf_ = nullptr;

  // Lock order: mu_, then a Customer::mu, then vault_mu_. Cancelling or
  // reaping a customer marks it gone under its mu, then walks and deletes its
  // records holding neither (RetireCustomer), and takes mu_ only to drop it.
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Customer>> customers_ ABSL_GUARDED_BY(mu_);
  uint64_t granted_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> used_bytes_{0};
  absl::Mutex vault_mu_;  // serializes key claims (the per-vault-ID count)
};

// One fragment upload in progress, holding its quota reservation. Append the
// bytes, then Commit. Destroying it without a successful Commit removes the
// partial file and releases the reservation: nothing is stored.
class Store::FragmentUpload {
 public:
  ~FragmentUpload();
  FragmentUpload(const FragmentUpload&) = delete;
  FragmentUpload& operator=(const FragmentUpload&) = delete;

  uint64_t size() const { return size_; }
  uint64_t received() const { return received_; }
  // InvalidArgument if the bytes would exceed the declared size.
  absl::Status Append(std::string_view data);
  // Checks that exactly `size` bytes arrived and that their SHA-256 is the
  // declared one (InvalidArgument otherwise), makes the file durable, then
  // commits index + usage in one synced batch. Aborted if the contract was
  // cancelled or reaped meanwhile. After any error the upload is finished.
  absl::StatusOr<Usage> Commit(bool* already_present);

 private:
  friend class Store;
  struct Hasher;
  FragmentUpload(Store* store, std::shared_ptr<Customer> customer, std::string customer_key,
                 std::string key, uint64_t size, std::string sha256, std::string file_id,
                 std::unique_ptr<FragmentFileWriter> writer);
  void Release();

  Store* const store_;
  std::shared_ptr<Customer> customer_;
  const std::string customer_key_, key_;
  const uint64_t size_;
  const uint64_t charge_;  // ItemCharge of size_ and key_: what is reserved
  const std::string sha256_, file_id_;
  std::unique_ptr<FragmentFileWriter> writer_;
  std::unique_ptr<Hasher> hasher_;
  uint64_t received_ = 0;
  bool finished_ = false;
};

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_STORE_H_

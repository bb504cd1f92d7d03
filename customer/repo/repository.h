// A vault online: the unlocked vault, its supplier set, its index and
// snapshots, and reading blocks, chunks and trees back. Shared by the
// archiver, the restorer and the listing commands.
//
// Caches (all rebuildable from the suppliers, all still sealed):
//   <cache>/<vault-id>/index/<piece>         index pieces as stored
//   <cache>/<vault-id>/snapshots/<id>        snapshot records as stored
//   <cache>/<vault-id>/blocks/<block-id>     sealed tree blocks
#ifndef SHARDKEEP_CUSTOMER_REPO_REPOSITORY_H_
#define SHARDKEEP_CUSTOMER_REPO_REPOSITORY_H_

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "customer/net/supplier_client.h"
#include "customer/net/supplier_set.h"
#include "customer/vault/names.h"
#include "customer/vault/vault.h"
#include "customer/repo/snapshot_history.h"
#include "customer/repo/vault_index.h"
#include "proto/vault.pb.h"
#include "raid/codec.h"

namespace shardkeep::customer {

class Repository {
 public:
  // Clients for every supplier (no traffic yet).
  static absl::StatusOr<std::unique_ptr<Repository>> Open(std::unique_ptr<Vault> vault,
                                                          const SupplierConnector& connector,
                                                          SupplierSet::Options options = {});
  Repository(const Repository&) = delete;
  Repository& operator=(const Repository&) = delete;

  const Vault& vault() const { return *vault_; }
  // For a change of the config (key passwd, suppliers replace).
  Vault& mutable_vault() { return *vault_; }
  const vault::v1::VaultConfig& config() const { return vault_->config(); }
  SupplierSet& suppliers() { return *suppliers_; }
  VaultIndex& index() { return index_; }
  const raid::Codec& codec() const { return *codec_; }
  int n() const { return suppliers_->n(); }
  int k() const { return suppliers_->k(); }

  // Asks every supplier for its Info; kSuppliersUnreachable naming them if
  // fewer than `min_reachable` answer. Then gives the current key record to
  // the suppliers that missed a `key passwd` and answer now
  // (PushPendingKeyRecords).
  absl::Status CheckSuppliers(int min_reachable);

  // Stores the current key record at every position listed in the seen
  // state's key_record_pending that is up; those that take it leave the
  // list. Best effort (warnings): a supplier still down keeps its place.
  void PushPendingKeyRecords();

  // Every supplier's contract by position, asked in parallel (an
  // authenticated call: it renews the lease there). A supplier marked down
  // is not asked: Unavailable naming it.
  std::vector<absl::StatusOr<v1::Contract>> Contracts();

  // One warning per supplier whose lease ends before now_ms + within_ms,
  // naming it and the date, or which has no contract any more, from
  // `contracts` as Contracts() returned them.
  std::vector<std::string> CheckLeases(const std::vector<absl::StatusOr<v1::Contract>>& contracts,
                                       int64_t now_ms, int64_t within_ms);

  // Loads the index pieces the suppliers list (from the cache when
  // present): those of the newest complete index epoch (docs/FORMAT.md,
  // "Index epochs"); pieces of older epochs, and of a prune that did not
  // finish, are listed in stale_index_pieces() and not loaded. A listed name
  // that is not an index piece name (vault/names.h), or that no supplier
  // serves a valid copy of, is skipped with a warning naming the suppliers
  // that listed it.
  absl::Status LoadIndex();
  // After LoadIndex: the epoch loaded (what new pieces are written with), the
  // names of the pieces loaded, and those listed but left out.
  uint64_t index_epoch() const { return index_epoch_; }
  // The highest epoch any listed piece has (an unfinished prune's may be
  // above index_epoch()): a new epoch must be above it.
  uint64_t highest_index_epoch() const { return highest_index_epoch_; }
  const std::vector<std::string>& index_pieces() const { return index_pieces_; }
  const std::vector<std::string>& stale_index_pieces() const { return stale_index_pieces_; }

  // Every snapshot record, oldest first. Listed names that do not parse, or
  // that no supplier serves a valid copy of, are skipped with a warning.
  // Records with a tombstone (object forgotten/<id>, written by `forget`)
  // are left out: a supplier that was down during forget still lists them.
  // Also checks the history for rollback (snapshot_history.h): each problem
  // is a warning, and history() keeps the result; the newest snapshot seen
  // is remembered in the config dir.
  absl::StatusOr<std::vector<vault::v1::Snapshot>> LoadSnapshots();
  // The last LoadSnapshots' history check.
  const SnapshotHistory& history() const { return history_; }
  // The last LoadSnapshots' tombstones, by snapshot ID, and the snapshot
  // record names still listed although tombstoned (forget and prune delete
  // them again).
  const std::map<std::string, vault::v1::Forgotten>& forgotten() const { return forgotten_; }
  const std::vector<std::string>& forgotten_still_listed() const {
    return forgotten_still_listed_;
  }

  // What reading one snapshot needs (ls, restore): k suppliers answering
  // (CheckSuppliers), the index loaded, and the snapshot `spec` names
  // (FindSnapshot).
  absl::StatusOr<vault::v1::Snapshot> OpenSnapshot(const std::string& spec);

  // `spec` is a full ID, an unambiguous ID prefix (hex), or "latest".
  static absl::StatusOr<vault::v1::Snapshot> FindSnapshot(
      const std::vector<vault::v1::Snapshot>& snapshots, const std::string& spec);

  // The listed names under `prefix` that parse as objects of `kind`; in
  // `listed_by`, which positions listed each. A supplier whose listing fails
  // is named in a warning (and marked down by the SupplierSet).
  absl::StatusOr<std::vector<std::string>> ListNames(const std::string& prefix, ObjectKind kind,
                                                     std::map<std::string, uint64_t>* listed_by);

  // Object `name` opened, from the first supplier whose copy opens, never
  // from the cache (locks: live state).
  absl::StatusOr<std::string> GetObjectFresh(const std::string& name);

  // Deletes the objects at every supplier that is up; the positions where
  // that failed or that are down (the caller records or retries them).
  std::vector<int> DeleteObjects(const std::vector<std::string>& names);

  // Seals `plaintext` as object `name` and stores it on every supplier up
  // (at least CommitThreshold of them), and in the cache if `cache`.
  absl::Status PutObject(const std::string& name, const std::string& plaintext, bool cache);

  // A block's plaintext: k fragments fetched and verified, decoded, opened.
  // Tree blocks come from (and go to) the local cache.
  absl::StatusOr<std::string> LoadBlock(uint32_t block_number);

  // One chunk's plaintext, through a small cache of opened blocks (meant for
  // trees; the restorer reads data blocks itself).
  absl::StatusOr<std::string> LoadChunk(std::string_view chunk_id);

  // The tree stored as `refs` (its serialised bytes, chunked).
  absl::StatusOr<vault::v1::Tree> LoadTree(
      const google::protobuf::RepeatedPtrField<vault::v1::ChunkRef>& refs);

  // Keeps a sealed tree block in the local cache (the archiver calls it for
  // the tree blocks it writes, so the next backup reads its parent locally).
  void CacheTreeBlock(const std::string& block_id, const std::string& sealed);

  // Where warnings go (a name in a listing that does not parse, ...).
  // Default: "warning: ..." on stderr. Set before use; not thread-safe.
  void set_warning_sink(std::function<void(const std::string&)> sink) {
    warn_ = std::move(sink);
  }

 private:
  Repository() = default;
  absl::StatusOr<std::string> GetObjectCached(const std::string& name);
  // The object `name` (listed by the positions in `listed_by_mask`); NotFound
  // with a warning naming those suppliers when no supplier serves a valid
  // copy (a phantom name from a hostile supplier: the caller skips it).
  absl::StatusOr<std::string> GetListedObject(const std::string& name, uint64_t listed_by_mask);
  std::string Addresses(uint64_t positions) const;
  void Warn(const std::string& message) const;

  std::unique_ptr<Vault> vault_;
  std::unique_ptr<SupplierSet> suppliers_;
  std::unique_ptr<raid::Codec> codec_;
  VaultIndex index_;
  bool index_opened_ = false;  // LoadIndex opened the local store
  std::function<void(const std::string&)> warn_;
  SnapshotHistory history_;
  uint64_t index_epoch_ = 0, highest_index_epoch_ = 0;
  std::vector<std::string> index_pieces_, stale_index_pieces_;
  std::map<std::string, vault::v1::Forgotten> forgotten_;
  std::vector<std::string> forgotten_still_listed_;

  std::mutex block_cache_mu_;
  std::list<std::pair<uint32_t, std::shared_ptr<const std::string>>> block_cache_;  // MRU first
};

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_REPOSITORY_H_

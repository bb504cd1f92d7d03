#include "customer/repo/repairer.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "customer/repo/block_writer.h"
#include "customer/repo/vault_lock.h"
#include "customer/vault/names.h"

namespace shardkeep::customer {
namespace {

int Bits(uint64_t m) { return __builtin_popcountll(m); }

class Repairer {
 public:
  Repairer(Repository& repo, const RepairOptions& opts, Progress& progress)
      : repo_(repo), opts_(opts), progress_(progress), n_(repo.n()), k_(repo.k()) {}

  absl::StatusOr<RepairResult> Run();

 private:
  // Rebuilds the fragments at `bad` from those at `good`; the positions now
  // stored (good | what was written).
  absl::StatusOr<uint64_t> Heal(uint32_t b, uint64_t good, uint64_t bad);
  void Record(uint32_t b, uint64_t held);
  absl::Status FlushRecords(bool all);

  Repository& repo_;
  const RepairOptions& opts_;
  Progress& progress_;
  const int n_, k_;
  RepairResult result_;
  std::mutex mu_;
  std::vector<vault::v1::BlockRecord> pending_;  // guarded by mu_
  std::string repair_id_ = crypto::RandomBytes(16);
  uint32_t pieces_ = 0;
};

absl::StatusOr<uint64_t> Repairer::Heal(uint32_t b, uint64_t good, uint64_t bad) {
  const vault::v1::BlockRecord& rec = repo_.index().block(b);
  std::map<int, std::string> frags;
  std::string errors;
  for (int i = 0; i < n_ && static_cast<int>(frags.size()) < k_; ++i) {
    if (!((good >> i) & 1)) continue;
    auto data = repo_.suppliers().at(i)->GetFragmentOfSize(FragmentKey(rec.block_id(), i),
                                                           rec.fragment_size());
    if (!data.ok()) {
      absl::StrAppend(&errors, "; ", data.status().message());
      continue;
    }
    if (crypto::Sha256(*data) != rec.fragment_sha256(i)) {
      absl::StrAppend(&errors, "; ", repo_.suppliers().address(i), ": fragment ",
                      FragmentKey(rec.block_id(), i), " fails its hash check");
      continue;
    }
    frags.emplace(i, std::move(*data));
  }
  if (static_cast<int>(frags.size()) < k_) {
    return absl::DataLossError(absl::StrCat("only ", frags.size(), " of the ", k_,
                                            " good fragments needed could be read", errors));
  }
  ASSIGN_OR_RETURN(std::string sealed, repo_.codec().Decode(frags));
  ASSIGN_OR_RETURN(std::vector<std::string> all, repo_.codec().Encode(sealed));
  uint64_t held = good;
  std::string failed;
  for (int i = 0; i < n_; ++i) {
    if (!((bad >> i) & 1)) continue;
    const std::string sha = crypto::Sha256(all[i]);
    if (sha != rec.fragment_sha256(i) || all[i].size() != rec.fragment_size()) {
      return absl::DataLossError(absl::StrCat("rebuilt fragment ", i,
                                              " does not match the index; nothing stored"));
    }
    // Delete first: a supplier answers a put of the size and hash it has on
    // record as "already present" without reading its (rotten) copy. A
    // fragment that is not there is deleted as a no-op.
    SupplierClient* client = repo_.suppliers().at(i);
    absl::Status s = client->DeleteFragment(FragmentKey(rec.block_id(), i));
    if (s.ok()) s = client->PutFragment(FragmentKey(rec.block_id(), i), all[i], sha);
    std::lock_guard<std::mutex> lock(mu_);
    if (!s.ok()) {
      absl::StrAppend(&failed, "; ", s.message());
      continue;
    }
    held |= uint64_t{1} << i;
    result_.fragments_written++;
    result_.written_per_position[i]++;
  }
  if (!failed.empty()) {
    Record(b, held);  // what did get stored still counts
    return absl::UnavailableError(absl::StrCat("storing failed", failed));
  }
  return held;
}

// Queues a repair record for block `b` if `held` has positions its record
// does not.
void Repairer::Record(uint32_t b, uint64_t held) {
  const vault::v1::BlockRecord& rec = repo_.index().block(b);
  if (rec.stored_mask() == 0 || (held & ~rec.stored_mask()) == 0) return;
  vault::v1::BlockRecord r = rec;
  r.clear_chunks();
  r.set_stored_mask(rec.stored_mask() | held);
  std::lock_guard<std::mutex> lock(mu_);
  pending_.push_back(std::move(r));
}

absl::Status Repairer::FlushRecords(bool all) {
  std::vector<vault::v1::BlockRecord> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.empty() || (!all && pending_.size() < kRepairRecordsPerPiece)) {
      return absl::OkStatus();
    }
    batch.swap(pending_);
  }
  result_.records_written += batch.size();
  // A fresh ID per batch: WriteIndexPieces numbers pieces from 0.
  std::string id = pieces_++ == 0 ? repair_id_ : crypto::RandomBytes(16);
  return WriteIndexPieces(repo_, id, std::move(batch)).status();
}

absl::StatusOr<RepairResult> Repairer::Run() {
  auto start = std::chrono::steady_clock::now();
  result_.written_per_position.assign(n_, 0);
  // Shared, as a backup's: prune must not delete a block being healed.
  std::unique_ptr<VaultLock> lock;
  if (!opts_.dry_run) {
    ASSIGN_OR_RETURN(lock, VaultLock::AcquireForHealing(
                               repo_, VaultLock::Kind::kShared, "repair",
                               [&](const std::string& m) { progress_.Warn(m); }));
  }
  ASSIGN_OR_RETURN(result_.check, CheckVault(repo_, opts_.check, progress_));
  const auto& health = result_.check.block_health;
  std::vector<uint32_t> to_heal;
  for (uint32_t b = 0; b < health.size(); ++b) {
    const BlockHealth& h = health[b];
    if (h.bad == 0) {
      if (!opts_.dry_run) Record(b, h.ok);  // held everywhere listed, maybe not recorded
      continue;
    }
    result_.blocks_to_heal++;
    if (h.unreadable || Bits(h.ok) < k_) {
      result_.blocks_unrepairable++;
      result_.errors.push_back(absl::StrCat(
          "block ", crypto::ToHex(repo_.index().block(b).block_id()), ": ",
          h.unreadable ? "does not decode or verify" : "fewer than k good fragments", ", not repairable"));
      continue;
    }
    to_heal.push_back(b);
  }
  progress_.total_files = to_heal.size();
  progress_.files = 0;
  progress_.totals_known = true;
  if (!opts_.dry_run) {
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    absl::Status flush_error;
    std::mutex flush_mu;
    std::vector<std::thread> workers;
    int nw = std::max(1, std::min<int>(opts_.workers, to_heal.size()));
    for (int w = 0; w < nw && !to_heal.empty(); ++w) {
      workers.emplace_back([&] {
        for (size_t i; !stop && (i = next.fetch_add(1)) < to_heal.size();) {
          const uint32_t b = to_heal[i];
          auto held = Heal(b, health[b].ok, health[b].bad);
          if (held.ok()) {
            Record(b, *held);
            std::lock_guard<std::mutex> lock(mu_);
            result_.blocks_healed++;
          } else {
            std::string msg = absl::StrCat("block ", crypto::ToHex(repo_.index().block(b).block_id()),
                                           ": ", held.status().message());
            progress_.Warn("error: " + msg);
            std::lock_guard<std::mutex> lock(mu_);
            result_.errors.push_back(std::move(msg));
          }
          progress_.files++;
          std::lock_guard<std::mutex> lock(flush_mu);
          absl::Status s = FlushRecords(false);
          if (!s.ok()) {
            flush_error = s;
            stop = true;
          }
        }
      });
    }
    for (auto& t : workers) t.join();
    RETURN_IF_ERROR(flush_error);
    RETURN_IF_ERROR(FlushRecords(true));
  }
  result_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::move(result_);
}

}  // namespace

absl::StatusOr<RepairResult> RepairVault(Repository& repo, const RepairOptions& options,
                                         Progress& progress) {
  Repairer r(repo, options, progress);
  return r.Run();
}

}  // namespace shardkeep::customer

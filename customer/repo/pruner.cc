#include "customer/repo/pruner.h"

#include <unistd.h>

#include <algorithm>
#include <set>
#include <thread>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "customer/repo/block_writer.h"
#include "customer/repo/pending_deletes.h"
#include "customer/repo/used_chunks.h"
#include "customer/vault/names.h"

namespace shardkeep::customer {
namespace {

using ChunkSet = std::unordered_set<ChunkKey, ChunkKeyHash>;

// Every chunk the snapshots use (trees and file contents). DataLoss naming
// the snapshot when one needs a chunk the index does not hold: pruning then
// could only make things worse.
absl::Status CollectUsed(Repository& repo, const std::vector<vault::v1::Snapshot>& snapshots,
                         ChunkSet* used) {
  std::string missing;
  absl::Status s = CollectUsedChunks(repo, snapshots, [&](std::string_view id) {
    if (used->insert(ChunkKey::From(id)).second && missing.empty() &&
        !repo.index().Contains(id)) {
      missing = crypto::ToHex(id);
    }
  });
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat(
        "prune stops, nothing was deleted: ", s.message(), "; run `shardkeep check`"));
  }
  if (!missing.empty()) {
    return absl::DataLossError(absl::StrCat("prune stops, nothing was deleted: a snapshot needs chunk ",
                                            missing,
                                            ", which the index does not hold; run `shardkeep check`"));
  }
  return absl::OkStatus();
}

uint64_t SumUsage(Repository& repo) {
  uint64_t sum = 0;
  for (const auto& c : repo.Contracts()) {
    if (c.ok()) sum += c->used_bytes();
  }
  return sum;
}

}  // namespace

absl::StatusOr<PruneResult> PruneVault(Repository& repo, const PruneOptions& options,
                                       Progress& progress) {
  if (options.max_unused_percent < 0 || options.max_unused_percent >= 100) {
    return UsageError(absl::StrCat("--max-unused must be 0..99 (percent), not ",
                                   options.max_unused_percent));
  }
  RETURN_IF_ERROR(repo.CheckSuppliers(CommitThreshold(repo.n(), repo.k())));
  std::unique_ptr<VaultLock> lock;
  if (!options.dry_run) {
    ASSIGN_OR_RETURN(lock, VaultLock::Acquire(repo, VaultLock::Kind::kExclusive, "prune",
                                              options.lock));
    ApplyPendingDeletes(repo);
  }
  RETURN_IF_ERROR(repo.LoadIndex());
  ASSIGN_OR_RETURN(std::vector<vault::v1::Snapshot> snapshots, repo.LoadSnapshots());
  if (!repo.history().problems.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "prune stops, nothing was deleted: the snapshot history looks held back (",
        repo.history().problems.front(),
        "); pruning now could delete the data of snapshots a supplier hides. Run `shardkeep "
        "check`, bring the missing suppliers back or replace them, then prune"));
  }

  PruneResult r;
  r.snapshots = snapshots.size();
  ChunkSet used;
  RETURN_IF_ERROR(CollectUsed(repo, snapshots, &used));

  // Classify blocks by the chunks located in them.
  VaultIndex& index = repo.index();
  const size_t nblocks = index.block_count();
  r.blocks = nblocks;
  std::vector<std::vector<vault::v1::BlockChunk>> chunks = index.ChunksByBlock();
  std::vector<uint64_t> used_bytes(nblocks), unused_bytes(nblocks);
  for (size_t b = 0; b < nblocks; ++b) {
    for (const auto& c : chunks[b]) {
      (used.count(ChunkKey::From(c.id())) ? used_bytes[b] : unused_bytes[b]) += c.length();
    }
    r.bytes_used += used_bytes[b];
    r.bytes_unused += unused_bytes[b];
  }
  enum class Fate { kKeep, kDrop, kRepack };
  std::vector<Fate> fate(nblocks, Fate::kKeep);
  std::vector<size_t> partial;
  uint64_t unused_left = 0;
  for (size_t b = 0; b < nblocks; ++b) {
    if (used_bytes[b] == 0) {
      fate[b] = Fate::kDrop;
      ++r.blocks_unused;
    } else if (unused_bytes[b] > 0) {
      partial.push_back(b);
      unused_left += unused_bytes[b];
    }
  }
  // Repack the emptiest blocks first until what stays unused is within the
  // limit (restic's rule: unused <= p/(100-p) of used).
  const double p = options.max_unused_percent;
  const uint64_t allowed = static_cast<uint64_t>(p / (100 - p) * static_cast<double>(r.bytes_used));
  std::sort(partial.begin(), partial.end(), [&](size_t a, size_t b) {
    return unused_bytes[a] * (used_bytes[b] + unused_bytes[b]) >
           unused_bytes[b] * (used_bytes[a] + unused_bytes[a]);
  });
  for (size_t b : partial) {
    if (unused_left <= allowed) break;
    fate[b] = Fate::kRepack;
    unused_left -= unused_bytes[b];
    ++r.blocks_repacked;
  }
  r.bytes_unused_after = unused_left;
  if (options.dry_run) return r;

  r.used_before = SumUsage(repo);

  // Repack: the used chunks of those blocks go into new blocks.
  std::vector<vault::v1::BlockRecord> records;
  if (r.blocks_repacked > 0) {
    BlockWriter writer(repo, BlockWriter::Options{},
                       [&progress](const std::string& w) { progress.Warn(w); }, nullptr);
    for (size_t b = 0; b < nblocks; ++b) {
      if (fate[b] != Fate::kRepack) continue;
      RETURN_IF_ERROR(lock->Held());
      ASSIGN_OR_RETURN(std::string plain, repo.LoadBlock(static_cast<uint32_t>(b)));
      const vault::v1::BlockKind kind = index.block(static_cast<uint32_t>(b)).kind();
      for (const auto& c : chunks[b]) {
        if (!used.count(ChunkKey::From(c.id()))) continue;
        if (c.offset() > plain.size() || c.length() > plain.size() - c.offset()) {
          return absl::DataLossError(absl::StrCat("block ", crypto::ToHex(index.block(b).block_id()),
                                                  ": chunk outside the block"));
        }
        RETURN_IF_ERROR(writer.Add(kind, c.id(), plain.substr(c.offset(), c.length()),
                                   c.raw_length(), c.compressed()));
      }
    }
    RETURN_IF_ERROR(writer.Flush());
    RETURN_IF_ERROR(writer.Wait());
    records = writer.TakeCommitted();
    r.blocks_written = records.size();
  }

  // The new epoch: every block that stays, with its chunks.
  std::set<std::string> keep_ids;
  for (const auto& rec : records) keep_ids.insert(rec.block_id());
  for (size_t b = 0; b < nblocks; ++b) {
    if (fate[b] != Fate::kKeep) continue;
    vault::v1::BlockRecord rec = index.block(static_cast<uint32_t>(b));
    for (auto& c : chunks[b]) *rec.add_chunks() = std::move(c);
    keep_ids.insert(rec.block_id());
    records.push_back(std::move(rec));
  }
  RETURN_IF_ERROR(lock->Held());
  RETURN_IF_ERROR(WriteIndexBase(repo, crypto::RandomBytes(kNameIdSize), std::move(records),
                                 repo.highest_index_epoch() + 1)
                      .status());

  // From here on readers load the new epoch: deleting is safe.
  std::vector<std::string> objects = repo.index_pieces();
  for (const auto& n : repo.stale_index_pieces()) objects.push_back(n);
  for (const auto& n : repo.forgotten_still_listed()) objects.push_back(n);
  r.index_pieces_deleted = repo.index_pieces().size() + repo.stale_index_pieces().size();
  std::set<int> pending;
  for (int pos : repo.DeleteObjects(objects)) {
    AddPendingDeletes(repo, pos, {}, objects);
    pending.insert(pos);
  }

  std::set<std::string> dropped;
  for (size_t b = 0; b < nblocks; ++b) {
    if (fate[b] == Fate::kKeep) continue;
    const std::string& id = index.block(static_cast<uint32_t>(b)).block_id();
    dropped.insert(id);
    if (index.block(static_cast<uint32_t>(b)).kind() == vault::v1::BLOCK_KIND_TREE) {
      unlink(TreeBlockCachePath(repo.vault().cache_path(), id).c_str());
    }
  }
  // Per position: the dropped blocks' fragments, and every fragment listed
  // there whose block no index names (the lock rules out a backup writing).
  const int n = repo.n();
  std::vector<absl::Status> status(n, absl::OkStatus());
  std::vector<std::vector<std::string>> keys(n);
  std::vector<uint64_t> orphans(n, 0);
  std::vector<std::thread> threads;
  for (int pos = 0; pos < n; ++pos) {
    for (const auto& id : dropped) keys[pos].push_back(FragmentKey(id, pos));
    if (repo.suppliers().IsDown(pos)) {
      status[pos] = absl::UnavailableError("down");
      continue;
    }
    threads.emplace_back([&, pos] {
      SupplierClient* c = repo.suppliers().at(pos);
      auto listed = c->ListFragments("");
      if (listed.ok()) {
        for (const auto& f : *listed) {
          std::string block;
          int at = -1;
          if (!ParseFragmentKey(f.key(), &block, &at)) continue;  // not ours to judge
          if (keep_ids.count(block) || dropped.count(block)) continue;
          keys[pos].push_back(f.key());
          ++orphans[pos];
        }
      }
      status[pos] = c->DeleteFragments(keys[pos]);
    });
  }
  for (auto& t : threads) t.join();
  for (int pos = 0; pos < n; ++pos) {
    r.fragments_deleted += keys[pos].size();
    r.orphans += orphans[pos];
    if (!status[pos].ok()) {
      progress.Warn(absl::StrCat("warning: supplier ", repo.suppliers().address(pos),
                                 " (position ", pos, ") missed ", keys[pos].size(),
                                 " deletions (recorded; the next prune or maintain retries): ",
                                 status[pos].message()));
      AddPendingDeletes(repo, pos, keys[pos], {});
      pending.insert(pos);
    }
  }
  r.pending_positions.assign(pending.begin(), pending.end());
  r.used_after = SumUsage(repo);
  return r;
}

}  // namespace shardkeep::customer

#include "customer/repo/block_writer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "common/merkle.h"
#include "proto/limits.h"
#include "customer/net/supplier_set.h"
#include "customer/vault/names.h"

namespace shardkeep::customer {

// One sealed block on its way to the suppliers.
struct BlockWriter::Upload {
  vault::v1::BlockRecord record;
  std::vector<std::string> fragments;
  std::string sealed;  // tree blocks only, for the local cache
  std::mutex mu;
  size_t charged = 0;  // bytes of in_flight_ still held; guarded by mu
  int remaining = 0;  // positions not yet answered; guarded by mu
  uint64_t mask = 0;  // positions that stored their fragment; guarded by mu
  std::vector<std::string> errors;  // guarded by mu
  std::vector<std::string> full;    // RESOURCE_EXHAUSTED answers; guarded by mu
};

namespace {

// A supplier refused a fragment for its quota (the budget did not know, e.g.
// another machine filled it): the writer stops rather than go on degraded,
// which would quietly lose redundancy on every following block.
absl::Status QuotaFull(const std::vector<std::string>& answers) {
  return WithKind(
      absl::ResourceExhaustedError(absl::StrCat(
          "a supplier's quota is full: ", absl::StrJoin(answers, "; "),
          "; nothing more is uploaded. Grow the quota with `shardkeep suppliers resize --needed "
          "SIZE`, or free space with `shardkeep forget --keep-... --prune`, then back up again")),
      ErrorKind::kQuotaExceeded);
}

}  // namespace

BlockWriter::BlockWriter(Repository& repo, Options options,
                         std::function<void(const std::string&)> on_warning,
                         std::function<void(const absl::Status&)> on_error)
    : repo_(repo),
      block_size_(repo.config().block_size()),
      quota_(options.quota),
      on_warning_(std::move(on_warning)),
      on_error_(std::move(on_error)),
      in_flight_(std::max<size_t>(options.bytes_in_flight, 1),
                 std::max(1, options.blocks_in_flight)) {}

BlockWriter::~BlockWriter() { Wait().IgnoreError(); }

absl::Status BlockWriter::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void BlockWriter::Fail(const absl::Status& s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return;
    error_ = s;
  }
  if (on_error_) on_error_(s);
}

absl::Status BlockWriter::Add(vault::v1::BlockKind kind, const std::string& chunk_id,
                              const std::string& stored, uint32_t raw_length, bool compressed) {
  RETURN_IF_ERROR(error());
  const bool tree = kind == vault::v1::BLOCK_KIND_TREE;
  auto& b = tree ? open_tree_ : open_data_;
  // Tree blocks are cut smaller: the open tree block lives as long as the
  // walk (directories trickle in), so its size is memory held for the whole
  // backup, and smaller tree blocks are committed (and checkpointed) sooner.
  const size_t limit = tree ? std::min(block_size_, kTreeBlockBytes) : block_size_;
  if (b && b->chunk_count() > 0 && b->payload_size() + stored.size() > limit) {
    SealAndUpload(std::move(b));
  }
  if (!b) {
    // Reserved whole, with the table's room (BlockBuilder adds it): no
    // copies while it grows; pages not yet written are not resident, so a
    // small block costs what it holds.
    b = std::make_unique<BlockBuilder>(kind, crypto::RandomBytes(kBlockIdSize), limit);
  }
  b->Add(chunk_id, stored, raw_length, compressed);
  if (b->payload_size() >= limit || b->chunk_count() >= kMaxChunksPerBlock) {
    SealAndUpload(std::move(b));
  }
  return error();
}

absl::Status BlockWriter::Flush() {
  RETURN_IF_ERROR(error());
  if (open_data_) SealAndUpload(std::move(open_data_));
  if (open_tree_) SealAndUpload(std::move(open_tree_));
  return error();
}

absl::Status BlockWriter::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return uploads_outstanding_ == 0; });
  return error_;
}

size_t BlockWriter::committed_pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return committed_.size();
}

std::vector<vault::v1::BlockRecord> BlockWriter::TakeCommitted() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<vault::v1::BlockRecord> out;
  out.swap(committed_);
  return out;
}

void BlockWriter::EndUpload(size_t charged) {
  in_flight_.Release(charged);
  in_flight_.EndHolder();
}

void BlockWriter::SealAndUpload(std::unique_ptr<BlockBuilder> b) {
  // Charged before sealing, so the block being sealed counts too: its
  // fragments are n/k times the payload (plus the table and the seal, which
  // the charge below corrects once the fragments exist).
  const int n = repo_.n(), k = repo_.k();
  const size_t estimate = (b->payload_size() + 64 * b->chunk_count() + 4096) * n / k;
  in_flight_.Acquire(estimate);
  auto up = std::make_shared<Upload>();
  vault::v1::BlockRecord& rec = up->record;
  rec.set_block_id(b->block_id());
  rec.set_kind(b->table().kind());
  *rec.mutable_chunks() = b->table().chunks();
  std::string plain = b->Finish();
  b.reset();
  // Sealed where it lies: one buffer of the block, not two.
  auto sealed = SealBlockInPlace(repo_.vault().keys().block_key, rec.block_id(), std::move(plain));
  if (!sealed.ok()) {
    EndUpload(estimate);
    return Fail(sealed.status());
  }
  rec.set_sealed_size(sealed->size());
  auto fragments = repo_.codec().Encode(*sealed);
  if (!fragments.ok()) {
    EndUpload(estimate);
    return Fail(fragments.status());
  }
  up->fragments = std::move(*fragments);
  // A data block's sealed form is not needed once cut into fragments (a
  // tree block's is kept for the local cache, below).
  if (rec.kind() != vault::v1::BLOCK_KIND_TREE) std::string().swap(*sealed);
  size_t actual = 0;
  for (const auto& f : up->fragments) actual += f.size();
  if (actual > estimate) {
    in_flight_.Charge(actual - estimate);
  } else {
    in_flight_.Release(estimate - actual);
  }
  up->charged = actual;
  rec.set_fragment_size(up->fragments[0].size());
  std::vector<std::string> shas;
  for (const auto& f : up->fragments) {
    shas.push_back(crypto::Sha256(f));
    rec.add_fragment_sha256(shas.back());
    // Lets `check` audit the supplier for one piece without downloading all.
    rec.add_fragment_merkle_root(merkle::Root(f, protocol::kAuditPieceBytes));
  }
  if (quota_ != nullptr) {
    // Before any byte goes out: a block that cannot fit everywhere is not
    // half-stored. Positions marked down get no fragment, so no charge.
    uint64_t down = 0;
    for (int i = 0; i < repo_.n() && i < 64; ++i) {
      if (repo_.suppliers().IsDown(i)) down |= uint64_t{1} << i;
    }
    absl::Status s = quota_->Charge(rec.fragment_size(), rec.chunks_size(), down);
    if (!s.ok()) {
      EndUpload(actual);
      return Fail(s);
    }
  }
  if (rec.kind() == vault::v1::BLOCK_KIND_TREE) up->sealed = std::move(*sealed);
  up->remaining = repo_.n();
  {
    std::lock_guard<std::mutex> lock(mu_);
    uploads_outstanding_++;
  }
  repo_.suppliers().PutFragmentsAsync(
      rec.block_id(), &up->fragments, shas,
      [this, up](int pos, absl::Status s) { OnFragmentDone(up, pos, s); });
}

void BlockWriter::OnFragmentDone(const std::shared_ptr<Upload>& up, int pos,
                                 const absl::Status& s) {
  bool last;
  size_t freed = 0;
  {
    std::lock_guard<std::mutex> lock(up->mu);
    // This position's upload is over (stored or not): its fragment goes now,
    // not when the slowest supplier answers, and the next block may use
    // its bytes. Only this position's task ever read the string.
    freed = std::min(up->charged, up->fragments[pos].size());
    up->charged -= freed;
    std::string().swap(up->fragments[pos]);
    if (s.ok()) {
      up->mask |= uint64_t{1} << pos;
    } else {
      up->errors.push_back(std::string(s.message()));
      if (absl::IsResourceExhausted(s)) up->full.push_back(std::string(s.message()));
    }
    last = --up->remaining == 0;
  }
  if (freed > 0) in_flight_.Release(freed);
  if (last) CommitBlock(up);
}

void BlockWriter::CommitBlock(const std::shared_ptr<Upload>& up) {
  const int n = repo_.n();
  const int need = CommitThreshold(n, repo_.k());
  const int stored = __builtin_popcountll(up->mask);
  vault::v1::BlockRecord& rec = up->record;
  if (stored >= need) {
    rec.set_stored_mask(up->mask);
    absl::Status s = repo_.index().AddBlock(rec);
    if (!s.ok()) {
      Fail(s);
    } else {
      blocks_++;
      if (stored < n) {
        blocks_degraded_++;
        // One warning per set of missing suppliers, not one per block: with a
        // supplier down, every block of a large backup would repeat it. The
        // summary counts all degraded blocks.
        bool first_of_its_kind;
        {
          std::lock_guard<std::mutex> lock(mu_);
          first_of_its_kind = degraded_masks_warned_.insert(up->mask).second;
        }
        if (first_of_its_kind && on_warning_) {
          on_warning_(absl::StrCat(
              "block ", crypto::ToHex(rec.block_id()), " stored on ", stored, " of ", n,
              " suppliers (degraded: its missing fragments are not re-sent later; "
              "further blocks missing the same suppliers are only counted): ",
              absl::StrJoin(up->errors, "; ")));
        }
      }
      if (!up->sealed.empty()) repo_.CacheTreeBlock(rec.block_id(), up->sealed);
      std::lock_guard<std::mutex> lock(mu_);
      committed_.push_back(std::move(rec));
    }
    // Committed (degraded if need be, and recorded): the next block stops.
    if (!up->full.empty()) Fail(QuotaFull(up->full));
  } else if (!up->full.empty()) {
    Fail(QuotaFull(up->full));
  } else {
    Fail(absl::UnavailableError(absl::StrCat("a block could be stored on only ", stored, " of ", n,
                                             " suppliers (", need,
                                             " needed): ", absl::StrJoin(up->errors, "; "))));
  }
  size_t charged;
  {
    std::lock_guard<std::mutex> lock(up->mu);
    charged = up->charged;
    up->charged = 0;
  }
  up->fragments.clear();
  up->sealed.clear();
  EndUpload(charged);
  std::lock_guard<std::mutex> lock(mu_);
  uploads_outstanding_--;
  idle_cv_.notify_all();
}

namespace {

// `records` cut into pieces under the suppliers' object limit (sealing adds
// < 64 bytes; chunk IDs are random, so compression does not shrink a piece
// much), each with the epoch set. At least one piece if `at_least_one`.
std::vector<vault::v1::IndexPiece> SplitIntoPieces(Repository& repo,
                                                   std::vector<vault::v1::BlockRecord> records,
                                                   uint64_t epoch, bool at_least_one) {
  const size_t kPieceLimit =
      std::max<size_t>(repo.suppliers().max_object_bytes(), 64 << 10) - 4096;
  std::vector<vault::v1::IndexPiece> pieces(1);
  size_t size = 0;
  for (auto& rec : records) {
    size_t s = rec.ByteSizeLong() + 8;
    if (size + s > kPieceLimit && pieces.back().blocks_size() > 0) {
      pieces.emplace_back();
      size = 0;
    }
    *pieces.back().add_blocks() = std::move(rec);
    size += s;
  }
  if (pieces.back().blocks_size() == 0 && !at_least_one) pieces.pop_back();
  for (auto& p : pieces) {
    p.set_version(1);
    p.set_epoch(epoch);
  }
  return pieces;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> WriteIndexPieces(
    Repository& repo, const std::string& snapshot_id,
    std::vector<vault::v1::BlockRecord> records, uint32_t first_piece) {
  std::vector<vault::v1::IndexPiece> pieces =
      SplitIntoPieces(repo, std::move(records), repo.index_epoch(), false);
  if (first_piece + pieces.size() >= kMaxIndexPieces) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "a snapshot's index would need ", pieces.size(), " pieces (limit ", kMaxIndexPieces, ")"));
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < pieces.size(); ++i) {
    std::string name = IndexPieceName(snapshot_id, first_piece + static_cast<uint32_t>(i));
    RETURN_IF_ERROR(repo.PutObject(name, pieces[i].SerializeAsString(), /*cache=*/true));
    // Stored at the suppliers: now the local index may hold its blocks.
    RETURN_IF_ERROR(repo.index().ApplyPiece(name, pieces[i]));
    names.push_back(std::move(name));
  }
  return names;
}

absl::StatusOr<std::vector<std::string>> WriteIndexBase(
    Repository& repo, const std::string& prune_id, std::vector<vault::v1::BlockRecord> records,
    uint64_t epoch) {
  std::vector<vault::v1::IndexPiece> pieces =
      SplitIntoPieces(repo, std::move(records), epoch, true);
  if (pieces.size() >= kMaxIndexPieces) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the index would need ", pieces.size(), " pieces (limit ", kMaxIndexPieces, ")"));
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < pieces.size(); ++i) {
    pieces[i].set_base_pieces(static_cast<uint32_t>(pieces.size()));
    std::string name = IndexPieceName(prune_id, static_cast<uint32_t>(i));
    RETURN_IF_ERROR(repo.PutObject(name, pieces[i].SerializeAsString(), /*cache=*/true));
    names.push_back(std::move(name));
  }
  return names;
}

}  // namespace shardkeep::customer

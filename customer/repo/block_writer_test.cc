// BlockWriter over in-memory suppliers (mem_vault_for_test.h): packing to the
// vault's block size, the commit rule with failing and hung positions, the
// writer's failure contract, and index pieces under the object limit. Real
// sealing and Reed-Solomon; no processes, so each test takes milliseconds.
#include "customer/repo/block_writer.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/compress.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "customer/net/supplier_set.h"
#include "customer/repo/mem_vault_for_test.h"
#include "customer/vault/block.h"
#include "customer/vault/names.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

using M = SupplierMethod;
using testing::MemVault;
using testing::MemVaultOptions;
using vault::v1::BLOCK_KIND_DATA;

constexpr size_t kBlockSize = 64 << 10;

struct Shape {
  int n;
  int k;
};
void PrintTo(const Shape& s, std::ostream* os) { *os << "n=" << s.n << " k=" << s.k; }

// One chunk as the packer hands it over.
struct Chunk {
  std::string id;
  std::string raw;
  std::string stored;
  bool compressed = false;
};

Chunk RandomChunk(size_t size) {
  Chunk c;
  c.id = crypto::RandomBytes(32);
  c.raw = crypto::RandomBytes(size);
  c.stored = c.raw;
  return c;
}

class BlockWriterTest : public ::testing::Test {
 protected:
  void Start(int n, int k, MemVaultOptions options = {}) {
    options.n = n;
    options.k = k;
    options.block_size = kBlockSize;
    auto mv = MemVault::Create(options);
    ASSERT_TRUE(mv.ok()) << mv.status();
    mv_ = std::move(*mv);
    auto repo = mv_->Open();
    ASSERT_TRUE(repo.ok()) << repo.status();
    repo_ = std::move(*repo);
  }

  void TearDown() override {
    // A hung call would keep the writer's and the set's destructors waiting.
    if (mv_) {
      for (int i = 0; i < mv_->n(); ++i) mv_->faults(i).ClearAll();
    }
    writer_.reset();
    repo_.reset();
  }

  void MakeWriter(int blocks_in_flight = 3, size_t bytes_in_flight = 48 << 20) {
    writer_ = std::make_unique<BlockWriter>(
        *repo_, BlockWriter::Options{blocks_in_flight, nullptr, bytes_in_flight},
        [this](const std::string& w) {
          std::lock_guard<std::mutex> lock(mu_);
          warnings_.push_back(w);
        },
        [this](const absl::Status& s) {
          std::lock_guard<std::mutex> lock(mu_);
          errors_.push_back(s);
        });
  }

  absl::Status Add(const Chunk& c) {
    added_.push_back(c);
    return writer_->Add(BLOCK_KIND_DATA, c.id, c.stored, c.raw.size(), c.compressed);
  }

  // Adds `count` random chunks of `size` bytes; stops at the first error.
  absl::Status AddRandom(int count, size_t size) {
    for (int i = 0; i < count; ++i) RETURN_IF_ERROR(Add(RandomChunk(size)));
    return absl::OkStatus();
  }

  // The chunk's bytes as a reader gets them: index, k fragments, decode,
  // open, extract.
  absl::StatusOr<std::string> ReadBack(const std::string& chunk_id) {
    ChunkLocation loc;
    if (!repo_->index().Find(chunk_id, &loc)) return absl::NotFoundError("not in the index");
    ASSIGN_OR_RETURN(std::string plain, repo_->LoadBlock(loc.block));
    vault::v1::BlockChunk bc;
    bc.set_id(chunk_id);
    bc.set_offset(loc.offset);
    bc.set_length(loc.length);
    bc.set_raw_length(loc.raw_length);
    bc.set_compressed(loc.compressed);
    std::string out;
    RETURN_IF_ERROR(ExtractChunk(plain, bc, &out));
    return out;
  }

  uint64_t AllPositions() const { return (uint64_t{1} << repo_->n()) - 1; }
  std::string customer_key() const { return repo_->vault().keys().identity_public; }

  std::unique_ptr<MemVault> mv_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<BlockWriter> writer_;
  std::vector<Chunk> added_;
  std::mutex mu_;
  std::vector<std::string> warnings_;  // guarded by mu_
  std::vector<absl::Status> errors_;   // guarded by mu_
};

class BlockWriterShapeTest : public BlockWriterTest, public ::testing::WithParamInterface<Shape> {
 protected:
  void SetUp() override { Start(GetParam().n, GetParam().k); }
};

INSTANTIATE_TEST_SUITE_P(Shapes, BlockWriterShapeTest, ::testing::Values(Shape{4, 2}, Shape{7, 4}),
                         [](const ::testing::TestParamInfo<Shape>& info) {
                           return absl::StrCat("n", info.param.n, "k", info.param.k);
                         });

TEST_P(BlockWriterShapeTest, FullBlocksAreCommittedEverywhereAndDecodeBack) {
  MakeWriter();
  // 16 KiB chunks fill a 64 KiB block exactly: two full blocks.
  ASSERT_TRUE(AddRandom(8, 16 << 10).ok());
  // A compressible chunk, so the compressed path of the read is taken too.
  Chunk zeros;
  zeros.id = crypto::RandomBytes(32);
  zeros.raw = std::string(40 << 10, 'z');
  ASSERT_TRUE(compress::CompressIfSmaller(zeros.raw, 3, &zeros.stored));
  zeros.compressed = true;
  ASSERT_TRUE(Add(zeros).ok());
  ASSERT_TRUE(writer_->Flush().ok());
  ASSERT_TRUE(writer_->Wait().ok());

  std::vector<vault::v1::BlockRecord> recs = writer_->TakeCommitted();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(writer_->blocks(), 3u);
  // Records come in commit order, which uploads in parallel may shuffle.
  std::sort(recs.begin(), recs.end(),
            [](const auto& a, const auto& b) { return a.chunks_size() > b.chunks_size(); });
  EXPECT_EQ(writer_->blocks_degraded(), 0u);
  for (int b = 0; b < 2; ++b) {
    uint64_t payload = 0;
    for (const auto& c : recs[b].chunks()) payload += c.length();
    EXPECT_EQ(payload, kBlockSize) << "block " << b;
    EXPECT_EQ(recs[b].chunks_size(), 4) << "block " << b;
  }
  EXPECT_EQ(recs[2].chunks_size(), 1);  // the flushed rest
  for (const auto& rec : recs) {
    EXPECT_EQ(rec.stored_mask(), AllPositions());
    EXPECT_EQ(rec.fragment_sha256_size(), repo_->n());
    EXPECT_EQ(rec.kind(), BLOCK_KIND_DATA);
  }
  for (int i = 0; i < repo_->n(); ++i) {
    EXPECT_EQ(mv_->supplier(i).FragmentCount(customer_key()), 3) << "position " << i;
  }
  for (const Chunk& c : added_) {
    auto got = ReadBack(c.id);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == c.raw) << crypto::ToHex(c.id);
  }
  ChunkLocation loc;
  ASSERT_TRUE(repo_->index().Find(zeros.id, &loc));
  EXPECT_TRUE(loc.compressed);
  EXPECT_LT(loc.length, zeros.raw.size());
}

TEST_P(BlockWriterShapeTest, OneFailingPositionGivesDegradedBlocksAndOneWarning) {
  mv_->faults(1).Fail(M::kPutFragment, absl::UnavailableError("injected: disk gone"));
  MakeWriter();
  ASSERT_TRUE(AddRandom(6 * 4, 16 << 10).ok());  // six full blocks
  ASSERT_TRUE(writer_->Flush().ok());
  ASSERT_TRUE(writer_->Wait().ok());

  std::vector<vault::v1::BlockRecord> recs = writer_->TakeCommitted();
  ASSERT_EQ(recs.size(), 6u);
  EXPECT_EQ(writer_->blocks(), 6u);
  EXPECT_EQ(writer_->blocks_degraded(), 6u);
  for (const auto& rec : recs) EXPECT_EQ(rec.stored_mask(), AllPositions() & ~uint64_t{2});
  {
    std::lock_guard<std::mutex> lock(mu_);
    // One line for the missing supplier, not one per block.
    ASSERT_EQ(warnings_.size(), 1u);
    EXPECT_TRUE(absl::StrContains(warnings_[0], mv_->address(1))) << warnings_[0];
    EXPECT_TRUE(errors_.empty());
  }
  EXPECT_EQ(mv_->supplier(1).FragmentCount(customer_key()), 0);
  // Degraded blocks read back from the positions that stored them.
  for (const Chunk& c : added_) {
    auto got = ReadBack(c.id);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == c.raw);
  }
}

TEST_F(BlockWriterTest, BlockSealsAtMaxChunksPerBlock) {
  Start(4, 2);
  MakeWriter();
  // One-byte chunks: the size limit is far away, the chunk limit is not.
  ASSERT_TRUE(AddRandom(kMaxChunksPerBlock + 1, 1).ok());
  ASSERT_TRUE(writer_->Wait().ok());
  std::vector<vault::v1::BlockRecord> before_flush = writer_->TakeCommitted();
  ASSERT_EQ(before_flush.size(), 1u);
  EXPECT_EQ(static_cast<size_t>(before_flush[0].chunks_size()), kMaxChunksPerBlock);
  ASSERT_TRUE(writer_->Flush().ok());
  ASSERT_TRUE(writer_->Wait().ok());
  std::vector<vault::v1::BlockRecord> rest = writer_->TakeCommitted();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].chunks_size(), 1);
  auto got = ReadBack(added_.back().id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, added_.back().raw);
}

TEST_F(BlockWriterTest, TooManyFailingPositionsFailTheWriterOnce) {
  Start(4, 2);
  ASSERT_EQ(CommitThreshold(4, 2), 3);
  // Positions 1 and 2 die after two fragments each: two blocks get through.
  mv_->faults(1).Fail(M::kPutFragment, absl::UnavailableError("injected"), 2);
  mv_->faults(2).Fail(M::kPutFragment, absl::UnavailableError("injected"), 2);
  MakeWriter(/*blocks_in_flight=*/3);
  ASSERT_TRUE(AddRandom(2 * 4, 16 << 10).ok());
  ASSERT_TRUE(writer_->Wait().ok());
  const size_t committed_chunks = added_.size();

  // Position 0 holds the next three blocks back until all are sealed, so
  // three blocks fail at once (on_error must still come once), and a chunk
  // waits in the open block when the writer fails.
  mv_->faults(0).Hang(M::kPutFragment);
  ASSERT_TRUE(AddRandom(3 * 4 + 1, 16 << 10).ok());
  mv_->faults(0).Release();
  absl::Status failed = writer_->Wait();
  ASSERT_FALSE(failed.ok());
  std::string msg(failed.message());
  EXPECT_TRUE(absl::StrContains(msg, mv_->address(1))) << msg;
  EXPECT_TRUE(absl::StrContains(msg, mv_->address(2))) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "only 2 of 4")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "3 needed")) << msg;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSERT_EQ(errors_.size(), 1u);
    EXPECT_EQ(errors_[0], failed);
  }

  // From now on every call returns the error and nothing more is sent.
  const int puts = mv_->faults(3).Calls(M::kPutFragment);
  EXPECT_EQ(writer_->Flush(), failed);
  EXPECT_EQ(writer_->Add(BLOCK_KIND_DATA, crypto::RandomBytes(32), "x", 1, false), failed);
  EXPECT_EQ(writer_->Wait(), failed);
  EXPECT_EQ(mv_->faults(3).Calls(M::kPutFragment), puts) << "the open block was sealed and sent";

  std::vector<vault::v1::BlockRecord> recs = writer_->TakeCommitted();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(writer_->blocks(), 2u);
  for (const auto& rec : recs) EXPECT_EQ(rec.stored_mask(), AllPositions());
  // Chunks of the failed blocks must not look stored to a later dedup.
  for (size_t i = 0; i < added_.size(); ++i) {
    EXPECT_EQ(repo_->index().Contains(added_[i].id), i < committed_chunks) << "chunk " << i;
  }
}

// A supplier whose quota is full (RESOURCE_EXHAUSTED) stops the writer with
// kQuotaExceeded naming it, instead of going on degraded; the block that met
// the commit rule anyway is committed.
TEST_F(BlockWriterTest, FullQuotaAtOneSupplierStopsTheWriter) {
  Start(4, 2);
  mv_->faults(2).RefuseFull(M::kPutFragment, "quota exceeded: quota 4 MiB, used 4 MiB");
  MakeWriter(/*blocks_in_flight=*/1);
  absl::Status s = AddRandom(8 * 4, 16 << 10);
  if (s.ok()) s = writer_->Flush();
  absl::Status failed = writer_->Wait();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.code(), absl::StatusCode::kResourceExhausted) << failed;
  EXPECT_EQ(KindOf(failed), ErrorKind::kQuotaExceeded) << failed;
  EXPECT_TRUE(absl::StrContains(failed.message(), mv_->address(2))) << failed;
  EXPECT_TRUE(absl::StrContains(failed.message(), "suppliers resize")) << failed;
  // One block in flight at a time: the first one committed (3 of 4 meets the
  // rule), and at most one more was sealed before the writer failed.
  EXPECT_GE(writer_->blocks(), 1u);
  EXPECT_LE(writer_->blocks(), 2u);
  EXPECT_LE(mv_->faults(2).Calls(M::kPutFragment), 2u);
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(errors_.size(), 1u);
}

TEST_F(BlockWriterTest, HungPositionReleasedLaterStillCompletes) {
  Start(4, 2);
  mv_->faults(3).Hang(M::kPutFragment);
  MakeWriter();
  ASSERT_TRUE(AddRandom(2 * 4, 16 << 10).ok());
  ASSERT_TRUE(writer_->Flush().ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (mv_->faults(3).Hanging() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GT(mv_->faults(3).Hanging(), 0);
  auto waited = std::async(std::launch::async, [&] { return writer_->Wait(); });
  // The writer waits for the hung position instead of committing without it.
  EXPECT_EQ(waited.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  EXPECT_TRUE(writer_->TakeCommitted().empty());
  mv_->faults(3).Release();
  ASSERT_TRUE(waited.get().ok());
  std::vector<vault::v1::BlockRecord> recs = writer_->TakeCommitted();
  ASSERT_EQ(recs.size(), 2u);
  for (const auto& rec : recs) EXPECT_EQ(rec.stored_mask(), AllPositions());
  EXPECT_EQ(writer_->blocks_degraded(), 0u);
  EXPECT_EQ(mv_->supplier(3).FragmentCount(customer_key()), 2);
}

TEST_F(BlockWriterTest, TakeCommittedReturnsEachRecordOnce) {
  Start(4, 2);
  MakeWriter();
  ASSERT_TRUE(AddRandom(2 * 4, 16 << 10).ok());
  ASSERT_TRUE(writer_->Wait().ok());
  std::vector<vault::v1::BlockRecord> first = writer_->TakeCommitted();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_TRUE(writer_->TakeCommitted().empty());
  ASSERT_TRUE(AddRandom(1, 100).ok());
  ASSERT_TRUE(writer_->Flush().ok());
  ASSERT_TRUE(writer_->Wait().ok());
  std::vector<vault::v1::BlockRecord> second = writer_->TakeCommitted();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].block_id(), first[0].block_id());
  EXPECT_NE(second[0].block_id(), first[1].block_id());
  EXPECT_EQ(second[0].chunks(0).id(), added_.back().id);
  EXPECT_TRUE(writer_->TakeCommitted().empty());
}

TEST_F(BlockWriterTest, IndexPiecesStayUnderTheObjectLimitAndReopen) {
  MemVaultOptions options;
  options.supplier.max_object_bytes = 64 << 10;  // the smallest the writer plans for
  Start(4, 2, options);
  MakeWriter();
  // 256-byte chunks: 256 per block, so each record is ~12 KB and ten of them
  // cannot share one 64 KiB object.
  ASSERT_TRUE(AddRandom(10 * 256, 256).ok());
  ASSERT_TRUE(writer_->Flush().ok());
  ASSERT_TRUE(writer_->Wait().ok());
  std::vector<vault::v1::BlockRecord> recs = writer_->TakeCommitted();
  ASSERT_EQ(recs.size(), 10u);
  std::vector<std::string> ids;
  for (const auto& r : recs) ids.push_back(r.block_id());

  const std::string snapshot_id = crypto::RandomBytes(16);
  auto names = WriteIndexPieces(*repo_, snapshot_id, recs);
  ASSERT_TRUE(names.ok()) << names.status();
  ASSERT_GE(names->size(), 2u);
  std::vector<std::string> reread;
  for (size_t i = 0; i < names->size(); ++i) {
    EXPECT_EQ((*names)[i], IndexPieceName(snapshot_id, i));
    for (int pos = 0; pos < 4; ++pos) {
      auto sealed = mv_->supplier(pos).GetObject(customer_key(), (*names)[i]);
      ASSERT_TRUE(sealed.ok()) << sealed.status();
      EXPECT_LE(sealed->size(), 64u << 10);
      auto plain = repo_->vault().OpenObject((*names)[i], *sealed);
      ASSERT_TRUE(plain.ok()) << plain.status();
      vault::v1::IndexPiece piece;
      ASSERT_TRUE(piece.ParseFromString(*plain));
      if (pos == 0) {
        for (const auto& b : piece.blocks()) reread.push_back(b.block_id());
      }
    }
  }
  EXPECT_EQ(reread, ids);  // every record once, in commit order

  // A later command finds every chunk through the pieces alone.
  writer_.reset();
  repo_.reset();
  auto fresh = mv_->Open();
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ((*fresh)->index().block_count(), 10u);
  EXPECT_EQ((*fresh)->index().chunk_count(), added_.size());
}

}  // namespace
}  // namespace shardkeep::customer

namespace shardkeep::customer {
namespace {

// Memory in flight is bounded in bytes, fragment by fragment: with one
// position hung, each block still holds its fragment for it, so the blocks
// that may wait together are as many as their hung fragments (plus the next
// block's full charge) fit in bytes_in_flight; the others' fragments were
// freed when their suppliers answered. Then Add waits, and everything
// commits once the position answers.
TEST_F(BlockWriterTest, BytesInFlightBoundTheFragmentsHeld) {
  Start(4, 2);
  // One block (4 chunks of 16 KiB) makes 4 fragments of about 33 KiB.
  constexpr size_t kBudget = 400 << 10;
  mv_->faults(0).Hang(M::kPutFragment);
  MakeWriter(/*blocks_in_flight=*/64, kBudget);
  auto adding = std::async(std::launch::async, [&] { return AddRandom(20 * 4, 16 << 10); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  // Blocks sent out: each has its fragment for position 0 hung or queued
  // behind the hung ones (position 1 stored them all).
  int sent = 0;
  for (;;) {
    const int now = mv_->faults(1).Calls(M::kPutFragment);
    if (now == sent && now > 0) break;  // unchanged for 300 ms: settled
    sent = now;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  const size_t fragment = (kBlockSize + 4 * 64) / 2;
  // Bytes bound the held fragments...
  EXPECT_LE(static_cast<size_t>(sent) * fragment, kBudget) << sent << " blocks sent";
  // ...and only the unanswered ones count: whole blocks (4 fragments each)
  // would have let 3 out.
  EXPECT_GE(sent, 6);
  EXPECT_EQ(adding.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
      << "Add did not wait for the budget";
  mv_->faults(0).Release();
  ASSERT_TRUE(adding.get().ok());
  ASSERT_TRUE(writer_->Flush().ok());
  ASSERT_TRUE(writer_->Wait().ok());
  EXPECT_EQ(writer_->blocks(), 20u);
  for (const Chunk& c : {added_.front(), added_.back()}) {
    auto got = ReadBack(c.id);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, c.raw);
  }
}

}  // namespace
}  // namespace shardkeep::customer

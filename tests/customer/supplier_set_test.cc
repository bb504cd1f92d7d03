// SupplierSet over real suppliers (tests/harness), with the gRPC client
// wrapped by a fault-injecting SupplierClient (the seam of
// customer/supplier_client.h): corrupt or failing fragments, refused puts.
#include "customer/net/supplier_set.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "customer/vault/block.h"
#include "customer/net/grpc_supplier_client.h"
#include "gtest/gtest.h"
#include "raid/codec.h"
#include "tests/customer/forwarding_supplier_client.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::customer {
namespace {

// Forwards to a real client, breaking calls on request.
class FaultyClient : public ForwardingSupplierClient {
 public:
  explicit FaultyClient(std::unique_ptr<SupplierClient> real)
      : ForwardingSupplierClient(std::move(real)) {}
  std::atomic<bool> corrupt_reads{false};
  std::atomic<bool> fail_reads{false};
  std::atomic<bool> fail_puts{false};
  std::atomic<int> delay_reads_ms{0};
  std::atomic<int> fragment_reads{0};
  std::atomic<int> fragment_puts{0};

  absl::Status PutFragment(const std::string& key, std::string_view data,
                           std::string_view sha) override {
    fragment_puts++;
    if (fail_puts) return absl::UnavailableError(address() + ": injected put failure");
    return real().PutFragment(key, data, sha);
  }
  absl::StatusOr<std::string> GetFragment(const std::string& key) override {
    fragment_reads++;
    if (delay_reads_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_reads_ms));
    if (fail_reads) return absl::UnavailableError(address() + ": injected read failure");
    auto d = real().GetFragment(key);
    if (d.ok() && corrupt_reads && !d->empty()) (*d)[d->size() / 3] ^= 0x40;
    return d;
  }
};

class SupplierSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = testing::SupplierCluster::Start(kN);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    seed_ = crypto::RandomBytes(32);
    std::vector<std::unique_ptr<SupplierClient>> clients;
    for (int i = 0; i < kN; ++i) {
      auto real = ConnectGrpcSupplier(cluster_->Address(i), seed_, "");
      ASSERT_TRUE(real.ok());
      auto f = std::make_unique<FaultyClient>(std::move(*real));
      faulty_.push_back(f.get());
      auto contract = f->RequestContract(64 << 20, i, kN);
      ASSERT_TRUE(contract.ok()) << contract.status();
      clients.push_back(std::move(f));
    }
    set_ = std::make_unique<SupplierSet>(std::move(clients), kK, SupplierSet::Options{});
    auto codec = raid::Codec::Create(kN, kK);
    ASSERT_TRUE(codec.ok());
    codec_ = std::move(*codec);
  }

  // Stores a random block; returns its record (all positions acknowledged).
  vault::v1::BlockRecord StoreBlock(const std::string& block, uint64_t* mask) {
    vault::v1::BlockRecord rec;
    rec.set_block_id(crypto::RandomBytes(kBlockIdSize));
    rec.set_sealed_size(block.size());
    auto fragments = codec_->Encode(block);
    EXPECT_TRUE(fragments.ok());
    rec.set_fragment_size((*fragments)[0].size());
    std::vector<std::string> shas;
    for (const auto& f : *fragments) {
      shas.push_back(crypto::Sha256(f));
      rec.add_fragment_sha256(shas.back());
    }
    std::mutex mu;
    *mask = 0;
    Latch latch(kN);
    set_->PutFragmentsAsync(rec.block_id(), &*fragments, shas, [&](int pos, absl::Status s) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (s.ok()) *mask |= uint64_t{1} << pos;
      }
      latch.CountDown();
    });
    latch.Wait();
    rec.set_stored_mask(*mask);
    return rec;
  }

  static constexpr int kN = 4;
  static constexpr int kK = 2;
  std::unique_ptr<testing::SupplierCluster> cluster_;
  std::string seed_;
  std::vector<FaultyClient*> faulty_;
  std::unique_ptr<SupplierSet> set_;
  std::unique_ptr<raid::Codec> codec_;
};

TEST(CommitThresholdTest, KPlusOneCappedAtN) {
  EXPECT_EQ(CommitThreshold(2, 1), 2);
  EXPECT_EQ(CommitThreshold(3, 2), 3);
  EXPECT_EQ(CommitThreshold(4, 2), 3);
  EXPECT_EQ(CommitThreshold(7, 4), 5);
  EXPECT_EQ(CommitThreshold(64, 32), 33);
}

TEST_F(SupplierSetTest, RoundTripPrefersDataFragments) {
  std::string block = crypto::RandomBytes(3 << 20);
  uint64_t mask;
  auto rec = StoreBlock(block, &mask);
  EXPECT_EQ(mask, 0xfu);
  for (auto* f : faulty_) f->fragment_reads = 0;
  auto got = set_->FetchFragments(rec);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ(got->begin()->first, 0);
  EXPECT_EQ(got->rbegin()->first, 1);
  EXPECT_EQ(faulty_[2]->fragment_reads + faulty_[3]->fragment_reads, 0);
  auto decoded = codec_->Decode(*got);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, block);
}

TEST_F(SupplierSetTest, CorruptDataFragmentsFallBackToParity) {
  std::string block = crypto::RandomBytes(1 << 20);
  uint64_t mask;
  auto rec = StoreBlock(block, &mask);
  faulty_[0]->corrupt_reads = true;
  faulty_[1]->corrupt_reads = true;
  auto got = set_->FetchFragments(rec);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->count(0) + got->count(1), 0u);
  EXPECT_EQ(*codec_->Decode(*got), block);
  EXPECT_GT(faulty_[0]->fragment_reads, 0);
  // A third bad supplier is one too many: the error names the failures.
  faulty_[2]->fail_reads = true;
  auto bad = set_->FetchFragments(rec);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(bad.status().message()).find("hash check"), std::string::npos)
      << bad.status();
  EXPECT_NE(std::string(bad.status().message()).find(cluster_->Address(2)), std::string::npos)
      << bad.status();
}

// A supplier that does not answer is hedged around after a few seconds and
// asked last afterwards; it is not marked down (uploads still go to it).
TEST_F(SupplierSetTest, HungSupplierIsHedgedAndAskedLast) {
  std::string block = crypto::RandomBytes(1 << 20);
  uint64_t mask;
  auto rec = StoreBlock(block, &mask);
  faulty_[0]->delay_reads_ms = 7000;
  auto start = std::chrono::steady_clock::now();
  auto got = set_->FetchFragments(rec);
  double first = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*codec_->Decode(*got), block);
  EXPECT_LT(first, 6.5);
  EXPECT_TRUE(set_->IsSlow(0));
  EXPECT_FALSE(set_->IsDown(0));
  start = std::chrono::steady_clock::now();
  got = set_->FetchFragments(rec);
  double second = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->count(0), 0u);
  EXPECT_LT(second, 2.0);
}

TEST_F(SupplierSetTest, FailedPutMarksSupplierDownAndSkipsIt) {
  faulty_[1]->fail_puts = true;
  uint64_t mask;
  auto rec = StoreBlock(crypto::RandomBytes(100000), &mask);
  EXPECT_EQ(mask, 0xdu);  // positions 0, 2, 3
  EXPECT_TRUE(set_->IsDown(1));
  EXPECT_NE(set_->DownSummary().find("injected put failure"), std::string::npos);
  int puts_before = faulty_[1]->fragment_puts;
  StoreBlock(crypto::RandomBytes(1000), &mask);
  EXPECT_EQ(mask, 0xdu);
  EXPECT_EQ(faulty_[1]->fragment_puts, puts_before);  // not even asked
  // A degraded block reads back without the missing position.
  auto got = set_->FetchFragments(rec);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->count(1), 0u);
}

TEST_F(SupplierSetTest, ObjectsEverywhereAndListedAsUnion) {
  ASSERT_TRUE(set_->PutObjectEverywhere("snapshots/a", "A", 4).ok());
  // An object only one supplier holds is still listed.
  ASSERT_TRUE(faulty_[2]->PutObject("snapshots/b", "B", "").ok());
  auto names = set_->ListObjectsUnion("snapshots/");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"snapshots/a", "snapshots/b"}));
  // GetObjectAny skips copies the caller rejects.
  int calls = 0;
  auto got = set_->GetObjectAny("snapshots/a", [&](const std::string&) {
    return ++calls < 3 ? absl::DataLossError("forged") : absl::OkStatus();
  });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(calls, 3);
  // Too few suppliers for min_ok: an error naming them.
  ASSERT_TRUE(cluster_->Kill(0).ok());
  ASSERT_TRUE(cluster_->Kill(3).ok());
  absl::Status s = set_->PutObjectEverywhere("snapshots/c", "C", 3);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find(cluster_->Address(0)), std::string::npos) << s;
  EXPECT_TRUE(set_->PutObjectEverywhere("snapshots/d", "D", 2).ok());
}

}  // namespace
}  // namespace shardkeep::customer

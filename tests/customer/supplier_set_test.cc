// SupplierSet over real suppliers (tests/harness), with the gRPC client
// wrapped by FaultInjectingSupplierClient (customer/net/
// fault_injecting_supplier_client.h): corrupt or failing fragments, refused
// puts. The same behaviours over in-memory suppliers, without processes:
// customer/net/supplier_set_mem_test.cc.
#include "customer/net/supplier_set.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "customer/net/fault_injecting_supplier_client.h"
#include "customer/net/grpc_supplier_client.h"
#include "customer/vault/block.h"
#include "gtest/gtest.h"
#include "raid/codec.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::customer {
namespace {

using M = SupplierMethod;

class SupplierSetTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto& f : faults_) f->ClearAll();  // no hung call outlives the set
    set_.reset();
  }

  void SetUp() override {
    auto c = testing::SupplierCluster::Start(kN);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    seed_ = crypto::RandomBytes(32);
    std::vector<std::unique_ptr<SupplierClient>> clients;
    for (int i = 0; i < kN; ++i) {
      auto real = ConnectGrpcSupplier(cluster_->Address(i), seed_, "");
      ASSERT_TRUE(real.ok());
      auto f = std::make_unique<FaultInjectingSupplierClient>(std::move(*real));
      faults_.push_back(f->faults());
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
  std::vector<std::shared_ptr<SupplierFaults>> faults_;
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
  for (auto& f : faults_) f->ResetCounters();
  auto got = set_->FetchFragments(rec);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ(got->begin()->first, 0);
  EXPECT_EQ(got->rbegin()->first, 1);
  EXPECT_EQ(faults_[2]->Calls(M::kGetFragment) + faults_[3]->Calls(M::kGetFragment), 0);
  auto decoded = codec_->Decode(*got);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, block);
}

TEST_F(SupplierSetTest, CorruptDataFragmentsFallBackToParity) {
  std::string block = crypto::RandomBytes(1 << 20);
  uint64_t mask;
  auto rec = StoreBlock(block, &mask);
  faults_[0]->Corrupt(M::kGetFragment);
  faults_[1]->Corrupt(M::kGetFragment);
  auto got = set_->FetchFragments(rec);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->count(0) + got->count(1), 0u);
  EXPECT_EQ(*codec_->Decode(*got), block);
  EXPECT_GT(faults_[0]->Calls(M::kGetFragment), 0);
  // A third bad supplier is one too many: the error names the failures.
  faults_[2]->Fail(M::kGetFragment, absl::UnavailableError("injected read failure"));
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
  faults_[0]->Hang(M::kGetFragment);
  auto start = std::chrono::steady_clock::now();
  auto got = set_->FetchFragments(rec);
  double first = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(faults_[0]->Hanging(), 1);  // the fetch did not wait for it
  faults_[0]->Release();
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
  faults_[1]->Fail(M::kPutFragment, absl::UnavailableError("injected put failure"));
  uint64_t mask;
  auto rec = StoreBlock(crypto::RandomBytes(100000), &mask);
  EXPECT_EQ(mask, 0xdu);  // positions 0, 2, 3
  EXPECT_TRUE(set_->IsDown(1));
  EXPECT_NE(set_->DownSummary().find("injected put failure"), std::string::npos);
  int puts_before = faults_[1]->Calls(M::kPutFragment);
  StoreBlock(crypto::RandomBytes(1000), &mask);
  EXPECT_EQ(mask, 0xdu);
  EXPECT_EQ(faults_[1]->Calls(M::kPutFragment), puts_before);  // not even asked
  // A degraded block reads back without the missing position.
  auto got = set_->FetchFragments(rec);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->count(1), 0u);
}

TEST_F(SupplierSetTest, ObjectsEverywhereAndListedAsUnion) {
  ASSERT_TRUE(set_->PutObjectEverywhere("snapshots/a", "A", 4).ok());
  // An object only one supplier holds is still listed.
  ASSERT_TRUE(set_->at(2)->PutObject("snapshots/b", "B", "").ok());
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

// SupplierSet over in-memory suppliers, each behind a fault-injecting
// client: uploads with a failing position, fetches that fall back to parity
// (corrupt fragment, stopped supplier) or hedge around a hung one, listing
// unions and object puts with a minimum. Real fragments from raid::Codec.
// No processes, no sockets: each test runs in well under a second.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "common/workers.h"
#include "customer/net/fault_injecting_supplier_client.h"
#include "customer/net/mem_supplier_client.h"
#include "customer/net/supplier_set.h"
#include "gtest/gtest.h"
#include "proto/vault.pb.h"
#include "raid/codec.h"

namespace shardkeep::customer {
namespace {

using M = SupplierMethod;
using Clock = std::chrono::steady_clock;

struct Shape {
  int n;
  int k;
};

class SupplierSetMemTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override {
    n_ = GetParam().n;
    k_ = GetParam().k;
    seed_ = crypto::RandomBytes(32);
    std::vector<std::unique_ptr<SupplierClient>> clients;
    for (int i = 0; i < n_; ++i) {
      suppliers_.push_back(
          std::make_unique<MemSupplier>(absl::StrCat("mem-", i, ":7700"), 64 << 20));
      faults_.push_back(std::make_shared<SupplierFaults>());
      auto client = std::make_unique<FaultInjectingSupplierClient>(
          std::make_unique<MemSupplierClient>(suppliers_.back().get(), seed_), faults_.back());
      ASSERT_TRUE(client->RequestContract(64 << 20, i, n_).ok());
      clients.push_back(std::move(client));
    }
    SupplierSet::Options options;
    options.hedge_after = std::chrono::milliseconds(200);
    set_ = std::make_unique<SupplierSet>(std::move(clients), k_, options);
    auto codec = raid::Codec::Create(n_, k_);
    ASSERT_TRUE(codec.ok()) << codec.status();
    codec_ = std::move(*codec);
  }

  void TearDown() override {
    // Hung calls must end before the set's pools are joined.
    for (auto& f : faults_) f->ClearAll();
    set_.reset();
  }

  std::string customer() const { return crypto::Ed25519PublicKey(seed_); }

  // Stores `block` through PutFragmentsAsync; *results gets each position's
  // status. Returns the block's record (stored_mask from the results).
  vault::v1::BlockRecord StoreBlock(const std::string& block,
                                    std::map<int, absl::Status>* results = nullptr) {
    vault::v1::BlockRecord rec;
    rec.set_block_id(crypto::RandomBytes(16));
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
    std::map<int, absl::Status> got;
    Latch latch(n_);
    set_->PutFragmentsAsync(rec.block_id(), &*fragments, shas, [&](int pos, absl::Status s) {
      {
        std::lock_guard<std::mutex> lock(mu);
        got[pos] = s;
      }
      latch.CountDown();
    });
    latch.Wait();
    uint64_t mask = 0;
    for (const auto& [pos, s] : got) {
      if (s.ok()) mask |= uint64_t{1} << pos;
    }
    rec.set_stored_mask(mask);
    if (results) *results = got;
    return rec;
  }

  int FragmentReads(int pos) const { return faults_[pos]->Calls(M::kGetFragment); }

  int n_ = 0, k_ = 0;
  std::string seed_;
  std::vector<std::unique_ptr<MemSupplier>> suppliers_;
  std::vector<std::shared_ptr<SupplierFaults>> faults_;
  std::unique_ptr<SupplierSet> set_;
  std::unique_ptr<raid::Codec> codec_;
};

TEST_P(SupplierSetMemTest, RoundTripReadsOnlyDataPositions) {
  std::string block = crypto::RandomBytes(300000);
  std::map<int, absl::Status> results;
  auto rec = StoreBlock(block, &results);
  ASSERT_EQ(static_cast<int>(results.size()), n_);
  for (const auto& [pos, s] : results) EXPECT_TRUE(s.ok()) << pos << ": " << s;
  for (int i = 0; i < n_; ++i) {
    EXPECT_EQ(suppliers_[i]->FragmentCount(customer()), 1) << i;
    EXPECT_EQ(set_->BytesSent(i), rec.fragment_size()) << i;
  }
  auto got = set_->FetchFragments(rec);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(static_cast<int>(got->size()), k_);
  for (int i = 0; i < k_; ++i) EXPECT_EQ(got->count(i), 1u) << i;
  for (int i = k_; i < n_; ++i) EXPECT_EQ(FragmentReads(i), 0) << i;
  EXPECT_EQ(*codec_->Decode(*got), block);
}

TEST_P(SupplierSetMemTest, PutWithOnePositionFailingReportsIt) {
  const int bad = n_ - 2;
  faults_[bad]->Fail(M::kPutFragment, absl::UnavailableError("injected: link down"));
  std::map<int, absl::Status> results;
  auto rec = StoreBlock(crypto::RandomBytes(100000), &results);
  for (int i = 0; i < n_; ++i) {
    if (i == bad) {
      EXPECT_EQ(results[i].code(), absl::StatusCode::kUnavailable) << results[i];
      EXPECT_TRUE(absl::StrContains(results[i].message(), "link down")) << results[i];
      EXPECT_EQ(suppliers_[i]->FragmentCount(customer()), 0);
    } else {
      EXPECT_TRUE(results[i].ok()) << i << ": " << results[i];
      EXPECT_EQ(suppliers_[i]->FragmentCount(customer()), 1) << i;
    }
  }
  EXPECT_EQ(rec.stored_mask(), ((uint64_t{1} << n_) - 1) & ~(uint64_t{1} << bad));
  EXPECT_TRUE(set_->IsDown(bad));
  EXPECT_EQ(set_->UpCount(), n_ - 1);
  EXPECT_TRUE(absl::StrContains(set_->DownSummary(), suppliers_[bad]->address()));
  // The next block does not even ask it; the answer names it.
  const int calls = faults_[bad]->Calls(M::kPutFragment);
  StoreBlock(crypto::RandomBytes(1000), &results);
  EXPECT_EQ(faults_[bad]->Calls(M::kPutFragment), calls);
  EXPECT_TRUE(absl::StrContains(results[bad].message(), "marked down")) << results[bad];
}

TEST_P(SupplierSetMemTest, QuotaRefusalFromTheSupplierIsReported) {
  // A real refusal, not an injected one: the supplier's contract is tiny.
  MemSupplierClient direct(suppliers_[0].get(), seed_);
  ASSERT_TRUE(direct.RequestContract(10, 0, n_).ok());
  std::map<int, absl::Status> results;
  StoreBlock(crypto::RandomBytes(100000), &results);
  EXPECT_EQ(results[0].code(), absl::StatusCode::kResourceExhausted) << results[0];
  EXPECT_TRUE(absl::StrContains(results[0].message(), "quota")) << results[0];
  EXPECT_TRUE(results[1].ok());
}

TEST_P(SupplierSetMemTest, CorruptDataFragmentFallsBackToParity) {
  std::string block = crypto::RandomBytes(200000);
  auto rec = StoreBlock(block);
  faults_[0]->Corrupt(M::kGetFragment);
  auto got = set_->FetchFragments(rec);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->count(0), 0u);
  EXPECT_EQ(FragmentReads(0), 1);  // it was asked, and its bytes refused
  int parity_reads = 0;
  for (int i = k_; i < n_; ++i) parity_reads += FragmentReads(i);
  EXPECT_GE(parity_reads, 1);
  EXPECT_EQ(*codec_->Decode(*got), block);
  // Corrupt beyond what parity covers: DataLoss naming the hash check.
  for (int i = 0; i <= n_ - k_; ++i) faults_[i]->Corrupt(M::kGetFragment);
  auto bad = set_->FetchFragments(rec);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "hash check")) << bad.status();
  EXPECT_TRUE(absl::StrContains(bad.status().message(), suppliers_[0]->address())) << bad.status();
}

TEST_P(SupplierSetMemTest, StoppedSupplierFallsBackToParityAndIsMarkedDown) {
  std::string block = crypto::RandomBytes(200000);
  auto rec = StoreBlock(block);
  suppliers_[1]->Stop();
  auto got = set_->FetchFragments(rec);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->count(1), 0u);
  EXPECT_EQ(*codec_->Decode(*got), block);
  EXPECT_TRUE(set_->IsDown(1));
  EXPECT_TRUE(absl::StrContains(set_->DownSummary(), "stopped")) << set_->DownSummary();
  // Down suppliers are asked last: the next fetch does not need it.
  const int before = FragmentReads(1);
  suppliers_[1]->Start();
  ASSERT_TRUE(set_->FetchFragments(rec).ok());
  EXPECT_EQ(FragmentReads(1), before);
}

TEST_P(SupplierSetMemTest, HungSupplierIsHedgedAndAskedLast) {
  std::string block = crypto::RandomBytes(200000);
  auto rec = StoreBlock(block);
  faults_[0]->Hang(M::kGetFragment);
  auto start = Clock::now();
  auto got = set_->FetchFragments(rec);
  auto took = Clock::now() - start;
  // The hang is still in force: the fetch did not wait for it.
  EXPECT_EQ(faults_[0]->Hanging(), 1);
  faults_[0]->Release();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->count(0), 0u);
  EXPECT_EQ(*codec_->Decode(*got), block);
  EXPECT_GE(took, std::chrono::milliseconds(200));  // hedged after hedge_after, not before
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_TRUE(set_->IsSlow(0));
  EXPECT_FALSE(set_->IsDown(0));
  // Afterwards position 0 is asked last: a fetch needs no hedge.
  const int before = FragmentReads(0);
  start = Clock::now();
  got = set_->FetchFragments(rec);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(200));
  EXPECT_EQ(FragmentReads(0), before);
}

TEST_P(SupplierSetMemTest, ListObjectsUnionMergesAndSurvivesOneDown) {
  ASSERT_TRUE(set_->PutObjectEverywhere("snapshots/all", "x", n_).ok());
  ASSERT_TRUE(set_->at(0)->PutObject("snapshots/only-0", "x").ok());
  ASSERT_TRUE(set_->at(n_ - 1)->PutObject("snapshots/only-last", "x").ok());
  ASSERT_TRUE(set_->at(1)->PutObject("index/other-prefix", "x").ok());
  auto names = set_->ListObjectsUnion("snapshots/");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names,
            (std::vector<std::string>{"snapshots/all", "snapshots/only-0", "snapshots/only-last"}));
  // The last supplier stops: its own object is no longer listed.
  suppliers_[n_ - 1]->Stop();
  names = set_->ListObjectsUnion("snapshots/");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names, (std::vector<std::string>{"snapshots/all", "snapshots/only-0"}));
  EXPECT_TRUE(set_->IsDown(n_ - 1));
}

TEST_P(SupplierSetMemTest, ListObjectsUnionWithNoAnswerIsSuppliersUnreachable) {
  for (auto& s : suppliers_) s->Stop();
  auto names = set_->ListObjectsUnion("snapshots/");
  ASSERT_FALSE(names.ok());
  EXPECT_EQ(names.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(KindOf(names.status()), ErrorKind::kSuppliersUnreachable) << names.status();
  EXPECT_TRUE(absl::StrContains(names.status().message(), suppliers_[0]->address()));
  EXPECT_EQ(set_->UpCount(), 0);
}

TEST_P(SupplierSetMemTest, PutObjectEverywhereHonoursMinOk) {
  ASSERT_TRUE(set_->PutObjectEverywhere("snapshots/a", "A", n_).ok());
  for (int i = 0; i < n_; ++i) EXPECT_EQ(*set_->at(i)->GetObject("snapshots/a"), "A");
  // Two suppliers gone: n - 1 is out of reach, n - 2 is fine.
  suppliers_[0]->Stop();
  faults_[n_ - 1]->Fail(M::kPutObject, absl::UnavailableError("injected"));
  absl::Status s = set_->PutObjectEverywhere("snapshots/b", "B", n_ - 1);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), suppliers_[0]->address())) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), suppliers_[n_ - 1]->address())) << s;
  EXPECT_EQ(KindOf(s), ErrorKind::kSuppliersUnreachable) << s;
  EXPECT_TRUE(set_->PutObjectEverywhere("snapshots/c", "C", n_ - 2).ok());
  // A refusal is not unreachability: the error is not marked so.
  faults_[1]->RefuseFull(M::kPutObject, "quota exceeded: injected");
  s = set_->PutObjectEverywhere("snapshots/d", "D", n_);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "quota exceeded: injected")) << s;
}

TEST_P(SupplierSetMemTest, GetObjectAnySkipsRejectedAndMissingCopies) {
  ASSERT_TRUE(set_->at(n_ - 1)->PutObject("config", "good").ok());
  ASSERT_TRUE(set_->at(1)->PutObject("config", "forged").ok());
  auto got = set_->GetObjectAny("config", [](const std::string& d) {
    return d == "good" ? absl::OkStatus() : absl::DataLossError("bad seal");
  });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "good");
  auto none = set_->GetObjectAny("absent", [](const std::string&) { return absl::OkStatus(); });
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(KindOf(none.status()), ErrorKind::kSuppliersUnreachable);
}

TEST_P(SupplierSetMemTest, ConnectOverMemConnector) {
  vault::v1::VaultConfig config;
  config.set_data_shards(k_);
  std::map<std::string, MemSupplier*> by_address;
  for (int i = 0; i < n_; ++i) {
    auto* s = config.add_suppliers();
    s->set_address(suppliers_[i]->address());
    s->set_supplier_id(suppliers_[i]->supplier_id());
    by_address[suppliers_[i]->address()] = suppliers_[i].get();
  }
  by_address.erase(suppliers_[2]->address());  // nothing listens there
  auto set = SupplierSet::Connect(config, seed_, MemConnector(by_address), {});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ((*set)->n(), n_);
  EXPECT_EQ((*set)->k(), k_);
  EXPECT_TRUE((*set)->CheckReachable(n_ - 1, {}).ok());
  EXPECT_TRUE((*set)->IsDown(2));
  absl::Status s = (*set)->CheckReachable(n_, {});
  EXPECT_EQ(KindOf(s), ErrorKind::kSuppliersUnreachable) << s;
}

INSTANTIATE_TEST_SUITE_P(Shapes, SupplierSetMemTest, ::testing::Values(Shape{4, 2}, Shape{7, 4}),
                         [](const ::testing::TestParamInfo<Shape>& info) {
                           return absl::StrCat("n", info.param.n, "k", info.param.k);
                         });

}  // namespace
}  // namespace shardkeep::customer

// Contracts, quotas, capacity and leases, against real supplier processes.
#include <atomic>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/supplier/test_util.h"

namespace shardkeep::testing {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1 << 20;
// Byte-exact tests run with no minimum charge per item: an item then costs
// its size plus its name's bytes (docs/PROTOCOL.md, "Quota").
const std::vector<std::string> kExact = {"--min-item-charge=0"};

TEST(SupplierQuota, InfoReportsCapacityGrantedUsedAndLimits) {
  auto cluster = StartCluster(1, {.capacity_bytes = 100 * kMiB});
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->RequestContract(10 * kMiB, 2, 4).ok());
  ASSERT_TRUE(a->PutFragment("f", RandomData(12345, 1)).ok());
  auto info = a->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_THAT(info->version(), HasSubstr("shardkeep-supplier"));
  EXPECT_EQ(info->supplier_id().size(), 16u);
  EXPECT_EQ(info->capacity_bytes(), 100 * kMiB);
  EXPECT_EQ(info->granted_bytes(), 10 * kMiB);
  EXPECT_EQ(info->used_bytes(), 12345u + 1);  // the data plus the key "f"
  EXPECT_EQ(info->customers(), 1u);
  EXPECT_NEAR(static_cast<double>(info->now_ms()), static_cast<double>(signing::NowMs()), 60000);
  EXPECT_EQ(info->max_fragment_bytes(), 64 * kMiB);
  EXPECT_EQ(info->max_object_bytes(), kMiB);
  EXPECT_GT(info->max_message_bytes(), kMiB);
  auto contract = a->GetContract();
  ASSERT_TRUE(contract.ok());
  EXPECT_EQ(contract->customer_key(), a->customer_key());
  EXPECT_EQ(contract->position(), 2u);
  EXPECT_EQ(contract->supplier_count(), 4u);
  EXPECT_EQ(contract->fragments(), 1u);
}

TEST(SupplierQuota, QuotaIsExactAtTheBoundary) {
  auto cluster = StartCluster(1, {.extra_flags = kExact});
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  // Names: "f1" 2, "snapshots/1" 11, "f2" 2.
  const uint64_t kQuota = 3 * kMiB + 1000 + 15;
  ASSERT_TRUE(a->RequestContract(kQuota).ok());
  ASSERT_TRUE(a->PutFragment("f1", RandomData(2 * kMiB, 1)).ok());
  ASSERT_TRUE(a->PutObject("snapshots/1", RandomData(1000, 2)).ok());
  // One byte more than what is left is refused, with the numbers named.
  auto over = a->PutFragment("f2", RandomData(kMiB + 1, 3));
  ASSERT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted) << over.status();
  EXPECT_THAT(std::string(over.status().message()),
              HasSubstr("quota is " + std::to_string(kQuota) + " bytes"));
  EXPECT_THAT(std::string(over.status().message()),
              HasSubstr(std::to_string(2 * kMiB + 1000 + 13) + " bytes used"));
  EXPECT_EQ(a->PutObject("snapshots/2", std::string(kMiB + 1, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);  // above the object size limit
  // Exactly what is left fits.
  auto fits = a->PutFragment("f2", RandomData(kMiB, 3));
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ(fits->used_bytes(), kQuota);
  EXPECT_EQ(fits->quota_bytes(), kQuota);
  // Full: even one byte, fragment or object, is refused, and nothing is stored.
  EXPECT_EQ(a->PutFragment("f3", "x").status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(a->PutObject("snapshots/3", "x").status().code(), absl::StatusCode::kResourceExhausted);
  auto list = a->ListFragments();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->fragments_size(), 2);
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), 2);
  EXPECT_EQ(a->Info()->used_bytes(), kQuota);
  // Deleting frees exactly what was used.
  auto del = a->DeleteFragments({"f1"});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->freed_bytes(), 2 * kMiB + 2);
  EXPECT_TRUE(a->PutFragment("f3", RandomData(2 * kMiB, 4)).ok());
}

TEST(SupplierQuota, ConcurrentUploadsRacingForTheLastBytesNeverExceedTheQuota) {
  auto cluster = StartCluster(1, {.extra_flags = kExact});
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  const uint64_t kQuota = 10 * kMiB + 4 + 3 * 6;  // names "base", 3 x "race-N"
  ASSERT_TRUE(a->RequestContract(kQuota).ok());
  ASSERT_TRUE(a->PutFragment("base", RandomData(4 * kMiB, 1)).ok());
  // 6 MiB left; 8 uploads of 2 MiB race for it: exactly 3 can win.
  const std::string data = RandomData(2 * kMiB, 2);
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto client = SupplierClient::Connect(cluster->Address(0), Seed('a'));
      if (!client.ok()) {
        ++other;
        return;
      }
      auto r = (*client)->PutFragment("race-" + std::to_string(t), data);
      if (r.ok()) {
        ++ok;
      } else if (r.status().code() == absl::StatusCode::kResourceExhausted) {
        ++refused;
      } else {
        ADD_FAILURE() << r.status();
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(refused, 5);
  EXPECT_EQ(other, 0);
  auto contract = a->GetContract();
  ASSERT_TRUE(contract.ok());
  EXPECT_EQ(contract->used_bytes(), kQuota);
  EXPECT_EQ(contract->fragments(), 4u);
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), 4);
}

TEST(SupplierQuota, CapacityOverCommitIsRefused) {
  auto cluster = StartCluster(1, {.capacity_bytes = 10 * kMiB});
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  auto b = Connect(*cluster, 0, 'b');
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->RequestContract(6 * kMiB).ok());
  auto refused = b->RequestContract(5 * kMiB);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("capacity 10485760 bytes"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("free 4194304 bytes"));
  EXPECT_EQ(b->GetContract().status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(b->RequestContract(4 * kMiB).ok());
  EXPECT_EQ(a->RequestContract(7 * kMiB).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(a->GetContract()->quota_bytes(), 6 * kMiB);  // unchanged by the refusal
  // Shrinking below usage is refused; shrinking frees capacity for others.
  ASSERT_TRUE(a->PutFragment("f", RandomData(3 * kMiB - 1, 1)).ok());  // + "f": 3 MiB
  EXPECT_EQ(a->RequestContract(2 * kMiB).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(a->RequestContract(3 * kMiB).ok());
  ASSERT_TRUE(b->RequestContract(7 * kMiB).ok());
  EXPECT_EQ(a->Info()->granted_bytes(), 10 * kMiB);
  // Granted contracts survive a restart and still fill the capacity.
  ASSERT_TRUE(cluster->Restart(0).ok());
  auto c = Connect(*cluster, 0, 'c');
  ASSERT_TRUE(c);
  EXPECT_EQ(c->RequestContract(1).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(c->Info()->granted_bytes(), 10 * kMiB);
  // A customer without a contract may not store anything.
  EXPECT_EQ(c->PutFragment("f", "x").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(c->PutObject("o", "x").status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(SupplierQuota, CancelFreesSpaceAtOnce) {
  auto cluster = StartCluster(1, {.capacity_bytes = 10 * kMiB});
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->RequestContract(10 * kMiB).ok());
  ASSERT_TRUE(a->PutFragment("f", RandomData(3 * kMiB, 1)).ok());
  ASSERT_TRUE(a->PutObject("keys", "kr", "vault-a").ok());
  auto freed = a->CancelContract();
  ASSERT_TRUE(freed.ok()) << freed.status();
  EXPECT_EQ(*freed, 3 * kMiB + 1 + 4096 + 4);  // "f"; "keys" costs the 4 KiB minimum
  auto info = a->Info();
  EXPECT_EQ(info->granted_bytes(), 0u);
  EXPECT_EQ(info->used_bytes(), 0u);
  EXPECT_EQ(info->customers(), 0u);
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), 0);
  EXPECT_EQ(a->GetKeyRecord("vault-a").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(a->GetFragment("f").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(a->CancelContract().status().code(), absl::StatusCode::kPermissionDenied);
  auto b = Connect(*cluster, 0, 'b');
  EXPECT_TRUE(b->RequestContract(10 * kMiB).ok());
}

TEST(SupplierQuota, LeaseExpiryAndGraceReclaimSpace) {
  auto cluster =
      StartCluster(1, {.capacity_bytes = 10 * kMiB,
                       .extra_flags = {"--lease=10s", "--grace=5s", "--reap-interval=50ms"}});
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  auto b = Connect(*cluster, 0, 'b');
  auto c = Connect(*cluster, 0, 'c');
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(a->RequestContract(6 * kMiB).ok());
  ASSERT_TRUE(b->RequestContract(4 * kMiB).ok());
  ASSERT_TRUE(a->PutFragment("fa", RandomData(2 * kMiB, 1)).ok());
  ASSERT_TRUE(a->PutObject("snap", "s").ok());
  ASSERT_TRUE(b->PutFragment("fb", RandomData(kMiB, 2)).ok());
  ASSERT_EQ(c->RequestContract(1).status().code(), absl::StatusCode::kResourceExhausted);

  auto advance = [&](int64_t ms) {
    ASSERT_TRUE(cluster->AdvanceClocksMs(ms).ok());
    for (auto* client : {a.get(), b.get(), c.get()}) {
      client->set_clock_offset_ms(cluster->ClockOffsetMs(0));
    }
  };
  // 9 s: b is active and renews; a is silent.
  advance(9000);
  ASSERT_TRUE(b->RenewContract().ok());
  // 13 s: a's lease has expired, but it is within its grace period: kept.
  advance(4000);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // several reaper rounds
  EXPECT_EQ(c->Info()->customers(), 2u);
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), 2);
  // 16 s: lease + grace are over: a's data and quota are reclaimed.
  advance(3000);
  ASSERT_TRUE(WaitFor([&] { return c->Info()->customers() == 1; }));
  auto info = c->Info();
  EXPECT_EQ(info->granted_bytes(), 4 * kMiB);
  EXPECT_EQ(info->used_bytes(), kMiB + 2);  // + the key "fb"
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), 1);
  EXPECT_EQ(a->GetContract().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(a->GetObject("snap").status().code(), absl::StatusCode::kPermissionDenied);
  // b (renewed at 9 s, so good until 19 s + grace) keeps its data.
  auto fb = b->GetFragment("fb");
  ASSERT_TRUE(fb.ok()) << fb.status();
  EXPECT_EQ(*fb, RandomData(kMiB, 2));
  // The reclaimed capacity is available again.
  EXPECT_TRUE(c->RequestContract(6 * kMiB).ok());
  // Activity renews: b reads at 16 s, which moves its expiry to 26 s.
  advance(9000);  // 25 s: b would have been reaped at 24 s without the read
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(b->GetContract().ok());
}

// Issue 11: zero-byte items cost a minimum; the disk, not --capacity alone,
// bounds what is granted, and the operator is told at start.
TEST(SupplierQuota, EmptyItemsCostTheMinimumAndGrantsStopAtTheDisk) {
  // A reserve larger than any disk: whatever is free, nothing can be promised.
  auto cluster = StartCluster(1, {.extra_flags = {"--disk-reserve=1000000TiB"}});
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  auto refused = a->RequestContract(kMiB);
  ASSERT_EQ(Code(refused), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("supplier disk too small"));
  EXPECT_THAT(cluster->LogTail(0), HasSubstr("is more than the data dir's file system can hold"));

  ASSERT_TRUE(cluster->Restart(0, {"--max-items-per-contract=3"}).ok());
  a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a->RequestContract(kMiB).ok());
  // 1 MiB holds 256 empty items at 4 KiB each, but the contract only 3 items.
  ASSERT_TRUE(a->PutFragment("e1", "").ok());
  ASSERT_TRUE(a->PutObject("e2", "").ok());
  ASSERT_TRUE(a->PutFragment("e3", "").ok());
  EXPECT_EQ(a->GetContract()->used_bytes(), 3 * (4096u + 2));
  auto fourth = a->PutFragment("e4", "");
  EXPECT_EQ(Code(fourth), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(fourth.status().message()), HasSubstr("(the limit)"));
  EXPECT_EQ(Code(a->PutObject("e5", "")), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), 2);
}

// Putting a fragment that is already stored (same key, size and hash: a
// retry whose first answer was lost) is answered with already_present right
// after its header, without reading the bytes, and costs nothing. With 8 MiB
// in 1 MiB messages the supplier (PutFragment's callback reactor) finishes
// the call while the client is still writing.
TEST(SupplierQuota, PuttingAStoredFragmentAgainIsAnsweredAtOnceAndCostsNothing) {
  auto cluster = StartCluster(1, {.extra_flags = kExact});
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->RequestContract(64 * kMiB).ok());
  const std::string data = RandomData(8 * kMiB, 3);
  auto first = a->PutFragment("big", data);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->already_present());
  EXPECT_EQ(first->used_bytes(), 8 * kMiB + 3);
  for (int i = 0; i < 3; ++i) {
    auto again = a->PutFragment("big", data);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(again->already_present());
    EXPECT_EQ(again->used_bytes(), 8 * kMiB + 3);
  }
  auto back = a->GetFragment("big");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == data);
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), 1);
}

}  // namespace
}  // namespace shardkeep::testing

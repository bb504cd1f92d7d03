// Crash safety and clean shutdown: cut uploads, kill -9 during puts,
// SIGTERM with a call in flight, start-up refusals.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/signing.h"
#include "tests/supplier/test_util.h"

namespace shardkeep::testing {
namespace {

namespace v1 = shardkeep::v1;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1 << 20;

// Every fragment a customer can list, read back and checked.
std::map<std::string, std::string> ReadEverything(SupplierClient& c) {
  std::map<std::string, std::string> out;
  std::string after;
  for (;;) {
    auto page = c.ListFragments("", after, 1000);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) return out;
    for (const auto& f : page->fragments()) {
      auto data = c.GetFragment(f.key());  // checks size and SHA-256
      EXPECT_TRUE(data.ok()) << f.key() << ": " << data.status();
      EXPECT_EQ(f.sha256(), crypto::Sha256(data.ok() ? *data : ""));
      out[f.key()] = data.ok() ? *data : "";
      after = f.key();
    }
    if (!page->more()) return out;
  }
}

TEST(SupplierCrash, UploadCutMidStreamStoresNothing) {
  auto cluster = StartCluster(1);
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->RequestContract(4 * kMiB + 3).ok());  // + the key "cut"
  const std::string data = RandomData(4 * kMiB, 1);
  for (size_t cut : {size_t{0}, size_t{1}, 2 * kMiB, 4 * kMiB - 1}) {
    absl::Status s = a->PutFragmentCutOff("cut", data, cut);
    EXPECT_FALSE(s.ok()) << "cut at " << cut;
    // The supplier notices the cancellation asynchronously.
    EXPECT_TRUE(WaitFor([&] { return FragmentFilesOnDisk(*cluster, 0) == 0; })) << "cut at " << cut;
    EXPECT_EQ(Code(a->GetFragment("cut")), absl::StatusCode::kNotFound);
    EXPECT_EQ(a->GetContract()->used_bytes(), 0u);
  }
  EXPECT_EQ(a->ListFragments()->fragments_size(), 0);
  // Every reservation was released: the whole quota is still usable.
  ASSERT_TRUE(WaitFor([&] { return a->PutFragment("cut", data).ok(); }));
  EXPECT_EQ(*a->GetFragment("cut"), data);
  EXPECT_THAT(cluster->LogTail(0, 1 << 20), HasSubstr("nothing stored"));
}

TEST(SupplierCrash, KillDuringAStreamOfPutsLosesNoAcknowledgedFragment) {
  auto cluster = StartCluster(1, {.capacity_bytes = 4ULL << 30});
  ASSERT_TRUE(cluster);
  {
    auto a = Connect(*cluster, 0, 'a');
    ASSERT_TRUE(a && a->RequestContract(3ULL << 30).ok());
  }
  std::map<std::string, std::string> acked;  // key -> data
  std::set<std::string> unacked;             // attempted, no answer or an error
  std::mt19937 rng(12345);
  for (int round = 0; round < 3; ++round) {
    std::mutex mu;
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int t = 0; t < 3; ++t) {
      writers.emplace_back([&, t] {
        SupplierClientOptions o;
        o.retry_unavailable = false;
        auto c = SupplierClient::Connect(cluster->Address(0), Seed('a'), o);
        if (!c.ok()) return;
        for (int n = 0; !stop; ++n) {
          std::string key =
              "r" + std::to_string(round) + "-t" + std::to_string(t) + "-" + std::to_string(n);
          size_t size = 1000 + (std::hash<std::string>()(key) % (2 * kMiB));
          std::string data = RandomData(size, std::hash<std::string>()(key));
          {
            std::lock_guard<std::mutex> l(mu);
            unacked.insert(key);
          }
          auto r = (*c)->PutFragment(key, data);
          if (!r.ok()) return;  // the supplier died under us
          std::lock_guard<std::mutex> l(mu);
          unacked.erase(key);
          acked[key] = std::move(data);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 350));
    ASSERT_TRUE(cluster->Kill(0).ok());
    stop = true;
    for (auto& w : writers) w.join();
    ASSERT_TRUE(cluster->Restart(0).ok()) << cluster->LogTail(0);

    auto a = Connect(*cluster, 0, 'a');
    ASSERT_TRUE(a);
    std::map<std::string, std::string> stored = ReadEverything(*a);
    // Every acknowledged fragment is there, byte for byte.
    for (const auto& [key, data] : acked) {
      auto it = stored.find(key);
      ASSERT_TRUE(it != stored.end())
          << "acknowledged fragment " << key << " lost in round " << round;
      EXPECT_EQ(it->second, data) << key;
    }
    // Nothing else, except uploads that were in flight at the kill and got
    // completely stored (committed, but the answer never arrived): those
    // are whole and correct.
    uint64_t total = 0;  // what the items cost: max(size, 4 KiB) + key
    for (const auto& [key, data] : stored) {
      total += std::max<uint64_t>(data.size(), 4096) + key.size();
      if (acked.count(key)) continue;
      ASSERT_TRUE(unacked.count(key)) << "fragment " << key << " appeared from nowhere";
      size_t size = 1000 + (std::hash<std::string>()(key) % (2 * kMiB));
      EXPECT_EQ(data, RandomData(size, std::hash<std::string>()(key))) << key;
      acked[key] = data;  // from now on it must stay
    }
    EXPECT_EQ(a->GetContract()->used_bytes(), total);
    EXPECT_EQ(a->GetContract()->fragments(), stored.size());
    // No temporary or orphan file survived start-up.
    EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), static_cast<int>(stored.size()));
    unacked.clear();
    std::cerr << "round " << round << ": " << stored.size() << " fragments stored ("
              << (total >> 20) << " MiB)\n";
  }
  EXPECT_GT(acked.size(), 3u);
}

TEST(SupplierCrash, SigtermLetsTheDaemonStopCleanlyWithACallInFlight) {
  auto cluster = StartCluster(1, {.extra_flags = {"--shutdown-timeout=1s"}});
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->RequestContract(16 * kMiB).ok());
  ASSERT_TRUE(a->PutFragment("before", RandomData(kMiB, 1)).ok());
  // An upload that stalls halfway and never finishes by itself.
  std::atomic<bool> half_sent{false};
  absl::Status stalled_status;
  std::thread stalled([&] {
    SupplierClientOptions o;
    o.retry_unavailable = false;
    auto c = SupplierClient::Connect(cluster->Address(0), Seed('a'), o);
    ASSERT_TRUE(c.ok());
    const std::string data = RandomData(4 * kMiB, 2);
    auto ctx = (*c)->Context();
    v1::PutFragmentResponse resp;
    auto writer = (*c)->stub()->PutFragment(ctx.get(), &resp);
    v1::PutFragmentChunk chunk;
    chunk.mutable_header()->set_key("stalled");
    chunk.mutable_header()->set_size(data.size());
    chunk.mutable_header()->set_sha256(crypto::Sha256(data));
    (*c)->Sign(signing::method::kPutFragment, chunk.mutable_header());
    writer->Write(chunk);
    chunk.set_data(data.substr(0, 2 * kMiB));
    writer->Write(chunk);
    half_sent = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    chunk.set_data(data.substr(2 * kMiB));
    writer->Write(chunk);
    writer->WritesDone();
    stalled_status = FromGrpc(writer->Finish());
  });
  ASSERT_TRUE(WaitFor([&] { return half_sent.load(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto t0 = std::chrono::steady_clock::now();
  absl::Status stop = cluster->Stop(0);  // SIGTERM; exit code 0 expected
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(stop.ok()) << stop;
  EXPECT_LT(secs, 2.4);
  stalled.join();
  EXPECT_FALSE(stalled_status.ok());
  EXPECT_THAT(cluster->LogTail(0, 1 << 20), HasSubstr("stopped cleanly"));
  ASSERT_TRUE(cluster->Restart(0).ok());
  auto b = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(b);
  EXPECT_EQ(*b->GetFragment("before"), RandomData(kMiB, 1));
  EXPECT_EQ(Code(b->GetFragment("stalled")), absl::StatusCode::kNotFound);
  EXPECT_EQ(b->GetContract()->used_bytes(), kMiB + 6);  // + the key "before"
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), 1);
}

TEST(SupplierCrash, AStalledUploadIsCancelledAndItsReservationFreed) {
  auto cluster = StartCluster(1, {.extra_flags = {"--idle-timeout=400ms"}});
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->RequestContract(4 * kMiB + 7).ok());  // + the key "stalled"
  const std::string data = RandomData(4 * kMiB, 3);
  auto ctx = a->Context();
  v1::PutFragmentResponse resp;
  auto writer = a->stub()->PutFragment(ctx.get(), &resp);
  v1::PutFragmentChunk chunk;
  chunk.mutable_header()->set_key("stalled");
  chunk.mutable_header()->set_size(data.size());
  chunk.mutable_header()->set_sha256(crypto::Sha256(data));
  a->Sign(signing::method::kPutFragment, chunk.mutable_header());
  ASSERT_TRUE(writer->Write(chunk));
  chunk.set_data(data.substr(0, kMiB));
  ASSERT_TRUE(writer->Write(chunk));
  // While this client keeps its stream open and silent, the supplier gives
  // the upload up: the whole quota becomes usable by another upload.
  auto other = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(WaitFor([&] { return other->PutFragment("whole", data).ok(); }, 5000));
  EXPECT_EQ(other->GetContract()->used_bytes(), 4 * kMiB + 5);  // + "whole"
  chunk.set_data(data.substr(kMiB));
  writer->Write(chunk);
  writer->WritesDone();
  // The call was cancelled by the supplier; the reason is in its log.
  absl::Status s = FromGrpc(writer->Finish());
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_THAT(cluster->LogTail(0, 1 << 20), HasSubstr("no data for 400ms"));
  EXPECT_EQ(Code(other->GetFragment("stalled")), absl::StatusCode::kNotFound);
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), 1);
}

TEST(SupplierCrash, StartupRefusesBadFlagsAndADataDirInUse) {
  auto cluster = StartCluster(1);
  ASSERT_TRUE(cluster);
  // A second daemon on the same data dir: exit code 2, saying why.
  auto second = SupplierCluster::Start(1, {.base_dir = cluster->base_dir()});
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("exit code 2"));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("another shardkeep-supplier"));
  // Bad values: exit code 1, naming the flag.
  for (const auto& [flag, name] : std::vector<std::pair<std::string, std::string>>{
           {"--capacity=12 parsecs", "--capacity"},
           {"--capacity=0", "--capacity must be more than 0"},
           {"--reaper-max-share=0", "--reaper-max-share"},
           {"--max-nonces=0", "--max-nonces"},
           {"--lease=30", "--lease"},
           {"--idle-timeout=0s", "--idle-timeout"},
           {"--max-fragment-size=big", "--max-fragment-size"},
           {"--no-such-flag", "no-such-flag"}}) {
    auto bad = SupplierCluster::Start(1, {.extra_flags = {flag}});
    ASSERT_FALSE(bad.ok()) << flag;
    EXPECT_THAT(std::string(bad.status().message()), HasSubstr("exit code 1")) << flag;
    EXPECT_THAT(std::string(bad.status().message()), HasSubstr(name)) << flag;
  }
  // The first one is unaffected.
  auto a = Connect(*cluster, 0, 'a');
  EXPECT_TRUE(a && a->Info().ok());
}

}  // namespace
}  // namespace shardkeep::testing

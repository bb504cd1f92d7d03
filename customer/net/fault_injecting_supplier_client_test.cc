// Each fault of FaultInjectingSupplierClient does what it says, over an
// in-memory supplier; counters and WrapConnector.
#include "customer/net/fault_injecting_supplier_client.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "common/crypto.h"
#include "customer/net/mem_supplier_client.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

using M = SupplierMethod;
using Clock = std::chrono::steady_clock;

constexpr char kAddr[] = "mem-f:7700";

std::vector<std::string> Names(const std::vector<v1::ObjectInfo>& list) {
  std::vector<std::string> out;
  for (const auto& o : list) out.push_back(o.name());
  return out;
}

class FaultInjectingTest : public ::testing::Test {
 protected:
  FaultInjectingTest()
      : supplier_(kAddr, 1 << 20),
        seed_(crypto::RandomBytes(32)),
        client_(std::make_unique<MemSupplierClient>(&supplier_, seed_)),
        faults_(client_.faults()) {}

  void SetUp() override {
    ASSERT_TRUE(client_.RequestContract(1 << 20, 0, 1).ok());
    ASSERT_TRUE(client_.PutFragment("f", "fragment-bytes", crypto::Sha256("fragment-bytes")).ok());
    for (const char* n : {"snapshots/a", "snapshots/b", "snapshots/c", "index/1"}) {
      ASSERT_TRUE(client_.PutObject(n, n).ok());
    }
  }

  std::string customer() const { return crypto::Ed25519PublicKey(seed_); }

  MemSupplier supplier_;
  std::string seed_;
  FaultInjectingSupplierClient client_;
  std::shared_ptr<SupplierFaults> faults_;
};

TEST_F(FaultInjectingTest, NoFaultsForwardsEverything) {
  EXPECT_EQ(*client_.GetFragment("f"), "fragment-bytes");
  EXPECT_EQ(*client_.GetObject("snapshots/a"), "snapshots/a");
  EXPECT_EQ(client_.Info()->supplier_id(), supplier_.supplier_id());
  EXPECT_EQ(client_.address(), kAddr);
  EXPECT_EQ(client_.GetFragment("absent").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(faults_->Calls(M::kGetFragment), 2);
  EXPECT_EQ(faults_->Calls(M::kPutObject), 4);
  EXPECT_EQ(faults_->Calls(M::kRequestContract), 1);
  EXPECT_EQ(faults_->Injected(M::kGetFragment), 0);
  faults_->ResetCounters();
  EXPECT_EQ(faults_->Calls(M::kPutObject), 0);
}

TEST_F(FaultInjectingTest, FailReturnsTheStatusWithTheAddressAndSkipsTheSupplier) {
  faults_->Fail(M::kPutFragment, absl::UnavailableError("injected: gone"));
  absl::Status s = client_.PutFragment("g", "x", crypto::Sha256("x"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), std::string(kAddr) + ": injected: gone");
  EXPECT_EQ(supplier_.FragmentCount(customer()), 1);  // never reached the supplier
  // Other methods are untouched; a message that names the address keeps it.
  EXPECT_TRUE(client_.GetFragment("f").ok());
  faults_->Fail(M::kGetFragment, absl::DataLossError(std::string(kAddr) + ": disk"));
  EXPECT_EQ(client_.GetFragment("f").status().message(), std::string(kAddr) + ": disk");
  EXPECT_EQ(faults_->Injected(M::kPutFragment), 1);
  EXPECT_EQ(faults_->Injected(M::kGetFragment), 1);
  faults_->Clear(M::kPutFragment);
  EXPECT_TRUE(client_.PutFragment("g", "x", crypto::Sha256("x")).ok());
}

TEST_F(FaultInjectingTest, FailAfterLetsTheFirstCallsThrough) {
  faults_->Fail(M::kPutObject, absl::UnavailableError("went away"), 2);
  EXPECT_TRUE(client_.PutObject("o1", "1").ok());
  EXPECT_TRUE(client_.PutObject("o2", "2").ok());
  EXPECT_EQ(client_.PutObject("o3", "3").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client_.PutObject("o4", "4").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(faults_->Calls(M::kPutObject), 4 + 4);
  EXPECT_EQ(faults_->Injected(M::kPutObject), 2);
  EXPECT_TRUE(client_.GetObject("o2").ok());
  EXPECT_EQ(client_.GetObject("o3").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(FaultInjectingTest, RefusalsCarryTheirCode) {
  faults_->RefusePermission(M::kGetObject, "no contract here");
  faults_->RefuseFull(M::kPutObject, "quota exceeded: injected");
  auto got = client_.GetObject("snapshots/a");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(got.status().message(), "no contract here"));
  absl::Status put = client_.PutObject("x", "y");
  EXPECT_EQ(put.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(put.message(), "quota exceeded: injected"));
}

TEST_F(FaultInjectingTest, CorruptFlipsReturnedBytesOnly) {
  faults_->Corrupt(M::kGetFragment);
  auto got = client_.GetFragment("f");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), std::string("fragment-bytes").size());
  EXPECT_NE(*got, "fragment-bytes");
  int differing = 0;
  for (size_t i = 0; i < got->size(); ++i) differing += (*got)[i] != "fragment-bytes"[i];
  EXPECT_EQ(differing, 1);
  faults_->Corrupt(M::kGetObject, 3);
  auto obj = client_.GetObject("snapshots/a");
  ASSERT_TRUE(obj.ok());
  differing = 0;
  for (size_t i = 0; i < obj->size(); ++i) differing += (*obj)[i] != "snapshots/a"[i];
  EXPECT_EQ(differing, 3);
  // The stored bytes are intact.
  faults_->ClearAll();
  EXPECT_EQ(*client_.GetFragment("f"), "fragment-bytes");
  // Empty data cannot be flipped: it grows a byte.
  ASSERT_TRUE(client_.PutObject("empty", "").ok());
  faults_->Corrupt(M::kGetObject);
  EXPECT_EQ(client_.GetObject("empty")->size(), 1u);
}

TEST_F(FaultInjectingTest, HangBlocksUntilReleased) {
  faults_->Hang(M::kGetFragment);
  std::atomic<bool> done{false};
  absl::StatusOr<std::string> got;
  std::thread t([&] {
    got = client_.GetFragment("f");
    done = true;
  });
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (faults_->Hanging() == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(faults_->Hanging(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(done);
  // Other methods still answer.
  EXPECT_TRUE(client_.GetObject("snapshots/a").ok());
  faults_->Release();
  t.join();
  EXPECT_TRUE(done);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "fragment-bytes");
  EXPECT_EQ(faults_->Hanging(), 0);
  // Released: later calls do not hang.
  EXPECT_TRUE(client_.GetFragment("f").ok());
}

TEST_F(FaultInjectingTest, HangWithDurationEndsByItselfThenFails) {
  faults_->Hang(M::kListObjects, std::chrono::milliseconds(100));
  faults_->Fail(M::kListObjects, absl::DeadlineExceededError("Deadline Exceeded"));
  auto start = Clock::now();
  auto list = client_.ListObjects("");
  auto took = Clock::now() - start;
  EXPECT_EQ(list.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(took, std::chrono::milliseconds(100));
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST_F(FaultInjectingTest, DropListedEntries) {
  faults_->DropListed([](const std::string& n) { return absl::EndsWith(n, "/b"); });
  auto list = client_.ListObjects("snapshots/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(Names(*list), (std::vector<std::string>{"snapshots/a", "snapshots/c"}));
  faults_->Clear(M::kListObjects);
  faults_->DropFirstListed(2);
  list = client_.ListObjects("snapshots/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(Names(*list), (std::vector<std::string>{"snapshots/c"}));
}

TEST_F(FaultInjectingTest, PhantomListedEntriesAreAddedSorted) {
  faults_->AddListed({"snapshots/../../etc/passwd", "snapshots/zz"});
  auto list = client_.ListObjects("snapshots/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(Names(*list), (std::vector<std::string>{"snapshots/../../etc/passwd", "snapshots/a",
                                                    "snapshots/b", "snapshots/c", "snapshots/zz"}));
  // Phantoms are not stored: reading one is NotFound.
  EXPECT_EQ(client_.GetObject("snapshots/zz").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(FaultInjectingTest, FaultsChangeFromAnotherThreadWhileCallsRun) {
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, successes{0};
  std::thread caller([&] {
    while (!stop) {
      (client_.GetFragment("f").ok() ? successes : failures)++;
    }
  });
  for (int i = 0; i < 50; ++i) {
    faults_->Fail(M::kGetFragment, absl::UnavailableError("flap"));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    faults_->Clear(M::kGetFragment);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop = true;
  caller.join();
  EXPECT_GT(failures, 0);
  EXPECT_GT(successes, 0);
  EXPECT_EQ(faults_->Calls(M::kGetFragment), failures + successes);
  EXPECT_EQ(faults_->Injected(M::kGetFragment), failures);
}

TEST(WrapConnectorTest, ChoosesFaultsByIndexAndAddress) {
  MemSupplier a("mem-a:1", 1000), b("mem-b:1", 1000), c("mem-c:1", 1000);
  auto by_position = std::make_shared<SupplierFaults>();
  auto by_address = std::make_shared<SupplierFaults>();
  by_position->Fail(M::kInfo, absl::UnavailableError("position 0 broken"));
  by_address->Fail(M::kInfo, absl::UnavailableError("c broken"));
  std::vector<std::pair<int, std::string>> asked;
  SupplierConnector connect =
      WrapConnector(MemConnector({{"mem-a:1", &a}, {"mem-b:1", &b}, {"mem-c:1", &c}}),
                    [&](int index, const std::string& address) -> std::shared_ptr<SupplierFaults> {
                      asked.emplace_back(index, address);
                      if (index == 0) return by_position;
                      if (address == "mem-c:1") return by_address;
                      return nullptr;  // unwrapped
                    });
  std::string seed = crypto::RandomBytes(32);
  auto c0 = connect("mem-a:1", seed, "");
  auto c1 = connect("mem-b:1", seed, "");
  auto c2 = connect("mem-c:1", seed, "");
  ASSERT_TRUE(c0.ok() && c1.ok() && c2.ok());
  EXPECT_EQ(asked, (std::vector<std::pair<int, std::string>>{
                       {0, "mem-a:1"}, {1, "mem-b:1"}, {2, "mem-c:1"}}));
  EXPECT_EQ((*c0)->Info().status().message(), "mem-a:1: position 0 broken");
  EXPECT_TRUE((*c1)->Info().ok());
  EXPECT_EQ(dynamic_cast<FaultInjectingSupplierClient*>(c1->get()), nullptr);
  EXPECT_EQ((*c2)->Info().status().message(), "mem-c:1: c broken");
  EXPECT_EQ(by_position->Calls(M::kInfo), 1);
  EXPECT_EQ(by_address->Calls(M::kInfo), 1);
  // Errors of the real connector pass through.
  EXPECT_EQ(connect("", seed, "").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shardkeep::customer

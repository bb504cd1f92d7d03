#include "supplier/reaper.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "common/clock.h"
#include "gtest/gtest.h"

namespace shardkeep::supplier {
namespace {

namespace fs = std::filesystem;
using Decision = ReaperRun::Decision;

constexpr int64_t kHour = 3600LL * 1000;
constexpr int64_t kDay = 24 * kHour;

std::string Customer(int i) {
  std::string c(kCustomerKeySize, 'c');
  c[0] = static_cast<char>(i);
  return c;
}

class ReaperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    dir_ = fs::path(tmp ? tmp : "/tmp") /
           ("reaper_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    reaper_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  void Open() {
    reaper_.reset();
    store_.reset();
    StoreOptions o;
    o.capacity_bytes = 1 << 30;
    o.clock = &wall_;
    o.lease_ms = 90 * kDay;
    o.grace_ms = 7 * kDay;
    auto s = Store::Open(dir_.string(), std::move(o));
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
    reaper_ = std::make_unique<Reaper>(store_.get(), &wall_, &steady_, options_);
  }
  // Moves both clocks: time passing.
  void Pass(int64_t ms) {
    wall_.AdvanceMs(ms);
    steady_.AdvanceMs(ms);
  }
  Decision Run() {
    auto r = reaper_->RunOnce();
    EXPECT_TRUE(r.ok()) << r.status();
    last_ = r.ok() ? *r : ReaperRun();
    return last_.decision;
  }

  fs::path dir_;
  ManualClock wall_{1700000000000LL * 1000000};
  ManualClock steady_{1000LL * 1000000};
  ReaperOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Reaper> reaper_;
  ReaperRun last_;
};

TEST_F(ReaperTest, DataIsKeptSixtyDaysAfterTheLastCallAndReapedAfterLeasePlusGrace) {
  ASSERT_TRUE(store_->RequestContract(Customer(1), 1000, 0, 1).ok());
  EXPECT_EQ(Run(), Decision::kFirstReading);
  // Sixty days pass in ten-minute steps as seen by both clocks (a supplier
  // that stays up): nothing is reaped.
  for (int64_t t = 0; t < 60 * kDay; t += 10 * 60000) {
    Pass(10 * 60000);
    if (t % kDay == 0) {
      ASSERT_EQ(Run(), Decision::kReaped);
    }
  }
  EXPECT_EQ(last_.result.contracts_reaped, 0);
  EXPECT_TRUE(store_->GetContract(Customer(1)).ok());
  // 97 days after the last call the contract goes.
  Pass(37 * kDay + 1);
  EXPECT_EQ(Run(), Decision::kReaped);
  EXPECT_EQ(last_.result.contracts_reaped, 1);
  EXPECT_TRUE(absl::IsNotFound(store_->GetContract(Customer(1)).status()));
}

TEST_F(ReaperTest, ASudden400DayJumpReapsNothingUntilConfirmed) {
  for (int i = 1; i <= 30; ++i) ASSERT_TRUE(store_->RequestContract(Customer(i), 10, 0, 1).ok());
  EXPECT_EQ(Run(), Decision::kFirstReading);
  Pass(10 * 60000);
  EXPECT_EQ(Run(), Decision::kReaped);
  wall_.AdvanceMs(400 * kDay);  // the wall clock jumps; no time passed
  EXPECT_EQ(Run(), Decision::kClockJumped);
  EXPECT_GE(last_.jump_ms, 400 * kDay);
  for (int i = 0; i < 5; ++i) {
    Pass(10 * 60000);
    EXPECT_EQ(Run(), Decision::kWaitingToConfirm);
  }
  EXPECT_EQ(store_->GetTotals().customers, 30u);
  // A restart forgets the wait but not the last trusted reading: the jump is
  // seen again and the wait starts over.
  Open();
  EXPECT_EQ(Run(), Decision::kClockJumped);
  Pass(30 * 60000);
  EXPECT_EQ(Run(), Decision::kWaitingToConfirm);
  EXPECT_EQ(store_->GetTotals().customers, 30u);
  // Confirmed after an hour of steady time: reaping starts, 10% per run.
  Pass(30 * 60000);
  EXPECT_EQ(Run(), Decision::kReaped);
  EXPECT_EQ(last_.result.contracts_reaped, 3);
  EXPECT_EQ(last_.result.contracts_deferred, 27);
  EXPECT_EQ(store_->GetTotals().customers, 27u);
  Pass(10 * 60000);
  EXPECT_EQ(Run(), Decision::kReaped);
  EXPECT_EQ(last_.result.contracts_reaped, 2);  // 10% of 27
}

TEST_F(ReaperTest, ASecondStepRestartsTheWait) {
  ASSERT_TRUE(store_->RequestContract(Customer(1), 10, 0, 1).ok());
  EXPECT_EQ(Run(), Decision::kFirstReading);
  wall_.AdvanceMs(400 * kDay);
  EXPECT_EQ(Run(), Decision::kClockJumped);
  Pass(50 * 60000);
  wall_.AdvanceMs(-399 * kDay);  // someone fixes (or breaks) the clock again
  EXPECT_EQ(Run(), Decision::kWaitingToConfirm);
  Pass(50 * 60000);  // an hour since the first jump, 50 min since the second
  EXPECT_EQ(Run(), Decision::kWaitingToConfirm);
  Pass(11 * 60000);
  EXPECT_EQ(Run(), Decision::kReaped);
  EXPECT_EQ(last_.result.contracts_reaped, 0);  // one day ahead: not expired
}

TEST_F(ReaperTest, AJumpAcrossARestartIsHeldAndSmallStepsAreNot) {
  ASSERT_TRUE(store_->RequestContract(Customer(1), 10, 0, 1).ok());
  EXPECT_EQ(Run(), Decision::kFirstReading);
  Pass(kHour);
  EXPECT_EQ(Run(), Decision::kReaped);
  // Down for 23 hours: under the limit, trusted at once.
  Open();
  Pass(23 * kHour);
  EXPECT_EQ(Run(), Decision::kReaped);
  // Down for 200 days (the monotonic clock cannot vouch across a restart):
  // held, even though this one was a real outage.
  Open();
  Pass(200 * kDay);
  EXPECT_EQ(Run(), Decision::kClockJumped);
  EXPECT_TRUE(store_->GetContract(Customer(1)).ok());
}

TEST_F(ReaperTest, BackwardStepsAreTrusted) {
  ASSERT_TRUE(store_->RequestContract(Customer(1), 10, 0, 1).ok());
  EXPECT_EQ(Run(), Decision::kFirstReading);
  // They only make leases look younger.
  wall_.AdvanceMs(-300 * kDay);
  Pass(kHour);
  EXPECT_EQ(Run(), Decision::kReaped);
  // ... and the next forward correction is a jump like any other.
  wall_.AdvanceMs(300 * kDay);
  EXPECT_EQ(Run(), Decision::kClockJumped);
}

TEST_F(ReaperTest, OneRunDeletesAtMostTheShareButAtLeastOne) {
  options_.max_share = 0.10;
  Open();
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(store_->RequestContract(Customer(i), 10, 0, 1).ok());
  EXPECT_EQ(Run(), Decision::kFirstReading);
  for (int64_t t = 0; t < 98 * kDay; t += 12 * kHour) {
    Pass(12 * kHour);
    ASSERT_EQ(Run(), Decision::kReaped);
    if (last_.result.contracts_reaped > 0) break;
  }
  EXPECT_EQ(last_.result.contracts_reaped, 1);  // 10% of 5 is 0: at least one
  EXPECT_EQ(last_.result.contracts_deferred, 4);
}

}  // namespace
}  // namespace shardkeep::supplier

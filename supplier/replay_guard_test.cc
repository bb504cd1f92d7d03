#include "supplier/replay_guard.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>

#include "gtest/gtest.h"

namespace shardkeep::supplier {
namespace {

class FakeClock : public Clock {
 public:
  int64_t NowMs() override { return now; }
  std::atomic<int64_t> now{1700000000000};
};

class ReplayGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    dir_ = std::string(tmp ? tmp : "/tmp") + "/replay-" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    Reopen();
  }
  void TearDown() override {
    guard_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    guard_.reset();
    store_.reset();
    StoreOptions o;
    o.capacity_bytes = 1 << 20;
    o.clock = &clock_;
    auto s = Store::Open(dir_, std::move(o));
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
    guard_ = std::make_unique<ReplayGuard>(store_.get(), &clock_, kWindow, limits_);
    ASSERT_TRUE(guard_->Load().ok());
  }
  v1::Auth MakeAuth(int64_t ts, char nonce, char customer = 'c') {
    v1::Auth a;
    a.set_customer_key(std::string(32, customer));
    a.set_timestamp_ms(ts);
    a.set_nonce(std::string(16, nonce));
    return a;
  }

  static constexpr int64_t kWindow = 60000;
  ReplayGuardLimits limits_{/*max_entries=*/5, /*max_per_customer=*/5, /*max_newcomers=*/5};
  std::string dir_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ReplayGuard> guard_;
};

TEST_F(ReplayGuardTest, WindowIsInclusiveOnBothSides) {
  const int64_t now = clock_.now;
  EXPECT_TRUE(guard_->Check(MakeAuth(now - kWindow, 'a')).ok());
  EXPECT_TRUE(guard_->Check(MakeAuth(now + kWindow, 'b')).ok());
  EXPECT_TRUE(absl::IsUnauthenticated(guard_->Check(MakeAuth(now - kWindow - 1, 'c'))));
  EXPECT_TRUE(absl::IsUnauthenticated(guard_->Check(MakeAuth(now + kWindow + 1, 'd'))));
  // Extreme timestamps (any signed request may carry them): refused, and the
  // message's distance does not overflow (UBSan, tests/fuzz:supplier_request).
  EXPECT_TRUE(absl::IsUnauthenticated(guard_->Check(MakeAuth(INT64_MIN, 'e'))));
  EXPECT_TRUE(absl::IsUnauthenticated(guard_->Check(MakeAuth(INT64_MAX, 'f'))));
}

TEST_F(ReplayGuardTest, ANonceIsAcceptedOncePerCustomerAndSurvivesReopen) {
  const int64_t now = clock_.now;
  EXPECT_TRUE(guard_->Check(MakeAuth(now, 'n')).ok());
  EXPECT_TRUE(absl::IsUnauthenticated(guard_->Check(MakeAuth(now, 'n'))));
  EXPECT_TRUE(absl::IsUnauthenticated(guard_->Check(MakeAuth(now + 5, 'n'))));
  EXPECT_TRUE(guard_->Check(MakeAuth(now, 'n', 'd')).ok());  // another customer's nonce
  Reopen();
  EXPECT_TRUE(absl::IsUnauthenticated(guard_->Check(MakeAuth(now, 'n'))));
  EXPECT_EQ(guard_->size(), 2u);
}

TEST_F(ReplayGuardTest, PurgeForgetsOnlyWhatLeftTheWindowAndTheTableIsBounded) {
  const int64_t t0 = clock_.now;
  ASSERT_TRUE(guard_->Check(MakeAuth(t0, '1')).ok());
  ASSERT_TRUE(guard_->Check(MakeAuth(t0 + 30000, '2')).ok());
  clock_.now = t0 + kWindow + 1;  // '1' left the window, '2' did not
  ASSERT_TRUE(guard_->Purge().ok());
  EXPECT_EQ(guard_->size(), 1u);
  EXPECT_TRUE(absl::IsUnauthenticated(guard_->Check(MakeAuth(t0 + 30000, '2'))));
  Reopen();
  EXPECT_EQ(guard_->size(), 1u);
  // Bounded: at most 5 entries, then UNAVAILABLE until old ones age out.
  for (char c : {'3', '4', '5', '6'}) ASSERT_TRUE(guard_->Check(MakeAuth(clock_.now, c)).ok());
  EXPECT_TRUE(absl::IsUnavailable(guard_->Check(MakeAuth(clock_.now, '7'))));
}

// Issue 11: a flood signed with throw-away keys (no contract) must not lock
// out customers with a contract, and one customer cannot fill the table.
TEST_F(ReplayGuardTest, BoundsArePerCustomerAndNewcomersShareTheirOwnPool) {
  limits_ = {/*max_entries=*/100, /*max_per_customer=*/10, /*max_newcomers=*/5};
  Reopen();
  const int64_t now = clock_.now;
  // Throw-away keys asking for contracts fill only the newcomers' pool.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(guard_->Check(MakeAuth(now, 'n', static_cast<char>('A' + i)), false).ok()) << i;
  }
  absl::Status s = guard_->Check(MakeAuth(now, 'n', 'Z'), false);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("new customers"), std::string_view::npos) << s;
  // A customer with a contract is served.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(guard_->Check(MakeAuth(now, static_cast<char>('0' + i), 'c')).ok()) << i;
  }
  // ... up to its own bound, which stops only it.
  s = guard_->Check(MakeAuth(now, 'x', 'c'));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("customer 63636363..."), std::string_view::npos) << s;
  EXPECT_TRUE(guard_->Check(MakeAuth(now, 'x', 'd')).ok());
  EXPECT_EQ(guard_->CountFor(std::string(32, 'c')), 10u);
  // A refused request is not remembered: retried later, it is accepted.
  clock_.now = now + kWindow + 1;
  EXPECT_TRUE(guard_->Check(MakeAuth(clock_.now, 'x', 'c')).ok());
}

TEST_F(ReplayGuardTest, NoncesArePurgedAsRequestsComeIn) {
  const int64_t t0 = clock_.now;
  for (char c : {'1', '2', '3', '4', '5'}) ASSERT_TRUE(guard_->Check(MakeAuth(t0, c)).ok());
  EXPECT_TRUE(absl::IsUnavailable(guard_->Check(MakeAuth(t0, '6'))));
  // No Purge() call: the next request after the window frees the old ones.
  clock_.now = t0 + kWindow + 1;
  EXPECT_TRUE(guard_->Check(MakeAuth(clock_.now, '6')).ok());
  EXPECT_EQ(guard_->size(), 1u);
  EXPECT_EQ(guard_->CountFor(std::string(32, 'c')), 1u);
}

// Issue 11: a clock stepped backwards used to reopen purged nonces.
TEST_F(ReplayGuardTest, AClockSteppedBackDoesNotReopenPurgedNonces) {
  const int64_t t0 = clock_.now;
  ASSERT_TRUE(guard_->Check(MakeAuth(t0, 'r')).ok());
  clock_.now = t0 + 2 * kWindow;  // the nonce leaves the window and is purged
  ASSERT_TRUE(guard_->Purge().ok());
  EXPECT_EQ(guard_->size(), 0u);
  clock_.now = t0;                                    // the clock is stepped back
  absl::Status s = guard_->Check(MakeAuth(t0, 'r'));  // the captured request, replayed
  EXPECT_TRUE(absl::IsUnauthenticated(s)) << s;
  EXPECT_NE(s.message().find("stepped back"), std::string_view::npos) << s;
  // Also after a restart (the floor is persisted with the purge).
  Reopen();
  EXPECT_TRUE(absl::IsUnauthenticated(guard_->Check(MakeAuth(t0, 'r'))));
  // Requests newer than the floor are served.
  EXPECT_TRUE(guard_->Check(MakeAuth(t0 + kWindow, 's')).ok());
}

// A clock that jumped far ahead and is corrected must not lock everyone out
// until it catches up: a step back of more than an hour resets the floor.
TEST_F(ReplayGuardTest, ACorrectedForwardJumpDoesNotLockCustomersOut) {
  const int64_t t0 = clock_.now;
  clock_.now = t0 + 400LL * 24 * 3600 * 1000;  // a wrong clock, 400 days ahead
  ASSERT_TRUE(guard_->Check(MakeAuth(clock_.now, 'w')).ok());
  ASSERT_TRUE(guard_->Purge().ok());
  clock_.now = t0 + 1000;  // corrected
  EXPECT_TRUE(guard_->Check(MakeAuth(clock_.now, 'h')).ok());
  Reopen();
  EXPECT_TRUE(guard_->Check(MakeAuth(clock_.now, 'i')).ok());
}

}  // namespace
}  // namespace shardkeep::supplier

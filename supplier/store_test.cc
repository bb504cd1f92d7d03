#include "supplier/store.h"

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "supplier/fault_injection.h"

namespace shardkeep::supplier {
namespace {

namespace fs = std::filesystem;

class FakeClock : public Clock {
 public:
  int64_t NowMs() override { return now_; }
  void Advance(int64_t ms) { now_ += ms; }
  std::atomic<int64_t> now_{1700000000000};
};

std::string Customer(char c) { return std::string(kCustomerKeySize, c); }

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& ch : s) {
    x = x * 1103515245u + 12345u;
    ch = static_cast<char>(x >> 24);
  }
  return s;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    dir_ = fs::path(tmp ? tmp : "/tmp") /
           ("store_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // (Re)opens the store; faults_ wraps the real files when inject is true.
  void Open(uint64_t capacity = 1 << 30, bool inject = false) {
    store_.reset();
    StoreOptions o;
    o.capacity_bytes = capacity;
    o.clock = &clock_;
    o.lease_ms = 10000;
    o.grace_ms = 5000;
    o.max_fragment_bytes = 8 << 20;
    o.max_object_bytes = 1 << 20;
    // Byte-exact accounting in most tests: an item costs its size plus its
    // name (ZeroByteItemsCostAMinimumAndItemsAreCapped tests the minimum).
    o.min_item_charge = min_item_charge_;
    o.max_items_per_contract = max_items_;
    o.disk_reserve_bytes = disk_reserve_;
    o.on_customer_walk = walk_hook_;
    if (free_disk_ >= 0) {
      o.free_disk_bytes = [this]() -> absl::StatusOr<uint64_t> { return free_disk_; };
    }
    auto files = NewPosixFragmentFiles(dir_ / "fragments");
    ASSERT_TRUE(files.ok()) << files.status();
    if (inject) {
      auto f = std::make_unique<FaultInjectingFragmentFiles>(std::move(files).value());
      faults_ = f.get();
      o.files = std::move(f);
    } else {
      faults_ = nullptr;
      o.files = std::move(files).value();
    }
    auto s = Store::Open(dir_.string(), std::move(o), &report_);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
  }

  absl::StatusOr<Usage> Put(const std::string& customer, const std::string& key,
                            const std::string& data, bool* already = nullptr) {
    bool dummy;
    if (already == nullptr) already = &dummy;
    ASSIGN_OR_RETURN(auto begin,
                     store_->BeginFragment(customer, key, data.size(), crypto::Sha256(data)));
    if (begin.already_present) {
      *already = true;
      return begin.usage;
    }
    for (size_t off = 0; off < data.size(); off += 1 << 20) {
      RETURN_IF_ERROR(begin.upload->Append(std::string_view(data).substr(off, 1 << 20)));
    }
    return begin.upload->Commit(already);
  }

  absl::StatusOr<std::string> Read(const std::string& customer, const std::string& key) {
    ASSIGN_OR_RETURN(auto f, store_->OpenFragment(customer, key));
    std::string out;
    RETURN_IF_ERROR(f.reader->ReadAt(0, f.reader->size(), &out));
    if (crypto::Sha256(out) != f.record.sha256()) return absl::DataLossError("hash");
    return out;
  }

  // Files the store can see (not the quarantine).
  size_t FilesOnDisk() {
    size_t n = 0;
    for (auto& e : fs::recursive_directory_iterator(dir_ / "fragments")) {
      if (e.is_regular_file() && e.path().parent_path().filename() != "quarantine") ++n;
    }
    return n;
  }
  size_t Quarantined() {
    std::error_code ec;
    size_t n = 0;
    for (auto& e : fs::directory_iterator(dir_ / "fragments" / "quarantine", ec)) {
      n += e.is_regular_file();
    }
    return n;
  }

  fs::path dir_;
  FakeClock clock_;
  uint64_t min_item_charge_ = 0;
  uint64_t max_items_ = 0;
  uint64_t disk_reserve_ = 0;
  int64_t free_disk_ = -1;  // < 0: the real file system
  std::function<void(const std::string&)> walk_hook_;
  std::unique_ptr<Store> store_;
  FaultInjectingFragmentFiles* faults_ = nullptr;
  OpenReport report_;
};

TEST_F(StoreTest, SupplierIdIsCreatedOnceAndSurvivesReopen) {
  Open();
  std::string id = store_->supplier_id();
  EXPECT_EQ(id.size(), kSupplierIdSize);
  Open();
  EXPECT_EQ(store_->supplier_id(), id);
}

TEST_F(StoreTest, GrantedQuotasNeverExceedCapacity) {
  Open(1000);
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 600, 0, 2).ok());
  ASSERT_TRUE(store_->RequestContract(Customer('b'), 400, 1, 2).ok());
  auto c = store_->RequestContract(Customer('c'), 1, 0, 1);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(c.status().message().find("capacity 1000 bytes"), std::string::npos) << c.status();
  // Growing past capacity is refused; shrinking frees room for others.
  EXPECT_EQ(store_->RequestContract(Customer('a'), 601, 0, 2).status().code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 500, 0, 2).ok());
  ASSERT_TRUE(store_->RequestContract(Customer('c'), 100, 0, 1).ok());
  Totals t = store_->GetTotals();
  EXPECT_EQ(t.granted_bytes, 1000u);
  EXPECT_EQ(t.customers, 3u);
  // A reopened store counts the same.
  Open(1000);
  EXPECT_EQ(store_->GetTotals().granted_bytes, 1000u);
  EXPECT_EQ(store_->RequestContract(Customer('d'), 1, 0, 1).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(StoreTest, ShrinkingBelowUsageIsRefused) {
  Open();
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 1000, 0, 1).ok());
  ASSERT_TRUE(Put(Customer('a'), "f", Bytes(700, 1)).ok());  // costs 701
  EXPECT_EQ(store_->RequestContract(Customer('a'), 700, 0, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->RequestContract(Customer('a'), 701, 0, 1).ok());
}

TEST_F(StoreTest, PutAndReadBackSurvivesReopen) {
  Open();
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 10 << 20, 0, 1).ok());
  std::string data = Bytes(3 << 20 | 123, 7);
  auto u = Put(Customer('a'), "block-1.f0", data);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->used_bytes, data.size() + 10);  // and the key's 10 bytes
  Open();
  EXPECT_EQ(report_.fragments, 1u);
  EXPECT_EQ(report_.orphan_files_removed, 0);
  auto back = Read(Customer('a'), "block-1.f0");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, data);
  EXPECT_EQ(store_->GetContract(Customer('a'))->used_bytes(), data.size() + 10);
  EXPECT_EQ(store_->GetTotals().used_bytes, data.size() + 10);
}

TEST_F(StoreTest, QuotaIsExactAtTheBoundary) {
  Open();
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 1000, 0, 1).ok());
  ASSERT_TRUE(Put(Customer('a'), "x", Bytes(599, 1)).ok());  // + 1 name byte each
  ASSERT_TRUE(Put(Customer('a'), "y", Bytes(399, 2)).ok());
  auto over = Put(Customer('a'), "z", Bytes(1, 3));
  ASSERT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(over.status().message().find("quota is 1000 bytes"), std::string::npos)
      << over.status();
  EXPECT_NE(over.status().message().find("1000 bytes used"), std::string::npos) << over.status();
  // Objects count against the same quota.
  EXPECT_EQ(store_->PutObject(Customer('a'), "snap", "x", "").status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(FilesOnDisk(), 2u);
  EXPECT_EQ(store_->GetContract(Customer('a'))->used_bytes(), 1000u);
}

TEST_F(StoreTest, ConcurrentUploadsNeverExceedTheQuota) {
  Open();
  const uint64_t kQuota = 10 << 20, kSize = 3 << 20;
  ASSERT_TRUE(store_->RequestContract(Customer('a'), kQuota, 0, 1).ok());
  std::string data = Bytes(kSize, 9);
  std::string sha = crypto::Sha256(data);
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto begin = store_->BeginFragment(Customer('a'), "k" + std::to_string(t), kSize, sha);
      if (!begin.ok()) {
        EXPECT_EQ(begin.status().code(), absl::StatusCode::kResourceExhausted);
        ++refused;
        return;
      }
      for (size_t off = 0; off < kSize; off += 256 << 10) {
        ASSERT_TRUE(begin->upload->Append(std::string_view(data).substr(off, 256 << 10)).ok());
      }
      bool already;
      ASSERT_TRUE(begin->upload->Commit(&already).ok());
      ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(refused, 5);
  EXPECT_EQ(store_->GetContract(Customer('a'))->used_bytes(), 3 * (kSize + 2));
}

TEST_F(StoreTest, HashMismatchAndShortUploadsStoreNothing) {
  Open();
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 1005, 0, 1).ok());  // 1000 + "short"
  std::string data = Bytes(1000, 4);
  {
    auto begin = store_->BeginFragment(Customer('a'), "bad", 1000, crypto::Sha256("other"));
    ASSERT_TRUE(begin.ok());
    ASSERT_TRUE(begin->upload->Append(data).ok());
    bool already;
    auto r = begin->upload->Commit(&already);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("SHA-256"), std::string::npos);
  }
  {
    auto begin = store_->BeginFragment(Customer('a'), "short", 1000, crypto::Sha256(data));
    ASSERT_TRUE(begin.ok());
    ASSERT_TRUE(begin->upload->Append(std::string_view(data).substr(0, 500)).ok());
    // Dropped without Commit, as when the client goes away mid-stream.
  }
  {
    auto begin = store_->BeginFragment(Customer('a'), "long", 10, crypto::Sha256(data));
    ASSERT_TRUE(begin.ok());
    EXPECT_EQ(begin->upload->Append(data).code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(FilesOnDisk(), 0u);
  EXPECT_EQ(store_->GetContract(Customer('a'))->used_bytes(), 0u);
  EXPECT_TRUE(absl::IsNotFound(store_->OpenFragment(Customer('a'), "bad").status()));
  EXPECT_TRUE(absl::IsNotFound(store_->OpenFragment(Customer('a'), "short").status()));
  // All reservations were released: the full quota is usable.
  EXPECT_TRUE(Put(Customer('a'), "full", data).ok());
}

TEST_F(StoreTest, InjectedDiskFailuresStoreNothingAndReleaseTheReservation) {
  Open(1 << 30, /*inject=*/true);
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 4001, 0, 1).ok());
  std::string data = Bytes(4000, 5);

  faults_->FailAppendsAfter(1000);
  EXPECT_EQ(Put(Customer('a'), "f", data).status().code(), absl::StatusCode::kInternal);
  faults_->FailAppendsAfter(-1);

  faults_->FailCommitsBefore(1);
  EXPECT_EQ(Put(Customer('a'), "f", data).status().code(), absl::StatusCode::kInternal);

  faults_->FailCommitsAfter(1);  // renamed into place, then "fsync dir" fails
  EXPECT_EQ(Put(Customer('a'), "f", data).status().code(), absl::StatusCode::kInternal);

  faults_->FailCreates(true);
  EXPECT_EQ(Put(Customer('a'), "f", data).status().code(), absl::StatusCode::kResourceExhausted);
  faults_->FailCreates(false);

  EXPECT_EQ(FilesOnDisk(), 0u);
  EXPECT_TRUE(absl::IsNotFound(store_->OpenFragment(Customer('a'), "f").status()));
  EXPECT_EQ(store_->GetContract(Customer('a'))->used_bytes(), 0u);
  auto u = Put(Customer('a'), "f", data);  // whole quota still available
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->used_bytes, 4001u);
}

TEST_F(StoreTest, StartupRemovesTemporariesAndOrphansAndDropsRecordsWithoutFiles) {
  Open();
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 1 << 20, 0, 1).ok());
  ASSERT_TRUE(Put(Customer('a'), "kept", Bytes(100, 1)).ok());
  ASSERT_TRUE(Put(Customer('a'), "lost", Bytes(200, 2)).ok());
  std::string lost_id = store_->OpenFragment(Customer('a'), "lost")->record.file_id();
  store_.reset();
  // A crash between rename and commit leaves an orphan; one during the
  // upload leaves a temporary; a broken disk may lose a file.
  auto files = NewPosixFragmentFiles((dir_ / "fragments").string());
  ASSERT_TRUE(files.ok());
  {
    auto w = (*files)->Create(std::string(kFileIdSize, '\x01'));
    ASSERT_TRUE((*w)->Append("orphan").ok());
    ASSERT_TRUE((*w)->Commit().ok());
  }
  // What a writer leaves when the process dies before Commit (kill -9).
  std::ofstream(dir_ / "fragments" / "02" / (std::string(32, '2') + ".tmp")) << "partial";
  ASSERT_TRUE((*files)->Remove(lost_id).ok());

  Open();
  EXPECT_EQ(report_.temporaries_removed, 1);
  EXPECT_EQ(report_.orphan_files_removed, 1);
  EXPECT_EQ(Quarantined(), 1u);  // kept, out of the way
  EXPECT_EQ(report_.missing_files, 1);
  EXPECT_EQ(report_.usage_corrected, 1);
  EXPECT_EQ(FilesOnDisk(), 1u);
  EXPECT_TRUE(Read(Customer('a'), "kept").ok());
  EXPECT_TRUE(absl::IsNotFound(store_->OpenFragment(Customer('a'), "lost").status()));
  EXPECT_EQ(store_->GetContract(Customer('a'))->used_bytes(), 104u);
}

// Issue 11: an unmounted disk or an old database used to make start-up drop
// every index record whose file was missing, in one batch.
TEST_F(StoreTest, ManyMissingFilesRefuseToStartAndChangeNothing) {
  Open();
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 1 << 20, 0, 1).ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(Put(Customer('a'), "k" + std::to_string(i), Bytes(100, i)).ok());
    ids.push_back(store_->OpenFragment(Customer('a'), "k" + std::to_string(i))->record.file_id());
  }
  store_.reset();
  // 12 files vanish (more than the 10 tolerated).
  fs::create_directories(dir_ / "away");
  for (int i = 0; i < 12; ++i) {
    const std::string hex = crypto::ToHex(ids[i]);
    fs::rename(dir_ / "fragments" / hex.substr(0, 2) / hex, dir_ / "away" / hex);
  }
  StoreOptions o;
  o.capacity_bytes = 1 << 30;
  o.clock = &clock_;
  o.files = std::move(NewPosixFragmentFiles(dir_ / "fragments")).value();
  auto refused = Store::Open(dir_.string(), std::move(o));
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_NE(refused.status().message().find("12 of the 30 indexed fragment files are missing"),
            std::string::npos)
      << refused.status();
  // Nothing was changed: with the files back, all 30 are there.
  for (int i = 0; i < 12; ++i) {
    const std::string hex = crypto::ToHex(ids[i]);
    fs::rename(dir_ / "away" / hex, dir_ / "fragments" / hex.substr(0, 2) / hex);
  }
  Open();
  EXPECT_EQ(report_.missing_files, 0);
  for (int i = 0; i < 30; ++i) EXPECT_TRUE(Read(Customer('a'), "k" + std::to_string(i)).ok()) << i;
}

// Issue 11: cancel and reap walked all of a customer's fragments holding the
// store's global lock, stalling every other customer. The hook holds the walk
// open; other customers' calls must complete meanwhile (before the fix they
// would block until the walk ended: here, for ever, so the test waits 10 s).
TEST_F(StoreTest, CancelAndReapDoNotHoldTheStoreLockWhileWalking) {
  std::mutex mu;
  std::condition_variable cv;
  bool walking = false, release = false;
  std::string held;  // the customer whose walk is held open
  walk_hook_ = [&](const std::string& customer) {
    std::unique_lock<std::mutex> l(mu);
    if (customer != held) return;
    walking = true;
    cv.notify_all();
    cv.wait(l, [&] { return release; });
  };
  Open();
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 1 << 20, 0, 1).ok());
  ASSERT_TRUE(store_->RequestContract(Customer('b'), 1 << 20, 0, 1).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Put(Customer('a'), "k" + std::to_string(i), "x").ok());
  ASSERT_TRUE(store_->PutObject(Customer('a'), "keys", "kr", "vault").ok());

  for (bool reap : {false, true}) {
    SCOPED_TRACE(reap ? "reap" : "cancel");
    {
      std::lock_guard<std::mutex> l(mu);
      walking = release = false;
      held = Customer(reap ? 'c' : 'a');
    }
    const std::string victim = Customer(reap ? 'c' : 'a');
    if (reap) {
      ASSERT_TRUE(store_->RequestContract(victim, 1 << 20, 0, 1).ok());
      ASSERT_TRUE(Put(victim, "k", "x").ok());
      clock_.Advance(16000);  // past lease + grace (10 s + 5 s) for c; b renews below
      ASSERT_TRUE(store_->Touch(Customer('b')).ok());
    }
    std::thread retire([&] {
      if (reap) {
        auto r = store_->ReapExpired(clock_.NowMs());
        EXPECT_TRUE(r.ok() && r->contracts_reaped == 1) << r.status();
      } else {
        EXPECT_TRUE(store_->CancelContract(victim).ok());
      }
    });
    {
      std::unique_lock<std::mutex> l(mu);
      ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return walking; }));
    }
    // While the walk is held open: others are served, the victim is not.
    std::atomic<bool> done{false};
    std::thread others([&] {
      EXPECT_TRUE(store_->RequestContract(Customer('d'), 1000, 0, 1).ok());
      EXPECT_TRUE(Put(Customer('b'), "during", "y").ok());
      EXPECT_EQ(store_->GetTotals().customers, 3u);
      EXPECT_EQ(store_->Touch(victim).code(), absl::StatusCode::kPermissionDenied);
      EXPECT_EQ(store_->RequestContract(victim, 10, 0, 1).status().code(),
                absl::StatusCode::kUnavailable);
      done = true;
    });
    for (int i = 0; i < 1000 && !done; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(done) << "other customers' calls blocked while a customer was being deleted";
    {
      std::lock_guard<std::mutex> l(mu);
      release = true;
    }
    cv.notify_all();
    others.join();
    retire.join();
    EXPECT_TRUE(absl::IsNotFound(store_->GetContract(victim).status()));
    EXPECT_TRUE(Read(Customer('b'), "during").ok());
    if (!reap) EXPECT_TRUE(absl::IsNotFound(store_->GetKeyRecord("vault").status()));
    ASSERT_TRUE(store_->CancelContract(Customer('d')).ok());
  }
  EXPECT_EQ(FilesOnDisk(), 1u);  // b's
}

TEST_F(StoreTest, OverwriteDeleteAndAlreadyPresent) {
  Open();
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 10000, 0, 1).ok());
  ASSERT_TRUE(Put(Customer('a'), "k", Bytes(1000, 1)).ok());
  bool already = false;
  ASSERT_TRUE(Put(Customer('a'), "k", Bytes(1000, 1), &already).ok());
  EXPECT_TRUE(already);
  auto u = Put(Customer('a'), "k", Bytes(3000, 2), &already);
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(already);
  EXPECT_EQ(u->used_bytes, 3001u);
  EXPECT_EQ(FilesOnDisk(), 1u);
  EXPECT_EQ(*Read(Customer('a'), "k"), Bytes(3000, 2));
  ASSERT_TRUE(Put(Customer('a'), "j", Bytes(10, 3)).ok());
  auto d = store_->DeleteFragments(Customer('a'), {"k", "nope", "k"});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->deleted, 1u);
  EXPECT_EQ(d->freed_bytes, 3001u);
  ASSERT_EQ(d->not_found.size(), 1u);
  EXPECT_EQ(d->not_found[0], "nope");
  EXPECT_EQ(FilesOnDisk(), 1u);
  auto c = store_->GetContract(Customer('a'));
  EXPECT_EQ(c->used_bytes(), 11u);
  EXPECT_EQ(c->fragments(), 1u);
}

TEST_F(StoreTest, ListPagesInKeyOrderWithinOneCustomer) {
  Open();
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 10000, 0, 1).ok());
  ASSERT_TRUE(store_->RequestContract(Customer('b'), 10000, 0, 1).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Put(Customer('a'), "p" + std::to_string(i), "x").ok());
  ASSERT_TRUE(Put(Customer('a'), "q0", "x").ok());
  ASSERT_TRUE(Put(Customer('b'), "p9", "x").ok());
  bool more;
  auto page = store_->ListFragments(Customer('a'), "p", "", 2, &more);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_TRUE(more);
  EXPECT_EQ((*page)[1].key, "p1");
  page = store_->ListFragments(Customer('a'), "p", "p3", 10, &more);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].key, "p4");
  EXPECT_FALSE(more);
  page = store_->ListFragments(Customer('a'), "", "", 100, &more);
  EXPECT_EQ(page->size(), 6u);
  page = store_->ListFragments(Customer('b'), "", "", 100, &more);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].key, "p9");
}

TEST_F(StoreTest, ObjectsAndVaultClaims) {
  Open();
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 10000, 0, 1).ok());
  ASSERT_TRUE(store_->RequestContract(Customer('b'), 10000, 0, 1).ok());
  ASSERT_TRUE(store_->PutObject(Customer('a'), "keys", "A-key-record", "vault-1").ok());
  EXPECT_EQ(store_->PutObject(Customer('b'), "snapshots/1", "B", "vault-1").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto kr = store_->GetKeyRecord("vault-1");
  ASSERT_TRUE(kr.ok());
  ASSERT_EQ(kr->size(), 1u);
  EXPECT_EQ((*kr)[0].data, "A-key-record");
  EXPECT_EQ((*kr)[0].customer_key, Customer('a'));
  EXPECT_TRUE(absl::IsNotFound(store_->GetKeyRecord("vault-2").status()));
  // A vault ID that is a prefix of another does not see the other's claims.
  EXPECT_TRUE(absl::IsNotFound(store_->GetKeyRecord("vault-").status()));
  EXPECT_EQ(store_->GetContract(Customer('a'))->used_bytes(), 16u);
  // A second customer adds its own candidate; it does not replace a's.
  clock_.Advance(10);
  ASSERT_TRUE(store_->PutObject(Customer('b'), "keys", "B", "vault-1").ok());
  kr = store_->GetKeyRecord("vault-1");
  ASSERT_EQ(kr->size(), 2u);
  EXPECT_EQ((*kr)[0].customer_key, Customer('a'));
  EXPECT_EQ((*kr)[1].customer_key, Customer('b'));
  EXPECT_EQ((*kr)[1].data, "B");
  // Replacing counts the net change, and keeps the claim's place.
  clock_.Advance(10);
  ASSERT_TRUE(store_->PutObject(Customer('a'), "keys", "A2", "").ok());
  EXPECT_EQ(store_->GetContract(Customer('a'))->used_bytes(), 6u);
  kr = store_->GetKeyRecord("vault-1");
  ASSERT_EQ(kr->size(), 2u);
  EXPECT_EQ((*kr)[0].data, "A2");
  EXPECT_EQ((*kr)[0].stored_ms, clock_.NowMs());
  EXPECT_LT((*kr)[0].registered_ms, (*kr)[1].registered_ms);
  EXPECT_EQ(*store_->GetObject(Customer('b'), "keys"), "B");
  // The claims survive a reopen.
  Open();
  ASSERT_EQ(store_->GetKeyRecord("vault-1")->size(), 2u);
  ASSERT_TRUE(store_->DeleteObjects(Customer('a'), {"keys"}).ok());
  kr = store_->GetKeyRecord("vault-1");
  ASSERT_EQ(kr->size(), 1u);
  EXPECT_EQ((*kr)[0].customer_key, Customer('b'));
  EXPECT_EQ(store_->GetContract(Customer('a'))->used_bytes(), 0u);
  // Claiming another vault ID releases the previous claim.
  ASSERT_TRUE(store_->PutObject(Customer('b'), "keys", "B", "vault-2").ok());
  EXPECT_TRUE(absl::IsNotFound(store_->GetKeyRecord("vault-1").status()));
  EXPECT_EQ(store_->GetKeyRecord("vault-2")->size(), 1u);
  // The key record object is small.
  EXPECT_EQ(store_
                ->PutObject(Customer('a'), "keys",
                            std::string(protocol::kMaxKeyRecordBytes + 1, 'x'), "vault-1")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// Issue 11: zero-byte items used to cost nothing, yet each is a file, an
// inode and index records.
TEST_F(StoreTest, ZeroByteItemsCostAMinimumAndItemsAreCapped) {
  min_item_charge_ = 4096;
  max_items_ = 3;
  Open();
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 3 * 4096 + 100, 0, 1).ok());
  auto u = Put(Customer('a'), "empty", "");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->used_bytes, 4096u + 5);
  ASSERT_TRUE(store_->PutObject(Customer('a'), "o", "", "").ok());
  EXPECT_EQ(store_->GetContract(Customer('a'))->used_bytes(), 4096u + 5 + 4096 + 1);
  ASSERT_TRUE(Put(Customer('a'), "x", Bytes(10, 1)).ok());
  // A fourth item is refused by the item cap (the bytes would still fit).
  auto fourth = Put(Customer('a'), "y", "");
  EXPECT_EQ(fourth.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(fourth.status().message().find("3 fragments and objects (the limit)"),
            std::string::npos)
      << fourth.status();
  EXPECT_EQ(store_->PutObject(Customer('a'), "o2", "", "").status().code(),
            absl::StatusCode::kResourceExhausted);
  // Replacing an item is not a new item; deleting one makes room.
  EXPECT_TRUE(store_->PutObject(Customer('a'), "o", "new", "").ok());
  ASSERT_TRUE(store_->DeleteFragments(Customer('a'), {"empty"}).ok());
  EXPECT_TRUE(Put(Customer('a'), "y", "").ok());
  // The charges survive a reopen (reconciliation counts the same way).
  const uint64_t used = store_->GetContract(Customer('a'))->used_bytes();
  Open();
  EXPECT_EQ(report_.usage_corrected, 0);
  EXPECT_EQ(store_->GetContract(Customer('a'))->used_bytes(), used);
}

// Issue 11: --capacity 8GiB on a disk with 146 MiB free granted 2 GiB.
TEST_F(StoreTest, GrantsRespectTheFreeDiskLessTheReserve) {
  free_disk_ = 100 << 20;
  disk_reserve_ = 10 << 20;
  Open(8ULL << 30);
  // 90 MiB may be promised; not 91.
  EXPECT_TRUE(store_->RequestContract(Customer('a'), 60 << 20, 0, 1).ok());
  auto s = store_->RequestContract(Customer('b'), 31 << 20, 0, 1);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(s.status().message().find("disk"), std::string::npos) << s.status();
  EXPECT_TRUE(store_->RequestContract(Customer('b'), 30 << 20, 0, 1).ok());
  // Data stored counts as no longer promised: with 4 MiB stored and the
  // disk 4 MiB fuller, the same grant still fits; shrinking always works.
  ASSERT_TRUE(Put(Customer('a'), "f", Bytes(4 << 20, 1)).ok());
  free_disk_ -= 4 << 20;
  EXPECT_TRUE(store_->RequestContract(Customer('a'), 60 << 20, 0, 1).ok());
  EXPECT_EQ(store_->RequestContract(Customer('a'), 61 << 20, 0, 1).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(store_->RequestContract(Customer('b'), 1 << 20, 0, 1).ok());
}

TEST_F(StoreTest, SquattersCannotPushOutAnEarlierClaim) {
  Open(1 << 30);
  // The honest customer registers first; then squatters fill the list.
  ASSERT_TRUE(store_->RequestContract(Customer('A'), 1000, 0, 1).ok());
  ASSERT_TRUE(store_->PutObject(Customer('A'), "keys", "honest", "vault").ok());
  for (size_t i = 1; i <= protocol::kMaxKeyRecordCandidates; ++i) {
    clock_.Advance(1);
    const std::string squatter = Customer(static_cast<char>('a' + i));
    ASSERT_TRUE(store_->RequestContract(squatter, 1000, 0, 1).ok());
    absl::Status s = store_->PutObject(squatter, "keys", "fake", "vault").status();
    if (i < protocol::kMaxKeyRecordCandidates) {
      EXPECT_TRUE(s.ok()) << i << ": " << s;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
    }
  }
  auto kr = store_->GetKeyRecord("vault");
  ASSERT_TRUE(kr.ok());
  EXPECT_EQ(kr->size(), protocol::kMaxKeyRecordCandidates);
  EXPECT_EQ((*kr)[0].data, "honest");
  // Squatters overwriting their own records change nothing for the honest one.
  ASSERT_TRUE(store_->PutObject(Customer('b'), "keys", "fake2", "vault").ok());
  EXPECT_EQ((*store_->GetKeyRecord("vault"))[0].data, "honest");
  // The honest customer may still update its own record while the list is full.
  ASSERT_TRUE(store_->PutObject(Customer('A'), "keys", "honest-2", "vault").ok());
  EXPECT_EQ((*store_->GetKeyRecord("vault"))[0].data, "honest-2");
  // Cancelling a squatter frees its slot.
  ASSERT_TRUE(store_->CancelContract(Customer('b')).ok());
  EXPECT_EQ(store_->GetKeyRecord("vault")->size(), protocol::kMaxKeyRecordCandidates - 1);
}

TEST_F(StoreTest, FormatOneVaultClaimsAreMigrated) {
  Open();
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 10000, 0, 1).ok());
  ASSERT_TRUE(store_->PutObject(Customer('a'), "keys", "A", "").ok());
  store_.reset();
  {
    // Turn the data dir into format 1: a "vaults" entry, no key_claims.
    rocksdb::DB* db = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name :
         {"default", "contracts", "fragments", "objects", "vaults", "nonces", "key_claims"}) {
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::DBOptions(), (dir_ / "db").string(), cfs, &handles, &db).ok());
    ContractRecord rec;
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), handles[1], Customer('a'), &value).ok());
    ASSERT_TRUE(rec.ParseFromString(value));
    rec.set_vault_id("old-vault");
    rocksdb::WriteBatch b;
    b.Put(handles[1], Customer('a'), rec.SerializeAsString());
    b.Put(handles[4], "old-vault", Customer('a'));
    b.Put(handles[0], "format", "1");
    ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &b).ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  Open();
  auto kr = store_->GetKeyRecord("old-vault");
  ASSERT_TRUE(kr.ok()) << kr.status();
  ASSERT_EQ(kr->size(), 1u);
  EXPECT_EQ((*kr)[0].data, "A");
  EXPECT_EQ((*kr)[0].customer_key, Customer('a'));
}

TEST_F(StoreTest, CancelFreesEverythingAndAbortsUploadsInFlight) {
  Open(100000);
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 50000, 0, 1).ok());
  ASSERT_TRUE(Put(Customer('a'), "k", Bytes(1000, 1)).ok());
  ASSERT_TRUE(store_->PutObject(Customer('a'), "keys", "kr", "v").ok());
  std::string data = Bytes(500, 2);
  auto begin = store_->BeginFragment(Customer('a'), "late", 500, crypto::Sha256(data));
  ASSERT_TRUE(begin.ok());
  ASSERT_TRUE(begin->upload->Append(data).ok());
  auto freed = store_->CancelContract(Customer('a'));
  ASSERT_TRUE(freed.ok());
  EXPECT_EQ(*freed, 1007u);  // 1000 + "k", 2 + "keys"
  bool already;
  EXPECT_EQ(begin->upload->Commit(&already).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(FilesOnDisk(), 0u);
  Totals t = store_->GetTotals();
  EXPECT_EQ(t.granted_bytes, 0u);
  EXPECT_EQ(t.used_bytes, 0u);
  EXPECT_EQ(t.customers, 0u);
  EXPECT_TRUE(absl::IsNotFound(store_->GetKeyRecord("v").status()));
  EXPECT_EQ(store_->Touch(Customer('a')).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(store_->RequestContract(Customer('b'), 100000, 0, 1).ok());
}

TEST_F(StoreTest, LeaseExpiryPlusGraceReapsAndActivityRenews) {
  Open(100000);
  ASSERT_TRUE(store_->RequestContract(Customer('a'), 50000, 0, 1).ok());
  ASSERT_TRUE(store_->RequestContract(Customer('b'), 50000, 0, 1).ok());
  ASSERT_TRUE(Put(Customer('a'), "k", Bytes(1000, 1)).ok());
  ASSERT_TRUE(Put(Customer('b'), "k", Bytes(1000, 1)).ok());
  clock_.Advance(9000);
  ASSERT_TRUE(store_->Touch(Customer('b')).ok());  // b stays active
  clock_.Advance(5000);                            // a: expired, within grace
  EXPECT_EQ(store_->ReapExpired(clock_.NowMs())->contracts_reaped, 0);
  clock_.Advance(1001);  // a: 10 s lease + 5 s grace passed
  auto r = store_->ReapExpired(clock_.NowMs());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->contracts_reaped, 1);
  EXPECT_EQ(r->freed_bytes, 1001u);
  EXPECT_TRUE(absl::IsNotFound(store_->GetContract(Customer('a')).status()));
  EXPECT_TRUE(Read(Customer('b'), "k").ok());
  EXPECT_EQ(FilesOnDisk(), 1u);
  Totals t = store_->GetTotals();
  EXPECT_EQ(t.granted_bytes, 50000u);
  EXPECT_EQ(t.used_bytes, 1001u);
  // The renewal was persisted: a reopened store agrees.
  Open(100000);
  EXPECT_EQ(store_->ReapExpired(clock_.NowMs())->contracts_reaped, 0);
  EXPECT_EQ(store_->GetTotals().customers, 1u);
}

TEST_F(StoreTest, NoncesPersistUntilForgotten) {
  Open();
  ASSERT_TRUE(store_->RememberNonce(1000, Customer('a'), "n1").ok());
  ASSERT_TRUE(store_->RememberNonce(2000, Customer('a'), "n2").ok());
  ASSERT_TRUE(store_->RememberNonce(-5, Customer('b'), "n0").ok());
  Open();
  auto all = store_->LoadNonces(-100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].timestamp_ms, -5);
  EXPECT_EQ((*all)[2].nonce, "n2");
  EXPECT_EQ((*all)[2].customer, Customer('a'));
  ASSERT_TRUE(store_->ForgetNoncesBefore(1500).ok());
  all = store_->LoadNonces(-100);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].timestamp_ms, 2000);
}

}  // namespace
}  // namespace shardkeep::supplier

// Fuzzes the supplier's reading of its own records at rest
// (supplier/records.proto in RocksDB, docs/STORAGE.md): a disk error, a bad
// restore from backup or a hand edit can leave any bytes there, and the
// daemon must then refuse to start or carry on with an error, never crash.
//
// Input: up to 48 entries, each a kind byte then
//   kind 0..5: Field() key, Field() value: a RocksDB entry in that column
//              family (default, contracts, fragments, objects, vaults, nonces, key_claims);
//   kind 6:    16-byte file ID, Field() bytes: a committed fragment file;
//   kind 7:    Field() name: a stray file in a fragments/<xx>/ directory.
// The harness writes them, opens the Store (start-up reconciliation reads
// every record) and, if it opens, runs every kind of operation as each
// customer the contracts name: renew, touch, list, open and read fragments,
// put, delete, objects, key records, nonces, reap, cancel. Properties:
//   - nothing crashes or overflows (UBSan) whatever the records say;
//   - Store::Open either fails with a status or reconciles completely: a
//     second Open right after finds nothing left to repair (the operations
//     then run on that second Store).
#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "glog/logging.h"
#include "supplier/clock.h"
#include "supplier/fragment_files.h"
#include "supplier/records.pb.h"
#include "supplier/store.h"
#include "tests/fuzz/fuzz_store.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using shardkeep::fuzz::Input;
namespace crypto = shardkeep::crypto;
namespace fuzz = shardkeep::fuzz;
namespace supplier = shardkeep::supplier;

class FixedClock : public supplier::Clock {
 public:
  int64_t NowMs() override { return fuzz::kNowMs; }
};

const std::string& Dir() {
  static const std::string& dir = *[] {  // never destroyed: the atexit cleanup uses it
    FLAGS_minloglevel = 3;               // reconciliation logs every repair at ERROR
    auto* d = new std::string(fuzz::MakeScratchDir("store-fuzz") + "/data");
    std::atexit([] { fuzz::RemoveTree(Dir().substr(0, Dir().rfind('/'))); });
    return d;
  }();
  return dir;
}

supplier::StoreOptions Options(FixedClock* clock) {
  supplier::StoreOptions o;
  o.capacity_bytes = 64 << 20;
  o.max_fragment_bytes = 1 << 20;
  o.clock = clock;
  o.direct_io = false;
  return o;
}

// Every operation a customer can cause, on whatever the records hold.
void Exercise(supplier::Store& store, const std::string& who) {
  store.GetContract(who).IgnoreError();
  store.Touch(who).IgnoreError();
  store.RenewContract(who).IgnoreError();
  bool more = false;
  auto frags = store.ListFragments(who, "", "", 1000, &more);
  std::vector<std::string> keys;
  if (frags.ok()) {
    for (const auto& f : *frags) {
      keys.push_back(f.key);
      auto opened = store.OpenFragment(who, f.key);
      if (opened.ok()) {
        std::string bytes;
        opened->reader->ReadAt(0, 1 << 16, &bytes).IgnoreError();
      }
    }
  }
  store.ListFragments(who, "a", "a", 1, &more).IgnoreError();
  auto objects = store.ListObjects(who, "", "", 1000, &more);
  std::vector<std::string> names;
  if (objects.ok()) {
    for (const auto& o : *objects) {
      names.push_back(o.name);
      store.GetObject(who, o.name).IgnoreError();
    }
  }
  auto contract = store.GetContract(who);
  if (contract.ok() && !contract->vault_id().empty()) {
    store.GetKeyRecord(contract->vault_id()).IgnoreError();
  }
  const std::string data = "fuzz";
  auto begin = store.BeginFragment(who, "fuzz.0", data.size(), crypto::Sha256(data));
  if (begin.ok() && begin->upload != nullptr) {
    if (begin->upload->Append(data).ok()) {
      bool already = false;
      begin->upload->Commit(&already).IgnoreError();
    }
  }
  store.PutObject(who, "keys", "record", std::string(16, 'v')).IgnoreError();
  store.PutObject(who, "snapshots/x", data, "").IgnoreError();
  keys.push_back("fuzz.0");
  store.DeleteFragments(who, keys).IgnoreError();
  names.push_back("keys");
  store.DeleteObjects(who, names).IgnoreError();
  if (contract.ok()) {
    store
        .RequestContract(who, contract->quota_bytes(), contract->position(),
                         contract->supplier_count())
        .IgnoreError();
  }
  store.RequestContract(who, 1 << 20, 0, 2).IgnoreError();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = Dir();
  fuzz::RemoveTree(dir);
  FUZZ_CHECK(mkdir(dir.c_str(), 0700) == 0);

  Input in(data, size);
  std::vector<fuzz::DbEntry> entries;
  std::vector<std::string> customers;
  auto files = supplier::NewPosixFragmentFiles(dir + "/fragments", false);
  FUZZ_CHECK(files.ok());
  for (int i = 0; i < 48 && !in.empty(); ++i) {
    const uint8_t kind = in.Byte() % 8;
    if (kind < 6) {
      fuzz::DbEntry e{kind, std::string(in.Field()), std::string(in.Field())};
      if (kind == 1 && customers.size() < 4) customers.push_back(e.key);
      entries.push_back(std::move(e));
    } else if (kind == 6) {
      std::string id(in.Take(supplier::kFileIdSize));
      id.resize(supplier::kFileIdSize, '\0');
      const std::string_view bytes = in.Field();
      auto w = (*files)->Create(id);
      if (w.ok() && (*w)->Append(bytes).ok()) (*w)->Commit().IgnoreError();
    } else {
      std::string name(in.Field());
      for (char& c : name) {
        if (c == '/' || c == '\0') c = '_';
      }
      if (name.empty() || name == "." || name == "..") continue;
      const std::string sub = dir + "/fragments/" + crypto::ToHex(name.substr(0, 1));
      mkdir(sub.c_str(), 0700);
      FILE* f = std::fopen((sub + "/" + name).c_str(), "w");
      if (f != nullptr) std::fclose(f);
    }
  }
  files->reset();
  FUZZ_CHECK(fuzz::WriteStoreDb(dir, entries));

  FixedClock clock;
  {
    auto store = supplier::Store::Open(dir, Options(&clock));
    if (!store.ok()) return 0;  // refusing to start on a bad data dir is fine
  }
  // Reconciliation is complete in one pass: a second start repairs nothing.
  supplier::OpenReport report;
  auto store = supplier::Store::Open(dir, Options(&clock), &report);
  FUZZ_CHECK(store.ok());
  FUZZ_CHECK(report.temporaries_removed == 0 && report.orphan_files_removed == 0);
  FUZZ_CHECK(report.missing_files == 0 && report.usage_corrected == 0);
  for (const std::string& who : customers) Exercise(**store, who);
  (*store)->ReapExpired(clock.NowMs()).IgnoreError();
  (*store)->ReaperLastSeenMs().IgnoreError();
  (*store)->LoadNonces(fuzz::kNowMs - 1000).IgnoreError();
  (*store)->ForgetNoncesBefore(fuzz::kNowMs).IgnoreError();
  const supplier::Totals t = (*store)->GetTotals();
  FUZZ_CHECK(t.capacity_bytes == (64u << 20));
  return 0;
}

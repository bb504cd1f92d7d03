// For the supplier targets: writes a supplier's RocksDB directly, with the
// layout of docs/STORAGE.md, so a target can plant a known supplier ID or
// arbitrary (corrupt) records before Store::Open reads them.
#ifndef SHARDKEEP_TESTS_FUZZ_FUZZ_STORE_H_
#define SHARDKEEP_TESTS_FUZZ_FUZZ_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace shardkeep::fuzz {

// The column families of docs/STORAGE.md, in the order Store opens them.
inline const std::vector<std::string>& StoreColumnFamilies() {
  static const std::vector<std::string> kCfs = {
      rocksdb::kDefaultColumnFamilyName, "contracts", "fragments", "objects", "vaults", "nonces",
      "key_claims"};
  return kCfs;
}

struct DbEntry {
  size_t cf;  // index into StoreColumnFamilies()
  std::string key, value;
};

// Creates <data_dir>/db with `entries` (data_dir must exist). False on a
// RocksDB error.
inline bool WriteStoreDb(const std::string& data_dir, const std::vector<DbEntry>& entries) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.allow_fallocate = false;  // WAL preallocation costs ~80 ms per open on tmpfs
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& name : StoreColumnFamilies())
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::Open(options, data_dir + "/db", cfs, &handles, &db).ok()) return false;
  rocksdb::WriteBatch batch;
  for (const DbEntry& e : entries) batch.Put(handles[e.cf % handles.size()], e.key, e.value);
  const bool ok = db->Write(rocksdb::WriteOptions(), &batch).ok();
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db->Close();
  delete db;
  return ok;
}

}  // namespace shardkeep::fuzz

#endif  // SHARDKEEP_TESTS_FUZZ_FUZZ_STORE_H_

#include "supplier/store.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto.h"
#include "common/units.h"
#include "glog/logging.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace shardkeep::supplier {
namespace {

// Column families (docs/STORAGE.md).
constexpr char kContractsCf[] = "contracts";  // customer -> ContractRecord
constexpr char kFragmentsCf[] = "fragments";  // customer || key -> FragmentRecord
constexpr char kObjectsCf[] = "objects";      // customer || name -> object bytes
constexpr char kVaultsCf[] = "vaults";        // format 1: vault_id -> customer (migrated)
constexpr char kNoncesCf[] = "nonces";        // be64(ts ^ 2^63) || customer || nonce -> ""
constexpr char kClaimsCf[] = "key_claims";    // u8 len || vault_id || customer -> KeyClaimRecord
// Keys of the default column family.
constexpr char kSupplierIdKey[] = "supplier_id";
constexpr char kFormatKey[] = "format";
constexpr char kFormatVersion[] = "2";
constexpr char kFormatVersion1[] = "1";  // read and migrated at open
constexpr char kReaperLastSeenKey[] = "reaper_last_seen_ms";
constexpr char kNonceFloorKey[] = "nonce_floor_ms";

std::string Short(std::string_view customer) {
  return crypto::ToHex(customer.substr(0, std::min<size_t>(customer.size(), 4)));
}

std::string Cat(std::string_view a, std::string_view b) {
  std::string out;
  out.reserve(a.size() + b.size());
  out.append(a.data(), a.size());
  out.append(b.data(), b.size());
  return out;
}

rocksdb::Slice S(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat("rocksdb ", std::string(what), ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(absl::StrCat("disk full: ", msg));
  return absl::InternalError(msg);
}

std::string NonceKey(int64_t ts, std::string_view customer, std::string_view nonce) {
  uint64_t u = static_cast<uint64_t>(ts) ^ (1ULL << 63);
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[i] = static_cast<char>(u & 0xff);
    u >>= 8;
  }
  key.append(customer.data(), customer.size());
  key.append(nonce.data(), nonce.size());
  return key;
}

// The claims on one vault ID are a prefix range; the length byte keeps a
// vault ID that is a prefix of another from reaching into its range.
std::string ClaimPrefix(std::string_view vault_id) {
  std::string key(1, static_cast<char>(vault_id.size()));
  key.append(vault_id.data(), vault_id.size());
  return key;
}
std::string ClaimKey(std::string_view vault_id, std::string_view customer) {
  return Cat(ClaimPrefix(vault_id), customer);
}

std::string EncodeInt64(int64_t v) {
  std::string out(8, '\0');
  uint64_t u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(u & 0xff);
    u >>= 8;
  }
  return out;
}
std::optional<int64_t> DecodeInt64(std::string_view s) {
  if (s.size() != 8) return std::nullopt;
  uint64_t u = 0;
  for (char c : s) u = (u << 8) | static_cast<unsigned char>(c);
  return static_cast<int64_t>(u);
}

int64_t NonceKeyTimestamp(std::string_view key) {
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>(key[i]);
  return static_cast<int64_t>(u ^ (1ULL << 63));
}

absl::Status CheckCustomer(std::string_view customer) {
  if (customer.size() != kCustomerKeySize) {
    return absl::InvalidArgumentError(absl::StrFormat("customer key must be %d bytes, got %d",
                                                      kCustomerKeySize, customer.size()));
  }
  return absl::OkStatus();
}

absl::Status NoContract(std::string_view customer) {
  return absl::PermissionDeniedError(
      absl::StrCat("customer ", Short(customer),
                   "... has no contract with this supplier (RequestContract first)"));
}

std::string QuotaMessage(const ContractRecord& rec, uint64_t reserved, uint64_t asked,
                         std::string_view what) {
  return absl::StrFormat(
      "quota exceeded: %s needs %d bytes, but the quota is %d bytes (%s) with %d bytes used (%s)"
      "%s",
      std::string(what), asked, rec.quota_bytes(), FormatByteSize(rec.quota_bytes()),
      rec.used_bytes(), FormatByteSize(rec.used_bytes()),
      reserved == 0 ? std::string()
                    : absl::StrFormat(" and %d bytes reserved by uploads in progress", reserved));
}

}  // namespace

uint64_t ItemCharge(uint64_t size, size_t name_bytes, uint64_t min_item_charge) {
  return std::max(size, min_item_charge) + name_bytes;
}

// In-memory mirror of one contract. `record` equals the persisted
// ContractRecord at all times outside mu (every change is written first).
struct Store::Customer {
  absl::Mutex mu;
  ContractRecord record ABSL_GUARDED_BY(mu);
  uint64_t reserved ABSL_GUARDED_BY(mu) = 0;  // bytes of uploads in progress
  bool gone ABSL_GUARDED_BY(mu) = false;      // cancelled or reaped
};

struct Store::FragmentUpload::Hasher {
  crypto::Sha256Stream sha;
};

Store::Store(std::string data_dir, StoreOptions options)
    : data_dir_(std::move(data_dir)), options_(std::move(options)) {}

Store::~Store() {
  if (db_ != nullptr) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
    delete db_;
  }
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& data_dir,
                                                   StoreOptions options, OpenReport* report) {
  CHECK(options.clock != nullptr) << "StoreOptions.clock is required";
  if (mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(
        absl::StrCat("cannot create data dir ", data_dir, ": ", std::strerror(errno)));
  }
  if (options.files == nullptr) {
    // Never recreate a fragments directory next to a database that indexes
    // it, nor start a new database over fragment files: either means a disk
    // not mounted or a copy restored in part, and reconciliation would then
    // drop (or orphan) everything.
    const std::string frag_dir = data_dir + "/fragments";
    std::error_code ec;
    const bool had_db = std::filesystem::exists(data_dir + "/db/CURRENT", ec);
    const bool had_frags = std::filesystem::is_directory(frag_dir, ec);
    if (had_db && !had_frags) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data dir ", data_dir, " has a database but no fragments directory ", frag_dir,
          "; refusing to start so that nothing is dropped (is the disk that holds it mounted?). "
          "If the fragments are truly lost, create the empty directory and start with "
          "--accept-missing-files"));
    }
    ASSIGN_OR_RETURN(options.files, NewPosixFragmentFiles(frag_dir, options.direct_io));
    if (!had_db && had_frags) {
      ASSIGN_OR_RETURN(std::vector<std::string> present, options.files->List());
      if (!present.empty()) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "data dir %s holds %d fragment files but no database (%s/db): refusing to start a "
            "new, empty supplier over them (restore the database, or move the files away)",
            data_dir, present.size(), data_dir));
      }
    }
  }
  if (!options.free_disk_bytes) {
    options.free_disk_bytes = [data_dir]() -> absl::StatusOr<uint64_t> {
      struct statvfs fs;
      if (statvfs(data_dir.c_str(), &fs) != 0) {
        return absl::InternalError(absl::StrCat("statvfs ", data_dir, ": ", std::strerror(errno)));
      }
      return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    };
  }
  std::unique_ptr<Store> store(new Store(data_dir, std::move(options)));
  OpenReport local;
  if (report == nullptr) report = &local;
  *report = OpenReport();
  const auto t0 = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(store->OpenDb(report));
  report->db_open_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  RETURN_IF_ERROR(store->Reconcile(report));
  LOG(INFO) << "start-up: database opened in " << report->db_open_ms
            << " ms; fragment files read in " << report->file_scan_ms << " ms; index of "
            << report->fragments << " fragments and " << report->objects << " objects checked in "
            << report->index_check_ms << " ms";
  return store;
}

absl::Status Store::OpenDb(OpenReport* report) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.keep_log_file_num = 4;
  db_options.max_open_files = 512;
  db_options.max_total_wal_size = 64 << 20;

  rocksdb::ColumnFamilyOptions small;
  small.write_buffer_size = 4 << 20;
  small.max_write_buffer_number = 2;
  rocksdb::ColumnFamilyOptions objects = small;
  objects.write_buffer_size = 16 << 20;
  objects.compression = rocksdb::kNoCompression;  // customer objects are encrypted

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, small},
                                                      {kContractsCf, small},
                                                      {kFragmentsCf, small},
                                                      {kObjectsCf, objects},
                                                      {kVaultsCf, small},
                                                      {kNoncesCf, small},
                                                      {kClaimsCf, small}};
  std::string path = data_dir_ + "/db";
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, cfs, &handles_, &db_);
  if (!s.ok()) {
    return absl::InternalError(absl::StrCat("cannot open the database ", path, ": ", s.ToString()));
  }
  meta_cf_ = handles_[0];
  contracts_cf_ = handles_[1];
  fragments_cf_ = handles_[2];
  objects_cf_ = handles_[3];
  vaults_cf_ = handles_[4];
  nonces_cf_ = handles_[5];
  claims_cf_ = handles_[6];

  std::string format;
  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kFormatKey, &format);
  if (s.ok() && format == kFormatVersion1) {
    RETURN_IF_ERROR(MigrateVaultsToKeyClaims());
    format = kFormatVersion;
  }
  if (s.ok() && format != kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("data dir ", data_dir_, " has storage format ", format,
                     "; this build reads format ", kFormatVersion));
  }
  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kSupplierIdKey, &supplier_id_);
  if (s.IsNotFound()) {
    supplier_id_ = crypto::RandomBytes(kSupplierIdSize);
    rocksdb::WriteBatch batch;
    batch.Put(meta_cf_, kSupplierIdKey, S(supplier_id_));
    batch.Put(meta_cf_, kFormatKey, kFormatVersion);
    RETURN_IF_ERROR(WriteSynced(&batch));
    LOG(INFO) << "new data dir " << data_dir_ << ": supplier id " << crypto::ToHex(supplier_id_);
  } else if (!s.ok()) {
    return FromRocks(s, "read supplier id");
  } else if (supplier_id_.size() != kSupplierIdSize) {
    return absl::DataLossError("stored supplier id has the wrong size");
  }
  return absl::OkStatus();
}

absl::Status Store::MigrateVaultsToKeyClaims() {
  rocksdb::WriteBatch batch;
  int migrated = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), vaults_cf_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string vault_id = it->key().ToString();
    const std::string customer = it->value().ToString();
    batch.Delete(vaults_cf_, it->key());
    if (vault_id.empty() || vault_id.size() > 255 || customer.size() != kCustomerKeySize) continue;
    // Format 1 kept no times: order the old claim by its contract's age (the
    // only claim per vault ID format 1 allowed, so the order is moot).
    KeyClaimRecord claim;
    std::string value;
    ContractRecord contract;
    if (db_->Get(rocksdb::ReadOptions(), contracts_cf_, customer, &value).ok() &&
        contract.ParseFromString(value)) {
      claim.set_registered_ms(contract.created_ms());
    }
    claim.set_stored_ms(claim.registered_ms());
    batch.Put(claims_cf_, ClaimKey(vault_id, customer), claim.SerializeAsString());
    ++migrated;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scan vaults (format 1)"));
  batch.Put(meta_cf_, kFormatKey, kFormatVersion);
  RETURN_IF_ERROR(WriteSynced(&batch));
  LOG(WARNING) << "data dir " << data_dir_ << ": storage format 1 -> " << kFormatVersion << ": "
               << migrated << " vault ID claims moved to column family " << kClaimsCf;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int64_t>> Store::ReaperLastSeenMs() {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kReaperLastSeenKey, &value);
  if (s.IsNotFound()) return std::optional<int64_t>();
  RETURN_IF_ERROR(FromRocks(s, "read the reaper's last clock reading"));
  std::optional<int64_t> v = DecodeInt64(value);
  if (!v) return absl::DataLossError("the reaper's last clock reading is not 8 bytes");
  return v;
}

absl::Status Store::SetReaperLastSeenMs(int64_t ms) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Put(wo, meta_cf_, kReaperLastSeenKey, EncodeInt64(ms)),
                   "write the reaper's clock reading");
}

absl::StatusOr<DataDirStatus> Store::ReadStatus(const std::string& data_dir, int64_t now_ms) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : {rocksdb::kDefaultColumnFamilyName.c_str(), kContractsCf, kFragmentsCf,
                           kObjectsCf, kVaultsCf, kNoncesCf, kClaimsCf}) {
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  const std::string path = data_dir + "/db";
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, cfs, &handles, &db);
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the database ", path, ": ", s.ToString()));
  }
  absl::Cleanup close = [&] {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  };
  DataDirStatus st;
  std::string value;
  if (db->Get(rocksdb::ReadOptions(), handles[0], kSupplierIdKey, &value).ok()) {
    st.supplier_id = crypto::ToHex(value);
  }
  db->Get(rocksdb::ReadOptions(), handles[0], kFormatKey, &st.format).PermitUncheckedError();
  if (db->Get(rocksdb::ReadOptions(), handles[0], kReaperLastSeenKey, &value).ok()) {
    st.reaper_last_seen_ms = DecodeInt64(value);
  }
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[1]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ContractRecord rec;
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) continue;
    ++st.customers;
    st.granted_bytes += rec.quota_bytes();
    st.used_bytes += rec.used_bytes();
    st.fragments += rec.fragments();
    st.objects += rec.objects();
    const int64_t expires = rec.lease_expires_ms();
    if (expires < now_ms) {
      ++st.leases_expired;
    } else if (expires < now_ms + 14LL * 24 * 3600 * 1000) {
      ++st.leases_expiring_14d;
    }
    if (expires >= now_ms && (st.next_lease_expiry_ms == 0 || expires < st.next_lease_expiry_ms)) {
      st.next_lease_expiry_ms = expires;
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scan contracts"));
  it.reset(db->NewIterator(rocksdb::ReadOptions(), handles[6]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++st.key_claims;
  RETURN_IF_ERROR(FromRocks(it->status(), "scan key claims"));
  it.reset();
  return st;
}

absl::StatusOr<std::optional<int64_t>> Store::NonceFloorMs() {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kNonceFloorKey, &value);
  if (s.IsNotFound()) return std::optional<int64_t>();
  RETURN_IF_ERROR(FromRocks(s, "read the nonce floor"));
  std::optional<int64_t> v = DecodeInt64(value);
  if (!v) return absl::DataLossError("the nonce floor is not 8 bytes");
  return v;
}

absl::Status Store::SetNonceFloorMs(int64_t ms) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Put(wo, meta_cf_, kNonceFloorKey, EncodeInt64(ms)),
                   "write the nonce floor");
}

// Start-up reconciliation (docs/STORAGE.md, "Crash safety"): temporaries are
// uploads that never committed; files no index record names are uploads that
// crashed between rename and commit, or deletes that crashed between commit
// and unlink; usage is recomputed from the index and objects.
absl::Status Store::Reconcile(OpenReport* report) {
  auto since_ms = [](std::chrono::steady_clock::time_point t) {
    return static_cast<int64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
            .count());
  };
  const auto scan_start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(report->temporaries_removed, options_.files->RemoveTemporaries());
  ASSIGN_OR_RETURN(std::vector<std::string> listed, options_.files->List());
  report->file_scan_ms = since_ms(scan_start);
  const auto check_start = std::chrono::steady_clock::now();
  std::unordered_set<std::string> on_disk(listed.begin(), listed.end());
  std::unordered_set<std::string> referenced;

  // Contracts.
  std::map<std::string, ContractRecord> contracts;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), contracts_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ContractRecord rec;
      if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError("unparsable contract record for customer " +
                                   crypto::ToHex(it->key().ToString()));
      }
      contracts[it->key().ToString()] = rec;
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan contracts"));
  }

  struct Count {
    uint64_t bytes = 0, fragments = 0, objects = 0;
  };
  std::map<std::string, Count> counted;
  rocksdb::WriteBatch fix;
  {
    // First only count the records whose file is gone: many of them mean
    // the wrong disk or an old database, and then nothing may be changed.
    uint64_t total = 0, missing = 0;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), fragments_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      FragmentRecord rec;
      if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) continue;
      ++total;
      if (!on_disk.count(rec.file_id())) ++missing;
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan fragments"));
    const uint64_t allowed = std::max<uint64_t>(
        options_.max_missing_files,
        static_cast<uint64_t>(options_.max_missing_share * static_cast<double>(total)));
    if (missing > allowed && !options_.accept_missing_files) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "data dir %s: %d of the %d indexed fragment files are missing (more than the %d "
          "tolerated); refusing to start, nothing was changed. Is the right disk mounted, or "
          "was the database restored from an older copy? To drop the missing fragments from "
          "the index anyway, start with --accept-missing-files",
          data_dir_, missing, total, allowed));
    }
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), fragments_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string key = it->key().ToString();
      std::string customer = key.substr(0, kCustomerKeySize);
      FragmentRecord rec;
      bool parsed = rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()));
      if (!parsed || !contracts.count(customer) || !on_disk.count(rec.file_id())) {
        // A record without its file (or contract) cannot be served: drop it,
        // loudly. The crash-safe write order makes this impossible unless the
        // disk lost data or someone edited the data dir.
        // (A corrupt key may be shorter than a customer key: no substr throw.)
        LOG(ERROR) << "fragment " << key.substr(std::min(key.size(), kCustomerKeySize))
                   << " of customer " << Short(customer) << "... "
                   << (!parsed                      ? "has an unparsable record"
                       : !contracts.count(customer) ? "has no contract"
                                                    : "has lost its file")
                   << "; dropping it from the index";
        fix.Delete(fragments_cf_, key);
        ++report->missing_files;
        continue;
      }
      referenced.insert(rec.file_id());
      Count& c = counted[customer];
      c.bytes += ItemCharge(rec.size(), key.size() - kCustomerKeySize, options_.min_item_charge);
      ++c.fragments;
      ++report->fragments;
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan fragments"));
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), objects_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string customer = it->key().ToString().substr(0, kCustomerKeySize);
      if (!contracts.count(customer)) {
        fix.Delete(objects_cf_, it->key());
        continue;
      }
      Count& c = counted[customer];
      c.bytes += ItemCharge(it->value().size(), it->key().size() - kCustomerKeySize,
                            options_.min_item_charge);
      ++c.objects;
      ++report->objects;
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan objects"));
  }
  {
    // A claim must belong to a contract that names it (both are written in
    // one batch; this only repairs a hand-edited or damaged database).
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), claims_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view k(it->key().data(), it->key().size());
      const size_t len = k.empty() ? 0 : static_cast<unsigned char>(k[0]);
      bool ok = k.size() == 1 + len + kCustomerKeySize;
      if (ok) {
        auto c = contracts.find(std::string(k.substr(1 + len)));
        ok = c != contracts.end() && c->second.vault_id() == k.substr(1, len);
      }
      if (!ok) {
        LOG(ERROR) << "key claim without a matching contract; dropping it";
        fix.Delete(claims_cf_, it->key());
      }
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan key claims"));
  }
  for (auto& [customer, rec] : contracts) {
    const Count& c = counted[customer];
    if (rec.used_bytes() != c.bytes || rec.fragments() != c.fragments ||
        rec.objects() != c.objects) {
      LOG(ERROR) << "contract of customer " << Short(customer) << "... recorded "
                 << rec.used_bytes() << " bytes in " << rec.fragments() << " fragments and "
                 << rec.objects() << " objects; the index holds " << c.bytes << " / " << c.fragments
                 << " / " << c.objects << "; correcting";
      rec.set_used_bytes(c.bytes);
      rec.set_fragments(c.fragments);
      rec.set_objects(c.objects);
      fix.Put(contracts_cf_, customer, rec.SerializeAsString());
      ++report->usage_corrected;
    }
  }
  if (fix.Count() > 0) RETURN_IF_ERROR(WriteSynced(&fix));
  report->index_check_ms = since_ms(check_start);

  for (const std::string& id : listed) {
    if (referenced.count(id)) continue;
    // Usually an upload that crashed between rename and commit; but after a
    // database restored from an older copy these are acknowledged data:
    // quarantine, never delete (docs/STORAGE.md).
    absl::Status s = options_.files->Quarantine(id);
    if (!s.ok() && !absl::IsNotFound(s)) return s;
    ++report->orphan_files_removed;
  }

  absl::MutexLock lock(&mu_);
  uint64_t used = 0;
  for (auto& [customer, rec] : contracts) {
    auto c = std::make_shared<Customer>();
    absl::MutexLock l(&c->mu);
    c->record = rec;
    granted_bytes_ += rec.quota_bytes();
    used += rec.used_bytes();
    customers_[customer] = std::move(c);
  }
  used_bytes_ = used;
  if (granted_bytes_ > options_.capacity_bytes) {
    LOG(WARNING) << "contracts already grant " << granted_bytes_ << " bytes, more than --capacity "
                 << options_.capacity_bytes << "; no new space will be granted until they shrink";
  }
  if (report->temporaries_removed || report->orphan_files_removed || report->missing_files ||
      report->usage_corrected) {
    LOG(WARNING) << "start-up reconciliation: removed " << report->temporaries_removed
                 << " temporaries, quarantined " << report->orphan_files_removed
                 << " orphan fragment files (fragments/quarantine/); dropped "
                 << report->missing_files << " index records without a file; corrected usage of "
                 << report->usage_corrected << " contracts";
  }
  return absl::OkStatus();
}

absl::Status Store::CheckFreeDisk(uint64_t bytes, std::string_view what) const {
  if (options_.min_free_disk_bytes == 0) return absl::OkStatus();
  absl::StatusOr<uint64_t> free = options_.free_disk_bytes();
  if (!free.ok()) return free.status();
  if (*free >= bytes && *free - bytes >= options_.min_free_disk_bytes) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "disk full: %s of %s refused: the data dir %s has %s free on its file system, and keeps "
      "at least %s free for the database (--min-free-disk)",
      std::string(what), FormatByteSize(bytes), data_dir_, FormatByteSize(*free),
      FormatByteSize(options_.min_free_disk_bytes)));
}

absl::Status Store::WriteSynced(void* batch) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Write(wo, static_cast<rocksdb::WriteBatch*>(batch)), "write");
}

std::string Store::NewFileId() { return crypto::RandomBytes(kFileIdSize); }

std::shared_ptr<Store::Customer> Store::FindCustomer(std::string_view customer) {
  absl::ReaderMutexLock lock(&mu_);
  auto it = customers_.find(std::string(customer));
  return it == customers_.end() ? nullptr : it->second;
}

Totals Store::GetTotals() {
  absl::ReaderMutexLock lock(&mu_);
  Totals t;
  t.capacity_bytes = options_.capacity_bytes;
  t.granted_bytes = granted_bytes_;
  t.used_bytes = used_bytes_.load();
  t.customers = static_cast<uint32_t>(customers_.size());
  return t;
}

// ---- Contracts ----

absl::StatusOr<ContractRecord> Store::RequestContract(std::string_view customer,
                                                      uint64_t needed_bytes, uint32_t position,
                                                      uint32_t supplier_count,
                                                      std::string_view invite_id) {
  RETURN_IF_ERROR(CheckCustomer(customer));
  if (needed_bytes == 0) return absl::InvalidArgumentError("needed_bytes must be > 0");
  const int64_t now = options_.clock->NowMs();
  absl::MutexLock lock(&mu_);
  std::string key(customer);
  auto it = customers_.find(key);
  uint64_t old_quota = 0;
  std::shared_ptr<Customer> c;
  if (it != customers_.end()) {
    c = it->second;
    c->mu.Lock();
    old_quota = c->record.quota_bytes();
  }
  auto unlock = [&] {
    if (c) c->mu.Unlock();
  };
  if (c && c->gone) {
    unlock();
    return absl::UnavailableError(absl::StrCat("the contract of customer ", Short(customer),
                                               "... is being deleted; retry in a moment"));
  }
  if (options_.max_quota_per_customer > 0 && needed_bytes > options_.max_quota_per_customer) {
    unlock();
    return absl::ResourceExhaustedError(absl::StrFormat(
        "asked for a quota of %d bytes (%s); this supplier grants at most %s to one customer",
        needed_bytes, FormatByteSize(needed_bytes),
        FormatByteSize(options_.max_quota_per_customer)));
  }
  if (!c && options_.max_customers > 0 && customers_.size() >= options_.max_customers) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "this supplier has %d customers, its limit; no new contracts", customers_.size()));
  }
  const std::string invite_key =
      invite_id.empty() || c ? std::string() : "invite/" + std::string(invite_id);
  if (!invite_key.empty()) {
    std::string used;
    rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), meta_cf_, invite_key, &used);
    if (rs.ok()) return absl::PermissionDeniedError("this invitation was already used");
    if (!rs.IsNotFound()) return FromRocks(rs, "read invitation");
  }
  const uint64_t others = granted_bytes_ - old_quota;
  if (others + needed_bytes > options_.capacity_bytes ||
      others + needed_bytes < others /* overflow */) {
    uint64_t free =
        options_.capacity_bytes > granted_bytes_ ? options_.capacity_bytes - granted_bytes_ : 0;
    unlock();
    return absl::ResourceExhaustedError(absl::StrFormat(
        "supplier capacity exceeded: asked for a quota of %d bytes (%s); capacity %d bytes (%s), "
        "granted %d bytes, free %d bytes (%s)%s",
        needed_bytes, FormatByteSize(needed_bytes), options_.capacity_bytes,
        FormatByteSize(options_.capacity_bytes), granted_bytes_, free, FormatByteSize(free),
        c ? absl::StrFormat(" plus this contract's current %d bytes", old_quota) : ""));
  }
  if (needed_bytes > old_quota) {
    // The disk must be able to hold everything promised and not yet stored.
    absl::StatusOr<uint64_t> free = options_.free_disk_bytes();
    if (!free.ok()) {
      unlock();
      return free.status();
    }
    const uint64_t promised = others + needed_bytes;
    const uint64_t used = used_bytes_.load();
    const uint64_t unstored = promised > used ? promised - used : 0;
    if (unstored + options_.disk_reserve_bytes > *free) {
      unlock();
      return absl::ResourceExhaustedError(absl::StrFormat(
          "supplier disk too small: a quota of %d bytes (%s) would promise %s not yet stored, but "
          "the data dir's file system has %s free and keeps a reserve of %s",
          needed_bytes, FormatByteSize(needed_bytes), FormatByteSize(unstored),
          FormatByteSize(*free), FormatByteSize(options_.disk_reserve_bytes)));
    }
  }
  ContractRecord rec;
  if (c) {
    rec = c->record;
    if (needed_bytes < rec.used_bytes() + c->reserved) {
      unlock();
      return absl::FailedPreconditionError(absl::StrFormat(
          "cannot shrink the quota to %d bytes: %d bytes are in use and %d reserved by uploads",
          needed_bytes, rec.used_bytes(), c->reserved));
    }
  } else {
    rec.set_created_ms(now);
  }
  rec.set_quota_bytes(needed_bytes);
  rec.set_position(position);
  rec.set_supplier_count(supplier_count);
  rec.set_lease_expires_ms(now + options_.lease_ms);
  rocksdb::WriteBatch batch;
  batch.Put(contracts_cf_, S(customer), rec.SerializeAsString());
  if (!invite_key.empty()) batch.Put(meta_cf_, invite_key, S(customer));
  absl::Status s = WriteSynced(&batch);
  if (!s.ok()) {
    unlock();
    return s;
  }
  if (c) {
    c->record = rec;
  } else {
    c = std::make_shared<Customer>();
    c->mu.Lock();
    c->record = rec;
    customers_[key] = c;
  }
  granted_bytes_ = others + needed_bytes;
  unlock();
  LOG(INFO) << "contract for customer " << Short(customer) << "...: quota " << needed_bytes
            << " bytes (was " << old_quota << "), position " << position << " of "
            << supplier_count;
  return rec;
}

bool Store::HasContract(std::string_view customer) { return FindCustomer(customer) != nullptr; }

absl::StatusOr<ContractRecord> Store::GetContract(std::string_view customer) {
  auto c = FindCustomer(customer);
  if (c == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("customer ", Short(customer), "... has no contract with this supplier"));
  }
  absl::MutexLock l(&c->mu);
  return c->record;
}

absl::Status Store::Touch(std::string_view customer) {
  auto c = FindCustomer(customer);
  if (c == nullptr) return NoContract(customer);
  absl::MutexLock l(&c->mu);
  if (c->gone) return NoContract(customer);
  const int64_t expires = options_.clock->NowMs() + options_.lease_ms;
  // Persist only renewals that move the expiry noticeably: a read-heavy
  // customer then costs one small write per slack period, not per call.
  const int64_t slack = std::max<int64_t>(1, std::min<int64_t>(options_.lease_ms / 100, 3600000));
  if (expires <= c->record.lease_expires_ms() + slack) return absl::OkStatus();
  ContractRecord rec = c->record;
  rec.set_lease_expires_ms(expires);
  // Not synced: losing a renewal in a power cut only makes the lease look as
  // old as the last synced write, which every mutation is.
  RETURN_IF_ERROR(FromRocks(
      db_->Put(rocksdb::WriteOptions(), contracts_cf_, S(customer), rec.SerializeAsString()),
      "renew lease"));
  c->record = rec;
  return absl::OkStatus();
}

absl::StatusOr<ContractRecord> Store::RenewContract(std::string_view customer) {
  auto c = FindCustomer(customer);
  if (c == nullptr) return NoContract(customer);
  absl::MutexLock l(&c->mu);
  if (c->gone) return NoContract(customer);
  ContractRecord rec = c->record;
  rec.set_lease_expires_ms(options_.clock->NowMs() + options_.lease_ms);
  rocksdb::WriteBatch batch;
  batch.Put(contracts_cf_, S(customer), rec.SerializeAsString());
  RETURN_IF_ERROR(WriteSynced(&batch));
  c->record = rec;
  return rec;
}

absl::StatusOr<uint64_t> Store::DeleteCustomerRecords(const std::string& customer,
                                                      const ContractRecord& record,
                                                      std::vector<std::string>* files) {
  if (options_.on_customer_walk) options_.on_customer_walk(customer);
  rocksdb::WriteBatch batch;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), fragments_cf_));
    for (it->Seek(customer); it->Valid() && it->key().starts_with(customer); it->Next()) {
      FragmentRecord rec;
      if (rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        files->push_back(rec.file_id());
      }
      batch.Delete(fragments_cf_, it->key());
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan fragments"));
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), objects_cf_));
    for (it->Seek(customer); it->Valid() && it->key().starts_with(customer); it->Next()) {
      batch.Delete(objects_cf_, it->key());
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan objects"));
  }
  batch.Delete(contracts_cf_, customer);
  {
    absl::MutexLock v(&vault_mu_);
    if (!record.vault_id().empty()) {
      batch.Delete(claims_cf_, ClaimKey(record.vault_id(), customer));
    }
    RETURN_IF_ERROR(WriteSynced(&batch));
  }
  return record.used_bytes();
}

absl::StatusOr<uint64_t> Store::RetireCustomer(const std::string& customer,
                                               const std::shared_ptr<Customer>& c,
                                               std::vector<std::string>* files) {
  ContractRecord record;
  {
    absl::MutexLock l(&c->mu);
    record = c->record;  // stable from here: gone stops every writer
  }
  // No store-wide lock and no customer lock while the records are walked
  // and deleted: other customers' calls go on (issue 11).
  absl::StatusOr<uint64_t> freed = DeleteCustomerRecords(customer, record, files);
  if (!freed.ok()) {
    files->clear();
    absl::MutexLock l(&c->mu);
    c->gone = false;  // nothing was deleted: the contract stays in force
    return freed.status();
  }
  absl::MutexLock lock(&mu_);
  granted_bytes_ -= record.quota_bytes();
  used_bytes_ -= *freed;
  customers_.erase(customer);
  return freed;
}

void Store::RemoveFiles(const std::vector<std::string>& files) {
  for (const std::string& id : files) {
    absl::Status s = options_.files->Remove(id);
    // A file left behind is found by the next start-up reconciliation.
    if (!s.ok()) LOG(WARNING) << "removing a deleted fragment's file: " << s;
  }
}

absl::StatusOr<uint64_t> Store::CancelContract(std::string_view customer) {
  const std::string key(customer);
  std::shared_ptr<Customer> c = FindCustomer(customer);
  if (c == nullptr) return NoContract(customer);
  {
    absl::MutexLock l(&c->mu);
    if (c->gone) return NoContract(customer);
    c->gone = true;  // uploads in flight end with ABORTED; new calls are refused
  }
  std::vector<std::string> files;
  ASSIGN_OR_RETURN(uint64_t freed, RetireCustomer(key, c, &files));
  // Unlinking thousands of files must not hold up everyone else's calls.
  RemoveFiles(files);
  LOG(INFO) << "contract of customer " << Short(customer) << "... cancelled: freed " << freed
            << " bytes";
  return freed;
}

absl::StatusOr<ReapResult> Store::ReapExpired(int64_t now, size_t max_contracts) {
  ReapResult result;
  // The longest-expired first, so a capped run takes the clearest cases.
  std::vector<std::tuple<int64_t, std::string, std::shared_ptr<Customer>>> expired;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (auto& [key, c] : customers_) {
      absl::MutexLock l(&c->mu);
      const int64_t deadline = c->record.lease_expires_ms() + options_.grace_ms;
      if (deadline < now && !c->gone) expired.emplace_back(deadline, key, c);
    }
  }
  std::sort(expired.begin(), expired.end(),
            [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  for (const auto& [deadline, key, c] : expired) {
    if (static_cast<size_t>(result.contracts_reaped) >= max_contracts) {
      ++result.contracts_deferred;
      continue;
    }
    int64_t lease_expires = 0;
    uint64_t quota = 0;
    {
      // Renewed since the list was made (or cancelled): leave it.
      absl::MutexLock l(&c->mu);
      if (c->gone || c->record.lease_expires_ms() + options_.grace_ms >= now) continue;
      c->gone = true;
      lease_expires = c->record.lease_expires_ms();
      quota = c->record.quota_bytes();
    }
    std::vector<std::string> files;
    ASSIGN_OR_RETURN(uint64_t freed, RetireCustomer(key, c, &files));
    RemoveFiles(files);
    LOG(INFO) << "reaped contract of customer " << Short(key) << "...: lease expired at "
              << lease_expires << " ms, grace ended at " << deadline << " ms; freed " << freed
              << " bytes and a quota of " << quota;
    result.freed_bytes += freed;
    ++result.contracts_reaped;
  }
  return result;
}

// ---- Fragments ----

absl::StatusOr<Store::BeginResult> Store::BeginFragment(std::string_view customer,
                                                        std::string_view key, uint64_t size,
                                                        std::string_view sha256) {
  RETURN_IF_ERROR(CheckCustomer(customer));
  if (key.empty()) return absl::InvalidArgumentError("empty fragment key");
  if (size > options_.max_fragment_bytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("fragment of %d bytes exceeds this supplier's limit of %d bytes (%s)", size,
                        options_.max_fragment_bytes, FormatByteSize(options_.max_fragment_bytes)));
  }
  if (sha256.size() != crypto::kSha256Size) {
    return absl::InvalidArgumentError(
        absl::StrFormat("sha256 must be 32 bytes, got %d", sha256.size()));
  }
  auto c = FindCustomer(customer);
  if (c == nullptr) return NoContract(customer);
  const std::string index_key = Cat(customer, key);
  const uint64_t charge = ItemCharge(size, key.size(), options_.min_item_charge);
  BeginResult result;
  {
    absl::MutexLock l(&c->mu);
    if (c->gone) return NoContract(customer);
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), fragments_cf_, index_key, &value);
    if (s.ok()) {
      FragmentRecord old;
      if (old.ParseFromString(value) && old.size() == size && old.sha256() == sha256) {
        result.already_present = true;
        result.usage = {c->record.used_bytes(), c->record.quota_bytes()};
        return result;
      }
    } else if (!s.IsNotFound()) {
      return FromRocks(s, "read fragment index");
    }
    const ContractRecord& rec = c->record;
    if (s.IsNotFound() && options_.max_items_per_contract > 0 &&
        rec.fragments() + rec.objects() >= options_.max_items_per_contract) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "fragment %s: the contract already holds %d fragments and objects (the limit)",
          std::string(key), rec.fragments() + rec.objects()));
    }
    if (rec.used_bytes() + c->reserved + charge > rec.quota_bytes()) {
      return absl::ResourceExhaustedError(
          QuotaMessage(rec, c->reserved, charge, absl::StrCat("fragment ", std::string(key))));
    }
    c->reserved += charge;
    result.usage = {rec.used_bytes(), rec.quota_bytes()};
  }
  if (absl::Status disk = CheckFreeDisk(size, absl::StrCat("fragment ", std::string(key)));
      !disk.ok()) {
    absl::MutexLock l(&c->mu);
    c->reserved -= charge;
    return disk;
  }
  std::string file_id = NewFileId();
  auto writer = options_.files->Create(file_id);
  if (!writer.ok()) {
    absl::MutexLock l(&c->mu);
    c->reserved -= charge;
    return writer.status();
  }
  result.upload.reset(new FragmentUpload(this, std::move(c), std::string(customer),
                                         std::string(key), size, std::string(sha256), file_id,
                                         std::move(writer).value()));
  return result;
}

Store::FragmentUpload::FragmentUpload(Store* store, std::shared_ptr<Customer> customer,
                                      std::string customer_key, std::string key, uint64_t size,
                                      std::string sha256, std::string file_id,
                                      std::unique_ptr<FragmentFileWriter> writer)
    : store_(store),
      customer_(std::move(customer)),
      customer_key_(std::move(customer_key)),
      key_(std::move(key)),
      size_(size),
      charge_(ItemCharge(size, key_.size(), store->options_.min_item_charge)),
      sha256_(std::move(sha256)),
      file_id_(std::move(file_id)),
      writer_(std::move(writer)),
      hasher_(new Hasher) {}

Store::FragmentUpload::~FragmentUpload() {
  if (!finished_) {
    writer_.reset();  // removes the temporary
    Release();
  }
}

void Store::FragmentUpload::Release() {
  absl::MutexLock l(&customer_->mu);
  customer_->reserved -= charge_;
}

absl::Status Store::FragmentUpload::Append(std::string_view data) {
  if (finished_) return absl::FailedPreconditionError("upload already finished");
  if (data.size() > size_ - received_) {
    return absl::InvalidArgumentError(
        absl::StrFormat("fragment %s: more bytes than the declared size of %d", key_, size_));
  }
  hasher_->sha.Update(data);
  RETURN_IF_ERROR(writer_->Append(data));
  received_ += data.size();
  return absl::OkStatus();
}

absl::StatusOr<Usage> Store::FragmentUpload::Commit(bool* already_present) {
  *already_present = false;
  if (finished_) return absl::FailedPreconditionError("upload already finished");
  finished_ = true;
  auto fail = [&](absl::Status s) {
    writer_.reset();
    Release();
    return s;
  };
  if (received_ != size_) {
    return fail(absl::InvalidArgumentError(absl::StrFormat(
        "fragment %s: upload ended after %d of %d bytes; nothing stored", key_, received_, size_)));
  }
  std::string digest = hasher_->sha.Final();
  if (digest != sha256_) {
    return fail(absl::InvalidArgumentError(absl::StrFormat(
        "fragment %s: SHA-256 of the %d bytes received is %s, the header declared %s; nothing "
        "stored",
        key_, size_, crypto::ToHex(digest), crypto::ToHex(sha256_))));
  }
  FragmentFiles* files = store_->options_.files.get();
  absl::Status s = writer_->Commit();
  writer_.reset();
  if (!s.ok()) {
    // The file may have been renamed before the failure: remove it too.
    files->Remove(file_id_).IgnoreError();
    Release();
    return s;
  }

  FragmentRecord record;
  record.set_size(size_);
  record.set_sha256(sha256_);
  record.set_file_id(file_id_);
  record.set_stored_ms(store_->options_.clock->NowMs());
  const std::string index_key = Cat(customer_key_, key_);
  std::string replaced_file;
  Usage usage;
  {
    absl::MutexLock l(&customer_->mu);
    customer_->reserved -= charge_;
    auto drop = [&](absl::Status st) {
      files->Remove(file_id_).IgnoreError();
      return st;
    };
    if (customer_->gone) {
      return drop(absl::AbortedError(absl::StrFormat(
          "fragment %s: the contract ended while it was uploaded; nothing stored", key_)));
    }
    std::string value;
    rocksdb::Status rs =
        store_->db_->Get(rocksdb::ReadOptions(), store_->fragments_cf_, index_key, &value);
    FragmentRecord old;
    bool had_old = false;
    if (rs.ok()) {
      had_old = old.ParseFromString(value);
    } else if (!rs.IsNotFound()) {
      return drop(FromRocks(rs, "read fragment index"));
    }
    if (had_old && old.size() == size_ && old.sha256() == sha256_) {
      // A concurrent upload of the same bytes won: keep that one.
      files->Remove(file_id_).IgnoreError();
      *already_present = true;
      return Usage{customer_->record.used_bytes(), customer_->record.quota_bytes()};
    }
    ContractRecord rec = customer_->record;
    const uint64_t old_charge =
        had_old ? ItemCharge(old.size(), key_.size(), store_->options_.min_item_charge) : 0;
    rec.set_used_bytes(rec.used_bytes() - old_charge + charge_);
    if (!had_old) rec.set_fragments(rec.fragments() + 1);
    rec.set_lease_expires_ms(
        std::max(rec.lease_expires_ms(), record.stored_ms() + store_->options_.lease_ms));
    rocksdb::WriteBatch batch;
    batch.Put(store_->fragments_cf_, index_key, record.SerializeAsString());
    batch.Put(store_->contracts_cf_, customer_key_, rec.SerializeAsString());
    absl::Status ws = store_->WriteSynced(&batch);
    if (!ws.ok()) return drop(ws);
    customer_->record = rec;
    store_->used_bytes_ += charge_;
    if (had_old) {
      store_->used_bytes_ -= old_charge;
      replaced_file = old.file_id();
    }
    usage = {rec.used_bytes(), rec.quota_bytes()};
  }
  if (!replaced_file.empty()) {
    absl::Status rm = files->Remove(replaced_file);
    if (!rm.ok()) LOG(WARNING) << "removing a replaced fragment file: " << rm;
  }
  return usage;
}

absl::StatusOr<Store::OpenedFragment> Store::OpenFragment(std::string_view customer,
                                                          std::string_view key) {
  RETURN_IF_ERROR(CheckCustomer(customer));
  const std::string index_key = Cat(customer, key);
  // A concurrent delete or overwrite may remove the file between reading the
  // index and opening it; then the index has changed: read it again.
  for (int attempt = 0;; ++attempt) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), fragments_cf_, index_key, &value);
    if (s.IsNotFound()) {
      return absl::NotFoundError(absl::StrCat("no fragment ", std::string(key)));
    }
    RETURN_IF_ERROR(FromRocks(s, "read fragment index"));
    OpenedFragment out;
    if (!out.record.ParseFromString(value)) {
      return absl::DataLossError(absl::StrCat("fragment ", std::string(key), ": bad index record"));
    }
    auto reader = options_.files->Open(out.record.file_id());
    if (reader.ok()) {
      if ((*reader)->size() != out.record.size()) {
        return absl::DataLossError(
            absl::StrFormat("fragment %s: file holds %d bytes, index says %d", std::string(key),
                            (*reader)->size(), out.record.size()));
      }
      out.reader = std::move(reader).value();
      return out;
    }
    if (!absl::IsNotFound(reader.status()) || attempt >= 2) return reader.status();
  }
}

absl::StatusOr<std::vector<FragmentEntry>> Store::ListFragments(std::string_view customer,
                                                                std::string_view prefix,
                                                                std::string_view start_after,
                                                                uint32_t limit, bool* more) {
  RETURN_IF_ERROR(CheckCustomer(customer));
  *more = false;
  std::vector<FragmentEntry> out;
  const std::string full_prefix = Cat(customer, prefix);
  std::string seek = full_prefix;
  if (!start_after.empty()) seek = std::max(seek, Cat(customer, start_after));
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), fragments_cf_));
  for (it->Seek(seek); it->Valid() && it->key().starts_with(full_prefix); it->Next()) {
    std::string_view key(it->key().data() + kCustomerKeySize, it->key().size() - kCustomerKeySize);
    if (!start_after.empty() && key <= start_after) continue;
    if (out.size() == limit) {
      *more = true;
      break;
    }
    FragmentRecord rec;
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("fragment ", std::string(key), ": bad index record"));
    }
    out.push_back({std::string(key), rec.size(), rec.sha256()});
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "list fragments"));
  return out;
}

absl::StatusOr<DeleteResult> Store::DeleteFragments(std::string_view customer,
                                                    const std::vector<std::string>& keys) {
  RETURN_IF_ERROR(CheckCustomer(customer));
  auto c = FindCustomer(customer);
  if (c == nullptr) return NoContract(customer);
  DeleteResult result;
  std::vector<std::string> files;
  {
    absl::MutexLock l(&c->mu);
    if (c->gone) return NoContract(customer);
    rocksdb::WriteBatch batch;
    std::set<std::string> seen;
    for (const std::string& key : keys) {
      if (!seen.insert(key).second) continue;
      const std::string index_key = Cat(customer, key);
      std::string value;
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), fragments_cf_, index_key, &value);
      if (s.IsNotFound()) {
        result.not_found.push_back(key);
        continue;
      }
      RETURN_IF_ERROR(FromRocks(s, "read fragment index"));
      FragmentRecord rec;
      if (!rec.ParseFromString(value)) return absl::DataLossError("bad fragment index record");
      batch.Delete(fragments_cf_, index_key);
      files.push_back(rec.file_id());
      result.freed_bytes += ItemCharge(rec.size(), key.size(), options_.min_item_charge);
      ++result.deleted;
    }
    if (result.deleted == 0) return result;
    ContractRecord rec = c->record;
    rec.set_used_bytes(rec.used_bytes() - result.freed_bytes);
    rec.set_fragments(rec.fragments() - result.deleted);
    batch.Put(contracts_cf_, S(customer), rec.SerializeAsString());
    RETURN_IF_ERROR(WriteSynced(&batch));
    c->record = rec;
    used_bytes_ -= result.freed_bytes;
  }
  for (const std::string& id : files) {
    absl::Status s = options_.files->Remove(id);
    if (!s.ok()) LOG(WARNING) << "removing a deleted fragment's file: " << s;
  }
  return result;
}

// ---- Objects ----

absl::StatusOr<Usage> Store::PutObject(std::string_view customer, std::string_view name,
                                       std::string_view data, std::string_view vault_id) {
  RETURN_IF_ERROR(CheckCustomer(customer));
  if (name.empty()) return absl::InvalidArgumentError("empty object name");
  if (data.size() > options_.max_object_bytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("object %s of %d bytes exceeds this supplier's limit of %d bytes",
                        std::string(name), data.size(), options_.max_object_bytes));
  }
  if (!vault_id.empty() && name != kKeyRecordName) {
    return absl::InvalidArgumentError(absl::StrCat(
        "vault_id may only be given with the key record object \"", kKeyRecordName, "\""));
  }
  const bool is_key_record = name == kKeyRecordName;
  if (is_key_record && data.size() > protocol::kMaxKeyRecordBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("key record object of %d bytes exceeds the limit of %d bytes", data.size(),
                        protocol::kMaxKeyRecordBytes));
  }
  auto c = FindCustomer(customer);
  if (c == nullptr) return NoContract(customer);
  const std::string object_key = Cat(customer, name);
  absl::MutexLock l(&c->mu);
  if (c->gone) return NoContract(customer);
  std::string old;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), objects_cf_, object_key, &old);
  bool had_old = s.ok();
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "read object");
  ContractRecord rec = c->record;
  const uint64_t old_charge =
      had_old ? ItemCharge(old.size(), name.size(), options_.min_item_charge) : 0;
  const uint64_t charge = ItemCharge(data.size(), name.size(), options_.min_item_charge);
  if (!had_old && options_.max_items_per_contract > 0 &&
      rec.fragments() + rec.objects() >= options_.max_items_per_contract) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "object %s: the contract already holds %d fragments and objects (the limit)",
        std::string(name), rec.fragments() + rec.objects()));
  }
  const uint64_t used_after = rec.used_bytes() - old_charge + charge;
  if (used_after + c->reserved > rec.quota_bytes()) {
    return absl::ResourceExhaustedError(
        QuotaMessage(rec, c->reserved, charge, absl::StrCat("object ", std::string(name))));
  }
  RETURN_IF_ERROR(CheckFreeDisk(data.size(), absl::StrCat("object ", std::string(name))));
  rec.set_used_bytes(used_after);
  if (!had_old) rec.set_objects(rec.objects() + 1);
  rec.set_lease_expires_ms(
      std::max(rec.lease_expires_ms(), options_.clock->NowMs() + options_.lease_ms));
  rocksdb::WriteBatch batch;
  batch.Put(objects_cf_, object_key, S(data));
  absl::MutexLock v(&vault_mu_);
  const int64_t now = options_.clock->NowMs();
  if (!vault_id.empty() && vault_id != rec.vault_id()) {
    // A new claim. Claims are keyed by (vault ID, customer): nobody can take
    // or overwrite another customer's, so a squatter can only add itself to
    // the list, and only while fewer than kMaxKeyRecordCandidates are there.
    const std::string prefix = ClaimPrefix(vault_id);
    size_t claims = 0;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), claims_cf_));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) ++claims;
    RETURN_IF_ERROR(FromRocks(it->status(), "count key claims"));
    if (claims >= protocol::kMaxKeyRecordCandidates) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "vault ID %s already has %d key record claims on this supplier (the limit)",
          crypto::ToHex(vault_id), claims));
    }
    if (!rec.vault_id().empty()) batch.Delete(claims_cf_, ClaimKey(rec.vault_id(), customer));
    KeyClaimRecord claim;
    claim.set_registered_ms(now);
    claim.set_stored_ms(now);
    batch.Put(claims_cf_, ClaimKey(vault_id, customer), claim.SerializeAsString());
    rec.set_vault_id(std::string(vault_id));
  } else if (is_key_record && !rec.vault_id().empty()) {
    // The customer replaces its own key record (e.g. a new passphrase): its
    // claim keeps its place in the order.
    const std::string claim_key = ClaimKey(rec.vault_id(), customer);
    std::string value;
    KeyClaimRecord claim;
    s = db_->Get(rocksdb::ReadOptions(), claims_cf_, claim_key, &value);
    if (s.ok()) {
      claim.ParseFromString(value);
    } else if (s.IsNotFound()) {
      claim.set_registered_ms(now);
    } else {
      return FromRocks(s, "read key claim");
    }
    claim.set_stored_ms(now);
    batch.Put(claims_cf_, claim_key, claim.SerializeAsString());
  }
  batch.Put(contracts_cf_, S(customer), rec.SerializeAsString());
  RETURN_IF_ERROR(WriteSynced(&batch));
  used_bytes_ += charge;
  used_bytes_ -= old_charge;
  c->record = rec;
  return Usage{rec.used_bytes(), rec.quota_bytes()};
}

absl::StatusOr<std::string> Store::GetObject(std::string_view customer, std::string_view name) {
  RETURN_IF_ERROR(CheckCustomer(customer));
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), objects_cf_, Cat(customer, name), &value);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("no object ", std::string(name)));
  RETURN_IF_ERROR(FromRocks(s, "read object"));
  return value;
}

absl::StatusOr<std::vector<Store::ObjectEntry>> Store::ListObjects(std::string_view customer,
                                                                   std::string_view prefix,
                                                                   std::string_view start_after,
                                                                   uint32_t limit, bool* more) {
  RETURN_IF_ERROR(CheckCustomer(customer));
  *more = false;
  std::vector<ObjectEntry> out;
  const std::string full_prefix = Cat(customer, prefix);
  std::string seek = full_prefix;
  if (!start_after.empty()) seek = std::max(seek, Cat(customer, start_after));
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), objects_cf_));
  for (it->Seek(seek); it->Valid() && it->key().starts_with(full_prefix); it->Next()) {
    std::string_view name(it->key().data() + kCustomerKeySize, it->key().size() - kCustomerKeySize);
    if (!start_after.empty() && name <= start_after) continue;
    if (out.size() == limit) {
      *more = true;
      break;
    }
    out.push_back({std::string(name), it->value().size()});
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "list objects"));
  return out;
}

absl::StatusOr<DeleteResult> Store::DeleteObjects(std::string_view customer,
                                                  const std::vector<std::string>& names) {
  RETURN_IF_ERROR(CheckCustomer(customer));
  auto c = FindCustomer(customer);
  if (c == nullptr) return NoContract(customer);
  DeleteResult result;
  absl::MutexLock l(&c->mu);
  if (c->gone) return NoContract(customer);
  rocksdb::WriteBatch batch;
  std::set<std::string> seen;
  ContractRecord rec = c->record;
  for (const std::string& name : names) {
    if (!seen.insert(name).second) continue;
    const std::string key = Cat(customer, name);
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), objects_cf_, key, &value);
    if (s.IsNotFound()) {
      result.not_found.push_back(name);
      continue;
    }
    RETURN_IF_ERROR(FromRocks(s, "read object"));
    batch.Delete(objects_cf_, key);
    result.freed_bytes += ItemCharge(value.size(), name.size(), options_.min_item_charge);
    ++result.deleted;
  }
  if (result.deleted == 0) return result;
  rec.set_used_bytes(rec.used_bytes() - result.freed_bytes);
  rec.set_objects(rec.objects() - result.deleted);
  absl::MutexLock v(&vault_mu_);
  if (seen.count(kKeyRecordName) && !rec.vault_id().empty() &&
      std::find(result.not_found.begin(), result.not_found.end(), kKeyRecordName) ==
          result.not_found.end()) {
    batch.Delete(claims_cf_, ClaimKey(rec.vault_id(), customer));
    rec.clear_vault_id();
  }
  batch.Put(contracts_cf_, S(customer), rec.SerializeAsString());
  RETURN_IF_ERROR(WriteSynced(&batch));
  c->record = rec;
  used_bytes_ -= result.freed_bytes;
  return result;
}

absl::StatusOr<std::vector<KeyRecordCandidate>> Store::GetKeyRecord(std::string_view vault_id) {
  std::vector<KeyRecordCandidate> out;
  const std::string prefix = ClaimPrefix(vault_id);
  rocksdb::ReadOptions ro;
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  absl::Cleanup release = [&] { db_->ReleaseSnapshot(snapshot); };
  ro.snapshot = snapshot;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, claims_cf_));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (it->key().size() != prefix.size() + kCustomerKeySize) continue;
      KeyClaimRecord claim;
      if (!claim.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) continue;
      KeyRecordCandidate c;
      c.customer_key = it->key().ToString().substr(prefix.size());
      c.registered_ms = claim.registered_ms();
      c.stored_ms = claim.stored_ms();
      rocksdb::Status s = db_->Get(ro, objects_cf_, Cat(c.customer_key, kKeyRecordName), &c.data);
      if (s.IsNotFound()) continue;
      RETURN_IF_ERROR(FromRocks(s, "read key record"));
      out.push_back(std::move(c));
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan key claims"));
  }
  if (out.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no key record for vault ", crypto::ToHex(vault_id), " on this supplier"));
  }
  std::sort(out.begin(), out.end(), [](const KeyRecordCandidate& a, const KeyRecordCandidate& b) {
    return std::tie(a.registered_ms, a.customer_key) < std::tie(b.registered_ms, b.customer_key);
  });
  if (out.size() > protocol::kMaxKeyRecordCandidates) out.resize(protocol::kMaxKeyRecordCandidates);
  return out;
}

// ---- Nonces ----

absl::Status Store::RememberNonce(int64_t timestamp_ms, std::string_view customer,
                                  std::string_view nonce) {
  return FromRocks(db_->Put(rocksdb::WriteOptions(), nonces_cf_,
                            NonceKey(timestamp_ms, customer, nonce), rocksdb::Slice()),
                   "remember nonce");
}

absl::StatusOr<std::vector<Store::NonceEntry>> Store::LoadNonces(int64_t min_timestamp_ms) {
  std::vector<NonceEntry> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), nonces_cf_));
  for (it->Seek(NonceKey(min_timestamp_ms, "", "")); it->Valid(); it->Next()) {
    std::string_view k(it->key().data(), it->key().size());
    if (k.size() < 8 + kCustomerKeySize) continue;
    out.push_back({NonceKeyTimestamp(k), std::string(k.substr(8, kCustomerKeySize)),
                   std::string(k.substr(8 + kCustomerKeySize))});
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "load nonces"));
  return out;
}

absl::Status Store::ForgetNoncesBefore(int64_t timestamp_ms) {
  const std::string begin(8, '\0');
  const std::string end = NonceKey(timestamp_ms, "", "");
  return FromRocks(db_->DeleteRange(rocksdb::WriteOptions(), nonces_cf_, begin, end),
                   "forget nonces");
}

}  // namespace shardkeep::supplier

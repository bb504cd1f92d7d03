#include "customer/net/fault_injecting_supplier_client.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shardkeep::customer {
namespace {

int Index(SupplierMethod m) { return static_cast<int>(m); }

void Flip(int bytes, std::string* data) {
  if (bytes <= 0) return;
  if (data->empty()) {
    data->push_back('\x40');
    return;
  }
  const size_t n = data->size();
  const size_t count = std::min<size_t>(static_cast<size_t>(bytes), n);
  for (size_t i = 0; i < count; ++i) {
    // Spread evenly, never all at the start: i * n / count + n / (2 * count).
    size_t at = std::min(n - 1, i * n / count + n / (2 * count));
    (*data)[at] ^= 0x40;
  }
}

}  // namespace

const char* SupplierMethodName(SupplierMethod method) {
  switch (method) {
    case SupplierMethod::kInfo:
      return "Info";
    case SupplierMethod::kRequestContract:
      return "RequestContract";
    case SupplierMethod::kGetContract:
      return "GetContract";
    case SupplierMethod::kCancelContract:
      return "CancelContract";
    case SupplierMethod::kPutFragment:
      return "PutFragment";
    case SupplierMethod::kGetFragment:
      return "GetFragment";
    case SupplierMethod::kPutObject:
      return "PutObject";
    case SupplierMethod::kGetObject:
      return "GetObject";
    case SupplierMethod::kListObjects:
      return "ListObjects";
    case SupplierMethod::kGetKeyRecord:
      return "GetKeyRecord";
    case SupplierMethod::kListFragments:
      return "ListFragments";
    case SupplierMethod::kDeleteFragment:
      return "DeleteFragments";
    case SupplierMethod::kAuditPiece:
      return "AuditPiece";
    case SupplierMethod::kDeleteObjects:
      return "DeleteObjects";
  }
  return "?";
}

// ---- SupplierFaults

void SupplierFaults::Fail(SupplierMethod method, absl::Status status, int after) {
  if (status.ok()) status = absl::UnknownError("injected failure with an OK status");
  std::lock_guard<std::mutex> lock(mu_);
  MethodFaults& m = methods_[Index(method)];
  m.fail = std::move(status);
  m.fail_after = std::max(0, after);
}

void SupplierFaults::RefusePermission(SupplierMethod method, std::string message, int after) {
  Fail(method, absl::PermissionDeniedError(message), after);
}

void SupplierFaults::RefuseFull(SupplierMethod method, std::string message, int after) {
  Fail(method, absl::ResourceExhaustedError(message), after);
}

void SupplierFaults::Hang(SupplierMethod method, std::chrono::milliseconds max_wait) {
  std::lock_guard<std::mutex> lock(mu_);
  MethodFaults& m = methods_[Index(method)];
  m.hang = true;
  m.hang_max = max_wait;
}

void SupplierFaults::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& m : methods_) {
    m.hang = false;
    ++m.release_generation;
  }
  released_.notify_all();
}

int SupplierFaults::Hanging() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hanging_;
}

void SupplierFaults::Corrupt(SupplierMethod method, int bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  methods_[Index(method)].corrupt_bytes = std::max(0, bytes);
}

void SupplierFaults::DropListed(std::function<bool(const std::string&)> drop) {
  std::lock_guard<std::mutex> lock(mu_);
  list_.drop = std::move(drop);
}

void SupplierFaults::DropFirstListed(int count) {
  std::lock_guard<std::mutex> lock(mu_);
  list_.drop_first = std::max(0, count);
}

void SupplierFaults::AddListed(std::vector<std::string> names) {
  std::lock_guard<std::mutex> lock(mu_);
  list_.add = std::move(names);
}

void SupplierFaults::Clear(SupplierMethod method) {
  std::lock_guard<std::mutex> lock(mu_);
  MethodFaults& m = methods_[Index(method)];
  m.fail.reset();
  m.fail_after = 0;
  m.corrupt_bytes = 0;
  if (m.hang) {
    m.hang = false;
    ++m.release_generation;
    released_.notify_all();
  }
  if (method == SupplierMethod::kListObjects) list_ = ListFaults();
}

void SupplierFaults::ClearAll() {
  for (int i = 0; i < kSupplierMethodCount; ++i) Clear(static_cast<SupplierMethod>(i));
  Release();
}

int SupplierFaults::Calls(SupplierMethod method) const {
  std::lock_guard<std::mutex> lock(mu_);
  return methods_[Index(method)].calls;
}

int SupplierFaults::Injected(SupplierMethod method) const {
  std::lock_guard<std::mutex> lock(mu_);
  return methods_[Index(method)].injected;
}

void SupplierFaults::ResetCounters() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& m : methods_) m.calls = m.injected = 0;
}

SupplierFaults::ListFaults SupplierFaults::list_faults() const {
  std::lock_guard<std::mutex> lock(mu_);
  return list_;
}

absl::Status SupplierFaults::Before(SupplierMethod method, const std::string& address,
                                    int* corrupt_bytes) {
  std::unique_lock<std::mutex> lock(mu_);
  MethodFaults& m = methods_[Index(method)];
  ++m.calls;
  if (m.hang) {
    ++hanging_;
    const uint64_t generation = m.release_generation;
    // Ends on Release(), on Clear(method), or after hang_max.
    auto done = [&] { return m.release_generation != generation; };
    if (m.hang_max < std::chrono::milliseconds::zero()) {
      released_.wait(lock, done);
    } else {
      released_.wait_for(lock, m.hang_max, done);
    }
    --hanging_;
  }
  if (m.fail.has_value()) {
    if (m.fail_after > 0) {
      --m.fail_after;
    } else {
      ++m.injected;
      const absl::Status& f = *m.fail;
      if (absl::StartsWith(f.message(), address)) return f;
      return absl::Status(f.code(), absl::StrCat(address, ": ", f.message()));
    }
  }
  *corrupt_bytes = m.corrupt_bytes;
  return absl::OkStatus();
}

// ---- FaultInjectingSupplierClient

FaultInjectingSupplierClient::FaultInjectingSupplierClient(std::unique_ptr<SupplierClient> real,
                                                           std::shared_ptr<SupplierFaults> faults)
    : real_(std::move(real)),
      faults_(faults ? std::move(faults) : std::make_shared<SupplierFaults>()) {}

FaultInjectingSupplierClient::~FaultInjectingSupplierClient() = default;

const std::string& FaultInjectingSupplierClient::address() const { return real_->address(); }

absl::StatusOr<v1::InfoResponse> FaultInjectingSupplierClient::Info() {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kInfo, address(), &corrupt));
  return real_->Info();
}

absl::StatusOr<v1::Contract> FaultInjectingSupplierClient::RequestContract(
    uint64_t needed_bytes, uint32_t position, uint32_t supplier_count) {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kRequestContract, address(), &corrupt));
  return real_->RequestContract(needed_bytes, position, supplier_count);
}

absl::StatusOr<v1::Contract> FaultInjectingSupplierClient::GetContract() {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kGetContract, address(), &corrupt));
  return real_->GetContract();
}

absl::Status FaultInjectingSupplierClient::CancelContract() {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kCancelContract, address(), &corrupt));
  return real_->CancelContract();
}

absl::Status FaultInjectingSupplierClient::PutFragment(const std::string& key,
                                                       std::string_view data,
                                                       std::string_view sha256) {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kPutFragment, address(), &corrupt));
  return real_->PutFragment(key, data, sha256);
}

absl::StatusOr<std::string> FaultInjectingSupplierClient::GetFragment(const std::string& key) {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kGetFragment, address(), &corrupt));
  auto data = real_->GetFragment(key);
  if (data.ok()) Flip(corrupt, &*data);
  return data;
}

absl::StatusOr<std::string> FaultInjectingSupplierClient::GetFragmentOfSize(const std::string& key,
                                                                            uint64_t size) {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kGetFragment, address(), &corrupt));
  auto data = real_->GetFragmentOfSize(key, size);
  if (data.ok()) Flip(corrupt, &*data);
  return data;
}

absl::StatusOr<std::vector<v1::FragmentInfo>> FaultInjectingSupplierClient::ListFragments(
    const std::string& prefix) {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kListFragments, address(), &corrupt));
  return real_->ListFragments(prefix);
}

absl::StatusOr<v1::AuditPieceResponse> FaultInjectingSupplierClient::AuditPiece(
    const std::string& key, uint64_t piece) {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kAuditPiece, address(), &corrupt));
  auto r = real_->AuditPiece(key, piece);
  if (r.ok()) Flip(corrupt, r->mutable_data());
  return r;
}

absl::Status FaultInjectingSupplierClient::DeleteFragment(const std::string& key) {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kDeleteFragment, address(), &corrupt));
  return real_->DeleteFragment(key);
}

absl::Status FaultInjectingSupplierClient::DeleteFragments(const std::vector<std::string>& keys) {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kDeleteFragment, address(), &corrupt));
  return real_->DeleteFragments(keys);
}

absl::Status FaultInjectingSupplierClient::DeleteObjects(const std::vector<std::string>& names) {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kDeleteObjects, address(), &corrupt));
  return real_->DeleteObjects(names);
}

absl::Status FaultInjectingSupplierClient::PutObject(const std::string& name, std::string_view data,
                                                     std::string_view vault_id) {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kPutObject, address(), &corrupt));
  return real_->PutObject(name, data, vault_id);
}

absl::StatusOr<std::string> FaultInjectingSupplierClient::GetObject(const std::string& name) {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kGetObject, address(), &corrupt));
  auto data = real_->GetObject(name);
  if (data.ok()) Flip(corrupt, &*data);
  return data;
}

absl::StatusOr<std::vector<v1::ObjectInfo>> FaultInjectingSupplierClient::ListObjects(
    const std::string& prefix) {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kListObjects, address(), &corrupt));
  auto list = real_->ListObjects(prefix);
  if (!list.ok()) return list;
  const SupplierFaults::ListFaults f = faults_->list_faults();
  std::vector<v1::ObjectInfo> out;
  int index = 0;
  for (auto& o : *list) {
    if (index++ < f.drop_first) continue;
    if (f.drop && f.drop(o.name())) continue;
    out.push_back(std::move(o));
  }
  for (const std::string& name : f.add) {
    v1::ObjectInfo o;
    o.set_name(name);
    out.push_back(std::move(o));
  }
  std::stable_sort(out.begin(), out.end(), [](const v1::ObjectInfo& a, const v1::ObjectInfo& b) {
    return a.name() < b.name();
  });
  return out;
}

absl::StatusOr<v1::GetKeyRecordResponse> FaultInjectingSupplierClient::GetKeyRecord(
    std::string_view vault_id) {
  int corrupt = 0;
  RETURN_IF_ERROR(faults_->Before(SupplierMethod::kGetKeyRecord, address(), &corrupt));
  auto r = real_->GetKeyRecord(vault_id);
  if (r.ok() && r->candidates_size() > 0) Flip(corrupt, r->mutable_candidates(0)->mutable_data());
  return r;
}

SupplierConnector WrapConnector(SupplierConnector real, FaultChooser choose) {
  auto next = std::make_shared<std::atomic<int>>(0);
  return [real = std::move(real), choose = std::move(choose), next](
             const std::string& address, const std::string& identity_seed,
             const std::string& supplier_id) -> absl::StatusOr<std::unique_ptr<SupplierClient>> {
    const int index = (*next)++;
    ASSIGN_OR_RETURN(std::unique_ptr<SupplierClient> client,
                     real(address, identity_seed, supplier_id));
    std::shared_ptr<SupplierFaults> faults = choose ? choose(index, address) : nullptr;
    if (faults == nullptr) return client;
    return std::unique_ptr<SupplierClient>(
        new FaultInjectingSupplierClient(std::move(client), std::move(faults)));
  };
}

}  // namespace shardkeep::customer

#include "supplier/service.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto.h"
#include "common/units.h"
#include "common/merkle.h"
#include "glog/logging.h"
#include "proto/signing.h"
#include "supplier/limits.h"

namespace shardkeep::supplier {
namespace {

namespace m = signing::method;

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

void FillContract(const std::string& customer, const ContractRecord& rec, v1::Contract* out) {
  out->set_customer_key(customer);
  out->set_quota_bytes(rec.quota_bytes());
  out->set_used_bytes(rec.used_bytes());
  out->set_position(rec.position());
  out->set_supplier_count(rec.supplier_count());
  out->set_lease_expires_ms(rec.lease_expires_ms());
  out->set_created_ms(rec.created_ms());
  out->set_fragments(rec.fragments());
  out->set_objects(rec.objects());
}

bool AllOf(const std::string& s, bool (*ok)(char)) { return std::all_of(s.begin(), s.end(), ok); }

bool KeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}
bool NameChar(char c) { return KeyChar(c) || c == '/'; }

absl::StatusOr<uint32_t> PageSize(uint32_t requested) {
  if (requested == 0) return kMaxPageSize;
  if (requested > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("page_size %d is above the limit of %d", requested, kMaxPageSize));
  }
  return requested;
}

}  // namespace

namespace {

class UnparsableRequestInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit UnparsableRequestInterceptor(grpc::experimental::ServerRpcInfo* info) : info_(info) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status s = methods->GetSendStatus();
      // Handlers never answer INTERNAL without a message; gRPC does when the
      // request bytes do not parse.
      if (s.error_code() == grpc::StatusCode::INTERNAL && s.error_message().empty()) {
        grpc::Status better(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("the request is not a valid protobuf message for ", info_->method()));
        LOG(WARNING) << "refused " << info_->method() << " from " << info_->server_context()->peer()
                     << " (unauthenticated): " << better.error_message();
        methods->ModifySendStatus(better);
      }
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
};

class UnparsableRequestInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new UnparsableRequestInterceptor(info);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewUnparsableRequestInterceptorFactory() {
  return std::make_unique<UnparsableRequestInterceptorFactory>();
}

absl::Status CheckNoUnknownFields(const google::protobuf::Message& msg) {
  const google::protobuf::Reflection* r = msg.GetReflection();
  if (!r->GetUnknownFields(msg).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown fields in ", msg.GetDescriptor()->full_name(),
        " (a newer client than this supplier?); refused because the signature could not cover "
        "them"));
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(msg, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(msg, f); ++i) {
        RETURN_IF_ERROR(CheckNoUnknownFields(r->GetRepeatedMessage(msg, f, i)));
      }
    } else {
      RETURN_IF_ERROR(CheckNoUnknownFields(r->GetMessage(msg, f)));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckFragmentKey(const std::string& key) {
  if (key.empty() || key.size() > kMaxFragmentKeyLength || !AllOf(key, KeyChar)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad fragment key (%d bytes): must be 1..%d characters of [A-Za-z0-9._-]",
                        key.size(), kMaxFragmentKeyLength));
  }
  return absl::OkStatus();
}

absl::Status CheckObjectName(const std::string& name) {
  if (name.empty() || name.size() > kMaxObjectNameLength || !AllOf(name, NameChar)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad object name (%d bytes): must be 1..%d characters of [A-Za-z0-9._/-]",
                        name.size(), kMaxObjectNameLength));
  }
  return absl::OkStatus();
}

namespace {
int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// At most kRefusalLinesPerSecond refusal lines a second: a flood must not
// turn into a flood of log (the counts stay exact in the metrics).
constexpr int kRefusalLinesPerSecond = 50;
std::atomic<int64_t> refusal_second{0};
std::atomic<int> refusal_lines{0};
std::atomic<int> refusals_suppressed{0};

bool AllowRefusalLine() {
  const int64_t sec = SteadyMs() / 1000;
  int64_t seen = refusal_second.load();
  if (sec != seen && refusal_second.compare_exchange_strong(seen, sec)) {
    refusal_lines = 0;
    if (int n = refusals_suppressed.exchange(0); n > 0) {
      LOG(WARNING) << "refusals: " << n << " more refusal lines were not logged in the last "
                   << "second(s) (see the metrics for counts)";
    }
  }
  if (++refusal_lines <= kRefusalLinesPerSecond) return true;
  ++refusals_suppressed;
  return false;
}
}  // namespace

grpc::Status Reply(grpc::ServerContextBase* ctx, const char* method, const std::string& customer,
                   const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  if (!AllowRefusalLine()) return ToGrpc(status);
  // One line per refusal, key=value, for grep and log shippers.
  std::string line =
      absl::StrCat("refused method=", method, " code=", absl::StatusCodeToString(status.code()),
                   " customer=", customer.empty() ? "-" : crypto::ToHex(customer.substr(0, 4)),
                   " peer=", ctx->peer(), " reason=\"", std::string(status.message()), "\"");
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      LOG(INFO) << line;
      break;
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnknown:
      LOG(ERROR) << line;
      break;
    default:
      LOG(WARNING) << line;
  }
  return ToGrpc(status);
}

namespace {
// "ipv4:10.0.0.1:5555" -> "ipv4:10.0.0.1", "ipv6:[::1]:5555" -> "ipv6:[::1]".
std::string PeerAddress(const std::string& peer) {
  const size_t colon = peer.rfind(':');
  const size_t first = peer.find(':');
  return colon == std::string::npos || colon == first ? peer : peer.substr(0, colon);
}
}  // namespace

// Registers a streaming call with the watchdog for its lifetime; Progress()
// after every message moved. An upload starts WaitingHeader(); HeaderArrived()
// ends that; Authenticated() counts the stream against its customer and sets
// the transfer's deadline from its size.
class SupplierService::TransferScope {
 public:
  TransferScope(SupplierService* s, grpc::ServerContextBase* ctx, bool waiting_header) : s_(s) {
    t_.ctx = ctx;
    t_.peer_ip = PeerAddress(ctx->peer());
    t_.started_ms = SteadyMs();
    t_.last_progress_ms = t_.started_ms;
    absl::MutexLock l(&s_->transfers_mu_);
    s_->transfers_.insert(&t_);
    if (!waiting_header) return;
    const StreamLimits& lim = s_->limits_;
    t_.waiting_header = true;
    if (lim.first_message_timeout_ms > 0) {
      t_.deadline_ms = t_.started_ms + lim.first_message_timeout_ms;
    }
    ++s_->waiting_;
    const size_t from_peer = ++s_->waiting_per_peer_[t_.peer_ip];
    if (lim.max_waiting_streams_per_peer > 0 && from_peer > lim.max_waiting_streams_per_peer) {
      s_->EvictOldestWaiting(t_.peer_ip, &t_);
    }
    if (lim.max_waiting_streams > 0 && s_->waiting_ > lim.max_waiting_streams) {
      s_->EvictOldestWaiting("", &t_);
    }
  }
  ~TransferScope() {
    absl::MutexLock l(&s_->transfers_mu_);
    StopWaitingLocked();
    if (!t_.customer.empty() && --s_->streams_per_customer_[t_.customer] == 0) {
      s_->streams_per_customer_.erase(t_.customer);
    }
    s_->transfers_.erase(&t_);
  }
  void HeaderArrived() {
    absl::MutexLock l(&s_->transfers_mu_);
    StopWaitingLocked();
    t_.deadline_ms = INT64_MAX;
  }
  // ResourceExhausted if the customer already has max_streams_per_customer.
  absl::Status Authenticated(const std::string& customer, uint64_t size) {
    const StreamLimits& lim = s_->limits_;
    absl::MutexLock l(&s_->transfers_mu_);
    size_t& n = s_->streams_per_customer_[customer];
    if (lim.max_streams_per_customer > 0 && n >= lim.max_streams_per_customer) {
      if (n == 0) s_->streams_per_customer_.erase(customer);
      return absl::ResourceExhaustedError(absl::StrFormat(
          "customer %s... already has %d fragment transfers in progress (the limit)",
          crypto::ToHex(customer.substr(0, 4)), lim.max_streams_per_customer));
    }
    ++n;
    t_.customer = customer;
    if (lim.min_transfer_bytes_per_second > 0) {
      const int64_t budget = std::max<int64_t>(lim.first_message_timeout_ms, 1000) +
                             static_cast<int64_t>(size / lim.min_transfer_bytes_per_second * 1000);
      t_.deadline_ms = SteadyMs() + budget;
    }
    return absl::OkStatus();
  }
  void Progress() { t_.last_progress_ms = SteadyMs(); }
  // Why the watchdog cancelled this transfer; nullptr if it did not.
  const char* cancelled_because() const { return t_.cancelled_because; }

 private:
  void StopWaitingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s_->transfers_mu_) {
    if (!t_.waiting_header.exchange(false)) return;
    --s_->waiting_;
    auto it = s_->waiting_per_peer_.find(t_.peer_ip);
    if (it != s_->waiting_per_peer_.end() && --it->second == 0) s_->waiting_per_peer_.erase(it);
  }

  SupplierService* const s_;
  Transfer t_;
};

SupplierService::SupplierService(Store* store, ReplayGuard* guard, Clock* clock,
                                 int64_t idle_timeout_ms, StreamLimits limits, Admission* admission)
    : store_(store),
      guard_(guard),
      clock_(clock),
      idle_timeout_ms_(idle_timeout_ms),
      limits_(limits),
      admission_(admission),
      upload_pool_(std::make_unique<ThreadPool>(std::max(1, limits.upload_threads))) {
  watchdog_ = std::thread([this] { WatchTransfers(); });
}

SupplierService::~SupplierService() {
  {
    absl::MutexLock l(&transfers_mu_);
    stop_watchdog_ = true;
  }
  if (watchdog_.joinable()) watchdog_.join();
}

void SupplierService::EvictOldestWaiting(const std::string& peer_ip, const Transfer* self) {
  Transfer* oldest = nullptr;
  for (Transfer* t : transfers_) {
    if (t == self || !t->waiting_header || (!peer_ip.empty() && t->peer_ip != peer_ip)) continue;
    if (oldest == nullptr || t->started_ms < oldest->started_ms) oldest = t;
  }
  if (oldest == nullptr) return;
  // It stops counting as waiting now (its handler sees the cancellation and
  // ends soon; the next new stream must not evict another on its account).
  oldest->waiting_header = false;
  --waiting_;
  auto it = waiting_per_peer_.find(oldest->peer_ip);
  if (it != waiting_per_peer_.end() && --it->second == 0) waiting_per_peer_.erase(it);
  oldest->cancelled_because =
      peer_ip.empty() ? "too many streams waiting for their first message"
                      : "too many streams from this peer waiting for their first message";
  oldest->ctx->TryCancel();
}

int SupplierService::CancelStreamsWaitingForHeader() {
  absl::MutexLock l(&transfers_mu_);
  int n = 0;
  for (Transfer* t : transfers_) {
    if (!t->waiting_header || t->cancelled_because != nullptr) continue;
    t->cancelled_because = "the supplier is shutting down";
    t->ctx->TryCancel();
    ++n;
  }
  return n;
}

void SupplierService::WatchTransfers() {
  int64_t period = 1000;
  if (idle_timeout_ms_ > 0) period = std::min(period, idle_timeout_ms_ / 4);
  if (limits_.first_message_timeout_ms > 0) {
    period = std::min(period, limits_.first_message_timeout_ms / 4);
  }
  period = std::max<int64_t>(period, 10);
  absl::MutexLock l(&transfers_mu_);
  while (!stop_watchdog_) {
    transfers_mu_.AwaitWithTimeout(absl::Condition(&stop_watchdog_), absl::Milliseconds(period));
    const int64_t now = SteadyMs();
    for (Transfer* t : transfers_) {
      if (t->cancelled_because != nullptr) continue;
      const char* why = nullptr;
      if (now > t->deadline_ms) {
        why = t->waiting_header ? "no header within the first-message timeout"
                                : "slower than the minimum transfer rate";
      } else if (idle_timeout_ms_ > 0 && now - t->last_progress_ms > idle_timeout_ms_) {
        why = "idle";
      }
      if (why != nullptr) {
        t->cancelled_because = why;
        t->ctx->TryCancel();
      }
    }
  }
}

template <typename Req>
absl::StatusOr<std::string> SupplierService::Authenticate(const char* method, const Req& req) {
  RETURN_IF_ERROR(CheckNoUnknownFields(req));
  ASSIGN_OR_RETURN(std::string customer,
                   signing::VerifyRequest(method, store_->supplier_id(), req));
  // A customer without a contract is refused before any state is recorded
  // (issue 11: a flood signed with throw-away keys used to fill the nonce
  // table for everyone). Only RequestContract, which may create a contract,
  // goes on, and its nonces come from a bounded pool of their own.
  RETURN_IF_ERROR(guard_->CheckTimestamp(req.auth()));
  const bool has_contract = store_->HasContract(customer);
  if (!has_contract && std::string_view(method) != m::kRequestContract) {
    const std::string who = crypto::ToHex(customer.substr(0, 4));
    if (std::string_view(method) == m::kGetContract) {
      return absl::NotFoundError(
          absl::StrCat("customer ", who, "... has no contract with this supplier"));
    }
    return absl::PermissionDeniedError(absl::StrCat(
        "customer ", who, "... has no contract with this supplier (RequestContract first)"));
  }
  RETURN_IF_ERROR(guard_->Check(req.auth(), has_contract));
  return customer;
}

grpc::Status SupplierService::Info(grpc::ServerContext* ctx, const v1::InfoRequest* req,
                                   v1::InfoResponse* resp) {
  absl::Status s = CheckNoUnknownFields(*req);
  if (s.ok()) {
    Totals t = store_->GetTotals();
    resp->set_version(kVersion);
    resp->set_supplier_id(store_->supplier_id());
    resp->set_capacity_bytes(t.capacity_bytes);
    resp->set_granted_bytes(t.granted_bytes);
    resp->set_used_bytes(t.used_bytes);
    resp->set_customers(t.customers);
    resp->set_now_ms(clock_->NowMs());
    resp->set_max_fragment_bytes(store_->options().max_fragment_bytes);
    resp->set_max_object_bytes(store_->options().max_object_bytes);
    resp->set_max_message_bytes(kMaxMessageBytes);
  }
  return Reply(ctx, "Info", "", s);
}

grpc::Status SupplierService::RequestContract(grpc::ServerContext* ctx,
                                              const v1::ContractRequest* req,
                                              v1::ContractResponse* resp) {
  std::string customer;
  absl::Status s = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(customer, Authenticate(m::kRequestContract, *req));
    if (req->supplier_count() == 0 || req->supplier_count() > kMaxSupplierCount ||
        req->position() >= req->supplier_count()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "position %d of supplier_count %d: need 1 <= supplier_count <= %d and position < "
          "supplier_count",
          req->position(), req->supplier_count(), kMaxSupplierCount));
    }
    std::string invite_id;
    if (admission_ != nullptr && !store_->HasContract(customer)) {
      RETURN_IF_ERROR(admission_->AdmitNew(customer, req->invite(), &invite_id));
    }
    ASSIGN_OR_RETURN(ContractRecord rec,
                     store_->RequestContract(customer, req->needed_bytes(), req->position(),
                                             req->supplier_count(), invite_id));
    FillContract(customer, rec, resp->mutable_contract());
    return absl::OkStatus();
  }();
  return Reply(ctx, "RequestContract", customer, s);
}

grpc::Status SupplierService::GetContract(grpc::ServerContext* ctx,
                                          const v1::GetContractRequest* req,
                                          v1::ContractResponse* resp) {
  std::string customer;
  absl::Status s = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(customer, Authenticate(m::kGetContract, *req));
    store_->Touch(customer).IgnoreError();  // NotFound comes from GetContract
    ASSIGN_OR_RETURN(ContractRecord rec, store_->GetContract(customer));
    FillContract(customer, rec, resp->mutable_contract());
    return absl::OkStatus();
  }();
  return Reply(ctx, "GetContract", customer, s);
}

grpc::Status SupplierService::RenewContract(grpc::ServerContext* ctx, const v1::RenewRequest* req,
                                            v1::ContractResponse* resp) {
  std::string customer;
  absl::Status s = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(customer, Authenticate(m::kRenewContract, *req));
    ASSIGN_OR_RETURN(ContractRecord rec, store_->RenewContract(customer));
    FillContract(customer, rec, resp->mutable_contract());
    return absl::OkStatus();
  }();
  return Reply(ctx, "RenewContract", customer, s);
}

grpc::Status SupplierService::CancelContract(grpc::ServerContext* ctx, const v1::CancelRequest* req,
                                             v1::CancelResponse* resp) {
  std::string customer;
  absl::Status s = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(customer, Authenticate(m::kCancelContract, *req));
    ASSIGN_OR_RETURN(uint64_t freed, store_->CancelContract(customer));
    resp->set_freed_bytes(freed);
    return absl::OkStatus();
  }();
  return Reply(ctx, "CancelContract", customer, s);
}

// One PutFragment call. gRPC calls OnReadDone on its callback threads, which
// must not block; each message is handed to the upload pool (Step), which
// handles it and then asks for the next one or finishes the call. At most one
// read or Step is outstanding at a time, so the members need no lock. Between
// messages the upload holds no thread. Finish is the last thing Step does
// with `this`: gRPC may call OnDone (which deletes it) right after.
class SupplierService::PutFragmentReactor : public grpc::ServerReadReactor<v1::PutFragmentChunk> {
 public:
  PutFragmentReactor(SupplierService* s, grpc::CallbackServerContext* ctx,
                     v1::PutFragmentResponse* resp)
      : s_(s), ctx_(ctx), resp_(resp), transfer_(s, ctx, /*waiting_header=*/true) {
    StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    s_->upload_pool_->Submit([this, ok] { Step(ok); });
  }
  // Unregisters from the watchdog (transfer_) and releases an unfinished
  // upload's file and quota reservation (upload_).
  void OnDone() override { delete this; }

 private:
  // ok: a message arrived in chunk_; false: the stream ended (half-close,
  // cancellation or a broken connection).
  void Step(bool ok) {
    bool done = false;
    absl::Status s = upload_ == nullptr ? Header(ok, &done) : Data(ok, &done);
    if (s.ok() && !done) {
      StartRead(&chunk_);
      return;
    }
    upload_.reset();  // an unfinished upload's file is removed here, not on gRPC's thread
    Finish(Reply(ctx_, "PutFragment", customer_, s));
  }

  absl::Status Header(bool ok, bool* done) {
    if (!ok) {
      if (const char* why = transfer_.cancelled_because()) {
        return absl::DeadlineExceededError(
            absl::StrCat("PutFragment stream cancelled before its header: ", why));
      }
      return absl::InvalidArgumentError(
          "empty PutFragment stream: the first message must be the header");
    }
    transfer_.HeaderArrived();
    if (!chunk_.has_header()) {
      return absl::InvalidArgumentError("the first PutFragment message must carry the header");
    }
    RETURN_IF_ERROR(CheckNoUnknownFields(chunk_));
    header_ = chunk_.header();
    ASSIGN_OR_RETURN(customer_, s_->Authenticate(m::kPutFragment, header_));
    RETURN_IF_ERROR(CheckFragmentKey(header_.key()));
    RETURN_IF_ERROR(s_->store_->Touch(customer_));
    RETURN_IF_ERROR(transfer_.Authenticated(customer_, header_.size()));
    ASSIGN_OR_RETURN(
        Store::BeginResult begin,
        s_->store_->BeginFragment(customer_, header_.key(), header_.size(), header_.sha256()));
    if (begin.already_present) {
      // Nothing to receive: answer now; the client's remaining writes fail
      // and its Finish() returns this response.
      resp_->set_already_present(true);
      resp_->set_used_bytes(begin.usage.used_bytes);
      resp_->set_quota_bytes(begin.usage.quota_bytes);
      *done = true;
      return absl::OkStatus();
    }
    upload_ = std::move(begin.upload);
    return absl::OkStatus();
  }

  absl::Status Data(bool ok, bool* done) {
    Store::FragmentUpload& upload = *upload_;
    if (ok) {
      transfer_.Progress();
      if (chunk_.part_case() != v1::PutFragmentChunk::kData) {
        return absl::InvalidArgumentError("after the header, PutFragment messages must carry data");
      }
      if (chunk_.data().size() > kMaxDataPerMessage) {
        return absl::InvalidArgumentError(
            absl::StrFormat("data message of %d bytes is above the limit of %d",
                            chunk_.data().size(), kMaxDataPerMessage));
      }
      RETURN_IF_ERROR(CheckNoUnknownFields(chunk_));
      return upload.Append(chunk_.data());
    }
    *done = true;
    if (const char* why = transfer_.cancelled_because()) {
      if (std::string_view(why) == "idle") {
        return absl::DeadlineExceededError(absl::StrFormat(
            "fragment %s: no data for %s after %d of %d bytes; upload abandoned, nothing stored",
            header_.key(), FormatDurationMs(s_->idle_timeout_ms_), upload.received(),
            upload.size()));
      }
      return absl::DeadlineExceededError(absl::StrFormat(
          "fragment %s: upload cancelled (%s; minimum rate %d bytes/s) after %d of %d bytes; "
          "nothing stored",
          header_.key(), why, s_->limits_.min_transfer_bytes_per_second, upload.received(),
          upload.size()));
    }
    if (ctx_->IsCancelled()) {
      return absl::CancelledError(
          absl::StrFormat("fragment %s: upload cancelled after %d of %d bytes; nothing stored",
                          header_.key(), upload.received(), upload.size()));
    }
    bool already = false;
    ASSIGN_OR_RETURN(Usage usage, upload.Commit(&already));
    if (s_->metrics_ != nullptr) s_->metrics_->AddBytes("PutFragment", "in", upload.size());
    resp_->set_already_present(already);
    resp_->set_used_bytes(usage.used_bytes);
    resp_->set_quota_bytes(usage.quota_bytes);
    return absl::OkStatus();
  }

  SupplierService* const s_;
  grpc::CallbackServerContext* const ctx_;
  v1::PutFragmentResponse* const resp_;
  TransferScope transfer_;
  v1::PutFragmentChunk chunk_;
  v1::FragmentHeader header_;
  std::string customer_;
  std::unique_ptr<Store::FragmentUpload> upload_;
};

grpc::ServerReadReactor<v1::PutFragmentChunk>* SupplierService::PutFragment(
    grpc::CallbackServerContext* ctx, v1::PutFragmentResponse* resp) {
  return new PutFragmentReactor(this, ctx, resp);
}

grpc::Status SupplierService::GetFragment(grpc::ServerContext* ctx,
                                          const v1::GetFragmentRequest* req,
                                          grpc::ServerWriter<v1::FragmentData>* writer) {
  std::string customer;
  absl::Status s = DoGetFragment(ctx, req, writer, &customer);
  return Reply(ctx, "GetFragment", customer, s);
}

absl::Status SupplierService::DoGetFragment(grpc::ServerContext* ctx,
                                            const v1::GetFragmentRequest* req,
                                            grpc::ServerWriter<v1::FragmentData>* writer,
                                            std::string* customer) {
  ASSIGN_OR_RETURN(*customer, Authenticate(m::kGetFragment, *req));
  RETURN_IF_ERROR(CheckFragmentKey(req->key()));
  RETURN_IF_ERROR(store_->Touch(*customer));
  ASSIGN_OR_RETURN(Store::OpenedFragment f, store_->OpenFragment(*customer, req->key()));
  TransferScope transfer(this, ctx, /*waiting_header=*/false);
  RETURN_IF_ERROR(transfer.Authenticated(*customer, f.record.size()));
  const uint64_t size = f.record.size();
  v1::FragmentData msg;
  msg.set_size(size);
  msg.set_sha256(f.record.sha256());
  uint64_t offset = 0;
  do {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kMaxDataPerMessage, size - offset));
    RETURN_IF_ERROR(f.reader->ReadAt(offset, n, msg.mutable_data()));
    if (msg.data().size() != n) {
      return absl::DataLossError(absl::StrFormat("fragment %s: file ended early", req->key()));
    }
    if (!writer->Write(msg)) {
      return absl::CancelledError(absl::StrFormat(
          "fragment %s: client %s after %d of %d bytes", req->key(),
          transfer.cancelled_because() != nullptr ? transfer.cancelled_because() : "went away",
          offset, size));
    }
    transfer.Progress();
    offset += n;
    msg.clear_size();
    msg.clear_sha256();
  } while (offset < size && !ctx->IsCancelled());
  if (metrics_ != nullptr) metrics_->AddBytes("GetFragment", "out", offset);
  return absl::OkStatus();
}

grpc::Status SupplierService::ListFragments(grpc::ServerContext* ctx,
                                            const v1::ListFragmentsRequest* req,
                                            v1::ListFragmentsResponse* resp) {
  std::string customer;
  absl::Status s = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(customer, Authenticate(m::kListFragments, *req));
    RETURN_IF_ERROR(store_->Touch(customer));
    ASSIGN_OR_RETURN(uint32_t limit, PageSize(req->page_size()));
    bool more = false;
    ASSIGN_OR_RETURN(
        std::vector<FragmentEntry> entries,
        store_->ListFragments(customer, req->prefix(), req->start_after(), limit, &more));
    for (auto& e : entries) {
      v1::FragmentInfo* info = resp->add_fragments();
      info->set_key(std::move(e.key));
      info->set_size(e.size);
      info->set_sha256(std::move(e.sha256));
    }
    resp->set_more(more);
    return absl::OkStatus();
  }();
  return Reply(ctx, "ListFragments", customer, s);
}

grpc::Status SupplierService::DeleteFragments(grpc::ServerContext* ctx,
                                              const v1::DeleteFragmentsRequest* req,
                                              v1::DeleteFragmentsResponse* resp) {
  std::string customer;
  absl::Status s = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(customer, Authenticate(m::kDeleteFragments, *req));
    RETURN_IF_ERROR(store_->Touch(customer));
    if (static_cast<size_t>(req->keys_size()) > kMaxDeleteBatch) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%d keys in one DeleteFragments; the limit is %d", req->keys_size(), kMaxDeleteBatch));
    }
    for (const std::string& key : req->keys()) RETURN_IF_ERROR(CheckFragmentKey(key));
    ASSIGN_OR_RETURN(DeleteResult r,
                     store_->DeleteFragments(customer, {req->keys().begin(), req->keys().end()}));
    resp->set_deleted(r.deleted);
    resp->set_freed_bytes(r.freed_bytes);
    for (auto& k : r.not_found) resp->add_not_found(std::move(k));
    return absl::OkStatus();
  }();
  return Reply(ctx, "DeleteFragments", customer, s);
}

grpc::Status SupplierService::AuditFragment(grpc::ServerContext* ctx, const v1::AuditRequest* req,
                                            v1::AuditResponse* resp) {
  std::string customer;
  absl::Status s = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(customer, Authenticate(m::kAuditFragment, *req));
    RETURN_IF_ERROR(store_->Touch(customer));
    RETURN_IF_ERROR(CheckFragmentKey(req->key()));
    if (req->nonce().size() < kMinAuditNonce || req->nonce().size() > kMaxAuditNonce) {
      return absl::InvalidArgumentError(absl::StrFormat("audit nonce must be %d..%d bytes, got %d",
                                                        kMinAuditNonce, kMaxAuditNonce,
                                                        req->nonce().size()));
    }
    ASSIGN_OR_RETURN(Store::OpenedFragment f, store_->OpenFragment(customer, req->key()));
    crypto::Sha256Stream sha;
    sha.Update(req->nonce());
    std::string buf;
    for (uint64_t off = 0; off < f.record.size(); off += buf.size()) {
      if (ctx->IsCancelled()) return absl::CancelledError("audit cancelled by the client");
      RETURN_IF_ERROR(f.reader->ReadAt(off, kMaxDataPerMessage, &buf));
      if (buf.empty()) return absl::DataLossError("fragment file ended early");
      sha.Update(buf);
    }
    resp->set_digest(sha.Final());
    return absl::OkStatus();
  }();
  return Reply(ctx, "AuditFragment", customer, s);
}

// One piece of a fragment and its Merkle proof, read from the fragment file
// (every piece hashed for the proof, so the whole file is read: what the
// answer proves is that the supplier holds these bytes now).
grpc::Status SupplierService::AuditPiece(grpc::ServerContext* ctx,
                                         const v1::AuditPieceRequest* req,
                                         v1::AuditPieceResponse* resp) {
  std::string customer;
  absl::Status s = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(customer, Authenticate(m::kAuditPiece, *req));
    RETURN_IF_ERROR(store_->Touch(customer));
    RETURN_IF_ERROR(CheckFragmentKey(req->key()));
    ASSIGN_OR_RETURN(Store::OpenedFragment f, store_->OpenFragment(customer, req->key()));
    const uint64_t size = f.record.size();
    const uint64_t ps = protocol::kAuditPieceBytes;
    const uint64_t count = merkle::PieceCount(size, ps);
    if (req->piece() >= count) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "piece %d of a fragment of %d bytes: only %d pieces", req->piece(), size, count));
    }
    std::vector<std::string> leaves;
    leaves.reserve(count);
    std::string buf;
    for (uint64_t i = 0; i < count; ++i) {
      if (ctx->IsCancelled()) return absl::CancelledError("audit cancelled by the client");
      const uint64_t want = std::min<uint64_t>(ps, size - i * ps);
      buf.clear();
      RETURN_IF_ERROR(f.reader->ReadAt(i * ps, want, &buf));
      if (buf.size() != want) return absl::DataLossError("fragment file ended early");
      leaves.push_back(merkle::LeafHash(buf));
      if (i == req->piece()) resp->set_data(buf);
    }
    resp->set_size(size);
    for (auto& h : merkle::Proof(leaves, req->piece())) resp->add_proof(std::move(h));
    return absl::OkStatus();
  }();
  return Reply(ctx, "AuditPiece", customer, s);
}

grpc::Status SupplierService::PutObject(grpc::ServerContext* ctx, const v1::PutObjectRequest* req,
                                        v1::PutObjectResponse* resp) {
  std::string customer;
  absl::Status s = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(customer, Authenticate(m::kPutObject, *req));
    RETURN_IF_ERROR(CheckObjectName(req->name()));
    if (req->vault_id().size() > kMaxVaultIdLength) {
      return absl::InvalidArgumentError(
          absl::StrFormat("vault_id must be at most %d bytes", kMaxVaultIdLength));
    }
    RETURN_IF_ERROR(store_->Touch(customer));
    ASSIGN_OR_RETURN(Usage u,
                     store_->PutObject(customer, req->name(), req->data(), req->vault_id()));
    resp->set_used_bytes(u.used_bytes);
    resp->set_quota_bytes(u.quota_bytes);
    return absl::OkStatus();
  }();
  return Reply(ctx, "PutObject", customer, s);
}

grpc::Status SupplierService::GetObject(grpc::ServerContext* ctx, const v1::GetObjectRequest* req,
                                        v1::GetObjectResponse* resp) {
  std::string customer;
  absl::Status s = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(customer, Authenticate(m::kGetObject, *req));
    RETURN_IF_ERROR(CheckObjectName(req->name()));
    RETURN_IF_ERROR(store_->Touch(customer));
    ASSIGN_OR_RETURN(*resp->mutable_data(), store_->GetObject(customer, req->name()));
    return absl::OkStatus();
  }();
  return Reply(ctx, "GetObject", customer, s);
}

grpc::Status SupplierService::ListObjects(grpc::ServerContext* ctx,
                                          const v1::ListObjectsRequest* req,
                                          v1::ListObjectsResponse* resp) {
  std::string customer;
  absl::Status s = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(customer, Authenticate(m::kListObjects, *req));
    RETURN_IF_ERROR(store_->Touch(customer));
    ASSIGN_OR_RETURN(uint32_t limit, PageSize(req->page_size()));
    bool more = false;
    ASSIGN_OR_RETURN(auto entries, store_->ListObjects(customer, req->prefix(), req->start_after(),
                                                       limit, &more));
    for (auto& e : entries) {
      v1::ObjectInfo* info = resp->add_objects();
      info->set_name(std::move(e.name));
      info->set_size(e.size);
    }
    resp->set_more(more);
    return absl::OkStatus();
  }();
  return Reply(ctx, "ListObjects", customer, s);
}

grpc::Status SupplierService::DeleteObjects(grpc::ServerContext* ctx,
                                            const v1::DeleteObjectsRequest* req,
                                            v1::DeleteObjectsResponse* resp) {
  std::string customer;
  absl::Status s = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(customer, Authenticate(m::kDeleteObjects, *req));
    RETURN_IF_ERROR(store_->Touch(customer));
    if (static_cast<size_t>(req->names_size()) > kMaxDeleteBatch) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%d names in one DeleteObjects; the limit is %d", req->names_size(), kMaxDeleteBatch));
    }
    for (const std::string& name : req->names()) RETURN_IF_ERROR(CheckObjectName(name));
    ASSIGN_OR_RETURN(DeleteResult r,
                     store_->DeleteObjects(customer, {req->names().begin(), req->names().end()}));
    resp->set_deleted(r.deleted);
    resp->set_freed_bytes(r.freed_bytes);
    return absl::OkStatus();
  }();
  return Reply(ctx, "DeleteObjects", customer, s);
}

grpc::Status SupplierService::GetKeyRecord(grpc::ServerContext* ctx,
                                           const v1::GetKeyRecordRequest* req,
                                           v1::GetKeyRecordResponse* resp) {
  absl::Status s = [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckNoUnknownFields(*req));
    if (req->vault_id().empty() || req->vault_id().size() > kMaxVaultIdLength) {
      return absl::InvalidArgumentError(
          absl::StrFormat("vault_id must be 1..%d bytes", kMaxVaultIdLength));
    }
    ASSIGN_OR_RETURN(std::vector<KeyRecordCandidate> candidates,
                     store_->GetKeyRecord(req->vault_id()));
    for (KeyRecordCandidate& c : candidates) {
      v1::KeyRecordCandidate* out = resp->add_candidates();
      out->set_data(std::move(c.data));
      out->set_customer_key(std::move(c.customer_key));
      out->set_stored_ms(c.stored_ms);
    }
    return absl::OkStatus();
  }();
  return Reply(ctx, "GetKeyRecord", "", s);
}

}  // namespace shardkeep::supplier

#include "customer/net/grpc_supplier_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"
#include "proto/limits.h"
#include "proto/signing.h"
#include "proto/supplier.grpc.pb.h"

namespace shardkeep::customer {
namespace {

constexpr size_t kMessageData = protocol::kMaxDataPerMessage;
constexpr int64_t kSmallCallMs = 30000;
constexpr int64_t kInfoMs = 5000;

class GrpcSupplierClient : public SupplierClient {
 public:
  GrpcSupplierClient(std::string address, std::string seed, std::string supplier_id)
      : address_(std::move(address)), seed_(std::move(seed)), supplier_id_(std::move(supplier_id)) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // Fail fast while a supplier is down instead of backing off for minutes.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    channel_ = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
    stub_ = v1::Supplier::NewStub(channel_);
  }

  const std::string& address() const override { return address_; }

  absl::StatusOr<v1::InfoResponse> Info() override {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, kInfoMs);
    v1::InfoRequest req;
    v1::InfoResponse resp;
    RETURN_IF_ERROR(Convert(stub_->Info(&ctx, req, &resp), "Info"));
    std::lock_guard<std::mutex> lock(mu_);
    if (supplier_id_.empty()) supplier_id_ = resp.supplier_id();
    return resp;
  }

  absl::StatusOr<v1::Contract> RequestContract(uint64_t needed_bytes, uint32_t position,
                                               uint32_t supplier_count) override {
    v1::ContractRequest req;
    req.set_needed_bytes(needed_bytes);
    req.set_position(position);
    req.set_supplier_count(supplier_count);
    RETURN_IF_ERROR(SignRequest(signing::method::kRequestContract, &req));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, kSmallCallMs);
    v1::ContractResponse resp;
    RETURN_IF_ERROR(Convert(stub_->RequestContract(&ctx, req, &resp), "RequestContract"));
    return resp.contract();
  }

  absl::StatusOr<v1::Contract> GetContract() override {
    v1::GetContractRequest req;
    RETURN_IF_ERROR(SignRequest(signing::method::kGetContract, &req));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, kSmallCallMs);
    v1::ContractResponse resp;
    RETURN_IF_ERROR(Convert(stub_->GetContract(&ctx, req, &resp), "GetContract"));
    return resp.contract();
  }

  absl::Status CancelContract() override {
    v1::CancelRequest req;
    RETURN_IF_ERROR(SignRequest(signing::method::kCancelContract, &req));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, kSmallCallMs);
    v1::CancelResponse resp;
    return Convert(stub_->CancelContract(&ctx, req, &resp), "CancelContract");
  }

  absl::Status PutFragment(const std::string& key, std::string_view data,
                           std::string_view sha256) override {
    v1::PutFragmentChunk first;
    v1::FragmentHeader* h = first.mutable_header();
    h->set_key(key);
    h->set_size(data.size());
    h->set_sha256(sha256.data(), sha256.size());
    RETURN_IF_ERROR(SignRequest(signing::method::kPutFragment, h));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, FragmentDeadlineMs(data.size()));
    v1::PutFragmentResponse resp;
    auto writer = stub_->PutFragment(&ctx, &resp);
    bool ok = writer->Write(first);
    v1::PutFragmentChunk msg;
    for (size_t off = 0; ok && off < data.size(); off += kMessageData) {
      size_t len = std::min(kMessageData, data.size() - off);
      msg.set_data(data.data() + off, len);
      ok = writer->Write(msg);
    }
    if (ok) writer->WritesDone();
    return Convert(writer->Finish(), absl::StrCat("PutFragment ", key));
  }

  absl::StatusOr<std::string> GetFragment(const std::string& key) override {
    return Fetch(key, std::nullopt);
  }

  absl::StatusOr<std::string> GetFragmentOfSize(const std::string& key, uint64_t size) override {
    return Fetch(key, size);
  }

  // The fragment's bytes; with `expected`, an announced size other than it
  // ends the call at once, so a hostile supplier cannot make us hold more
  // than the index says (without it, up to 4 GiB as announced).
  absl::StatusOr<std::string> Fetch(const std::string& key, std::optional<uint64_t> expected) {
    v1::GetFragmentRequest req;
    req.set_key(key);
    RETURN_IF_ERROR(SignRequest(signing::method::kGetFragment, &req));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, FragmentDeadlineMs(expected ? *expected : 64 << 20));
    auto reader = stub_->GetFragment(&ctx, req);
    v1::FragmentData msg;
    std::string out;
    bool first = true;
    uint64_t size = 0;
    while (reader->Read(&msg)) {
      if (first) {
        size = msg.size();
        first = false;
        if (expected && size != *expected) {
          ctx.TryCancel();
          reader->Finish().ok();  // drain; the answer is refused whatever it says
          return absl::DataLossError(absl::StrCat(address_, ": GetFragment ", key, " announced ",
                                                  size, " bytes, the index expects ", *expected));
        }
        if (size <= (uint64_t{1} << 32)) out.reserve(size);
      }
      if (msg.data().size() > size - out.size()) {
        ctx.TryCancel();
        reader->Finish().ok();
        return absl::DataLossError(absl::StrCat(address_, ": GetFragment ", key,
                                                " sent more than the ", size, " bytes announced"));
      }
      out.append(msg.data());
    }
    grpc::Status st = reader->Finish();
    RETURN_IF_ERROR(Convert(st, absl::StrCat("GetFragment ", key)));
    if (first || out.size() != size) {
      return absl::DataLossError(absl::StrCat(address_, ": GetFragment ", key, " sent ", out.size(),
                                              " bytes, announced ", size));
    }
    return out;
  }

  absl::Status PutObject(const std::string& name, std::string_view data,
                         std::string_view vault_id) override {
    v1::PutObjectRequest req;
    req.set_name(name);
    req.set_data(data.data(), data.size());
    if (!vault_id.empty()) req.set_vault_id(vault_id.data(), vault_id.size());
    RETURN_IF_ERROR(SignRequest(signing::method::kPutObject, &req));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, kSmallCallMs);
    v1::PutObjectResponse resp;
    return Convert(stub_->PutObject(&ctx, req, &resp), absl::StrCat("PutObject ", name));
  }

  absl::StatusOr<std::string> GetObject(const std::string& name) override {
    v1::GetObjectRequest req;
    req.set_name(name);
    RETURN_IF_ERROR(SignRequest(signing::method::kGetObject, &req));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, kSmallCallMs);
    v1::GetObjectResponse resp;
    RETURN_IF_ERROR(Convert(stub_->GetObject(&ctx, req, &resp), absl::StrCat("GetObject ", name)));
    return std::move(*resp.mutable_data());
  }

  absl::StatusOr<std::vector<v1::ObjectInfo>> ListObjects(const std::string& prefix) override {
    std::vector<v1::ObjectInfo> out;
    std::string after;
    for (;;) {
      v1::ListObjectsRequest req;
      req.set_prefix(prefix);
      req.set_start_after(after);
      req.set_page_size(protocol::kListPageSize);
      RETURN_IF_ERROR(SignRequest(signing::method::kListObjects, &req));
      grpc::ClientContext ctx;
      SetDeadline(&ctx, kSmallCallMs);
      v1::ListObjectsResponse resp;
      RETURN_IF_ERROR(
          Convert(stub_->ListObjects(&ctx, req, &resp), absl::StrCat("ListObjects ", prefix)));
      // The answer is untrusted: bounded pages, bounded total, and progress
      // (sorted names after the last page's), so it cannot go on forever.
      auto refuse = [&](const std::string& why) {
        return absl::DataLossError(absl::StrCat(address_, ": ListObjects ", prefix, ": ", why));
      };
      if (resp.objects_size() > static_cast<int>(protocol::kListPageSize)) {
        return refuse(absl::StrCat("a page of ", resp.objects_size(), " names, ",
                                   protocol::kListPageSize, " asked for"));
      }
      if (out.size() + resp.objects_size() > protocol::kMaxListedObjects) {
        return refuse(absl::StrCat("more than ", protocol::kMaxListedObjects, " names"));
      }
      for (auto& o : *resp.mutable_objects()) {
        if ((!out.empty() || !after.empty()) && o.name() <= after) {
          return refuse("names out of order or repeated");
        }
        after = o.name();
        out.push_back(std::move(o));
      }
      if (!resp.more() || resp.objects_size() == 0) break;
    }
    return out;
  }

  absl::StatusOr<std::vector<v1::FragmentInfo>> ListFragments(const std::string& prefix) override {
    std::vector<v1::FragmentInfo> out;
    std::string after;
    for (;;) {
      v1::ListFragmentsRequest req;
      req.set_prefix(prefix);
      req.set_start_after(after);
      req.set_page_size(protocol::kListPageSize);
      RETURN_IF_ERROR(SignRequest(signing::method::kListFragments, &req));
      grpc::ClientContext ctx;
      SetDeadline(&ctx, kSmallCallMs);
      v1::ListFragmentsResponse resp;
      RETURN_IF_ERROR(Convert(stub_->ListFragments(&ctx, req, &resp),
                              absl::StrCat("ListFragments ", prefix)));
      // Bounded as ListObjects: page size, total, progress.
      auto refuse = [&](const std::string& why) {
        return absl::DataLossError(absl::StrCat(address_, ": ListFragments ", prefix, ": ", why));
      };
      if (resp.fragments_size() > static_cast<int>(protocol::kListPageSize)) {
        return refuse(absl::StrCat("a page of ", resp.fragments_size(), " keys, ",
                                   protocol::kListPageSize, " asked for"));
      }
      if (out.size() + resp.fragments_size() > protocol::kMaxListedObjects) {
        return refuse(absl::StrCat("more than ", protocol::kMaxListedObjects, " keys"));
      }
      for (auto& f : *resp.mutable_fragments()) {
        if ((!out.empty() || !after.empty()) && f.key() <= after) {
          return refuse("keys out of order or repeated");
        }
        after = f.key();
        out.push_back(std::move(f));
      }
      if (!resp.more() || resp.fragments_size() == 0) break;
    }
    return out;
  }

  absl::Status DeleteFragment(const std::string& key) override {
    v1::DeleteFragmentsRequest req;
    req.add_keys(key);
    RETURN_IF_ERROR(SignRequest(signing::method::kDeleteFragments, &req));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, kSmallCallMs);
    v1::DeleteFragmentsResponse resp;
    return Convert(stub_->DeleteFragments(&ctx, req, &resp),
                   absl::StrCat("DeleteFragments ", key));
  }

  absl::StatusOr<v1::Contract> RenewContract() override {
    v1::RenewRequest req;
    RETURN_IF_ERROR(SignRequest(signing::method::kRenewContract, &req));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, kSmallCallMs);
    v1::ContractResponse resp;
    RETURN_IF_ERROR(Convert(stub_->RenewContract(&ctx, req, &resp), "RenewContract"));
    return resp.contract();
  }

  absl::StatusOr<v1::AuditPieceResponse> AuditPiece(const std::string& key,
                                                    uint64_t piece) override {
    v1::AuditPieceRequest req;
    req.set_key(key);
    req.set_piece(piece);
    RETURN_IF_ERROR(SignRequest(signing::method::kAuditPiece, &req));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, kSmallCallMs);
    v1::AuditPieceResponse resp;
    RETURN_IF_ERROR(
        Convert(stub_->AuditPiece(&ctx, req, &resp), absl::StrCat("AuditPiece ", key)));
    return resp;
  }

  absl::StatusOr<v1::GetKeyRecordResponse> GetKeyRecord(std::string_view vault_id) override {
    v1::GetKeyRecordRequest req;
    req.set_vault_id(vault_id.data(), vault_id.size());
    grpc::ClientContext ctx;
    SetDeadline(&ctx, kSmallCallMs);
    v1::GetKeyRecordResponse resp;
    RETURN_IF_ERROR(Convert(stub_->GetKeyRecord(&ctx, req, &resp), "GetKeyRecord"));
    return resp;
  }

 private:
  static void SetDeadline(grpc::ClientContext* ctx, int64_t ms) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(ms));
  }

  absl::Status Convert(const grpc::Status& st, const std::string& what) const {
    if (st.ok()) return absl::OkStatus();
    return absl::Status(static_cast<absl::StatusCode>(st.error_code()),
                        absl::StrCat(address_, ": ", what, ": ", st.error_message()));
  }

  template <typename Req>
  absl::Status SignRequest(const char* method, Req* req) {
    if (seed_.size() != 32) {
      return absl::FailedPreconditionError(absl::StrCat(address_, ": no identity to sign with"));
    }
    std::string id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      id = supplier_id_;
    }
    if (id.empty()) {
      RETURN_IF_ERROR(Info().status());
      std::lock_guard<std::mutex> lock(mu_);
      id = supplier_id_;
    }
    signing::Sign(method, id, seed_, req);
    return absl::OkStatus();
  }

  const std::string address_;
  const std::string seed_;
  std::mutex mu_;
  std::string supplier_id_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Supplier::Stub> stub_;
};

}  // namespace

int64_t FragmentDeadlineMs(uint64_t bytes) {
  return 30000 + static_cast<int64_t>(bytes / (10 << 20)) * 1000;
}

absl::StatusOr<std::unique_ptr<SupplierClient>> ConnectGrpcSupplier(
    const std::string& address, const std::string& identity_seed, const std::string& supplier_id) {
  if (address.empty()) return absl::InvalidArgumentError("empty supplier address");
  return std::unique_ptr<SupplierClient>(
      new GrpcSupplierClient(address, identity_seed, supplier_id));
}

SupplierConnector DefaultConnector() { return ConnectGrpcSupplier; }

}  // namespace shardkeep::customer

#include "tests/harness/supplier_client.h"

#include <stdlib.h>

#include <chrono>
#include <future>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace shardkeep::testing {

namespace v1 = shardkeep::v1;
namespace m = signing::method;

namespace {
// An idle gRPC C++ channel reads from its connection only when its backup
// poller runs (every 5 s by default), so a supplier stopping cleanly waits
// that long for test clients to notice its GOAWAY. Polling every 50 ms makes
// SupplierCluster::Stop/Restart fast. Runs before main(), so before gRPC
// reads the variable; an explicit setting in the environment wins.
const bool kFastBackupPoll = [] {
  setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "50", /*overwrite=*/0);
  return true;
}();
}  // namespace

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

absl::StatusOr<std::unique_ptr<SupplierClient>> SupplierClient::Connect(
    const std::string& address, const std::string& seed, SupplierClientOptions options) {
  if (seed.size() != crypto::kEd25519SeedSize) {
    return absl::InvalidArgumentError("customer seed must be 32 bytes");
  }
  std::unique_ptr<SupplierClient> c(new SupplierClient());
  c->address_ = address;
  c->seed_ = seed;
  c->customer_key_ = crypto::Ed25519PublicKey(seed);
  c->options_ = options;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(4 << 20);
  args.SetMaxSendMessageSize(4 << 20);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (options.retry_unavailable) {
    args.SetServiceConfigJSON(R"({"methodConfig": [{
        "name": [{"service": "shardkeep.v1.Supplier"}],
        "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.05s", "maxBackoff": "0.5s",
                        "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]})");
  }
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!options.plaintext && options.tls_root_pem.empty()) {
    grpc::experimental::TlsChannelCredentialsOptions tls;
    tls.set_verify_server_certs(false);
    tls.set_check_call_host(false);
    tls.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    creds = grpc::experimental::TlsCredentials(tls);
  } else if (!options.plaintext) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_root_pem;
    creds = grpc::SslCredentials(ssl);
    if (!options.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(options.tls_server_name);
    }
  }
  c->channel_ = grpc::CreateCustomChannel(address, creds, args);
  c->stub_ = v1::Supplier::NewStub(c->channel_);
  ASSIGN_OR_RETURN(v1::InfoResponse info, c->Info());
  c->supplier_id_ = info.supplier_id();
  return c;
}

std::unique_ptr<grpc::ClientContext> SupplierClient::Context() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(options_.deadline_ms));
  return ctx;
}

absl::StatusOr<std::string> SupplierClient::RawUnaryCall(const std::string& method,
                                                         const std::string& request_bytes) {
  grpc::GenericStub generic(channel_);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  auto ctx = Context();
  std::promise<grpc::Status> done;
  generic.UnaryCall(ctx.get(), method, grpc::StubOptions(), &request, &response,
                    [&done](grpc::Status s) { done.set_value(std::move(s)); });
  RETURN_IF_ERROR(FromGrpc(done.get_future().get()));
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return absl::InternalError("cannot read the response");
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

absl::StatusOr<v1::InfoResponse> SupplierClient::Info() {
  v1::InfoResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub_->Info(Context().get(), v1::InfoRequest(), &resp)));
  return resp;
}

absl::StatusOr<v1::Contract> SupplierClient::RequestContract(uint64_t needed_bytes,
                                                             uint32_t position,
                                                             uint32_t supplier_count) {
  v1::ContractRequest req;
  req.set_needed_bytes(needed_bytes);
  req.set_position(position);
  req.set_supplier_count(supplier_count);
  Sign(m::kRequestContract, &req);
  v1::ContractResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub_->RequestContract(Context().get(), req, &resp)));
  return resp.contract();
}

absl::StatusOr<v1::Contract> SupplierClient::GetContract() {
  v1::GetContractRequest req;
  Sign(m::kGetContract, &req);
  v1::ContractResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub_->GetContract(Context().get(), req, &resp)));
  return resp.contract();
}

absl::StatusOr<v1::Contract> SupplierClient::RenewContract() {
  v1::RenewRequest req;
  Sign(m::kRenewContract, &req);
  v1::ContractResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub_->RenewContract(Context().get(), req, &resp)));
  return resp.contract();
}

absl::StatusOr<uint64_t> SupplierClient::CancelContract() {
  v1::CancelRequest req;
  Sign(m::kCancelContract, &req);
  v1::CancelResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub_->CancelContract(Context().get(), req, &resp)));
  return resp.freed_bytes();
}

absl::StatusOr<v1::PutFragmentResponse> SupplierClient::PutFragment(const std::string& key,
                                                                    const std::string& data) {
  auto ctx = Context();
  v1::PutFragmentResponse resp;
  auto writer = stub_->PutFragment(ctx.get(), &resp);
  v1::PutFragmentChunk chunk;
  v1::FragmentHeader* h = chunk.mutable_header();
  h->set_key(key);
  h->set_size(data.size());
  h->set_sha256(crypto::Sha256(data));
  Sign(m::kPutFragment, h);
  // A supplier that refuses (or already holds the fragment) ends the call
  // early; the failed Write is then followed by Finish's status.
  if (writer->Write(chunk)) {
    for (size_t off = 0; off < data.size(); off += options_.message_bytes) {
      chunk.set_data(data.substr(off, options_.message_bytes));
      if (!writer->Write(chunk)) break;
    }
    writer->WritesDone();
  }
  RETURN_IF_ERROR(FromGrpc(writer->Finish()));
  return resp;
}

absl::Status SupplierClient::PutFragmentCutOff(const std::string& key, const std::string& data,
                                               size_t send_bytes) {
  auto ctx = Context();
  v1::PutFragmentResponse resp;
  auto writer = stub_->PutFragment(ctx.get(), &resp);
  v1::PutFragmentChunk chunk;
  v1::FragmentHeader* h = chunk.mutable_header();
  h->set_key(key);
  h->set_size(data.size());
  h->set_sha256(crypto::Sha256(data));
  Sign(m::kPutFragment, h);
  if (writer->Write(chunk)) {
    for (size_t off = 0; off < send_bytes; off += options_.message_bytes) {
      chunk.set_data(data.substr(off, std::min(options_.message_bytes, send_bytes - off)));
      if (!writer->Write(chunk)) break;
    }
  }
  ctx->TryCancel();
  return FromGrpc(writer->Finish());
}

absl::StatusOr<std::string> SupplierClient::GetFragment(const std::string& key) {
  v1::GetFragmentRequest req;
  req.set_key(key);
  Sign(m::kGetFragment, &req);
  auto ctx = Context();
  auto reader = stub_->GetFragment(ctx.get(), req);
  v1::FragmentData msg;
  std::string data, sha;
  uint64_t size = 0;
  bool first = true;
  while (reader->Read(&msg)) {
    if (first) {
      size = msg.size();
      sha = msg.sha256();
      data.reserve(size);
      first = false;
    }
    data += msg.data();
  }
  RETURN_IF_ERROR(FromGrpc(reader->Finish()));
  if (first) return absl::DataLossError("GetFragment returned no message");
  if (data.size() != size || crypto::Sha256(data) != sha) {
    return absl::DataLossError(absl::StrCat("fragment ", key, ": received ", data.size(),
                                            " bytes that do not match the announced size ", size,
                                            " and SHA-256"));
  }
  return data;
}

absl::StatusOr<v1::ListFragmentsResponse> SupplierClient::ListFragments(
    const std::string& prefix, const std::string& start_after, uint32_t page_size) {
  v1::ListFragmentsRequest req;
  req.set_prefix(prefix);
  req.set_start_after(start_after);
  req.set_page_size(page_size);
  Sign(m::kListFragments, &req);
  v1::ListFragmentsResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub_->ListFragments(Context().get(), req, &resp)));
  return resp;
}

absl::StatusOr<v1::DeleteFragmentsResponse> SupplierClient::DeleteFragments(
    const std::vector<std::string>& keys) {
  v1::DeleteFragmentsRequest req;
  for (const auto& k : keys) req.add_keys(k);
  Sign(m::kDeleteFragments, &req);
  v1::DeleteFragmentsResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub_->DeleteFragments(Context().get(), req, &resp)));
  return resp;
}

absl::StatusOr<std::string> SupplierClient::AuditFragment(const std::string& key,
                                                          const std::string& nonce) {
  v1::AuditRequest req;
  req.set_key(key);
  req.set_nonce(nonce);
  Sign(m::kAuditFragment, &req);
  v1::AuditResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub_->AuditFragment(Context().get(), req, &resp)));
  return resp.digest();
}

absl::StatusOr<v1::PutObjectResponse> SupplierClient::PutObject(const std::string& name,
                                                                const std::string& data,
                                                                const std::string& vault_id) {
  v1::PutObjectRequest req;
  req.set_name(name);
  req.set_data(data);
  req.set_vault_id(vault_id);
  Sign(m::kPutObject, &req);
  v1::PutObjectResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub_->PutObject(Context().get(), req, &resp)));
  return resp;
}

absl::StatusOr<std::string> SupplierClient::GetObject(const std::string& name) {
  v1::GetObjectRequest req;
  req.set_name(name);
  Sign(m::kGetObject, &req);
  v1::GetObjectResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub_->GetObject(Context().get(), req, &resp)));
  return resp.data();
}

absl::StatusOr<v1::ListObjectsResponse> SupplierClient::ListObjects(const std::string& prefix,
                                                                    const std::string& start_after,
                                                                    uint32_t page_size) {
  v1::ListObjectsRequest req;
  req.set_prefix(prefix);
  req.set_start_after(start_after);
  req.set_page_size(page_size);
  Sign(m::kListObjects, &req);
  v1::ListObjectsResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub_->ListObjects(Context().get(), req, &resp)));
  return resp;
}

absl::StatusOr<v1::DeleteObjectsResponse> SupplierClient::DeleteObjects(
    const std::vector<std::string>& names) {
  v1::DeleteObjectsRequest req;
  for (const auto& n : names) req.add_names(n);
  Sign(m::kDeleteObjects, &req);
  v1::DeleteObjectsResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub_->DeleteObjects(Context().get(), req, &resp)));
  return resp;
}

absl::StatusOr<v1::GetKeyRecordResponse> SupplierClient::GetKeyRecord(const std::string& vault_id) {
  v1::GetKeyRecordRequest req;
  req.set_vault_id(vault_id);
  v1::GetKeyRecordResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub_->GetKeyRecord(Context().get(), req, &resp)));
  return resp;
}

}  // namespace shardkeep::testing

#include "customer/net/grpc_supplier_client.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/tls_fingerprint.h"
#include "customer/net/stall_watchdog.h"
#include "proto/limits.h"
#include "proto/signing.h"
#include "proto/supplier.grpc.pb.h"

namespace shardkeep::customer {
namespace {

// Upload messages are smaller than the protocol allows (1 MiB) so that each
// one moves within the stall timeout on a slow, shared link: progress is
// seen per message (stall_watchdog.h).
constexpr size_t kUploadMessageData = std::min<size_t>(256 << 10, protocol::kMaxDataPerMessage);
// Info is the first call to a supplier (CheckReachable): one that does not
// answer it quickly is reported unreachable without waiting for a stall.
constexpr int64_t kInfoMs = 10000;
// Info is the probe every command starts with (SupplierSet::CheckSuppliers,
// which tries once more itself). A supplier that refuses connections is
// down for this command; five attempts (~4 s of backoff, twice over with
// the probe's own retry) made every command wait ~8 s per dead supplier,
// a restore with 2 of 4 suppliers killed 1.9x a healthy one. Calls after
// the probe keep the full retries (a supplier restarting mid-transfer).
constexpr int kInfoAttempts = 2;
// How often a call that moved data before its connection dropped may start
// its count of retries afresh (TransportOptions::max_attempts).
constexpr int kMaxFreshStarts = 20;

// The pinned key of one supplier and what its handshakes showed; shared
// between the client and the verifier gRPC owns (which may outlive it).
struct TlsPin {
  std::mutex mu;
  std::string expected;  // 32 bytes, or empty: any key
  std::string seen;      // the last handshake's key
  std::string mismatch;  // set when the last handshake was refused for the pin
};

// Verifies a supplier's self-signed certificate by its public key alone:
// there is no CA, the pin is the trust (chain and host name are not checked;
// TlsChannelCredentialsOptions::set_verify_server_certs(false)). The TLS
// handshake itself proves the peer holds the private key of the certificate
// it presents.
class PinnedKeyVerifier : public grpc::experimental::ExternalCertificateVerifier {
 public:
  PinnedKeyVerifier(std::shared_ptr<TlsPin> pin, std::string address)
      : pin_(std::move(pin)), address_(std::move(address)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)>, grpc::Status* sync_status) override {
    const std::string pem(request->peer_cert().data(), request->peer_cert().size());
    absl::StatusOr<std::string> fp = tls::PublicKeyFingerprint(pem);
    std::lock_guard<std::mutex> lock(pin_->mu);
    if (!fp.ok()) {
      pin_->mismatch = absl::StrCat(address_, ": the supplier's TLS certificate does not parse: ",
                                    fp.status().message());
      *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, pin_->mismatch);
      return true;
    }
    pin_->seen = *fp;
    if (!pin_->expected.empty() && pin_->expected != *fp) {
      pin_->mismatch = absl::StrCat(
          address_, ": refusing the supplier: its TLS key is ", tls::FormatFingerprint(*fp),
          " but the vault pinned ", tls::FormatFingerprint(pin_->expected),
          " at init (another machine answers at that address, or the supplier lost its "
          "identity: treat it as a different supplier)");
      *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, pin_->mismatch);
      return true;
    }
    pin_->mismatch.clear();
    *sync_status = grpc::Status::OK;
    return true;
  }

  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  const std::shared_ptr<TlsPin> pin_;
  const std::string address_;
};

std::shared_ptr<grpc::ChannelCredentials> PinnedTlsCredentials(std::shared_ptr<TlsPin> pin,
                                                               const std::string& address) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<PinnedKeyVerifier>(pin, address));
  return grpc::experimental::TlsCredentials(options);
}

class GrpcSupplierClient : public SupplierClient {
 public:
  GrpcSupplierClient(std::string address, std::string seed, std::string supplier_id,
                     const TransportOptions& options)
      : address_(std::move(address)),
        seed_(std::move(seed)),
        options_(options),
        supplier_id_(std::move(supplier_id)),
        watchdog_(StallWatchdog::Options{options.stall_timeout, {}, address_}) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // Fail fast while a supplier is down instead of backing off for minutes.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    // Keepalive pings, also between calls, so a dead connection (a NAT that
    // forgot it, a supplier that vanished) is closed and the next call
    // reconnects instead of waiting on it. The supplier permits pings this
    // often (supplier/main.cc).
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options.keepalive_time.count()));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(options.keepalive_timeout.count()));
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    // Downloads: a fixed 512 KiB window per stream, as the supplier does for
    // uploads (supplier/main.cc), so no more than that waits unseen in
    // buffers of a slow link.
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 512 << 10);
    // TLS with the pinned key by default; plaintext only when asked for.
    channel_ = grpc::CreateCustomChannel(
        address_,
        options.insecure_plaintext ? grpc::InsecureChannelCredentials()
                                   : PinnedTlsCredentials(pin_, address_),
        args);
    stub_ = v1::Supplier::NewStub(channel_);
  }

  const std::string& address() const override { return address_; }

  void SetInvite(const std::string& token) override {
    std::lock_guard<std::mutex> lock(mu_);
    invite_ = token;
  }

  void PinTlsFingerprint(const std::string& fingerprint) override {
    std::lock_guard<std::mutex> lock(pin_->mu);
    pin_->expected = fingerprint;
  }

  std::string TlsFingerprint() const override {
    std::lock_guard<std::mutex> lock(pin_->mu);
    return pin_->seen;
  }

  absl::StatusOr<v1::InfoResponse> Info() override {
    v1::InfoResponse resp;
    RETURN_IF_ERROR(Attempts(
        "Info",
        [&](grpc::ClientContext* ctx, StallWatchdog::Call*) {
          SetDeadline(ctx, kInfoMs);
          return stub_->Info(ctx, v1::InfoRequest(), &resp);
        },
        kInfoAttempts));
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
    {
      std::lock_guard<std::mutex> lock(mu_);
      req.set_invite(invite_);
    }
    v1::ContractResponse resp;
    RETURN_IF_ERROR(Unary(signing::method::kRequestContract, "RequestContract", &req, &resp,
                          &v1::Supplier::Stub::RequestContract));
    return resp.contract();
  }

  absl::StatusOr<v1::Contract> GetContract() override {
    v1::GetContractRequest req;
    v1::ContractResponse resp;
    RETURN_IF_ERROR(Unary(signing::method::kGetContract, "GetContract", &req, &resp,
                          &v1::Supplier::Stub::GetContract));
    return resp.contract();
  }

  absl::Status CancelContract() override {
    v1::CancelRequest req;
    v1::CancelResponse resp;
    return Unary(signing::method::kCancelContract, "CancelContract", &req, &resp,
                 &v1::Supplier::Stub::CancelContract);
  }

  absl::Status PutFragment(const std::string& key, std::string_view data,
                           std::string_view sha256) override {
    RETURN_IF_ERROR(NeedIdentity());
    return Attempts(
        absl::StrCat("PutFragment ", key),
        [&](grpc::ClientContext* ctx, StallWatchdog::Call* call) {
          v1::PutFragmentChunk first;
          v1::FragmentHeader* h = first.mutable_header();
          h->set_key(key);
          h->set_size(data.size());
          h->set_sha256(sha256.data(), sha256.size());
          Sign(signing::method::kPutFragment, h);
          v1::PutFragmentResponse resp;
          auto writer = stub_->PutFragment(ctx, &resp);
          bool ok = writer->Write(first);
          v1::PutFragmentChunk msg;
          const size_t step =
              options_.upload ? options_.upload->MessageBytes(kUploadMessageData)
                              : kUploadMessageData;
          for (size_t off = 0; ok && off < data.size(); off += step) {
            size_t len = std::min(step, data.size() - off);
            // Time spent waiting for the limit is ours, not the supplier's.
            if (options_.upload) options_.upload->Acquire(len);
            call->Progress();
            msg.set_data(data.data() + off, len);
            ok = writer->Write(msg);
          }
          if (ok) writer->WritesDone();
          return writer->Finish();
        });
  }

  absl::StatusOr<std::string> GetFragment(const std::string& key) override {
    return Fetch(key, std::nullopt);
  }

  absl::StatusOr<std::string> GetFragmentOfSize(const std::string& key, uint64_t size) override {
    return Fetch(key, size);
  }

  // The fragment's bytes; with `expected`, an announced size other than it
  // ends the call at once, so a hostile supplier cannot make us hold more
  // than the index says (without it, up to 4 GiB as announced). A refused
  // answer is not retried.
  absl::StatusOr<std::string> Fetch(const std::string& key, std::optional<uint64_t> expected) {
    RETURN_IF_ERROR(NeedIdentity());
    std::string out;
    bool first = true;
    uint64_t size = 0;
    absl::Status refused;
    absl::Status st = Attempts(
        absl::StrCat("GetFragment ", key),
        [&](grpc::ClientContext* ctx, StallWatchdog::Call* call) {
          v1::GetFragmentRequest req;
          req.set_key(key);
          Sign(signing::method::kGetFragment, &req);
          auto reader = stub_->GetFragment(ctx, req);
          v1::FragmentData msg;
          out.clear();
          first = true;
          size = 0;
          while (reader->Read(&msg)) {
            call->Progress();
            if (options_.download) {
              options_.download->Acquire(msg.ByteSizeLong());
              call->Progress();
            }
            if (first) {
              size = msg.size();
              first = false;
              if (expected && size != *expected) {
                refused = absl::DataLossError(absl::StrCat(address_, ": GetFragment ", key,
                                                           " announced ", size,
                                                           " bytes, the index expects ",
                                                           *expected));
                ctx->TryCancel();
                break;
              }
              if (size <= (uint64_t{1} << 32)) out.reserve(size);
            }
            if (msg.data().size() > size - out.size()) {
              refused = absl::DataLossError(absl::StrCat(
                  address_, ": GetFragment ", key, " sent more than the ", size, " bytes announced"));
              ctx->TryCancel();
              break;
            }
            out.append(msg.data());
          }
          grpc::Status finished = reader->Finish();
          if (!refused.ok()) return grpc::Status(grpc::StatusCode::DATA_LOSS, "refused");
          return finished;
        });
    if (!refused.ok()) return refused;
    RETURN_IF_ERROR(st);
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
    v1::PutObjectResponse resp;
    if (options_.upload) options_.upload->Acquire(data.size());
    return Unary(signing::method::kPutObject, absl::StrCat("PutObject ", name), &req, &resp,
                 &v1::Supplier::Stub::PutObject);
  }

  absl::StatusOr<std::string> GetObject(const std::string& name) override {
    v1::GetObjectRequest req;
    req.set_name(name);
    v1::GetObjectResponse resp;
    RETURN_IF_ERROR(Unary(signing::method::kGetObject, absl::StrCat("GetObject ", name), &req,
                          &resp, &v1::Supplier::Stub::GetObject));
    if (options_.download) options_.download->Acquire(resp.data().size());
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
      v1::ListObjectsResponse resp;
      RETURN_IF_ERROR(Unary(signing::method::kListObjects, absl::StrCat("ListObjects ", prefix),
                            &req, &resp, &v1::Supplier::Stub::ListObjects));
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
      v1::ListFragmentsResponse resp;
      RETURN_IF_ERROR(Unary(signing::method::kListFragments, absl::StrCat("ListFragments ", prefix),
                            &req, &resp, &v1::Supplier::Stub::ListFragments));
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
    v1::DeleteFragmentsResponse resp;
    return Unary(signing::method::kDeleteFragments, absl::StrCat("DeleteFragments ", key), &req,
                 &resp, &v1::Supplier::Stub::DeleteFragments);
  }

  absl::Status DeleteFragments(const std::vector<std::string>& keys) override {
    for (size_t i = 0; i < keys.size(); i += protocol::kMaxDeleteBatch) {
      v1::DeleteFragmentsRequest req;
      for (size_t j = i; j < keys.size() && j < i + protocol::kMaxDeleteBatch; ++j) req.add_keys(keys[j]);
      v1::DeleteFragmentsResponse resp;
      RETURN_IF_ERROR(Unary(signing::method::kDeleteFragments,
                            absl::StrCat("DeleteFragments (", req.keys_size(), " keys)"), &req,
                            &resp, &v1::Supplier::Stub::DeleteFragments));
    }
    return absl::OkStatus();
  }

  absl::Status DeleteObjects(const std::vector<std::string>& names) override {
    for (size_t i = 0; i < names.size(); i += protocol::kMaxDeleteBatch) {
      v1::DeleteObjectsRequest req;
      for (size_t j = i; j < names.size() && j < i + protocol::kMaxDeleteBatch; ++j) req.add_names(names[j]);
      v1::DeleteObjectsResponse resp;
      RETURN_IF_ERROR(Unary(signing::method::kDeleteObjects,
                            absl::StrCat("DeleteObjects (", req.names_size(), " names)"), &req,
                            &resp, &v1::Supplier::Stub::DeleteObjects));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<v1::Contract> RenewContract() override {
    v1::RenewRequest req;
    v1::ContractResponse resp;
    RETURN_IF_ERROR(Unary(signing::method::kRenewContract, "RenewContract", &req, &resp,
                          &v1::Supplier::Stub::RenewContract));
    return resp.contract();
  }

  absl::StatusOr<v1::AuditPieceResponse> AuditPiece(const std::string& key,
                                                    uint64_t piece) override {
    v1::AuditPieceRequest req;
    req.set_key(key);
    req.set_piece(piece);
    v1::AuditPieceResponse resp;
    RETURN_IF_ERROR(Unary(signing::method::kAuditPiece, absl::StrCat("AuditPiece ", key), &req,
                          &resp, &v1::Supplier::Stub::AuditPiece));
    return resp;
  }

  absl::StatusOr<v1::GetKeyRecordResponse> GetKeyRecord(std::string_view vault_id) override {
    v1::GetKeyRecordRequest req;
    req.set_vault_id(vault_id.data(), vault_id.size());
    v1::GetKeyRecordResponse resp;
    RETURN_IF_ERROR(Attempts("GetKeyRecord", [&](grpc::ClientContext* ctx, StallWatchdog::Call*) {
      return stub_->GetKeyRecord(ctx, req, &resp);
    }));
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

  // Runs `attempt(ctx, call)` (one try of the whole call: sign, send,
  // receive) under the stall watchdog, again after UNAVAILABLE with backoff
  // (TransportOptions). Every try gets a fresh context and is signed anew,
  // so a retry is never a replay. A try the watchdog cut off is not
  // retried: the supplier is reported stalled (DEADLINE_EXCEEDED).
  // `max_attempts` 0: TransportOptions::max_attempts.
  template <typename Fn>
  absl::Status Attempts(const std::string& what, Fn&& attempt, int max_attempts = 0) {
    if (max_attempts <= 0) max_attempts = options_.max_attempts;
    std::chrono::milliseconds backoff = options_.retry_initial_backoff;
    int fresh_starts = 0;
    for (int n = 1, total = 1;; ++n, ++total) {
      grpc::ClientContext ctx;
      grpc::Status st;
      std::string stalled;
      bool moved = false;
      {
        StallWatchdog::Call call(&watchdog_, [&ctx] { ctx.TryCancel(); });
        st = attempt(&ctx, &call);
        if (call.stalled()) stalled = call.why();
        // Data moved before it broke (not just the request): a link that
        // drops now and then, not a supplier that is gone.
        moved = call.moves() >= 2;
      }
      if (!stalled.empty()) return absl::DeadlineExceededError(absl::StrCat(what, ": ", stalled));
      if (st.ok()) return absl::OkStatus();
      {
        // A refused pin is final: the same key would be refused again.
        std::lock_guard<std::mutex> lock(pin_->mu);
        if (!pin_->mismatch.empty()) {
          return absl::PermissionDeniedError(absl::StrCat(what, ": ", pin_->mismatch));
        }
      }
      absl::Status s = Convert(st, what);
      if (!options_.insecure_plaintext && absl::StrContains(st.error_message(), "andshake")) {
        s = absl::Status(s.code(), absl::StrCat(s.message(),
                                                " (TLS failed: if the supplier was started with "
                                                "--insecure-plaintext, so must the customer be)"));
      }
      // A try that moved data before the connection dropped starts the
      // count of consecutive failures again, up to kMaxFreshStarts times,
      // so a link that drops every minute does not use up the attempts of
      // a long transfer; a supplier that is gone fails max_attempts times
      // in a row.
      if (st.error_code() == grpc::StatusCode::UNAVAILABLE && moved &&
          fresh_starts < kMaxFreshStarts) {
        ++fresh_starts;
        n = 0;
        backoff = options_.retry_initial_backoff;
      }
      if (st.error_code() != grpc::StatusCode::UNAVAILABLE || n >= max_attempts) {
        if (total > 1) {
          s = absl::Status(s.code(), absl::StrCat(s.message(), " (", total, " attempts)"));
        }
        return s;
      }
      std::this_thread::sleep_for(Jitter(backoff));
      backoff = std::min(backoff * 2, options_.retry_max_backoff);
    }
  }

  // A signed unary call with retries.
  template <typename Req, typename Resp, typename Method>
  absl::Status Unary(const char* method, const std::string& what, Req* req, Resp* resp,
                     Method rpc) {
    RETURN_IF_ERROR(NeedIdentity());
    return Attempts(what, [&](grpc::ClientContext* ctx, StallWatchdog::Call*) {
      Sign(method, req);
      return ((*stub_).*rpc)(ctx, *req, resp);
    });
  }

  // 75%..125% of `d`, so clients cut off together do not retry together.
  static std::chrono::milliseconds Jitter(std::chrono::milliseconds d) {
    thread_local std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int64_t> pct(75, 125);
    return d * pct(rng) / 100;
  }

  // The identity to sign with, and the supplier's ID (asked with Info the
  // first time if the caller did not know it).
  absl::Status NeedIdentity() {
    if (seed_.size() != 32) {
      return absl::FailedPreconditionError(absl::StrCat(address_, ": no identity to sign with"));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!supplier_id_.empty()) return absl::OkStatus();
    }
    return Info().status();
  }

  // REQUIRES: NeedIdentity() returned OK.
  template <typename Req>
  void Sign(const char* method, Req* req) {
    std::string id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      id = supplier_id_;
    }
    signing::Sign(method, id, seed_, req);
  }

  const std::string address_;
  const std::string seed_;
  const TransportOptions options_;
  const std::shared_ptr<TlsPin> pin_ = std::make_shared<TlsPin>();
  std::mutex mu_;
  std::string supplier_id_;  // guarded by mu_
  std::string invite_;       // guarded by mu_
  StallWatchdog watchdog_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Supplier::Stub> stub_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SupplierClient>> ConnectGrpcSupplierWith(
    const TransportOptions& options, const std::string& address, const std::string& identity_seed,
    const std::string& supplier_id) {
  if (address.empty()) return absl::InvalidArgumentError("empty supplier address");
  return std::unique_ptr<SupplierClient>(
      new GrpcSupplierClient(address, identity_seed, supplier_id, options));
}

absl::StatusOr<std::unique_ptr<SupplierClient>> ConnectGrpcSupplier(
    const std::string& address, const std::string& identity_seed, const std::string& supplier_id) {
  return ConnectGrpcSupplierWith(TransportOptions(), address, identity_seed, supplier_id);
}

SupplierConnector GrpcConnector(const TransportOptions& options) {
  return [options](const std::string& address, const std::string& identity_seed,
                   const std::string& supplier_id) {
    return ConnectGrpcSupplierWith(options, address, identity_seed, supplier_id);
  };
}

SupplierConnector DefaultConnector() { return GrpcConnector(TransportOptions()); }

}  // namespace shardkeep::customer

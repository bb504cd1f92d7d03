// SupplierService: the gRPC face of the supplier (proto/supplier.proto,
// docs/PROTOCOL.md). It authenticates every request (signature, then the
// replay guard), validates input, maps it onto the Store, and logs every
// refusal. It never trusts input: malformed, unknown-field, oversized or
// unsigned requests get a gRPC error status and change nothing.
#ifndef SHARDKEEP_SUPPLIER_SERVICE_H_
#define SHARDKEEP_SUPPLIER_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/workers.h"
#include "grpcpp/support/server_interceptor.h"
#include "proto/supplier.grpc.pb.h"
#include "supplier/admission.h"
#include "supplier/clock.h"
#include "supplier/metrics.h"
#include "supplier/replay_guard.h"
#include "supplier/store.h"

namespace shardkeep::supplier {

// Bounds on streaming calls, so that callers who hold streams open without
// sending (or send a byte a minute) cannot take every server thread
// (issue 11; docs/PROTOCOL.md, "Streams"). Zero disables a bound.
struct StreamLimits {
  // A PutFragment stream must deliver its (signed) header within this.
  int64_t first_message_timeout_ms = 5000;
  // PutFragment streams still waiting for their header, all together and from
  // one peer address (IP). When a new stream would exceed either, the OLDEST
  // waiting stream (of that peer, or of all) is cancelled: an honest header
  // arrives within milliseconds, so the oldest waiter is almost surely silent.
  size_t max_waiting_streams = 64;
  size_t max_waiting_streams_per_peer = 16;
  // Concurrent PutFragment and GetFragment streams of one customer; more
  // are refused with RESOURCE_EXHAUSTED.
  size_t max_streams_per_customer = 32;
  // A transfer must finish within first_message_timeout_ms + size / this rate
  // (bytes per second) after its header (upload) or request (download).
  uint64_t min_transfer_bytes_per_second = 64 << 10;
  // Threads that do PutFragment's work (authentication, disk writes, the
  // commit) for all uploads together. An upload holds one only while a
  // message of it is being handled, never while it waits for the next.
  int upload_threads = 64;
};

// PutFragment uses gRPC's callback API (a ServerReadReactor): a stream that
// sends nothing holds no thread, only its few KiB of call state, so silent
// or trickling streams cannot starve the server whatever their number (the
// sync server gave every new stream a thread before any handler could count
// it; docs/RELIABILITY.md). Every other method is served by the sync server.
class SupplierService final : public shardkeep::v1::Supplier::WithCallbackMethod_PutFragment<
                                  shardkeep::v1::Supplier::Service> {
 public:
  // Not owned; all must outlive the service. A PutFragment or GetFragment
  // stream that makes no progress (no message received or sent) for
  // idle_timeout_ms is cancelled, freeing its thread and, for an upload, its
  // quota reservation; 0 disables this.
  // admission may be null: anyone may open a contract, without a rate limit.
  SupplierService(Store* store, ReplayGuard* guard, Clock* clock, int64_t idle_timeout_ms = 0,
                  StreamLimits limits = {}, Admission* admission = nullptr);
  ~SupplierService() override;
  // Counts transferred fragment bytes there (optional; set before serving).
  void set_metrics(Metrics* metrics) { metrics_ = metrics; }
  // At shutdown: cancels every PutFragment stream still waiting for its
  // header (none of them has asked for anything yet), so that silent streams
  // do not hold the shutdown for its whole grace period. Returns how many.
  int CancelStreamsWaitingForHeader();

  grpc::Status Info(grpc::ServerContext* ctx, const v1::InfoRequest* req,
                    v1::InfoResponse* resp) override;
  grpc::Status RequestContract(grpc::ServerContext* ctx, const v1::ContractRequest* req,
                               v1::ContractResponse* resp) override;
  grpc::Status GetContract(grpc::ServerContext* ctx, const v1::GetContractRequest* req,
                           v1::ContractResponse* resp) override;
  grpc::Status RenewContract(grpc::ServerContext* ctx, const v1::RenewRequest* req,
                             v1::ContractResponse* resp) override;
  grpc::Status CancelContract(grpc::ServerContext* ctx, const v1::CancelRequest* req,
                              v1::CancelResponse* resp) override;
  grpc::ServerReadReactor<v1::PutFragmentChunk>* PutFragment(
      grpc::CallbackServerContext* ctx, v1::PutFragmentResponse* resp) override;
  grpc::Status GetFragment(grpc::ServerContext* ctx, const v1::GetFragmentRequest* req,
                           grpc::ServerWriter<v1::FragmentData>* writer) override;
  grpc::Status ListFragments(grpc::ServerContext* ctx, const v1::ListFragmentsRequest* req,
                             v1::ListFragmentsResponse* resp) override;
  grpc::Status DeleteFragments(grpc::ServerContext* ctx, const v1::DeleteFragmentsRequest* req,
                               v1::DeleteFragmentsResponse* resp) override;
  grpc::Status AuditPiece(grpc::ServerContext* ctx, const v1::AuditPieceRequest* req,
                          v1::AuditPieceResponse* resp) override;
  grpc::Status AuditFragment(grpc::ServerContext* ctx, const v1::AuditRequest* req,
                             v1::AuditResponse* resp) override;
  grpc::Status PutObject(grpc::ServerContext* ctx, const v1::PutObjectRequest* req,
                         v1::PutObjectResponse* resp) override;
  grpc::Status GetObject(grpc::ServerContext* ctx, const v1::GetObjectRequest* req,
                         v1::GetObjectResponse* resp) override;
  grpc::Status ListObjects(grpc::ServerContext* ctx, const v1::ListObjectsRequest* req,
                           v1::ListObjectsResponse* resp) override;
  grpc::Status DeleteObjects(grpc::ServerContext* ctx, const v1::DeleteObjectsRequest* req,
                             v1::DeleteObjectsResponse* resp) override;
  grpc::Status GetKeyRecord(grpc::ServerContext* ctx, const v1::GetKeyRecordRequest* req,
                            v1::GetKeyRecordResponse* resp) override;

 private:
  // Signature, then timestamp window and nonce. Returns the customer key.
  template <typename Req>
  absl::StatusOr<std::string> Authenticate(const char* method, const Req& req);
  class PutFragmentReactor;
  absl::Status DoGetFragment(grpc::ServerContext* ctx, const v1::GetFragmentRequest* req,
                             grpc::ServerWriter<v1::FragmentData>* writer, std::string* customer);

  // A streaming call under the watchdog (registered for its lifetime).
  struct Transfer {
    grpc::ServerContextBase* ctx;
    std::string peer_ip;
    int64_t started_ms = 0;
    std::atomic<int64_t> last_progress_ms;
    std::atomic<int64_t> deadline_ms{INT64_MAX};  // steady clock
    std::atomic<bool> waiting_header{false};
    // Why the watchdog cancelled it (nullptr: it did not).
    std::atomic<const char*> cancelled_because{nullptr};
    std::string customer;  // set once authenticated (under transfers_mu_)
  };
  class TransferScope;
  void WatchTransfers();
  // Cancels the oldest transfer waiting for its header among those of
  // `peer_ip` (all peers if empty), other than `self`. REQUIRES: transfers_mu_.
  void EvictOldestWaiting(const std::string& peer_ip, const Transfer* self)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(transfers_mu_);

  Store* const store_;
  ReplayGuard* const guard_;
  Clock* const clock_;
  const int64_t idle_timeout_ms_;
  const StreamLimits limits_;
  Admission* const admission_;
  Metrics* metrics_ = nullptr;
  absl::Mutex transfers_mu_;
  std::set<Transfer*> transfers_ ABSL_GUARDED_BY(transfers_mu_);
  size_t waiting_ ABSL_GUARDED_BY(transfers_mu_) = 0;
  std::map<std::string, size_t> waiting_per_peer_ ABSL_GUARDED_BY(transfers_mu_);
  std::map<std::string, size_t> streams_per_customer_ ABSL_GUARDED_BY(transfers_mu_);
  bool stop_watchdog_ ABSL_GUARDED_BY(transfers_mu_) = false;
  std::thread watchdog_;
  // PutFragment's work, off gRPC's callback threads (they must not block on
  // the disk). Declared last: destroyed (drained, joined) first.
  std::unique_ptr<ThreadPool> upload_pool_;
};

// Converts and logs: every non-OK status is logged with the method, the peer
// and the customer (if known); NOT_FOUND at INFO, client errors at WARNING,
// INTERNAL/DATA_LOSS/UNKNOWN at ERROR.
grpc::Status Reply(grpc::ServerContextBase* ctx, const char* method, const std::string& customer,
                   const absl::Status& status);

// A server interceptor for bytes that never reach a handler: gRPC answers a
// request that does not parse as the method's protobuf message with INTERNAL
// and an empty message. The interceptor turns that into INVALID_ARGUMENT
// ("not a valid ... message") and logs it like every other refusal.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewUnparsableRequestInterceptorFactory();

// INVALID_ARGUMENT if the message or any message inside it carries fields
// this supplier does not know (their bytes would not be covered by the
// content hash as the client computed it, and they mean a client speaking a
// newer protocol than this supplier).
absl::Status CheckNoUnknownFields(const google::protobuf::Message& m);
// 1..128 chars of [A-Za-z0-9._-].
absl::Status CheckFragmentKey(const std::string& key);
// 1..200 chars of [A-Za-z0-9._/-].
absl::Status CheckObjectName(const std::string& name);

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_SERVICE_H_

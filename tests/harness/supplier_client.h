// SupplierClient: a small signed client of one supplier for tests and
// benchmarks. It signs every request as the customer whose Ed25519 seed it
// holds (proto/signing.h), turns gRPC statuses into absl::Status, and checks
// what it can (a fetched fragment's SHA-256). Not the customer's production
// client: it keeps no retry or pipelining logic, on purpose.
//
//   auto c = SupplierClient::Connect(cluster->Address(0), seed);
//   ASSERT_TRUE((*c)->RequestContract(1 << 20).ok());
//   ASSERT_TRUE((*c)->PutFragment("block-1.f0", bytes).ok());
#ifndef SHARDKEEP_TESTS_HARNESS_SUPPLIER_CLIENT_H_
#define SHARDKEEP_TESTS_HARNESS_SUPPLIER_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "grpcpp/grpcpp.h"
#include "proto/signing.h"
#include "proto/supplier.grpc.pb.h"

namespace shardkeep::testing {

absl::Status FromGrpc(const grpc::Status& s);

struct SupplierClientOptions {
  // PEM root certificate: connect with TLS and trust this root. Empty: TLS
  // accepting any certificate (suppliers serve TLS with a self-signed key by
  // default; pinning is the customer's business, not this test client's).
  std::string tls_root_pem;
  // Plaintext gRPC, for suppliers started with --insecure-plaintext.
  bool plaintext = false;
  // TLS: the name the certificate was issued to, if not the address's host.
  std::string tls_server_name;
  // Per-call deadline.
  int deadline_ms = 60000;
  // Data bytes per PutFragment message (the protocol allows up to 1 MiB).
  size_t message_bytes = 1 << 20;
  // Let gRPC retry a call that failed with UNAVAILABLE before the supplier
  // answered (up to 3 attempts; e.g. the first call on a connection to a
  // supplier that was killed and restarted). The retry re-sends the same
  // signed request, which the supplier refuses as a replay if the first
  // attempt did reach it.
  bool retry_unavailable = true;
};

class SupplierClient {
 public:
  // Connects and reads the supplier's ID with Info (which every signature
  // needs). Each client has its own connection (no subchannel sharing), so a
  // new client after a supplier restart starts with a fresh one.
  static absl::StatusOr<std::unique_ptr<SupplierClient>> Connect(
      const std::string& address, const std::string& seed, SupplierClientOptions options = {});

  const std::string& address() const { return address_; }
  const std::string& customer_key() const { return customer_key_; }
  const std::string& supplier_id() const { return supplier_id_; }
  shardkeep::v1::Supplier::Stub* stub() { return stub_.get(); }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // Sends `request_bytes` as-is (no protobuf, no signature) to a method such
  // as "/shardkeep.v1.Supplier/PutObject" and returns the raw response bytes:
  // for garbage-input tests.
  absl::StatusOr<std::string> RawUnaryCall(const std::string& method,
                                           const std::string& request_bytes);

  // Signs with this offset added to the local clock (to follow a supplier
  // whose test clock was moved with SupplierCluster::SetClockOffsetMs).
  void set_clock_offset_ms(int64_t ms) { clock_offset_ms_ = ms; }
  int64_t NowMs() const { return signing::NowMs() + clock_offset_ms_; }

  // Signs req for `method` as this customer, now, with a fresh nonce.
  template <typename Req>
  void Sign(const char* method, Req* req) const {
    signing::Sign(method, supplier_id_, seed_, req, NowMs());
  }
  // A client context with the deadline set.
  std::unique_ptr<grpc::ClientContext> Context() const;

  absl::StatusOr<shardkeep::v1::InfoResponse> Info();
  absl::StatusOr<shardkeep::v1::Contract> RequestContract(uint64_t needed_bytes,
                                                          uint32_t position = 0,
                                                          uint32_t supplier_count = 1);
  absl::StatusOr<shardkeep::v1::Contract> GetContract();
  absl::StatusOr<shardkeep::v1::Contract> RenewContract();
  absl::StatusOr<uint64_t> CancelContract();

  // Streams `data` in messages of options.message_bytes with its SHA-256.
  absl::StatusOr<shardkeep::v1::PutFragmentResponse> PutFragment(const std::string& key,
                                                                 const std::string& data);
  // Streams only the first `send_bytes` of data, then cancels the call: an
  // upload cut off midway. Returns the status the call ended with.
  absl::Status PutFragmentCutOff(const std::string& key, const std::string& data,
                                 size_t send_bytes);
  // Fetches a fragment; DataLoss if its bytes do not match the SHA-256 the
  // supplier announced or the size is wrong.
  absl::StatusOr<std::string> GetFragment(const std::string& key);
  absl::StatusOr<shardkeep::v1::ListFragmentsResponse> ListFragments(
      const std::string& prefix = "", const std::string& start_after = "", uint32_t page_size = 0);
  absl::StatusOr<shardkeep::v1::DeleteFragmentsResponse> DeleteFragments(
      const std::vector<std::string>& keys);
  absl::StatusOr<std::string> AuditFragment(const std::string& key, const std::string& nonce);

  absl::StatusOr<shardkeep::v1::PutObjectResponse> PutObject(const std::string& name,
                                                             const std::string& data,
                                                             const std::string& vault_id = "");
  absl::StatusOr<std::string> GetObject(const std::string& name);
  absl::StatusOr<shardkeep::v1::ListObjectsResponse> ListObjects(
      const std::string& prefix = "", const std::string& start_after = "", uint32_t page_size = 0);
  absl::StatusOr<shardkeep::v1::DeleteObjectsResponse> DeleteObjects(
      const std::vector<std::string>& names);
  absl::StatusOr<shardkeep::v1::GetKeyRecordResponse> GetKeyRecord(const std::string& vault_id);

 private:
  SupplierClient() = default;

  std::string address_, seed_, customer_key_, supplier_id_;
  SupplierClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<shardkeep::v1::Supplier::Stub> stub_;
  int64_t clock_offset_ms_ = 0;
};

}  // namespace shardkeep::testing

#endif  // SHARDKEEP_TESTS_HARNESS_SUPPLIER_CLIENT_H_

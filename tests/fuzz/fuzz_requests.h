// The supplier's authenticated request types, by number, for the targets
// that fuzz requests (signing, supplier_request) and for seed_gen. Number i
// is the same everywhere, so a seed's first byte picks the same type.
#ifndef SHARDKEEP_TESTS_FUZZ_FUZZ_REQUESTS_H_
#define SHARDKEEP_TESTS_FUZZ_FUZZ_REQUESTS_H_

#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/message.h"
#include "proto/signing.h"
#include "proto/supplier.pb.h"

namespace shardkeep::fuzz {

struct RequestType {
  const char* method;  // full gRPC method name (the signed `method`)
  std::unique_ptr<google::protobuf::Message> (*make)();
};

template <typename M>
std::unique_ptr<google::protobuf::Message> Make() {
  return std::make_unique<M>();
}

// Every request that carries an Auth (PutFragment signs its FragmentHeader).
inline const std::vector<RequestType>& AuthRequestTypes() {
  namespace m = signing::method;
  static const std::vector<RequestType> kTypes = {
      {m::kRequestContract, Make<v1::ContractRequest>},
      {m::kGetContract, Make<v1::GetContractRequest>},
      {m::kRenewContract, Make<v1::RenewRequest>},
      {m::kCancelContract, Make<v1::CancelRequest>},
      {m::kPutFragment, Make<v1::FragmentHeader>},
      {m::kGetFragment, Make<v1::GetFragmentRequest>},
      {m::kListFragments, Make<v1::ListFragmentsRequest>},
      {m::kDeleteFragments, Make<v1::DeleteFragmentsRequest>},
      {m::kAuditFragment, Make<v1::AuditRequest>},
      {m::kPutObject, Make<v1::PutObjectRequest>},
      {m::kGetObject, Make<v1::GetObjectRequest>},
      {m::kListObjects, Make<v1::ListObjectsRequest>},
      {m::kDeleteObjects, Make<v1::DeleteObjectsRequest>},
  };
  return kTypes;
}

// The request's `auth` field (field 1 of every type above), via reflection.
inline const v1::Auth& GetAuth(const google::protobuf::Message& req) {
  const auto* f = req.GetDescriptor()->FindFieldByNumber(1);
  return static_cast<const v1::Auth&>(req.GetReflection()->GetMessage(req, f));
}
inline bool HasAuth(const google::protobuf::Message& req) {
  const auto* f = req.GetDescriptor()->FindFieldByNumber(1);
  return req.GetReflection()->HasField(req, f);
}
inline v1::Auth* MutableAuth(google::protobuf::Message* req) {
  const auto* f = req->GetDescriptor()->FindFieldByNumber(1);
  return static_cast<v1::Auth*>(req->GetReflection()->MutableMessage(req, f));
}

}  // namespace shardkeep::fuzz

#endif  // SHARDKEEP_TESTS_FUZZ_FUZZ_REQUESTS_H_

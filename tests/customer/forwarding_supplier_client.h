// A SupplierClient that forwards every call to a real one: the base of the
// fault-injecting clients in archiver_fault_test.cc and supplier_set_test.cc,
// which override only the calls they break. Test-only.
#ifndef SHARDKEEP_TESTS_CUSTOMER_FORWARDING_SUPPLIER_CLIENT_H_
#define SHARDKEEP_TESTS_CUSTOMER_FORWARDING_SUPPLIER_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "customer/net/supplier_client.h"

namespace shardkeep::customer {

class ForwardingSupplierClient : public SupplierClient {
 public:
  explicit ForwardingSupplierClient(std::unique_ptr<SupplierClient> real)
      : real_(std::move(real)) {}

  const std::string& address() const override { return real_->address(); }
  absl::StatusOr<v1::InfoResponse> Info() override { return real_->Info(); }
  absl::StatusOr<v1::Contract> RequestContract(uint64_t n, uint32_t p, uint32_t c) override {
    return real_->RequestContract(n, p, c);
  }
  absl::StatusOr<v1::Contract> GetContract() override { return real_->GetContract(); }
  absl::Status CancelContract() override { return real_->CancelContract(); }
  absl::Status PutFragment(const std::string& key, std::string_view data,
                           std::string_view sha) override {
    return real_->PutFragment(key, data, sha);
  }
  absl::StatusOr<std::string> GetFragment(const std::string& key) override {
    return real_->GetFragment(key);
  }
  absl::Status PutObject(const std::string& name, std::string_view data,
                         std::string_view vault_id) override {
    return real_->PutObject(name, data, vault_id);
  }
  absl::StatusOr<std::string> GetObject(const std::string& name) override {
    return real_->GetObject(name);
  }
  absl::StatusOr<std::vector<v1::ObjectInfo>> ListObjects(const std::string& prefix) override {
    return real_->ListObjects(prefix);
  }
  absl::StatusOr<v1::GetKeyRecordResponse> GetKeyRecord(std::string_view id) override {
    return real_->GetKeyRecord(id);
  }

 protected:
  // The wrapped client, for overrides that forward after breaking nothing.
  SupplierClient& real() { return *real_; }

 private:
  std::unique_ptr<SupplierClient> real_;
};

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_TESTS_CUSTOMER_FORWARDING_SUPPLIER_CLIENT_H_

// The real SupplierClient: gRPC to a shardkeep-supplier, every request
// signed with the customer's Ed25519 identity (proto/signing.h). One channel
// (one HTTP/2 connection) per supplier; calls have deadlines so a hung
// supplier turns into an error the caller can route around.
#ifndef SHARDKEEP_CUSTOMER_NET_GRPC_SUPPLIER_CLIENT_H_
#define SHARDKEEP_CUSTOMER_NET_GRPC_SUPPLIER_CLIENT_H_

#include <memory>
#include <string>

#include "common/status.h"
#include "customer/net/supplier_client.h"

namespace shardkeep::customer {

// `identity_seed` may be empty (then only Info and GetKeyRecord work);
// `supplier_id` empty means "ask Info on first signed call".
absl::StatusOr<std::unique_ptr<SupplierClient>> ConnectGrpcSupplier(
    const std::string& address, const std::string& identity_seed, const std::string& supplier_id);

// ConnectGrpcSupplier as a SupplierConnector: what the CLI uses.
SupplierConnector DefaultConnector();

// Deadline of one fragment transfer: 30 s plus 1 s per 10 MiB. A supplier
// that takes longer is treated as failed for that call.
int64_t FragmentDeadlineMs(uint64_t bytes);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_NET_GRPC_SUPPLIER_CLIENT_H_

// The real SupplierClient: gRPC to a shardkeep-supplier, every request
// signed with the customer's Ed25519 identity (proto/signing.h). One channel
// (one HTTP/2 connection) per supplier. Calls have no deadline by size: a
// supplier that stops moving data for TransportOptions::stall_timeout is cut
// off (stall_watchdog.h), so a hung supplier turns into an error the caller
// can route around while a slow link is never cut off. UNAVAILABLE (a
// dropped connection) is retried with backoff; docs/NETWORK.md.
#ifndef SHARDKEEP_CUSTOMER_NET_GRPC_SUPPLIER_CLIENT_H_
#define SHARDKEEP_CUSTOMER_NET_GRPC_SUPPLIER_CLIENT_H_

#include <memory>
#include <string>

#include "common/status.h"
#include "customer/net/supplier_client.h"
#include "customer/net/transport_options.h"

namespace shardkeep::customer {

// `identity_seed` may be empty (then only Info and GetKeyRecord work);
// `supplier_id` empty means "ask Info on first signed call".
absl::StatusOr<std::unique_ptr<SupplierClient>> ConnectGrpcSupplierWith(
    const TransportOptions& options, const std::string& address, const std::string& identity_seed,
    const std::string& supplier_id);
// With the default TransportOptions (a SupplierConnector as it is).
absl::StatusOr<std::unique_ptr<SupplierClient>> ConnectGrpcSupplier(
    const std::string& address, const std::string& identity_seed, const std::string& supplier_id);

// ConnectGrpcSupplierWith `options` as a SupplierConnector: what the CLI uses.
SupplierConnector GrpcConnector(const TransportOptions& options);
// GrpcConnector(TransportOptions()).
SupplierConnector DefaultConnector();

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_NET_GRPC_SUPPLIER_CLIENT_H_

// How the gRPC client treats the network (docs/NETWORK.md): when a supplier
// counts as stalled, keepalives, retries of dropped connections. The CLI
// fills it from its global options; the defaults suit a home uplink.
#ifndef SHARDKEEP_CUSTOMER_NET_TRANSPORT_OPTIONS_H_
#define SHARDKEEP_CUSTOMER_NET_TRANSPORT_OPTIONS_H_

#include <chrono>
#include <memory>

#include "customer/net/rate_limiter.h"

namespace shardkeep::customer {

struct TransportOptions {
  // A supplier whose connection moves no message for this long while calls
  // are in flight is cut off (DEADLINE_EXCEEDED) and, by SupplierSet, marked
  // down. Not a limit on how long a transfer may take (stall_watchdog.h).
  std::chrono::milliseconds stall_timeout{60000};
  // HTTP/2 keepalive pings on every connection, also while idle (NAT
  // mappings, dead peers): a ping unanswered for keepalive_timeout closes it.
  std::chrono::milliseconds keepalive_time{30000};
  std::chrono::milliseconds keepalive_timeout{20000};
  // A call that ends UNAVAILABLE (connection refused or reset, supplier
  // restarting: docs/PROTOCOL.md) is tried again, re-signed, up to this many
  // times in all, with exponential backoff (initial, doubling, capped at
  // max). A stalled call is not retried.
  int max_attempts = 5;
  std::chrono::milliseconds retry_initial_backoff{250};
  std::chrono::milliseconds retry_max_backoff{4000};
  // Plaintext gRPC instead of TLS (--insecure-plaintext): only to suppliers
  // started with --insecure-plaintext, behind TLS terminated elsewhere.
  bool insecure_plaintext = false;
  // Shared by every supplier's client (null: unlimited, unmetered):
  // --limit-upload and --limit-download (rate_limiter.h).
  std::shared_ptr<RateLimiter> upload;
  std::shared_ptr<RateLimiter> download;
};

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_NET_TRANSPORT_OPTIONS_H_

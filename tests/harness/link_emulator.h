// Link emulator for tests: a bad network between the customer and its
// suppliers, on loopback only, in a network namespace the test makes.
//   - EnterPrivateNetwork(): this process (and every process and thread it
//     starts afterwards) gets a network namespace of its own with only `lo`,
//     so shaping it touches nothing else on the machine. Needs root (or
//     CAP_SYS_ADMIN); call it first thing in main(), before any thread.
//   - ShapeLoopback(kbit): `tc qdisc ... tbf` on that lo: bandwidth. (netem
//     is not available in this machine's kernel, so latency and resets come
//     from the proxy.) Every byte crosses lo, in both directions, so the
//     customer's uplink and downlink each get `kbit` (shared by all
//     suppliers) — when suppliers are reached through a LinkProxy, each byte
//     crosses lo twice: use the proxy's own rate instead.
//   - LinkProxy: tests/harness/link_proxy.py in front of one or several
//     suppliers (one shared link): added latency per direction, bandwidth,
//     connection resets every S seconds, black-holing on demand.
// Tests that use the proxy add data = ["//tests/harness:link_proxy.py"].
#ifndef SHARDKEEP_TESTS_HARNESS_LINK_EMULATOR_H_
#define SHARDKEEP_TESTS_HARNESS_LINK_EMULATOR_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace shardkeep::testing {

// unshare(CLONE_NEWNET) + `ip link set lo up mtu 1500` (loopback's usual
// MTU is 64 KiB, unlike any real link). FailedPrecondition if not allowed:
// the caller should skip, naming why.
absl::Status EnterPrivateNetwork();

// Replaces lo's root qdisc with a token bucket of `kbit` kbit/s (burst
// 256 KiB, queue latency 1 s, as the reproduction); 0 removes it.
absl::Status ShapeLoopback(int kbit);

struct LinkProxyOptions {
  int delay_ms = 0;        // each direction
  int rate_kbit = 0;       // each direction, 0 = unlimited
  double reset_every_s = 0;  // 0 = never
  // Local address the proxy's connections to the targets leave from (the
  // customer's address as suppliers see it; it must be on an interface of
  // this namespace). Empty: the kernel's choice.
  std::string source_address;
  // Ports to listen on, one per target; empty: any free ones. A proxy
  // restarted with the old one's Ports() keeps the customer's addresses.
  std::vector<int> listen_ports;
};

class LinkProxy {
 public:
  // Starts the proxy in front of `target` ("127.0.0.1:port") and waits until
  // it listens. `dir` holds its port, stats and black-hole files.
  static absl::StatusOr<std::unique_ptr<LinkProxy>> Start(const std::string& target,
                                                          const std::string& dir,
                                                          LinkProxyOptions options);
  // One proxy, one port per target, all sharing one rate per direction:
  // the customer's single uplink to n suppliers.
  static absl::StatusOr<std::unique_ptr<LinkProxy>> StartShared(
      const std::vector<std::string>& targets, const std::string& dir, LinkProxyOptions options);
  ~LinkProxy();  // SIGKILL and reap
  LinkProxy(const LinkProxy&) = delete;
  LinkProxy& operator=(const LinkProxy&) = delete;

  // "127.0.0.1:<port>": give this to the customer instead of the target
  // (the first one's; Address(i) for the i-th target).
  std::string Address(size_t i = 0) const;
  // All of them, comma-separated: what `init --suppliers` takes.
  std::string AddressList() const;
  // While on, nothing is forwarded and nothing refused (packets vanish).
  void SetBlackholed(bool on);
  // Connections reset so far.
  int Resets() const;
  // Connections accepted so far.
  int Connections() const;
  const std::vector<int>& Ports() const { return ports_; }

 private:
  LinkProxy() = default;
  pid_t pid_ = 0;
  std::vector<int> ports_;
  std::string dir_;
};

}  // namespace shardkeep::testing

#endif  // SHARDKEEP_TESTS_HARNESS_LINK_EMULATOR_H_

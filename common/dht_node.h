// One node of ShardKeep's Kademlia DHT (OpenDHT, docs/DISCOVERY.md): the
// supplier runs one to announce its offer, the customer one for the length
// of a command to look offers and vault records up. A thin, blocking facade
// over dht::DhtRunner so that callers see bytes and absl::Status, not
// OpenDHT's callbacks and types.
//
// Contracts:
//  - Nothing read from the DHT is trusted here: Get returns raw bytes that
//    anyone could have stored; callers verify signatures (common/offer.h).
//  - Values are at most kMaxDhtValueBytes (OpenDHT's own limit is 64 KiB;
//    we stay well below so a value fits one UDP packet's fragments).
//  - Announced values use ShardKeep's value type (kShardKeepValueType), whose
//    storage lifetime is kValueLifetime: a node that stops refreshing (a
//    supplier that stopped) disappears from the DHT within that time. While
//    the node runs, OpenDHT re-announces its permanent puts before they
//    expire.
#ifndef SHARDKEEP_COMMON_DHT_NODE_H_
#define SHARDKEEP_COMMON_DHT_NODE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace dht {
class DhtRunner;
}

namespace shardkeep::dhtnet {

inline constexpr size_t kMaxDhtValueBytes = 16 << 10;
inline constexpr uint16_t kShardKeepValueType = 0x534b;  // "SK"
inline constexpr std::chrono::minutes kValueLifetime{3};
// Records a customer puts once in a while and nobody refreshes in between
// (the vault's record, docs/DISCOVERY.md): kept this long by the nodes.
inline constexpr uint16_t kShardKeepLongValueType = 0x534c;
inline constexpr std::chrono::hours kLongValueLifetime{30 * 24};
enum class Lifetime { kShort, kLong };

struct DhtNodeOptions {
  std::string bind_ipv4 = "0.0.0.0";  // where the UDP socket listens
  int port = 0;                       // 0: any free port
  std::vector<std::string> bootstrap;  // HOST:PORT of nodes already in the DHT
  // A long-running node (a supplier): hands the values it stores on to
  // closer nodes as the network changes (OpenDHT's maintain_storage), so a
  // vault's record outlives the nodes that first stored it.
  bool stable = false;
};

// ShardKeep's DHT is its own OpenDHT network: nodes of another network ID
// (the public OpenDHT network is 0) do not talk to ours.
inline constexpr uint32_t kNetworkId = 0x534b0001;

// "HOST:PORT" -> host, port; InvalidArgument naming `what` and the text.
absl::Status SplitHostPort(const std::string& text, const std::string& what, std::string* host,
                           int* port);

class DhtNode {
 public:
  // Binds the UDP port and starts OpenDHT's thread; contacts the bootstrap
  // nodes in the background (see WaitConnected). Errors name the address.
  static absl::StatusOr<std::unique_ptr<DhtNode>> Start(const DhtNodeOptions& options);
  ~DhtNode();  // withdraws nothing explicitly: announced values expire

  int port() const;
  // Up to `timeout` until the routing table holds a node that answered;
  // false if none did (no bootstrap node reachable).
  bool WaitConnected(std::chrono::milliseconds timeout);
  // Nodes in the routing table that answered recently.
  size_t GoodNodes() const;

  // Stores `data` under SHA-1(`key`) and keeps it there while this node
  // runs. Returns the value's id, for Withdraw. Unsigned OpenDHT values
  // cannot be edited in place, so a changed announcement is a new value
  // (Withdraw the old one: it then expires within kValueLifetime).
  absl::StatusOr<uint64_t> Announce(const std::string& key, const std::string& data);
  void Withdraw(const std::string& key, uint64_t id);
  // Stores once (not refreshed); true if at least one node acknowledged.
  bool PutOnce(const std::string& key, const std::string& data, std::chrono::milliseconds timeout,
               Lifetime lifetime = Lifetime::kShort);

  // Every value under SHA-1(`key`) that arrives within `timeout` (the
  // lookup ends earlier when OpenDHT says it is done), at most `max_values`
  // (the rest are dropped: a flooded key cannot exhaust memory). With a
  // non-zero `quiet`, it also ends once values have arrived and none came
  // for that long: customers' nodes live for one command, and the dead ones
  // linger in routing tables, so OpenDHT's "done" waits ~1 s of request
  // timeouts for them after the live nodes have answered.
  std::vector<std::string> Get(const std::string& key, std::chrono::milliseconds timeout,
                               size_t max_values,
                               std::chrono::milliseconds quiet = std::chrono::milliseconds(0));

  dht::DhtRunner& runner() { return *runner_; }

 private:
  DhtNode();
  std::unique_ptr<dht::DhtRunner> runner_;
};

}  // namespace shardkeep::dhtnet

#endif  // SHARDKEEP_COMMON_DHT_NODE_H_

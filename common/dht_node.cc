#include "common/dht_node.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <opendht/dhtrunner.h>

#include <condition_variable>
#include <future>
#include <random>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shardkeep::dhtnet {

absl::Status SplitHostPort(const std::string& text, const std::string& what, std::string* host,
                           int* port) {
  const size_t colon = text.rfind(':');
  int p = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(text.substr(colon + 1), &p) || p < 1 || p > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": want HOST:PORT (port 1..65535), got \"", text, "\""));
  }
  *host = text.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  *port = p;
  return absl::OkStatus();
}

DhtNode::DhtNode() : runner_(std::make_unique<dht::DhtRunner>()) {}

DhtNode::~DhtNode() {
  // join() stops the thread and closes the socket; pending callbacks run
  // with failure before it returns.
  runner_->join();
}

absl::StatusOr<std::unique_ptr<DhtNode>> DhtNode::Start(const DhtNodeOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("DHT port ", options.port, " out of range"));
  }
  std::vector<std::pair<std::string, int>> boot;
  for (const std::string& b : options.bootstrap) {
    std::string host;
    int port = 0;
    RETURN_IF_ERROR(SplitHostPort(b, "--dht-bootstrap", &host, &port));
    boot.emplace_back(host, port);
  }
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(options.port));
  if (inet_pton(AF_INET, options.bind_ipv4.c_str(), &sin.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("DHT bind address \"", options.bind_ipv4, "\" is not an IPv4 address"));
  }
  std::unique_ptr<DhtNode> node(new DhtNode());
  dht::DhtRunner::Config config;
  config.threaded = true;
  config.dht_config.node_config.network = kNetworkId;
  config.dht_config.node_config.maintain_storage = options.stable;
  config.dht_config.node_config.public_stable = options.stable;
  config.bind4 = dht::SockAddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
  // A random node ID each start (OpenDHT's default): nothing is bound to it.
  try {
    node->runner_->run(config, dht::DhtRunner::Context());
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot start the DHT node on ", options.bind_ipv4,
                                               ":", options.port, ": ", e.what()));
  }
  if (node->runner_->getBoundPort(AF_INET) == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind the DHT node to UDP ", options.bind_ipv4, ":", options.port));
  }
  node->runner_->registerType(dht::ValueType(kShardKeepValueType, "shardkeep", kValueLifetime));
  node->runner_->registerType(
      dht::ValueType(kShardKeepLongValueType, "shardkeep-long", kLongValueLifetime));
  for (const auto& [host, port] : boot) {
    node->runner_->bootstrap(host, std::to_string(port));
  }
  return node;
}

int DhtNode::port() const { return runner_->getBoundPort(AF_INET); }

size_t DhtNode::GoodNodes() const {
  unsigned good = 0, dubious = 0, cached = 0, incoming = 0;
  runner_->getNodesStats(AF_INET, &good, &dubious, &cached, &incoming);
  return good;
}

bool DhtNode::WaitConnected(std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (GoodNodes() == 0) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

absl::StatusOr<uint64_t> DhtNode::Announce(const std::string& key, const std::string& data) {
  if (data.size() > kMaxDhtValueBytes) {
    return absl::InvalidArgumentError(absl::StrCat("DHT value for ", key, " is ", data.size(),
                                                   " bytes, more than the limit of ",
                                                   kMaxDhtValueBytes));
  }
  auto value = std::make_shared<dht::Value>(
      kShardKeepValueType, reinterpret_cast<const uint8_t*>(data.data()), data.size(),
      dht::Value::INVALID_ID);
  {
    std::random_device rd;
    value->id = (uint64_t{rd()} << 32 | rd()) | 1;  // never INVALID_ID (0)
  }
  const uint64_t id = value->id;
  runner_->put(dht::InfoHash::get(key), value, dht::DoneCallbackSimple{},
               dht::time_point::max(), /*permanent=*/true);
  return id;
}

void DhtNode::Withdraw(const std::string& key, uint64_t id) {
  runner_->cancelPut(dht::InfoHash::get(key), id);
}

bool DhtNode::PutOnce(const std::string& key, const std::string& data,
                      std::chrono::milliseconds timeout, Lifetime lifetime) {
  if (data.size() > kMaxDhtValueBytes) return false;
  auto done = std::make_shared<std::promise<bool>>();
  std::future<bool> ok = done->get_future();
  auto value = std::make_shared<dht::Value>(
      lifetime == Lifetime::kLong ? kShardKeepLongValueType : kShardKeepValueType,
      reinterpret_cast<const uint8_t*>(data.data()), data.size(), dht::Value::INVALID_ID);
  runner_->put(dht::InfoHash::get(key), value, [done](bool success) { done->set_value(success); });
  if (ok.wait_for(timeout) != std::future_status::ready) return false;
  return ok.get();
}

std::vector<std::string> DhtNode::Get(const std::string& key, std::chrono::milliseconds timeout,
                                      size_t max_values, std::chrono::milliseconds quiet) {
  struct Shared {
    std::mutex mu;
    std::vector<std::string> values;
    bool done = false;
    std::chrono::steady_clock::time_point last_value;
    std::condition_variable cv;
  };
  auto shared = std::make_shared<Shared>();
  runner_->get(
      dht::InfoHash::get(key),
      [shared, max_values](const std::vector<std::shared_ptr<dht::Value>>& values) {
        std::lock_guard<std::mutex> lock(shared->mu);
        for (const auto& v : values) {
          if (shared->values.size() >= max_values) return false;  // stop the lookup
          if (v->data.size() > kMaxDhtValueBytes) continue;
          shared->values.emplace_back(v->data.begin(), v->data.end());
        }
        shared->last_value = std::chrono::steady_clock::now();
        return true;
      },
      [shared](bool) {
        std::lock_guard<std::mutex> lock(shared->mu);
        shared->done = true;
        shared->cv.notify_all();
      });
  const auto end = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(shared->mu);
  while (!shared->done) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) break;
    if (quiet.count() > 0 && !shared->values.empty() && now - shared->last_value >= quiet) break;
    shared->cv.wait_for(lock, quiet.count() > 0 ? std::min<std::chrono::nanoseconds>(quiet / 4, end - now)
                                                : std::chrono::nanoseconds(end - now));
  }
  return shared->values;  // a copy: late callbacks still hold `shared`
}

}  // namespace shardkeep::dhtnet

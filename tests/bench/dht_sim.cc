// A simulated ShardKeep DHT (docs/DISCOVERY.md, "Lookup cost"): n OpenDHT
// nodes (dht::DhtRunner) on loopback UDP ports, each joining through a
// random earlier node of its process (the first of each helper process
// through the measuring process's first node). OpenDHT's sockets use
// select(), so one process holds at most ~300 nodes (FD_SETSIZE 1024, three
// descriptors a node): beyond kNodesPerProcess, helper processes (forked
// first, before any thread) hold the rest; the measuring process holds
// kNodesPerProcess and does every put and get. Then `lookups` times: a value is
// put from a random node and fetched from another random node; measured per
// lookup: the time until OpenDHT reports the get done and the UDP requests
// the fetching node sent meanwhile (its own packets, counted by a socket
// subclass; Kademlia sends about alpha requests per hop, so requests/alpha
// ~ hops).
//
//   bazel build -c opt //tests/bench:dht_sim
//   bazel-bin/tests/bench/dht_sim --nodes=50,100,200,500,1000 --lookups=40
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <opendht/dhtrunner.h>
#include <opendht/network_utils.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// UdpSocket that counts the packets it sends.
class CountingSocket : public dht::net::UdpSocket {
 public:
  CountingSocket(const dht::SockAddr& b4) : UdpSocket(b4, dht::SockAddr()) {}
  int sendTo(const dht::SockAddr& dest, const uint8_t* data, size_t size, bool replied) override {
    sent.fetch_add(1, std::memory_order_relaxed);
    return UdpSocket::sendTo(dest, data, size, replied);
  }
  std::atomic<uint64_t> sent{0};
};

struct Node {
  std::unique_ptr<dht::DhtRunner> runner;
  CountingSocket* socket = nullptr;  // owned by the runner
  in_port_t port = 0;
};

dht::SockAddr Loopback(in_port_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return dht::SockAddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

Node StartNode() {
  Node n;
  n.runner = std::make_unique<dht::DhtRunner>();
  auto sock = std::make_unique<CountingSocket>(Loopback(0));
  n.socket = sock.get();
  dht::DhtRunner::Config config;
  config.threaded = true;
  dht::DhtRunner::Context context;
  context.sock = std::move(sock);
  n.runner->run(config, std::move(context));
  n.port = n.runner->getBoundPort(AF_INET);
  return n;
}

constexpr int kNodesPerProcess = 250;

// A helper process: `count` nodes joining through 127.0.0.1:`port`, until killed.
[[noreturn]] void Helper(int count, in_port_t port, unsigned seed) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::mt19937 rng(seed);
  std::vector<Node> nodes;
  for (int i = 0; i < count; ++i) {
    nodes.push_back(StartNode());
    if (i == 0) {
      nodes.back().runner->bootstrap(Loopback(port));
    } else {
      const int via = std::uniform_int_distribution<int>(0, i - 1)(rng);
      nodes.back().runner->bootstrap(Loopback(nodes[via].port));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  for (;;) pause();
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / v.size();
}

void RunOne(int total, int lookups, std::mt19937& rng) {
  // The helpers first (fork before this process starts any thread of its
  // own for this size), joining through a port reserved for node 0.
  const int n = std::min(total, kNodesPerProcess);
  std::vector<pid_t> helpers;
  Node first = StartNode();
  for (int rest = total - n, h = 0; rest > 0; rest -= kNodesPerProcess, ++h) {
    const pid_t pid = fork();
    if (pid == 0) Helper(std::min(rest, kNodesPerProcess), first.port, 100 + h);
    helpers.push_back(pid);
  }
  std::vector<Node> nodes;
  nodes.reserve(n);
  nodes.push_back(std::move(first));
  const auto t0 = Clock::now();
  for (int i = 1; i < n; ++i) {
    nodes.push_back(StartNode());
    if (i > 0) {
      const int via = std::uniform_int_distribution<int>(0, i - 1)(rng);
      nodes.back().runner->bootstrap(Loopback(nodes[via].port));
    }
    // Do not flood the bootstrap nodes: a few ms per join.
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  // Let routing tables fill (every node searches for its own ID on joining).
  std::this_thread::sleep_for(std::chrono::seconds(total >= 500 ? 25 : 10));
  const double join_s = std::chrono::duration<double>(Clock::now() - t0).count();
  unsigned good_total = 0;
  for (auto& node : nodes) {
    unsigned good = 0, dubious = 0, cached = 0, incoming = 0;
    node.runner->getNodesStats(AF_INET, &good, &dubious, &cached, &incoming);
    good_total += good;
  }

  std::vector<double> ms, requests, found;
  for (int l = 0; l < lookups; ++l) {
    const int from = std::uniform_int_distribution<int>(0, n - 1)(rng);
    int to = std::uniform_int_distribution<int>(0, n - 1)(rng);
    if (to == from) to = (to + 1) % n;
    const dht::InfoHash key = dht::InfoHash::get("sim/" + std::to_string(n) + "/" +
                                                 std::to_string(l));
    std::promise<bool> put_done;
    nodes[from].runner->put(key, dht::Value(reinterpret_cast<const uint8_t*>("v"), 1),
                            [&](bool ok) { put_done.set_value(ok); });
    put_done.get_future().wait_for(std::chrono::seconds(20));
    Node& getter = nodes[to];
    const uint64_t before = getter.socket->sent.load();
    const auto start = Clock::now();
    std::promise<void> done;
    std::atomic<int> values{0};
    getter.runner->get(
        key,
        [&](const std::vector<std::shared_ptr<dht::Value>>& v) {
          values += static_cast<int>(v.size());
          return true;
        },
        [&](bool) { done.set_value(); });
    done.get_future().wait_for(std::chrono::seconds(20));
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    requests.push_back(static_cast<double>(getter.socket->sent.load() - before));
    found.push_back(values > 0 ? 1 : 0);
  }
  printf("%6d  %8.1f  %10.1f  %10.1f  %10.1f  %8.0f%%  %12.1f\n", total, log2(total), Median(ms),
         Mean(requests), Median(requests), 100 * Mean(found),
         static_cast<double>(good_total) / n);
  fflush(stdout);
  fprintf(stderr, "n=%d (%zu processes): joined in %.1f s\n", total, helpers.size() + 1, join_s);
  for (pid_t pid : helpers) kill(pid, SIGKILL);
  for (pid_t pid : helpers) waitpid(pid, nullptr, 0);
  for (auto& node : nodes) node.runner->shutdown({}, true);
  for (auto& node : nodes) node.runner->join();
}

}  // namespace

int main(int argc, char** argv) {
  std::string sizes = "50,100,200,500,1000";
  int lookups = 40;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--nodes=", 0) == 0) sizes = a.substr(8);
    else if (a.rfind("--lookups=", 0) == 0) lookups = std::stoi(a.substr(10));
    else {
      fprintf(stderr, "usage: dht_sim [--nodes=50,100,...] [--lookups=N]\n");
      return 1;
    }
  }
  std::mt19937 rng(13);
  printf("%6s  %8s  %10s  %10s  %10s  %9s  %12s\n", "nodes", "log2(n)", "median ms",
         "mean reqs", "median reqs", "found", "good/node");
  std::stringstream ss(sizes);
  std::string item;
  while (std::getline(ss, item, ',')) RunOne(std::stoi(item), lookups, rng);
  return 0;
}

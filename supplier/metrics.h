// Metrics: what the operator's Prometheus scrapes from --metrics-listen
// (docs/OPERATING.md, "Metrics"). Counters and histograms are updated by a
// gRPC server interceptor (every call: method, status code, latency), by the
// transfer paths (bytes) and by the reaper; gauges (quota, disk, customers)
// are read from the Store at scrape time. Text exposition format 0.0.4, names
// after Prometheus' conventions (shardkeep_supplier_*, _total, _seconds,
// _bytes). Thread-safe.
#ifndef SHARDKEEP_SUPPLIER_METRICS_H_
#define SHARDKEEP_SUPPLIER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "common/status.h"
#include "grpcpp/support/server_interceptor.h"

namespace shardkeep::supplier {

class Metrics {
 public:
  static constexpr std::array<double, 10> kLatencyBuckets = {0.001, 0.005, 0.01, 0.05, 0.1,
                                                             0.5,   1,     5,    30,   300};

  // One finished call: method (short name, e.g. "PutFragment"), gRPC status
  // code name (e.g. "OK", "RESOURCE_EXHAUSTED"), seconds from its start.
  void RecordCall(const std::string& method, const std::string& code, double seconds);
  void AddBytes(const char* method, const char* direction /* "in" or "out" */, uint64_t n);
  void RecordReaperRun(const std::string& decision, int reaped, uint64_t freed_bytes);

  // The exposition text; `gauges` appends lines computed at scrape time.
  std::string Render(const std::function<std::string()>& gauges);

 private:
  struct Histogram {
    std::array<uint64_t, kLatencyBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> calls_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Histogram> latency_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, uint64_t> bytes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> reaper_runs_ ABSL_GUARDED_BY(mu_);
  uint64_t reaped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t reaped_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

// Records every call's method, status code and latency into `metrics`.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewMetricsInterceptorFactory(
    Metrics* metrics);

// A minimal HTTP/1.0 server for GET /metrics on `address` (host:port; port 0
// picks one). Start() binds and serves on its own thread until destroyed.
class MetricsServer {
 public:
  MetricsServer(Metrics* metrics, std::function<std::string()> gauges);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  // Returns the bound port.
  absl::StatusOr<int> Start(const std::string& address);

 private:
  void Serve();
  Metrics* const metrics_;
  const std::function<std::string()> gauges_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_METRICS_H_

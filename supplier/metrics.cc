#include "supplier/metrics.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"

namespace shardkeep::supplier {
namespace {

const char* CodeName(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "OTHER";
  }
}

// "/shardkeep.v1.Supplier/PutFragment" -> "PutFragment".
std::string ShortMethod(const char* full) {
  std::string m = full == nullptr ? "" : full;
  size_t slash = m.rfind('/');
  return slash == std::string::npos ? m : m.substr(slash + 1);
}

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(Metrics* metrics, grpc::experimental::ServerRpcInfo* info)
      : metrics_(metrics),
        method_(ShortMethod(info->method())),
        start_(std::chrono::steady_clock::now()) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      metrics_->RecordCall(method_, CodeName(methods->GetSendStatus().error_code()), secs);
    }
    methods->Proceed();
  }

 private:
  Metrics* const metrics_;
  const std::string method_;
  const std::chrono::steady_clock::time_point start_;
};

class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(Metrics* m) : metrics_(m) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info);
  }

 private:
  Metrics* const metrics_;
};

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::RecordCall(const std::string& method, const std::string& code, double seconds) {
  absl::MutexLock l(&mu_);
  ++calls_[{method, code}];
  Histogram& h = latency_[method];
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::AddBytes(const char* method, const char* direction, uint64_t n) {
  absl::MutexLock l(&mu_);
  bytes_[{method, direction}] += n;
}

void Metrics::RecordReaperRun(const std::string& decision, int reaped, uint64_t freed_bytes) {
  absl::MutexLock l(&mu_);
  ++reaper_runs_[decision];
  reaped_ += reaped;
  reaped_bytes_ += freed_bytes;
}

std::string Metrics::Render(const std::function<std::string()>& gauges) {
  std::string out;
  {
    absl::MutexLock l(&mu_);
    out +=
        "# HELP shardkeep_supplier_requests_total Calls answered, by method and gRPC status.\n"
        "# TYPE shardkeep_supplier_requests_total counter\n";
    for (const auto& [k, v] : calls_) {
      absl::StrAppendFormat(&out,
                            "shardkeep_supplier_requests_total{method=\"%s\",code=\"%s\"} %d\n",
                            Escape(k.first), Escape(k.second), v);
    }
    out +=
        "# HELP shardkeep_supplier_refusals_total Calls refused (any status but OK), by status.\n"
        "# TYPE shardkeep_supplier_refusals_total counter\n";
    std::map<std::string, uint64_t> refusals;
    for (const auto& [k, v] : calls_) {
      if (k.second != "OK") refusals[k.second] += v;
    }
    for (const auto& [code, v] : refusals) {
      absl::StrAppendFormat(&out, "shardkeep_supplier_refusals_total{code=\"%s\"} %d\n", code, v);
    }
    out +=
        "# HELP shardkeep_supplier_request_duration_seconds Call latency, by method.\n"
        "# TYPE shardkeep_supplier_request_duration_seconds histogram\n";
    for (const auto& [method, h] : latency_) {
      for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
        absl::StrAppendFormat(
            &out,
            "shardkeep_supplier_request_duration_seconds_bucket{method=\"%s\",le=\"%g\"} %d\n",
            Escape(method), kLatencyBuckets[i], h.buckets[i]);
      }
      absl::StrAppendFormat(
          &out,
          "shardkeep_supplier_request_duration_seconds_bucket{method=\"%s\",le=\"+Inf\"} %d\n"
          "shardkeep_supplier_request_duration_seconds_sum{method=\"%s\"} %g\n"
          "shardkeep_supplier_request_duration_seconds_count{method=\"%s\"} %d\n",
          Escape(method), h.count, Escape(method), h.sum, Escape(method), h.count);
    }
    out +=
        "# HELP shardkeep_supplier_transfer_bytes_total Fragment bytes moved, by method and "
        "direction.\n# TYPE shardkeep_supplier_transfer_bytes_total counter\n";
    for (const auto& [k, v] : bytes_) {
      absl::StrAppendFormat(
          &out, "shardkeep_supplier_transfer_bytes_total{method=\"%s\",direction=\"%s\"} %d\n",
          k.first, k.second, v);
    }
    out +=
        "# HELP shardkeep_supplier_reaper_runs_total Reaper runs, by decision.\n"
        "# TYPE shardkeep_supplier_reaper_runs_total counter\n";
    for (const auto& [d, v] : reaper_runs_) {
      absl::StrAppendFormat(&out, "shardkeep_supplier_reaper_runs_total{decision=\"%s\"} %d\n", d,
                            v);
    }
    absl::StrAppendFormat(&out,
                          "# HELP shardkeep_supplier_reaped_contracts_total Contracts deleted by "
                          "the reaper.\n# TYPE shardkeep_supplier_reaped_contracts_total counter\n"
                          "shardkeep_supplier_reaped_contracts_total %d\n"
                          "# HELP shardkeep_supplier_reaped_bytes_total Quota bytes freed by the "
                          "reaper.\n# TYPE shardkeep_supplier_reaped_bytes_total counter\n"
                          "shardkeep_supplier_reaped_bytes_total %d\n",
                          reaped_, reaped_bytes_);
  }
  if (gauges) out += gauges();
  return out;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewMetricsInterceptorFactory(
    Metrics* metrics) {
  return std::make_unique<MetricsInterceptorFactory>(metrics);
}

MetricsServer::MetricsServer(Metrics* metrics, std::function<std::string()> gauges)
    : metrics_(metrics), gauges_(std::move(gauges)) {}

MetricsServer::~MetricsServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<int> MetricsServer::Start(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError("--metrics-listen must be host:port, got " + address);
  }
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics-listen ", address, ": ", gai_strerror(rc)));
  }
  fd_ = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const bool ok = fd_ >= 0 && bind(fd_, res->ai_addr, res->ai_addrlen) == 0 && listen(fd_, 16) == 0;
  freeaddrinfo(res);
  if (!ok) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on --metrics-listen ", address, ": ", std::strerror(errno)));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  const int bound_port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  thread_ = std::thread([this] { Serve(); });
  return bound_port;
}

void MetricsServer::Serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    // One small request line at most; a slow client gets 2 s.
    timeval tv{2, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char buf[1024];
    ssize_t n = recv(c, buf, sizeof(buf) - 1, 0);
    std::string req(buf, n > 0 ? static_cast<size_t>(n) : 0);
    std::string resp;
    if (req.rfind("GET /metrics", 0) == 0) {
      const std::string body = metrics_->Render(gauges_);
      resp = absl::StrCat(
          "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
          "Content-Length: ",
          body.size(), "\r\n\r\n", body);
    } else {
      resp = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    }
    for (size_t off = 0; off < resp.size();) {
      ssize_t w = send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
    close(c);
  }
}

}  // namespace shardkeep::supplier

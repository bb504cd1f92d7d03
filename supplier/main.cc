// shardkeep-supplier: rents out disk space to ShardKeep customers.
//
//   shardkeep-supplier --listen 0.0.0.0:7700 --data-dir /srv/shardkeep --capacity 500GiB
//
// Exit codes: 0 clean shutdown (SIGTERM/SIGINT) or --help; 1 bad command line;
// 2 could not start (data dir, listen address, TLS files).
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "gflags/gflags.h"
#include "glog/logging.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/resource_quota.h"
#include "supplier/clock.h"
#include "supplier/limits.h"
#include "supplier/replay_guard.h"
#include "supplier/service.h"
#include "supplier/tls_identity.h"
#include "supplier/store.h"
#include "common/units.h"

DEFINE_string(listen, "0.0.0.0:7700",
              "address:port to serve on; port 0 picks a free port (see --port-file)");
DEFINE_string(data_dir, "", "directory for the database and fragment files (required)");
DEFINE_string(capacity, "",
              "space donated to customers: the sum of granted quotas never exceeds it "
              "(bytes, or with a unit: KiB MiB GiB TiB; required)");
DEFINE_string(lease, "30d",
              "contract lease; renewed by the customer's activity (duration: ms s m h d)");
DEFINE_string(grace, "7d",
              "after a lease expires, data is kept this long before it is deleted (duration)");
DEFINE_string(reap_interval, "10m", "how often expired contracts are looked for (duration)");
DEFINE_string(auth_window, "5m",
              "requests signed more than this before or after the supplier's clock are refused "
              "(duration)");
DEFINE_string(max_fragment_size, "64MiB", "largest fragment accepted (size)");
DEFINE_bool(direct_io, true,
            "write fragment files with O_DIRECT (bypassing the page cache) where the file system "
            "supports it; --nodirect-io for buffered writes");
DEFINE_string(tls_cert, "",
              "PEM certificate chain file served instead of the supplier's own TLS identity "
              "(made in the data dir on first start); with --tls-key");
DEFINE_string(tls_key, "", "PEM private key file for --tls-cert");
DEFINE_bool(insecure_plaintext, false,
            "serve plaintext gRPC instead of TLS (only where TLS is terminated elsewhere; "
            "customers need --insecure-plaintext too)");
DEFINE_string(port_file, "",
              "after listening, write the bound port number to this file (atomically)");
DEFINE_string(idle_timeout, "60s",
              "an upload or download stream that moves no message for this long is cancelled "
              "(frees its thread and quota reservation; duration)");
DEFINE_string(shutdown_timeout, "20s",
              "on SIGTERM, calls in flight get this long to finish before they are cancelled "
              "(duration)");
DEFINE_string(test_clock_offset_file, "",
              "TESTS ONLY: add the number of milliseconds in this file (re-read at every clock "
              "read) to the clock, so tests can expire leases without waiting");

DECLARE_bool(help);
DECLARE_bool(helpshort);

namespace shardkeep::supplier {
namespace {

constexpr int kExitUsage = 1;
constexpr int kExitCannotStart = 2;

// Our flags only (gflags' --help would list glog's and gflags' own as well;
// --helpfull still does).
void PrintHelp() {
  std::ostringstream out;
  out << "shardkeep-supplier: rents out disk space to ShardKeep customers.\n\n"
         "Usage:\n"
         "  shardkeep-supplier --listen 0.0.0.0:7700 --data-dir /srv/shardkeep --capacity "
         "500GiB\n\n"
         "Flags (sizes: bytes or KiB MiB GiB TiB, also kB MB GB TB; durations: ms s m h d):\n";
  std::vector<gflags::CommandLineFlagInfo> flags;
  gflags::GetAllFlags(&flags);
  for (const auto& f : flags) {
    if (f.filename.find("supplier/main.cc") == std::string::npos) continue;
    std::string name = f.name;
    for (char& c : name) c = c == '_' ? '-' : c;
    out << "  --" << name;
    if (!f.default_value.empty()) out << " (default " << f.default_value << ")";
    out << "\n      " << f.description << "\n";
  }
  out << "\nLogging goes to stderr (glog; --log_dir to write files, --v=1 for more).\n"
         "All flags, including glog's: --helpfull.\n\n"
         "Exit codes:\n"
         "  0  clean shutdown after SIGTERM or SIGINT (or --help)\n"
         "  1  bad command line (unknown flag, bad value, missing required flag)\n"
         "  2  could not start: data dir unusable or in use, address not bindable, TLS files\n"
         "     unreadable\n";
  std::cout << out.str();
}

[[noreturn]] void Usage(const std::string& msg) {
  std::cerr << "shardkeep-supplier: " << msg << "\n(see --help)\n";
  std::exit(kExitUsage);
}

[[noreturn]] void CannotStart(const std::string& msg) {
  LOG(ERROR) << msg;
  std::cerr << "shardkeep-supplier: " << msg << "\n";
  std::exit(kExitCannotStart);
}

uint64_t SizeFlag(const char* name, const std::string& value) {
  if (value.empty()) Usage(std::string("--") + name + " is required");
  auto v = ParseByteSize(value);
  if (!v.ok()) Usage(std::string("--") + name + ": " + std::string(v.status().message()));
  return *v;
}

int64_t DurationFlag(const char* name, const std::string& value) {
  auto v = ParseDurationMs(value);
  if (!v.ok()) Usage(std::string("--") + name + ": " + std::string(v.status().message()));
  return *v;
}

bool WritePortFile(const std::string& path, int port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// Runs ReapExpired and purges old nonces every interval until stopped.
class Reaper {
 public:
  Reaper(Store* store, ReplayGuard* guard, int64_t interval_ms)
      : store_(store), guard_(guard), interval_ms_(interval_ms), thread_([this] { Run(); }) {}
  ~Reaper() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> l(mu_);
    while (!stop_) {
      l.unlock();
      auto r = store_->ReapExpired();
      if (!r.ok()) {
        LOG(ERROR) << "reaper: " << r.status();
      } else if (r->contracts_reaped > 0) {
        LOG(INFO) << "reaper: " << r->contracts_reaped << " expired contracts deleted, "
                  << r->freed_bytes << " bytes freed";
      }
      absl::Status p = guard_->Purge();
      if (!p.ok()) LOG(ERROR) << "purging old nonces: " << p;
      l.lock();
      cv_.wait_for(l, std::chrono::milliseconds(interval_ms_), [this] { return stop_; });
    }
  }

  Store* const store_;
  ReplayGuard* const guard_;
  const int64_t interval_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

int Main(int argc, char** argv) {
  FLAGS_logtostderr = true;  // systemd's journal collects stderr; --log_dir overrides
  gflags::SetUsageMessage(
      "rents out disk space to ShardKeep customers\n"
      "  shardkeep-supplier --listen 0.0.0.0:7700 --data-dir /srv/shardkeep --capacity 500GiB");
  gflags::SetVersionString(kVersion);
  gflags::ParseCommandLineNonHelpFlags(&argc, &argv, true);
  if (FLAGS_help || FLAGS_helpshort) {
    PrintHelp();
    return 0;
  }
  gflags::HandleCommandLineHelpFlags();  // --helpfull, --version, ...
  if (argc > 1) Usage(std::string("unexpected argument \"") + argv[1] + "\"");
  // glog defaults --log_dir to $TEST_TMPDIR or $GOOGLE_LOG_DIR; only an
  // explicit --log_dir moves the log from stderr to files.
  if (!gflags::GetCommandLineFlagInfoOrDie("log_dir").is_default) FLAGS_logtostderr = false;
  google::InitGoogleLogging(argv[0]);

  if (FLAGS_data_dir.empty()) Usage("--data-dir is required");
  StoreOptions options;
  options.capacity_bytes = SizeFlag("capacity", FLAGS_capacity);
  options.lease_ms = DurationFlag("lease", FLAGS_lease);
  options.grace_ms = DurationFlag("grace", FLAGS_grace);
  options.max_fragment_bytes = SizeFlag("max-fragment-size", FLAGS_max_fragment_size);
  options.max_object_bytes = kMaxObjectBytes;
  options.direct_io = FLAGS_direct_io;
  const int64_t reap_ms = DurationFlag("reap-interval", FLAGS_reap_interval);
  const int64_t window_ms = DurationFlag("auth-window", FLAGS_auth_window);
  const int64_t shutdown_ms = DurationFlag("shutdown-timeout", FLAGS_shutdown_timeout);
  const int64_t idle_ms = DurationFlag("idle-timeout", FLAGS_idle_timeout);
  if (idle_ms <= 0) Usage("--idle-timeout must be positive");
  if (options.lease_ms <= 0) Usage("--lease must be positive");
  if (reap_ms <= 0) Usage("--reap-interval must be positive");
  if (window_ms <= 0) Usage("--auth-window must be positive");
  if (FLAGS_tls_cert.empty() != FLAGS_tls_key.empty()) {
    Usage("--tls-cert and --tls-key go together");
  }

  // Block the shutdown signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<Clock> clock = FLAGS_test_clock_offset_file.empty()
                                     ? NewSystemClock()
                                     : NewOffsetFileClock(FLAGS_test_clock_offset_file);
  if (!FLAGS_test_clock_offset_file.empty()) {
    LOG(WARNING) << "test clock: offset read from " << FLAGS_test_clock_offset_file;
  }
  options.clock = clock.get();
  OpenReport report;
  auto opened = Store::Open(FLAGS_data_dir, std::move(options), &report);
  if (!opened.ok()) {
    std::string msg(opened.status().message());
    if (msg.find("lock") != std::string::npos || msg.find("LOCK") != std::string::npos) {
      msg += " (is another shardkeep-supplier using this data dir?)";
    }
    CannotStart("cannot open data dir " + FLAGS_data_dir + ": " + msg);
  }
  std::unique_ptr<Store> store = std::move(opened).value();
  struct statvfs fs;
  if (statvfs(FLAGS_data_dir.c_str(), &fs) == 0) {
    uint64_t avail = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    uint64_t used = store->GetTotals().used_bytes;
    if (store->options().capacity_bytes > avail + used) {
      LOG(WARNING) << "--capacity " << FormatByteSize(store->options().capacity_bytes)
                   << " is more than the " << FormatByteSize(avail)
                   << " free on the data dir's file system plus the " << FormatByteSize(used)
                   << " already stored";
    }
  }
  ReplayGuard guard(store.get(), clock.get(), window_ms);
  if (absl::Status s = guard.Load(); !s.ok()) CannotStart(std::string(s.message()));

  // TLS by default, with the supplier's own key (supplier/tls_identity.h).
  absl::StatusOr<ServerTls> tls = LoadServerTls(FLAGS_data_dir, FLAGS_tls_cert, FLAGS_tls_key,
                                                FLAGS_insecure_plaintext);
  if (!tls.ok()) CannotStart(std::string(tls.status().message()));
  std::shared_ptr<grpc::ServerCredentials> creds = tls->credentials;

  SupplierService service(store.get(), &guard, clock.get(), idle_ms);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(FLAGS_listen, creds, &port);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  // Two daemons on one port would silently share its connections.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Customers send keepalive pings every 30 s, also between calls
  // (customer/net/transport_options.h); gRPC's default policy would answer
  // pings more often than every 5 min without data with GOAWAY.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // A fixed 512 KiB HTTP/2 window per stream instead of BDP probing, which
  // grows it to megabytes: a customer on a slow uplink then has at most that
  // much per stream in buffers it cannot see, so its stall watchdog sees
  // progress within seconds (docs/NETWORK.md, "Flow control").
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 512 << 10);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(NewUnparsableRequestInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  grpc::ResourceQuota quota("shardkeep-supplier");
  quota.SetMaxThreads(256);
  builder.SetResourceQuota(quota);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) CannotStart("cannot listen on " + FLAGS_listen);
  if (!FLAGS_port_file.empty() && !WritePortFile(FLAGS_port_file, port)) {
    CannotStart("cannot write --port-file " + FLAGS_port_file);
  }
  Totals t = store->GetTotals();
  LOG(INFO) << kVersion << " serving on " << FLAGS_listen << " (port " << port << ", "
            << tls->description << "), data dir " << FLAGS_data_dir
            << ", capacity " << FormatByteSize(t.capacity_bytes) << ", granted "
            << FormatByteSize(t.granted_bytes) << ", used " << FormatByteSize(t.used_bytes)
            << " by " << t.customers << " customers (" << report.fragments << " fragments, "
            << report.objects << " objects)";

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    LOG(INFO) << "signal " << sig << ": shutting down (calls in flight get "
              << FormatDurationMs(shutdown_ms) << ")";
    // New calls are refused from here on; calls in flight get the timeout
    // to finish, then are cancelled. gRPC also waits (within the same
    // deadline) for connections to close after its GOAWAY: an idle client
    // notices only at its next poll, up to ~5 s later for gRPC C++ clients.
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(shutdown_ms));
  });
  {
    Reaper reaper(store.get(), &guard, reap_ms);
    server->Wait();
  }
  signal_thread.join();
  server.reset();
  store.reset();
  LOG(INFO) << "stopped cleanly";
  return 0;
}

}  // namespace
}  // namespace shardkeep::supplier

int main(int argc, char** argv) { return shardkeep::supplier::Main(argc, argv); }

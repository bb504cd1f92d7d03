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

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "common/units.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/resource_quota.h"
#include "absl/strings/str_split.h"
#include "common/dht_node.h"
#include "supplier/announcer.h"
#include "supplier/clock.h"
#include "supplier/limits.h"
#include "supplier/reaper.h"
#include "supplier/replay_guard.h"
#include "supplier/service.h"
#include "supplier/tls_identity.h"
#include "supplier/store.h"

DEFINE_string(listen, "0.0.0.0:7700",
              "address:port to serve on; port 0 picks a free port (see --port-file)");
DEFINE_string(data_dir, "", "directory for the database and fragment files (required)");
DEFINE_string(capacity, "",
              "space donated to customers: the sum of granted quotas never exceeds it "
              "(bytes, or with a unit: KiB MiB GiB TiB; required)");
DEFINE_string(lease, "90d",
              "contract lease; renewed by every authenticated call of the customer (duration: "
              "ms s m h d)");
DEFINE_string(grace, "7d",
              "after a lease expires, data is kept this long before it is deleted (duration)");
DEFINE_string(reap_interval, "10m", "how often expired contracts are looked for (duration)");
DEFINE_string(reaper_max_jump, "1d",
              "if the wall clock moved forward more than this since the reaper's last run (beyond "
              "the time measured), nothing is reaped until the new time is confirmed (duration)");
DEFINE_string(reaper_confirm, "1h",
              "how long (monotonic time) a clock jump must hold before the reaper trusts it "
              "(duration)");
DEFINE_double(reaper_max_share, 0.10,
              "one reaper run deletes at most this share of the contracts in force (at least one)");
DEFINE_string(auth_window, "5m",
              "requests signed more than this before or after the supplier's clock are refused "
              "(duration)");
DEFINE_string(max_fragment_size, "64MiB", "largest fragment accepted (size)");
DEFINE_bool(accept_missing_files, false,
            "start even though more than a few indexed fragment files are missing, dropping "
            "them from the index (by default the supplier refuses: wrong disk or old database?)");
DEFINE_string(min_item_charge, "4KiB",
              "every fragment and object costs at least this much quota, plus its name's bytes "
              "(size)");
DEFINE_uint64(max_items_per_contract, 1000000,
              "fragments plus objects one contract may hold (0: no limit)");
DEFINE_string(disk_reserve, "1GiB",
              "free disk kept back: a quota is granted only if the file system's free space "
              "less this covers everything granted and not yet stored (size)");
DEFINE_string(min_free_disk, "64MiB",
              "puts are refused (disk full) when they would leave less than this free on the "
              "data dir's file system: room for the database's own writes (0: no check)");
DEFINE_uint64(max_nonces, 1000000,
              "request nonces remembered inside the auth window, all customers together "
              "(~100 bytes each); beyond it requests get UNAVAILABLE");
DEFINE_uint64(max_nonces_per_customer, 100000,
              "request nonces one customer may have inside the auth window");
DEFINE_uint64(max_nonces_new_customers, 10000,
              "contract requests from customers without a contract inside the auth window, all "
              "together");
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
DEFINE_string(first_message_timeout, "5s",
              "an upload stream must deliver its signed header within this (duration)");
DEFINE_uint64(max_waiting_streams, 64,
              "upload streams waiting for their header, all together; past it the oldest waiting "
              "one is cancelled");
DEFINE_uint64(max_waiting_streams_per_peer, 16,
              "upload streams from one IP address waiting for their header; past it that peer's "
              "oldest waiting one is cancelled");
DEFINE_uint64(max_streams_per_customer, 32,
              "concurrent fragment uploads and downloads of one customer");
DEFINE_uint64(max_streams_per_connection, 100,
              "concurrent calls on one client connection (HTTP/2 MAX_CONCURRENT_STREAMS; more "
              "wait in the client)");
DEFINE_string(min_transfer_rate, "64KiB",
              "bytes per second a fragment transfer must average: it is cancelled after "
              "--first-message-timeout plus size / rate (size)");
DEFINE_string(admission, "open",
              "who may open a new contract: \"open\" (anyone) or \"invite\" (an invitation "
              "from `shardkeep-supplier invite`, or a key in --allow-customers)");
DEFINE_string(allow_customers, "",
              "file of customer keys (64 hex digits a line) admitted without an invitation");
DEFINE_uint32(new_contracts_per_hour, 100, "new contracts per hour at most (0: no limit)");
DEFINE_uint32(max_customers, 10000, "contracts in force at most (0: no limit)");
DEFINE_string(max_quota_per_customer, "0",
              "largest quota one customer is granted (size; 0: no "
              "limit besides --capacity)");
DEFINE_string(metrics_listen, "",
              "serve Prometheus metrics (GET /metrics, HTTP/1.0) on this host:port; empty: off");
DEFINE_string(valid, "7d", "invite: how long the invitation may be used (duration)");
DEFINE_string(shutdown_timeout, "20s",
              "on SIGTERM, calls in flight get this long to finish before they are cancelled "
              "(duration)");
DEFINE_int32(dht_port, -1,
             "join ShardKeep's DHT on this UDP port and announce a signed offer there "
             "(docs/DISCOVERY.md); 0 picks a free port; off unless given");
DEFINE_string(dht_bootstrap, "",
              "HOST:PORT of DHT nodes to join through, comma-separated (with --dht-port)");
DEFINE_string(dht_listen, "0.0.0.0", "IPv4 address the DHT's UDP socket binds (with --dht-port)");
DEFINE_string(public_address, "",
              "HOST:PORT customers reach this supplier at, as announced in the DHT "
              "(default: --listen with its port, unless that is a wildcard address)");
DEFINE_string(dht_check_interval, "60s",
              "how often the offer is rebuilt and re-announced if it changed (duration)");
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

// Runs the reaper and purges old nonces every interval until stopped.
class Housekeeping {
 public:
  Housekeeping(Reaper* reaper, ReplayGuard* guard, int64_t interval_ms, Metrics* metrics)
      : reaper_(reaper),
        guard_(guard),
        interval_ms_(interval_ms),
        metrics_(metrics),
        thread_([this] { Run(); }) {}
  ~Housekeeping() {
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
      auto r = reaper_->RunOnce();  // logs what it did
      if (!r.ok()) {
        LOG(ERROR) << "reaper: " << r.status();
        metrics_->RecordReaperRun("error", 0, 0);
      } else {
        static const char* const kDecision[] = {"reaped", "first_reading", "clock_jumped",
                                                "waiting_to_confirm"};
        metrics_->RecordReaperRun(kDecision[static_cast<int>(r->decision)],
                                  r->result.contracts_reaped, r->result.freed_bytes);
      }
      absl::Status p = guard_->Purge();
      if (!p.ok()) LOG(ERROR) << "purging old nonces: " << p;
      l.lock();
      cv_.wait_for(l, std::chrono::milliseconds(interval_ms_), [this] { return stop_; });
    }
  }

  Reaper* const reaper_;
  ReplayGuard* const guard_;
  const int64_t interval_ms_;
  Metrics* const metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// `shardkeep-supplier invite --data-dir DIR [--valid 7d]`: prints a token that
// lets one new customer open a contract. Works while the daemon runs (it
// needs only the invite secret, not the database).
int RunInvite() {
  if (FLAGS_data_dir.empty()) Usage("invite: --data-dir is required");
  const int64_t valid_ms = DurationFlag("valid", FLAGS_valid);
  if (valid_ms <= 0) Usage("--valid must be positive");
  auto secret = LoadOrCreateInviteSecret(FLAGS_data_dir);
  if (!secret.ok()) CannotStart(std::string(secret.status().message()));
  std::cout << MakeInvite(*secret, NewSystemClock()->NowMs() + valid_ms) << "\n";
  return 0;
}

// `shardkeep-supplier status --data-dir DIR`: the data dir at a glance, read
// without disturbing a running daemon (docs/OPERATING.md).
int RunStatus() {
  if (FLAGS_data_dir.empty()) Usage("status: --data-dir is required");
  const int64_t now = NewSystemClock()->NowMs();
  auto st = Store::ReadStatus(FLAGS_data_dir, now);
  if (!st.ok()) CannotStart(std::string(st.status().message()));
  uint64_t free = 0;
  struct statvfs vfs;
  if (statvfs(FLAGS_data_dir.c_str(), &vfs) == 0) {
    free = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  }
  int quarantined = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(FLAGS_data_dir + "/fragments/quarantine", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++quarantined;
  }
  std::cout << "data dir        " << FLAGS_data_dir << "\n"
            << "supplier id     " << st->supplier_id << " (storage format " << st->format << ")\n"
            << "customers       " << st->customers << "\n"
            << "granted         " << FormatByteSize(st->granted_bytes) << "\n"
            << "used            " << FormatByteSize(st->used_bytes) << " in " << st->fragments
            << " fragments and " << st->objects << " objects\n"
            << "disk free       " << FormatByteSize(free) << "\n"
            << "leases          " << st->leases_expired
            << " expired (grace or awaiting the reaper), " << st->leases_expiring_14d
            << " ending within 14 days\n"
            << "key claims      " << st->key_claims << "\n"
            << "quarantined     " << quarantined << " files in fragments/quarantine/\n";
  if (st->reaper_last_seen_ms) {
    std::cout << "reaper clock    last trusted reading "
              << FormatDurationMs(now - *st->reaper_last_seen_ms) << " ago\n";
  }
  std::cout
      << "(refusals by reason, latencies and bytes: --metrics-listen; see docs/OPERATING.md)\n";
  return 0;
}

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
  if (argc > 1 && std::string(argv[1]) == "invite" && argc == 2) return RunInvite();
  if (argc > 1 && std::string(argv[1]) == "status" && argc == 2) return RunStatus();
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
  if (options.capacity_bytes == 0) Usage("--capacity must be more than 0");
  options.min_item_charge = SizeFlag("min-item-charge", FLAGS_min_item_charge);
  options.max_items_per_contract = FLAGS_max_items_per_contract;
  options.disk_reserve_bytes = SizeFlag("disk-reserve", FLAGS_disk_reserve);
  options.min_free_disk_bytes =
      FLAGS_min_free_disk == "0" ? 0 : SizeFlag("min-free-disk", FLAGS_min_free_disk);
  options.accept_missing_files = FLAGS_accept_missing_files;
  options.max_customers = FLAGS_max_customers;
  options.max_quota_per_customer =
      FLAGS_max_quota_per_customer == "0"
          ? 0
          : SizeFlag("max-quota-per-customer", FLAGS_max_quota_per_customer);
  AdmissionOptions admission_options;
  if (FLAGS_admission != "open" && FLAGS_admission != "invite") {
    Usage("--admission must be \"open\" or \"invite\"");
  }
  admission_options.require_invite = FLAGS_admission == "invite";
  admission_options.new_contracts_per_hour = FLAGS_new_contracts_per_hour;
  if (!FLAGS_allow_customers.empty()) {
    auto allowed = ReadAllowList(FLAGS_allow_customers);
    if (!allowed.ok()) Usage("--allow-customers: " + std::string(allowed.status().message()));
    admission_options.allowed = std::move(allowed).value();
  }
  options.direct_io = FLAGS_direct_io;
  const int64_t reap_ms = DurationFlag("reap-interval", FLAGS_reap_interval);
  const int64_t window_ms = DurationFlag("auth-window", FLAGS_auth_window);
  const int64_t shutdown_ms = DurationFlag("shutdown-timeout", FLAGS_shutdown_timeout);
  const int64_t idle_ms = DurationFlag("idle-timeout", FLAGS_idle_timeout);
  if (idle_ms <= 0) Usage("--idle-timeout must be positive");
  if (options.lease_ms <= 0) Usage("--lease must be positive");
  if (reap_ms <= 0) Usage("--reap-interval must be positive");
  ReaperOptions reaper_options;
  reaper_options.max_forward_jump_ms = DurationFlag("reaper-max-jump", FLAGS_reaper_max_jump);
  reaper_options.confirm_ms = DurationFlag("reaper-confirm", FLAGS_reaper_confirm);
  reaper_options.max_share = FLAGS_reaper_max_share;
  if (reaper_options.max_forward_jump_ms <= 0) Usage("--reaper-max-jump must be positive");
  if (!(FLAGS_reaper_max_share > 0 && FLAGS_reaper_max_share <= 1)) {
    Usage("--reaper-max-share must be in (0, 1]");
  }
  if (window_ms <= 0) Usage("--auth-window must be positive");
  if (FLAGS_max_nonces == 0 || FLAGS_max_nonces_per_customer == 0 ||
      FLAGS_max_nonces_new_customers == 0) {
    Usage(
        "--max-nonces, --max-nonces-per-customer and --max-nonces-new-customers must be positive");
  }
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
  const auto start_up = std::chrono::steady_clock::now();
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
    const uint64_t reserve = store->options().disk_reserve_bytes;
    if (store->options().capacity_bytes + reserve > avail + used) {
      const uint64_t can = avail + used > reserve ? avail + used - reserve : 0;
      LOG(WARNING) << "--capacity " << FormatByteSize(store->options().capacity_bytes)
                   << " is more than the data dir's file system can hold: " << FormatByteSize(avail)
                   << " free plus " << FormatByteSize(used)
                   << " already stored, less the --disk-reserve of " << FormatByteSize(reserve)
                   << "; quotas are granted only up to what the disk holds (about "
                   << FormatByteSize(can) << " in all)";
      std::cerr << "shardkeep-supplier: warning: --capacity "
                << FormatByteSize(store->options().capacity_bytes) << " exceeds what the disk "
                << "holds (" << FormatByteSize(can) << " after the reserve); see the log\n";
    }
  }
  ReplayGuardLimits replay_limits;
  replay_limits.max_entries = static_cast<size_t>(FLAGS_max_nonces);
  replay_limits.max_per_customer = static_cast<size_t>(FLAGS_max_nonces_per_customer);
  replay_limits.max_newcomers = static_cast<size_t>(FLAGS_max_nonces_new_customers);
  ReplayGuard guard(store.get(), clock.get(), window_ms, replay_limits);
  {
    const auto t0 = std::chrono::steady_clock::now();
    if (absl::Status s = guard.Load(); !s.ok()) CannotStart(std::string(s.message()));
    LOG(INFO) << "start-up: replay window's nonces loaded in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - t0)
                     .count()
              << " ms";
  }

  // TLS by default, with the supplier's own key (supplier/tls_identity.h).
  absl::StatusOr<ServerTls> tls = LoadServerTls(FLAGS_data_dir, FLAGS_tls_cert, FLAGS_tls_key,
                                                FLAGS_insecure_plaintext);
  if (!tls.ok()) CannotStart(std::string(tls.status().message()));
  std::shared_ptr<grpc::ServerCredentials> creds = tls->credentials;

  {
    auto secret = LoadOrCreateInviteSecret(FLAGS_data_dir);
    if (!secret.ok()) CannotStart(std::string(secret.status().message()));
    admission_options.invite_secret = std::move(secret).value();
  }
  Admission admission(std::move(admission_options), clock.get());
  StreamLimits stream_limits;
  stream_limits.first_message_timeout_ms =
      DurationFlag("first-message-timeout", FLAGS_first_message_timeout);
  stream_limits.max_waiting_streams = FLAGS_max_waiting_streams;
  stream_limits.max_waiting_streams_per_peer = FLAGS_max_waiting_streams_per_peer;
  stream_limits.max_streams_per_customer = FLAGS_max_streams_per_customer;
  stream_limits.min_transfer_bytes_per_second =
      SizeFlag("min-transfer-rate", FLAGS_min_transfer_rate);
  if (stream_limits.first_message_timeout_ms <= 0)
    Usage("--first-message-timeout must be positive");
  SupplierService service(store.get(), &guard, clock.get(), idle_ms, stream_limits, &admission);
  Metrics metrics;
  service.set_metrics(&metrics);
  // Gauges, read at each scrape.
  auto gauges = [&store, &clock, data_dir = FLAGS_data_dir]() {
    Totals t = store->GetTotals();
    uint64_t free = 0;
    struct statvfs vfs;
    if (statvfs(data_dir.c_str(), &vfs) == 0)
      free = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    std::ostringstream g;
    g << "# HELP shardkeep_supplier_capacity_bytes --capacity.\n"
         "# TYPE shardkeep_supplier_capacity_bytes gauge\n"
         "shardkeep_supplier_capacity_bytes "
      << t.capacity_bytes
      << "\n"
         "# HELP shardkeep_supplier_granted_bytes Sum of the contracts' quotas.\n"
         "# TYPE shardkeep_supplier_granted_bytes gauge\n"
         "shardkeep_supplier_granted_bytes "
      << t.granted_bytes
      << "\n"
         "# HELP shardkeep_supplier_used_bytes Sum of the contracts' usage (charged).\n"
         "# TYPE shardkeep_supplier_used_bytes gauge\n"
         "shardkeep_supplier_used_bytes "
      << t.used_bytes
      << "\n"
         "# HELP shardkeep_supplier_customers Contracts in force.\n"
         "# TYPE shardkeep_supplier_customers gauge\n"
         "shardkeep_supplier_customers "
      << t.customers
      << "\n"
         "# HELP shardkeep_supplier_disk_free_bytes Free space of the data dir's file system.\n"
         "# TYPE shardkeep_supplier_disk_free_bytes gauge\n"
         "shardkeep_supplier_disk_free_bytes "
      << free
      << "\n"
         "# HELP shardkeep_supplier_clock_seconds The supplier's clock.\n"
         "# TYPE shardkeep_supplier_clock_seconds gauge\n"
         "shardkeep_supplier_clock_seconds "
      << clock->NowMs() / 1000 << "\n";
    return g.str();
  };
  MetricsServer metrics_server(&metrics, gauges);
  if (!FLAGS_metrics_listen.empty()) {
    auto port = metrics_server.Start(FLAGS_metrics_listen);
    if (!port.ok()) CannotStart(std::string(port.status().message()));
    LOG(INFO) << "metrics: serving GET /metrics on " << FLAGS_metrics_listen << " (port " << *port
              << ")";
  }
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(FLAGS_listen, creds, &port);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  // Two daemons on one port would silently share its connections.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (FLAGS_max_streams_per_connection > 0) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONCURRENT_STREAMS,
        static_cast<int>(std::min<uint64_t>(FLAGS_max_streams_per_connection, INT32_MAX)));
  }
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
  interceptors.push_back(NewMetricsInterceptorFactory(&metrics));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  // The sync server (every method but PutFragment) takes a thread for every
  // call before any handler runs; for unary and server-streaming methods
  // gRPC matches a call with its request message (not yet tested here with a
  // caller that sends headers only). PutFragment, the one client-streaming
  // method, is served by the callback API and holds no sync thread at all
  // while it waits (service.h; abuse_test). This quota
  // bounds the threads of calls in progress; 384 was sized when silent
  // PutFragment streams still took sync threads (docs/RELIABILITY.md) and
  // is kept: a few tens of KiB resident each, only when used.
  grpc::ResourceQuota quota("shardkeep-supplier");
  quota.SetMaxThreads(384);
  builder.SetResourceQuota(quota);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) CannotStart("cannot listen on " + FLAGS_listen);
  if (!FLAGS_port_file.empty() && !WritePortFile(FLAGS_port_file, port)) {
    CannotStart("cannot write --port-file " + FLAGS_port_file);
  }
  Totals t = store->GetTotals();
  LOG(INFO) << kVersion << " serving on " << FLAGS_listen << " (port " << port << ", "
            << tls->description << "), data dir " << FLAGS_data_dir << ", capacity "
            << FormatByteSize(t.capacity_bytes) << ", granted " << FormatByteSize(t.granted_bytes)
            << ", used " << FormatByteSize(t.used_bytes) << " by " << t.customers << " customers ("
            << report.fragments << " fragments, " << report.objects << " objects); started in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start_up)
                   .count()
            << " ms";

  // Discovery (docs/DISCOVERY.md): the DHT node and the offer live as long
  // as the server.
  std::unique_ptr<dhtnet::DhtNode> dht_node;
  std::unique_ptr<Announcer> announcer;
  if (FLAGS_dht_port >= 0) {
    if (tls->fingerprint.empty()) {
      CannotStart("--dht-port needs TLS: the offer is signed with the TLS key customers pin");
    }
    std::string public_address = FLAGS_public_address;
    if (public_address.empty()) {
      const std::string host = FLAGS_listen.substr(0, FLAGS_listen.rfind(':'));
      if (host == "0.0.0.0" || host == "[::]" || host == "::" || host.empty()) {
        Usage("--dht-port with a wildcard --listen needs --public-address HOST:PORT");
      }
      public_address = host + ":" + std::to_string(port);
    }
    dhtnet::DhtNodeOptions dht_options;
    dht_options.bind_ipv4 = FLAGS_dht_listen;
    dht_options.port = FLAGS_dht_port;
    dht_options.stable = true;
    for (absl::string_view b : absl::StrSplit(FLAGS_dht_bootstrap, ',', absl::SkipEmpty())) {
      dht_options.bootstrap.emplace_back(b);
    }
    auto node = dhtnet::DhtNode::Start(dht_options);
    if (!node.ok()) CannotStart(std::string(node.status().message()));
    dht_node = std::move(node).value();
    const std::string key_file =
        FLAGS_tls_key.empty() ? FLAGS_data_dir + "/tls-key.pem" : FLAGS_tls_key;
    std::ifstream key_in(key_file);
    std::stringstream key_pem;
    key_pem << key_in.rdbuf();
    if (!key_in) CannotStart("cannot read the TLS key " + key_file + " to sign the offer");
    const bool invite = FLAGS_admission == "invite";
    auto make_offer = [&store, &clock, public_address, invite]() {
      Totals t = store->GetTotals();
      offer::Offer o;
      o.supplier_id = store->supplier_id();
      o.addresses = {public_address};
      o.free_bytes = t.capacity_bytes > t.granted_bytes ? t.capacity_bytes - t.granted_bytes : 0;
      o.max_quota_bytes = store->options().max_quota_per_customer;
      o.lease_ms = store->options().lease_ms;
      o.grace_ms = store->options().grace_ms;
      o.version = kVersion;
      o.invite_required = invite;
      o.published_ms = clock->NowMs();
      return o;
    };
    auto started = Announcer::Start(
        dht_node.get(), key_pem.str(), make_offer,
        std::chrono::milliseconds(DurationFlag("dht-check-interval", FLAGS_dht_check_interval)));
    if (!started.ok()) CannotStart(std::string(started.status().message()));
    announcer = std::move(started).value();
    LOG(INFO) << "dht: node on UDP port " << dht_node->port() << ", offering " << public_address;
    if (!FLAGS_port_file.empty()) {
      // Tests and scripts learn the DHT port beside the gRPC one.
      std::ofstream(FLAGS_port_file + ".dht") << dht_node->port() << "\n";
    }
  }

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    LOG(INFO) << "signal " << sig << ": shutting down (calls in flight get "
              << FormatDurationMs(shutdown_ms) << ")";
    // New calls are refused from here on; calls in flight get the timeout
    // to finish, then are cancelled. gRPC also waits (within the same
    // deadline) for connections to close after its GOAWAY: an idle client
    // notices only at its next poll, up to ~5 s later for gRPC C++ clients.
    if (int n = service.CancelStreamsWaitingForHeader(); n > 0) {
      LOG(INFO) << "cancelled " << n << " upload streams that had sent nothing yet";
    }
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(shutdown_ms));
  });
  {
    std::unique_ptr<Clock> steady = NewSteadyClock();
    Reaper reaper(store.get(), clock.get(), steady.get(), reaper_options);
    Housekeeping housekeeping(&reaper, &guard, reap_ms, &metrics);
    server->Wait();
  }
  signal_thread.join();
  announcer.reset();
  dht_node.reset();
  server.reset();
  store.reset();
  LOG(INFO) << "stopped cleanly";
  return 0;
}

}  // namespace
}  // namespace shardkeep::supplier

int main(int argc, char** argv) { return shardkeep::supplier::Main(argc, argv); }

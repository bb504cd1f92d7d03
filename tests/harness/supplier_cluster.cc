#include "tests/harness/supplier_cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "supplier/clock.h"

namespace shardkeep::testing {
namespace {

namespace fs = std::filesystem;

bool IsExecutable(const std::string& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0;
}

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// An idle gRPC C++ channel in the test process reads from its connection only
// when its backup poller runs (every 5 s by default), so a supplier stopped
// with SIGTERM waits that long for the test's clients to notice its GOAWAY.
// Polling every 50 ms keeps Stop/Restart fast whatever client the test uses.
// Runs before main(), so before gRPC reads the variable; an explicit setting
// in the environment wins.
const bool kFastBackupPoll = [] {
  setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "50", /*overwrite=*/0);
  return true;
}();

}  // namespace

absl::StatusOr<std::string> SupplierCluster::FindSupplierBinary() {
  std::string env = Env("SHARDKEEP_SUPPLIER_BIN");
  if (!env.empty()) {
    if (IsExecutable(env)) return env;
    return absl::NotFoundError("SHARDKEEP_SUPPLIER_BIN=" + env + " is not an executable file");
  }
  const std::string rel = "shardkeep/supplier/shardkeep-supplier";
  std::vector<std::string> candidates;
  if (!Env("TEST_SRCDIR").empty()) candidates.push_back(Env("TEST_SRCDIR") + "/" + rel);
  if (!Env("RUNFILES_DIR").empty()) candidates.push_back(Env("RUNFILES_DIR") + "/" + rel);
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(self.string() + ".runfiles/" + rel);
    // bazel-bin/tests/x/prog -> bazel-bin/supplier/shardkeep-supplier
    fs::path p = self.parent_path();
    for (int up = 0; up < 4 && !p.empty(); ++up, p = p.parent_path()) {
      candidates.push_back((p / "supplier" / "shardkeep-supplier").string());
    }
  }
  for (const std::string& c : candidates) {
    if (IsExecutable(c)) return c;
  }
  return absl::NotFoundError(
      "shardkeep-supplier not found: set SHARDKEEP_SUPPLIER_BIN or add "
      "data = [\"//supplier:shardkeep-supplier\"] to the test; looked in: " +
      absl::StrJoin(candidates, ", "));
}

absl::StatusOr<std::unique_ptr<SupplierCluster>> SupplierCluster::Start(
    int n, SupplierClusterOptions options) {
  if (n < 1) return absl::InvalidArgumentError("a cluster needs at least one supplier");
  std::unique_ptr<SupplierCluster> c(new SupplierCluster());
  if (options.binary.empty()) {
    ASSIGN_OR_RETURN(options.binary, FindSupplierBinary());
  }
  if (options.base_dir.empty()) {
    std::string root = Env("TEST_TMPDIR");
    if (root.empty()) root = Env("TMPDIR");
    if (root.empty()) root = "/tmp";
    std::string tmpl = root + "/suppliers-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      return absl::InternalError(absl::StrCat("mkdtemp ", tmpl, ": ", std::strerror(errno)));
    }
    options.base_dir = tmpl;
    // SHARDKEEP_KEEP_TEST_DIRS=1 keeps them (and the logs) for a post-mortem.
    c->owns_base_dir_ = !options.keep_dirs && Env("SHARDKEEP_KEEP_TEST_DIRS").empty();
  }
  c->base_dir_ = options.base_dir;
  c->options_ = std::move(options);
  c->suppliers_.resize(n);
  for (int i = 0; i < n; ++i) {
    c->suppliers_[i].dir = absl::StrCat(c->base_dir_, "/supplier-", i);
    std::error_code ec;
    fs::create_directories(c->suppliers_[i].dir, ec);
    if (ec) return absl::InternalError("mkdir " + c->suppliers_[i].dir + ": " + ec.message());
  }
  for (int i = 0; i < n; ++i) RETURN_IF_ERROR(c->Launch(i, c->options_.extra_flags));
  return c;
}

SupplierCluster::~SupplierCluster() {
  for (int i = 0; i < size(); ++i) {
    if (suppliers_[i].pid == 0) continue;
    kill(suppliers_[i].pid, SIGCONT);
    kill(suppliers_[i].pid, SIGTERM);
  }
  for (int i = 0; i < size(); ++i) {
    if (suppliers_[i].pid == 0) continue;
    if (WaitExit(i, 10000) < 0) {
      kill(suppliers_[i].pid, SIGKILL);
      WaitExit(i, 10000);
    }
  }
  if (owns_base_dir_) {
    std::error_code ec;
    fs::remove_all(base_dir_, ec);
  }
}

absl::Status SupplierCluster::Launch(int i, const std::vector<std::string>& extra_flags) {
  Supplier& s = suppliers_[i];
  const std::string port_file = s.dir + "/port";
  unlink(port_file.c_str());
  std::vector<std::string> args = {
      options_.binary,
      absl::StrCat("--listen=127.0.0.1:", s.port),
      "--port-file=" + port_file,
      "--data-dir=" + DataDir(i),
      absl::StrCat("--capacity=", options_.capacity_bytes),
      "--test-clock-offset-file=" + s.dir + "/clock-offset",
  };
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = LogPath(i);
  int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError("open " + log + ": " + std::strerror(errno));
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  s.pid = pid;
  s.paused = false;
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.start_timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      s.port = port;
      return absl::OkStatus();
    }
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      s.pid = 0;
      return absl::UnavailableError(
          absl::StrCat("supplier ", i, " exited during start-up (",
                       WIFEXITED(status) ? absl::StrCat("exit code ", WEXITSTATUS(status))
                                         : absl::StrCat("signal ", WTERMSIG(status)),
                       "); log ", log, ":\n", LogTail(i)));
    }
    SleepMs(5);
  }
  kill(pid, SIGKILL);
  WaitExit(i, 10000);
  return absl::DeadlineExceededError(absl::StrCat("supplier ", i, " did not listen within ",
                                                  options_.start_timeout_ms, " ms; log ", log,
                                                  ":\n", LogTail(i)));
}

int SupplierCluster::WaitExit(int i, int timeout_ms) {
  Supplier& s = suppliers_[i];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int sleep_ms = 1;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(s.pid, &status, WNOHANG);
    if (r == s.pid || (r < 0 && errno == ECHILD)) {
      s.pid = 0;
      s.paused = false;
      return r == s.pid ? status : 0;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    SleepMs(sleep_ms);
    sleep_ms = std::min(sleep_ms * 2, 20);
  }
}

std::vector<std::string> SupplierCluster::Addresses() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(Address(i));
  return out;
}

std::string SupplierCluster::Address(int i) const {
  return absl::StrCat("127.0.0.1:", suppliers_.at(i).port);
}

std::string SupplierCluster::AddressList() const { return absl::StrJoin(Addresses(), ","); }
int SupplierCluster::Port(int i) const { return suppliers_.at(i).port; }
pid_t SupplierCluster::Pid(int i) const { return suppliers_.at(i).pid; }
bool SupplierCluster::IsRunning(int i) const { return suppliers_.at(i).pid != 0; }
std::string SupplierCluster::DataDir(int i) const { return suppliers_.at(i).dir + "/data"; }
std::string SupplierCluster::LogPath(int i) const {
  return absl::StrCat(base_dir_, "/supplier-", i, ".log");
}

std::string SupplierCluster::LogTail(int i, size_t bytes) const {
  std::ifstream in(LogPath(i), std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return all.size() > bytes ? "..." + all.substr(all.size() - bytes) : all;
}

absl::Status SupplierCluster::Kill(int i) {
  Supplier& s = suppliers_.at(i);
  if (s.pid == 0) return absl::OkStatus();
  kill(s.pid, SIGKILL);
  if (WaitExit(i, 10000) < 0)
    return absl::InternalError(absl::StrCat("supplier ", i, " survived SIGKILL"));
  return absl::OkStatus();
}

absl::Status SupplierCluster::Stop(int i) {
  Supplier& s = suppliers_.at(i);
  if (s.pid == 0) return absl::OkStatus();
  if (s.paused) kill(s.pid, SIGCONT);
  kill(s.pid, SIGTERM);
  int status = WaitExit(i, 30000);
  if (status < 0) {
    kill(s.pid, SIGKILL);
    WaitExit(i, 10000);
    return absl::InternalError(
        absl::StrCat("supplier ", i, " did not stop within 30 s of SIGTERM; log:\n", LogTail(i)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        absl::StrCat("supplier ", i, " stopped with status ", status, "; log:\n", LogTail(i)));
  }
  return absl::OkStatus();
}

absl::Status SupplierCluster::Restart(int i, std::vector<std::string> extra_flags) {
  RETURN_IF_ERROR(Stop(i));
  const std::vector<std::string>& flags = extra_flags.empty() ? options_.extra_flags : extra_flags;
  // The old port may be briefly unavailable; retry, then take any free port.
  absl::Status s;
  for (int attempt = 0; attempt < 50; ++attempt) {
    s = Launch(i, flags);
    // Exit code 2 with the port taken: try again shortly.
    if (s.ok() || s.code() != absl::StatusCode::kUnavailable ||
        s.message().find("(exit code 2)") == std::string::npos ||
        s.message().find("cannot listen") == std::string::npos) {
      return s;
    }
    SleepMs(100);
  }
  suppliers_[i].port = 0;
  return Launch(i, flags);
}

absl::Status SupplierCluster::Pause(int i) {
  Supplier& s = suppliers_.at(i);
  if (s.pid == 0)
    return absl::FailedPreconditionError(absl::StrCat("supplier ", i, " is not running"));
  if (kill(s.pid, SIGSTOP) != 0) return absl::InternalError(std::strerror(errno));
  s.paused = true;
  return absl::OkStatus();
}

absl::Status SupplierCluster::Resume(int i) {
  Supplier& s = suppliers_.at(i);
  if (s.pid == 0)
    return absl::FailedPreconditionError(absl::StrCat("supplier ", i, " is not running"));
  if (kill(s.pid, SIGCONT) != 0) return absl::InternalError(std::strerror(errno));
  s.paused = false;
  return absl::OkStatus();
}

absl::Status SupplierCluster::Wipe(int i) {
  RETURN_IF_ERROR(Kill(i));
  std::error_code ec;
  fs::remove_all(DataDir(i), ec);
  if (ec) return absl::InternalError("removing " + DataDir(i) + ": " + ec.message());
  return absl::OkStatus();
}

absl::Status SupplierCluster::SetClockOffsetMs(int i, int64_t offset_ms) {
  Supplier& s = suppliers_.at(i);
  if (!supplier::WriteClockOffsetFile(s.dir + "/clock-offset", offset_ms)) {
    return absl::InternalError("cannot write " + s.dir + "/clock-offset");
  }
  s.clock_offset_ms = offset_ms;
  return absl::OkStatus();
}

int64_t SupplierCluster::ClockOffsetMs(int i) const { return suppliers_.at(i).clock_offset_ms; }

absl::Status SupplierCluster::AdvanceClocksMs(int64_t ms) {
  for (int i = 0; i < size(); ++i) RETURN_IF_ERROR(SetClockOffsetMs(i, ClockOffsetMs(i) + ms));
  return absl::OkStatus();
}

}  // namespace shardkeep::testing

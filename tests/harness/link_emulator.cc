#include "tests/harness/link_emulator.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shardkeep::testing {
namespace {

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

absl::Status Run(const std::string& command) {
  int rc = system(command.c_str());
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("`", command, "` failed (status ", rc, ")"));
  }
  return absl::OkStatus();
}

std::string ProxyScript() {
  const std::string rel = "shardkeep/tests/harness/link_proxy.py";
  for (const std::string& root : {Env("TEST_SRCDIR"), Env("RUNFILES_DIR")}) {
    if (!root.empty() && access((root + "/" + rel).c_str(), R_OK) == 0) return root + "/" + rel;
  }
  return "tests/harness/link_proxy.py";  // from the workspace root
}

}  // namespace

absl::Status EnterPrivateNetwork() {
  if (unshare(CLONE_NEWNET) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("unshare(CLONE_NEWNET): ", std::strerror(errno), " (needs root)"));
  }
  return Run("ip link set lo up mtu 1500");
}

absl::Status ShapeLoopback(int kbit) {
  if (kbit <= 0) return Run("tc qdisc del dev lo root 2>/dev/null || true");
  return Run(absl::StrCat("tc qdisc replace dev lo root tbf rate ", kbit,
                          "kbit burst 256kb latency 1000ms"));
}

absl::StatusOr<std::unique_ptr<LinkProxy>> LinkProxy::Start(const std::string& target,
                                                             const std::string& dir,
                                                             LinkProxyOptions options) {
  return StartShared({target}, dir, options);
}

absl::StatusOr<std::unique_ptr<LinkProxy>> LinkProxy::StartShared(
    const std::vector<std::string>& targets, const std::string& dir, LinkProxyOptions options) {
  std::unique_ptr<LinkProxy> p(new LinkProxy());
  p->dir_ = dir;
  const std::string port_file = dir + "/proxy-port";
  unlink(port_file.c_str());
  std::vector<std::string> args = {"/usr/bin/python3", ProxyScript()};
  args.insert(args.end(), targets.begin(), targets.end());
  args.insert(args.end(), {"--port-file=" + port_file,
                                   "--stats-file=" + dir + "/proxy-stats",
                                   "--blackhole-file=" + dir + "/proxy-blackhole",
                                   absl::StrCat("--delay-ms=", options.delay_ms),
                                   absl::StrCat("--rate-kbit=", options.rate_kbit),
                           absl::StrCat("--reset-every=", options.reset_every_s)});
  if (!options.source_address.empty()) args.push_back("--source-address=" + options.source_address);
  if (!options.listen_ports.empty()) {
    args.push_back("--listen-ports=" + absl::StrJoin(options.listen_ports, ","));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = dir + "/proxy.log";
  int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError("open " + log + ": " + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  p->pid_ = pid;
  for (int i = 0; i < 1000; ++i) {
    std::ifstream in(port_file);
    p->ports_.clear();
    int port = 0;
    while (in >> port) p->ports_.push_back(port);
    if (p->ports_.size() == targets.size()) return p;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      p->pid_ = 0;
      return absl::InternalError("link_proxy.py exited at start; see " + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError("link_proxy.py did not listen within 10 s; see " + log);
}

LinkProxy::~LinkProxy() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::string LinkProxy::Address(size_t i) const { return absl::StrCat("127.0.0.1:", ports_[i]); }

std::string LinkProxy::AddressList() const {
  std::string out;
  for (size_t i = 0; i < ports_.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",", Address(i));
  }
  return out;
}

void LinkProxy::SetBlackholed(bool on) {
  const std::string f = dir_ + "/proxy-blackhole";
  if (on) {
    std::ofstream(f) << "on\n";
  } else {
    unlink(f.c_str());
  }
}

namespace {
// The number after `name` in the proxy's stats file, 0 if absent.
int Stat(const std::string& dir, const std::string& name) {
  std::ifstream in(dir + "/proxy-stats");
  std::string word;
  int n = 0;
  while (in >> word >> n) {
    if (word == name) return n;
  }
  return 0;
}
}  // namespace

int LinkProxy::Resets() const { return Stat(dir_, "resets"); }
int LinkProxy::Connections() const { return Stat(dir_, "connections"); }

}  // namespace shardkeep::testing

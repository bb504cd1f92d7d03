#include "customer/ui/passphrase.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "customer/vault/vault.h"

namespace shardkeep::customer {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// What the handler needs to undo the prompt's change. Only one prompt runs
// at a time (the CLI is one command); the handler reads these and nothing
// else, with async-signal-safe calls only.
volatile sig_atomic_t g_tty_fd = -1;
struct termios g_saved_termios;

void RestoreTerminalAndReraise(int sig) {
  if (g_tty_fd >= 0) tcsetattr(g_tty_fd, TCSANOW, &g_saved_termios);
  // SA_RESETHAND put the default action back; the signal is blocked while
  // this handler runs, so it is delivered (and ends the process) on return.
  raise(sig);
}

// Installs RestoreTerminalAndReraise for the prompt's lifetime.
class SignalGuard {
 public:
  SignalGuard() {
    struct sigaction sa = {};
    sa.sa_handler = RestoreTerminalAndReraise;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
      installed_[i] = false;
      if (sigaction(kSignals[i], nullptr, &old_[i]) != 0) continue;
      // An ignored signal (nohup) must stay harmless during the prompt.
      if (old_[i].sa_handler == SIG_IGN) continue;
      installed_[i] = sigaction(kSignals[i], &sa, nullptr) == 0;
    }
  }
  ~SignalGuard() {
    for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
      if (installed_[i]) sigaction(kSignals[i], &old_[i], nullptr);
    }
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  struct sigaction old_[sizeof kSignals / sizeof kSignals[0]];
  bool installed_[sizeof kSignals / sizeof kSignals[0]];
};

absl::Status NoPassphrase() {
  return absl::FailedPreconditionError(
      "no passphrase: set SHARDKEEP_PASSWORD or SHARDKEEP_PASSWORD_FILE, or run on a terminal");
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) {
    const char* v = getenv(name.c_str());
    return v != nullptr ? std::string(v) : std::string();
  };
}

absl::StatusOr<std::string> PromptWithoutEcho(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError("no terminal");
  struct termios old;
  const bool have_term = tcgetattr(fd, &old) == 0;
  std::string line;
  {
    SignalGuard guard;
    if (have_term) {
      g_saved_termios = old;
      g_tty_fd = fd;
      struct termios quiet = old;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      quiet.c_lflag |= ECHONL;
      tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    (void)!::write(fd, prompt.data(), prompt.size());
    char c;
    for (;;) {
      ssize_t r = ::read(fd, &c, 1);
      if (r < 0 && errno == EINTR) continue;  // a handled signal (SIGWINCH, ...)
      if (r != 1 || c == '\n') break;
      line.push_back(c);
    }
    if (have_term) {
      tcsetattr(fd, TCSAFLUSH, &old);
      g_tty_fd = -1;
    }
  }
  ::close(fd);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

absl::StatusOr<std::string> ReadPassphrase(const EnvLookup& env, bool confirm) {
  if (std::string p = env("SHARDKEEP_PASSWORD"); !p.empty()) return p;
  if (std::string f = env("SHARDKEEP_PASSWORD_FILE"); !f.empty()) {
    ASSIGN_OR_RETURN(std::string data, ReadWholeFile(f));
    size_t nl = data.find('\n');
    if (nl != std::string::npos) data.resize(nl);
    if (!data.empty() && data.back() == '\r') data.pop_back();
    if (data.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("passphrase file ", f, " is empty"));
    }
    return data;
  }
  if (!isatty(STDIN_FILENO) && !isatty(STDERR_FILENO)) return NoPassphrase();
  auto first = PromptWithoutEcho("Passphrase: ");
  if (!first.ok()) return NoPassphrase();
  if (first->empty()) return absl::InvalidArgumentError("empty passphrase");
  if (confirm) {
    ASSIGN_OR_RETURN(std::string second, PromptWithoutEcho("Passphrase again: "));
    if (second != *first) return absl::InvalidArgumentError("the passphrases differ");
  }
  return first;
}

}  // namespace shardkeep::customer

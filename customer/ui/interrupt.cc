#include "customer/ui/interrupt.h"

#include <unistd.h>

#include <atomic>
#include <cstring>

namespace shardkeep::customer {
namespace {

std::atomic<int> g_signals{0};

void OnSignal(int sig) {
  if (g_signals.fetch_add(1) >= 1) {
    // The second one: do what the user asked for, now.
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  // Async-signal-safe: write(2) only. The leading newline ends a progress line.
  static const char kMessage[] =
      "\ninterrupted: finishing the blocks in flight and recording what is stored "
      "(press Ctrl-C again to stop at once)\n";
  ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)ignored;
}

}  // namespace

InterruptFlag::InterruptFlag() {
  g_signals = 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

InterruptFlag::~InterruptFlag() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

bool InterruptFlag::raised() const { return g_signals.load() > 0; }

}  // namespace shardkeep::customer

// Ctrl-C during a long command. While an InterruptFlag lives, the first
// SIGINT or SIGTERM only raises the flag (the command polls it, stops
// cleanly and keeps what it did: a backup records the blocks it stored) and
// says so on stderr, ending the progress line; a second one kills the
// process at once with the signal's default action. The previous handlers
// are back when the flag is destroyed. One flag at a time per process.
#ifndef SHARDKEEP_CUSTOMER_UI_INTERRUPT_H_
#define SHARDKEEP_CUSTOMER_UI_INTERRUPT_H_

#include <signal.h>

namespace shardkeep::customer {

class InterruptFlag {
 public:
  InterruptFlag();
  ~InterruptFlag();
  InterruptFlag(const InterruptFlag&) = delete;
  InterruptFlag& operator=(const InterruptFlag&) = delete;

  // True once SIGINT or SIGTERM arrived.
  bool raised() const;

 private:
  struct sigaction old_int_, old_term_;
};

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_UI_INTERRUPT_H_

// StallWatchdog: deadlines by progress, not by size. One per supplier
// connection. Every call to the supplier registers a `Call` with a cancel
// function and reports `Progress()` each time a message moves (a Write or a
// Read completes, a unary call returns). A background thread cancels:
//   - every call in flight, when the connection as a whole has moved no
//     message for `stall_timeout` while calls were in flight (a supplier that
//     hangs, is paused or black-holed, or a link that died);
//   - one call, when it alone has moved nothing for `call_stall_timeout`
//     while others on the connection did (a stuck handler on the supplier).
// A transfer that keeps moving is never cut off, however slow the link: the
// time it takes does not matter, only the gaps between messages.
//
// Progress is counted per message, so a message must move within the
// timeout: at most (message size x streams on the connection) / link share.
// The gRPC client sends 256 KiB messages; the supplier sends 1 MiB ones
// (docs/NETWORK.md has the arithmetic for slow links).
//
// Thread-safe. The cancel function runs on the watchdog's thread, under its
// lock: it must not block or call back into the watchdog (TryCancel on a
// grpc::ClientContext is fine). It is never called after ~Call returns.
#ifndef SHARDKEEP_CUSTOMER_NET_STALL_WATCHDOG_H_
#define SHARDKEEP_CUSTOMER_NET_STALL_WATCHDOG_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>

namespace shardkeep::customer {

class StallWatchdog {
  struct Entry;

 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    // The connection moved nothing for this long while calls were in flight.
    std::chrono::milliseconds stall_timeout{60000};
    // One call moved nothing for this long although the connection did.
    // 0: 4 x stall_timeout.
    std::chrono::milliseconds call_stall_timeout{0};
    // What the messages call the supplier ("127.0.0.1:7000").
    std::string name;
  };

  explicit StallWatchdog(Options options);
  ~StallWatchdog();  // stops the thread; REQUIRES: no Call alive
  StallWatchdog(const StallWatchdog&) = delete;
  StallWatchdog& operator=(const StallWatchdog&) = delete;

  std::chrono::milliseconds stall_timeout() const { return options_.stall_timeout; }

  // One call in flight, from construction to destruction.
  class Call {
   public:
    Call(StallWatchdog* watchdog, std::function<void()> cancel);
    ~Call();
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

    // A message moved (for this call and for the connection).
    void Progress();
    // How many times Progress() was called.
    int moves() const;
    // Whether the watchdog cancelled this call, and why (a sentence naming
    // the supplier and the timeout): the caller reports that instead of the
    // CANCELLED status gRPC gives back.
    bool stalled() const;
    std::string why() const;

   private:
    StallWatchdog* const watchdog_;
    std::list<Entry>::iterator entry_;
  };

 private:
  void Run();

  Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::list<Entry> calls_;       // guarded by mu_
  Clock::time_point last_move_;  // guarded by mu_: last message on any call
  std::thread thread_;
};

struct StallWatchdog::Entry {
  std::function<void()> cancel;
  Clock::time_point last_move;
  int moves = 0;
  bool stalled = false;
  std::string why;
};

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_NET_STALL_WATCHDOG_H_

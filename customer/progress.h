// What a user sees while a backup or restore runs: one status line on the
// terminal (files, bytes, rate, ETA), redrawn a few times a second, and
// warnings printed above it. Quiet when stderr is not a terminal (only the
// warnings are printed then). Thread-safe.
#ifndef SHARDKEEP_CUSTOMER_PROGRESS_H_
#define SHARDKEEP_CUSTOMER_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace shardkeep::customer {

class Progress {
 public:
  // `enabled`: draw the status line (normally isatty(stderr)).
  explicit Progress(bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool enabled() const { return enabled_; }

  // Counters the pipelines update.
  std::atomic<uint64_t> files{0};
  std::atomic<uint64_t> bytes{0};
  // Totals, when known (a scan for backup, the plan for restore).
  std::atomic<uint64_t> total_files{0};
  std::atomic<uint64_t> total_bytes{0};
  std::atomic<bool> totals_known{false};

  // Prints one line to stderr (above the status line).
  void Warn(const std::string& line);
  // Removes the status line and stops redrawing.
  void Stop();

  double ElapsedSeconds() const;

 private:
  void Draw();
  const bool enabled_;
  const std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// "1.50 GiB", "512 B".
std::string FormatBytes(uint64_t bytes);
// "1:02:03", "4:05".
std::string FormatDuration(double seconds);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_PROGRESS_H_

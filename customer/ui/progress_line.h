// What a user sees while a backup or restore runs: one status line on the
// terminal (files, bytes, rate, ETA), redrawn a few times a second, and
// warnings printed above it. Quiet when stderr is not a terminal (only the
// warnings are printed then). Thread-safe.
#ifndef SHARDKEEP_CUSTOMER_UI_PROGRESS_LINE_H_
#define SHARDKEEP_CUSTOMER_UI_PROGRESS_LINE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "common/units.h"
#include "customer/repo/progress.h"

namespace shardkeep::customer {

class ProgressLine : public Progress {
 public:
  // `enabled`: draw the status line (normally isatty(stderr)).
  explicit ProgressLine(bool enabled);
  ~ProgressLine() override;

  bool enabled() const { return enabled_; }
  bool wants_totals() const override { return enabled_; }

  // Prints one line to stderr (above the status line).
  void Warn(const std::string& line) override;
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

// "1:02:03", "4:05".
std::string FormatDuration(double seconds);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_UI_PROGRESS_LINE_H_

// What a long operation (backup, restore; later check, repair, prune)
// reports while it runs: counters its pipeline bumps, totals when known,
// and warning lines. Libraries take a Progress&; the ui layer draws one as a
// status line (customer/ui/progress_line.h); tests use this base, which
// prints warnings to stderr and draws nothing.
//
// Thread-safe: counters are atomics, Warn may be called from any thread.
#ifndef SHARDKEEP_CUSTOMER_REPO_PROGRESS_H_
#define SHARDKEEP_CUSTOMER_REPO_PROGRESS_H_

#include <atomic>
#include <cstdint>
#include <string>

namespace shardkeep::customer {

class Progress {
 public:
  Progress() = default;
  virtual ~Progress() = default;
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Counters the pipelines update.
  std::atomic<uint64_t> files{0};
  std::atomic<uint64_t> bytes{0};
  // Totals, when known (a scan for backup, the plan for restore).
  std::atomic<uint64_t> total_files{0};
  std::atomic<uint64_t> total_bytes{0};
  std::atomic<bool> totals_known{false};

  // True if somebody shows the totals, so they are worth a scan of their own.
  virtual bool wants_totals() const { return false; }

  // One line ("warning: ...", "error: ...") for the user. This base prints
  // it to stderr.
  virtual void Warn(const std::string& line);
};

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_PROGRESS_H_

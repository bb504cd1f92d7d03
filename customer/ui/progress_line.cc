#include "customer/ui/progress_line.h"

#include <stdio.h>

#include "absl/strings/str_format.h"
#include "customer/net/rate_limiter.h"

namespace shardkeep::customer {

std::string FormatDuration(double seconds) {
  if (seconds < 0) seconds = 0;
  uint64_t s = static_cast<uint64_t>(seconds + 0.5);
  if (s >= 3600) return absl::StrFormat("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

ProgressLine::ProgressLine(bool enabled) : enabled_(enabled), start_(std::chrono::steady_clock::now()) {
  if (enabled_) {
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!stop_) {
        cv_.wait_for(lock, std::chrono::milliseconds(250));
        if (!stop_) Draw();
      }
    });
  }
}

ProgressLine::~ProgressLine() { Stop(); }

double ProgressLine::ElapsedSeconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

// REQUIRES: mu_ held.
void ProgressLine::Draw() {
  double t = ElapsedSeconds();
  uint64_t f = files.load(), b = bytes.load();
  double rate = t > 0 ? b / t : 0;
  std::string line = absl::StrFormat("[%s] %d files, %s, %s/s", FormatDuration(t), f,
                                     FormatByteSize(b), FormatByteSize(static_cast<uint64_t>(rate)));
  if (totals_known.load()) {
    uint64_t tb = total_bytes.load(), tf = total_files.load();
    line += absl::StrFormat(" of %d files, %s", tf, FormatByteSize(tb));
    if (rate > 0 && tb > b) {
      line += absl::StrFormat(", ETA %s", FormatDuration((tb - b) / rate));
    }
  }
  // The link's current rates (last 2-4 s), and the limits if any.
  const TransferMeters meters = GetTransferMeters();
  for (auto [name, meter] : {std::make_pair("up", meters.upload),
                             std::make_pair("down", meters.download)}) {
    if (meter == nullptr || meter->TotalBytes() == 0) continue;
    line += absl::StrFormat(", %s %s/s", name,
                            FormatByteSize(static_cast<uint64_t>(meter->CurrentRate())));
    if (meter->limited()) {
      line += absl::StrFormat(" (limit %s/s)", FormatByteSize(meter->bytes_per_second()));
    }
  }
  fprintf(stderr, "\r\033[K%s", line.c_str());
  fflush(stderr);
}

void ProgressLine::Warn(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (enabled_ && !stop_) {
    fprintf(stderr, "\r\033[K%s\n", line.c_str());
    Draw();
  } else {
    fprintf(stderr, "%s\n", line.c_str());
  }
  fflush(stderr);
}

void ProgressLine::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
    if (enabled_) {
      fprintf(stderr, "\r\033[K");
      fflush(stderr);
    }
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace shardkeep::customer

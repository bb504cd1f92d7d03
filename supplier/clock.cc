#include "supplier/clock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "glog/logging.h"

namespace shardkeep::supplier {
namespace {

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class SystemClock : public Clock {
 public:
  int64_t NowMs() override { return SystemNowMs(); }
};

class SteadyClock : public Clock {
 public:
  int64_t NowMs() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

class OffsetFileClock : public Clock {
 public:
  explicit OffsetFileClock(std::string path) : path_(std::move(path)) {}

  int64_t NowMs() override { return SystemNowMs() + ReadOffset(); }

 private:
  int64_t ReadOffset() {
    int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[64];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(buf, &end, 10);
    while (*end == ' ' || *end == '\n' || *end == '\t' || *end == '\r') ++end;
    if (errno != 0 || end == buf || *end != '\0') {
      LOG_EVERY_N(WARNING, 100) << "clock offset file " << path_ << " does not hold a number";
      return 0;
    }
    return v;
  }

  const std::string path_;
};

}  // namespace

std::unique_ptr<Clock> NewSystemClock() { return std::make_unique<SystemClock>(); }

std::unique_ptr<Clock> NewSteadyClock() { return std::make_unique<SteadyClock>(); }

std::unique_ptr<Clock> NewOffsetFileClock(std::string path) {
  return std::make_unique<OffsetFileClock>(std::move(path));
}

bool WriteClockOffsetFile(const std::string& path, int64_t offset_ms) {
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = std::fprintf(f, "%lld\n", static_cast<long long>(offset_ms)) > 0;
  ok = (std::fclose(f) == 0) && ok;
  return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace shardkeep::supplier

// Helpers shared by the customer/fs implementation files. Not part of the
// public interface (not in the library's hdrs).
#ifndef SHARDKEEP_CUSTOMER_FS_INTERNAL_H_
#define SHARDKEEP_CUSTOMER_FS_INTERNAL_H_

#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace shardkeep::fs::internal {

// Owns one file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // close(2) with its error reported (a delayed write error can surface here).
  absl::Status Close(absl::string_view what);

 private:
  int fd_ = -1;
};

// "<what> <printable path>: <strerror>" with the code errno maps to (ENOENT ->
// NotFound, EACCES/EPERM -> PermissionDenied, ...).
absl::Status ErrnoStatus(int err, absl::string_view what, absl::string_view printable_path);

}  // namespace shardkeep::fs::internal

#endif  // SHARDKEEP_CUSTOMER_FS_INTERNAL_H_

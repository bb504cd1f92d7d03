#include "customer/fs/internal.h"

#include <errno.h>
#include <string.h>

#include "absl/strings/str_cat.h"

namespace shardkeep::fs::internal {

absl::Status UniqueFd::Close(absl::string_view what) {
  int fd = release();
  if (fd < 0) return absl::OkStatus();
  // Linux closes the descriptor even when close() fails (EINTR included), so
  // it is never retried.
  if (::close(fd) != 0) return ErrnoStatus(errno, "closing", what);
  return absl::OkStatus();
}

absl::Status ErrnoStatus(int err, absl::string_view what, absl::string_view printable_path) {
  absl::StatusCode code = absl::ErrnoToStatusCode(err);
  // A symlink where O_NOFOLLOW wanted something else: the tree changed under us.
  if (err == ELOOP) code = absl::StatusCode::kFailedPrecondition;
  char buf[256];
  // GNU strerror_r returns the message (maybe not in buf).
  const char* msg = strerror_r(err, buf, sizeof(buf));
  return absl::Status(code, absl::StrCat(what, " ", printable_path, ": ", msg));
}

}  // namespace shardkeep::fs::internal

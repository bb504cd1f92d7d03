#include "common/error_kind.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace shardkeep {
namespace {
constexpr char kPayloadUrl[] = "shardkeep.dev/error-kind";
}  // namespace

absl::Status WithKind(absl::Status status, ErrorKind kind) {
  if (status.ok()) status = absl::UnknownError("error without a message");
  status.SetPayload(kPayloadUrl, absl::Cord(std::to_string(static_cast<int>(kind))));
  return status;
}

ErrorKind KindOf(const absl::Status& status) {
  if (status.ok()) return ErrorKind::kOther;
  auto payload = status.GetPayload(kPayloadUrl);
  int kind = 0;
  if (payload.has_value() && absl::SimpleAtoi(std::string(*payload), &kind) && kind >= 0 &&
      kind <= static_cast<int>(ErrorKind::kLast)) {
    return static_cast<ErrorKind>(kind);
  }
  return ErrorKind::kOther;
}

absl::Status UsageError(absl::string_view message) {
  return WithKind(absl::InvalidArgumentError(message), ErrorKind::kUsage);
}

}  // namespace shardkeep

#include "customer/exit_codes.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace shardkeep::customer {
namespace {
constexpr char kPayloadUrl[] = "shardkeep.dev/exit-code";
}  // namespace

absl::Status WithExitCode(absl::Status status, ExitCode code) {
  if (status.ok()) status = absl::UnknownError("error without a message");
  status.SetPayload(kPayloadUrl, absl::Cord(std::to_string(static_cast<int>(code))));
  return status;
}

ExitCode ExitCodeOf(const absl::Status& status) {
  if (status.ok()) return kSuccess;
  auto payload = status.GetPayload(kPayloadUrl);
  int code = 0;
  if (payload.has_value() && absl::SimpleAtoi(std::string(*payload), &code)) {
    return static_cast<ExitCode>(code);
  }
  return kError;
}

}  // namespace shardkeep::customer

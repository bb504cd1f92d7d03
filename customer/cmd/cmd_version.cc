// shardkeep version: prints the program's version (the protocol's).
#include "customer/cmd/command.h"
#include "proto/limits.h"

namespace shardkeep::customer {

CommandAction SetupVersion(CLI::App& command) {
  Describe(command, "Prints `shardkeep VERSION`.");
  return [](const CommandContext& ctx) -> absl::StatusOr<ExitCode> {
    fprintf(ctx.out(), "shardkeep %s\n", protocol::kVersion);
    return kSuccess;
  };
}

}  // namespace shardkeep::customer

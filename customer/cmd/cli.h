// Shared plumbing of the `shardkeep` subcommands (one cmd_*.cc per command,
// each thin over the libraries): flag parsing, global options, the
// passphrase, opening the vault, sizes, JSON output.
#ifndef SHARDKEEP_CUSTOMER_CLI_H_
#define SHARDKEEP_CUSTOMER_CLI_H_

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "customer/cmd/exit_codes.h"
#include "customer/repo/repository.h"
#include "customer/net/supplier_client.h"

namespace shardkeep::customer {

struct CommandContext {
  std::string config_dir;  // resolved: flag, env, default
  std::string cache_dir;
  std::vector<std::string> args;  // after the subcommand name, global flags removed
  SupplierConnector connector;
  FILE* out = stdout;
};

// A hand-written flag parser (gflags cannot repeat a flag): "--name value",
// "--name=value", booleans as "--name"; "--" ends the flags; "-h"/"--help"
// sets *help. Unknown flags are usage errors (exit 2).
class FlagParser {
 public:
  explicit FlagParser(std::string command) : command_(std::move(command)) {}
  void String(const std::string& name, std::string* out) { strings_[name] = out; }
  void Repeated(const std::string& name, std::vector<std::string>* out) { lists_[name] = out; }
  void Bool(const std::string& name, bool* out) { bools_[name] = out; }
  // Fills *positional with the other arguments. Errors are marked kUsage.
  absl::Status Parse(const std::vector<std::string>& args, std::vector<std::string>* positional,
                     bool* help);

 private:
  std::string command_;
  std::map<std::string, std::string*> strings_;
  std::map<std::string, std::vector<std::string>*> lists_;
  std::map<std::string, bool*> bools_;
};

using ::shardkeep::UsageError;

// "8MiB", "1.5GiB", "4096", "10G" (binary: K M G T, KiB MiB GiB TiB; decimal
// kB MB GB TB). InvalidArgument (marked kUsage) otherwise.
absl::StatusOr<uint64_t> ParseSize(std::string_view text);

// The passphrase: $SHARDKEEP_PASSWORD, else the first line of
// $SHARDKEEP_PASSWORD_FILE, else a prompt without echo on the terminal
// (asked twice when `confirm`). Error if none is available.
absl::StatusOr<std::string> ReadPassphrase(bool confirm);

// Opens the vault of ctx.config_dir (kNotInitialized before asking for a
// passphrase if there is none) and its repository (no network yet).
absl::StatusOr<std::unique_ptr<Repository>> OpenRepository(const CommandContext& ctx);

// Prints "shardkeep: <message>" to stderr and returns the status's exit code.
int ReportError(const absl::Status& status);

// Minimal JSON: strings are escaped; bytes that are not UTF-8 become
// U+FFFD (the raw bytes are also given base-16 where it matters).
std::string JsonString(std::string_view s);

// The subcommands.
int CmdInit(CommandContext& ctx);
int CmdBackup(CommandContext& ctx);
int CmdSnapshots(CommandContext& ctx);
int CmdLs(CommandContext& ctx);
int CmdRestore(CommandContext& ctx);

extern const char kExitCodesHelp[];

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_CLI_H_

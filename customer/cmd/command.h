// What the cmd_<verb>.cc files share: the context a command runs in, how a
// command declares itself to the command table (app.cc), and the few steps
// every command takes (open the vault, parse a size).
//
// A command is a setup function: it declares its flags and help on the
// CLI::App it is given and returns the action that runs when the command is
// chosen. The action parses nothing itself: flags are bound before it runs.
// It calls ONE library function and prints; errors come back as a Status,
// which app.cc alone turns into an exit code.
#ifndef SHARDKEEP_CUSTOMER_CMD_COMMAND_H_
#define SHARDKEEP_CUSTOMER_CMD_COMMAND_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/string_view.h"
#include "common/status.h"
#include "customer/cmd/app.h"
#include "customer/cmd/exit_codes.h"
#include "customer/repo/repository.h"
#include "customer/vault/keys.h"

namespace shardkeep::customer {

// The global options, resolved (flag, else environment, else default), and
// the CLI's environment.
struct CommandContext {
  std::string config_dir;
  std::string cache_dir;
  // DHT nodes to join for discovery (--dht-bootstrap, SHARDKEEP_DHT_BOOTSTRAP);
  // empty: no discovery (docs/DISCOVERY.md).
  std::vector<std::string> dht_bootstrap;
  CliEnv* env = nullptr;
  // The root of the parsed command tree (for `help`).
  const CLI::App* app = nullptr;

  FILE* out() const { return env->out; }
  FILE* err() const { return env->err; }
};

// Runs a chosen command. kSuccess or another non-error code (kPartial) on
// success; an error Status otherwise (mark bad input with UsageError).
using CommandAction = std::function<absl::StatusOr<ExitCode>(const CommandContext&)>;

// Declares a command's flags, positionals and help on `command` and returns
// its action. Flag values live in state the action owns (a shared_ptr the
// lambda captures), so the action may run after setup has returned.
using CommandSetup = CommandAction (*)(CLI::App& command);

// One row of the command table. A group (setup == nullptr) only holds
// children: `suppliers list` is {"suppliers", "...", nullptr,
// {{"list", "...", SetupSuppliersList}}}.
struct CommandSpec {
  const char* name;
  const char* summary;  // one line, in the parent's list of commands
  CommandSetup setup;
  std::vector<CommandSpec> children = {};
};

// The setups, one per cmd_<verb>.cc.
CommandAction SetupInit(CLI::App& command);
CommandAction SetupBackup(CLI::App& command);
CommandAction SetupSnapshots(CLI::App& command);
CommandAction SetupLs(CLI::App& command);
CommandAction SetupRestore(CLI::App& command);
CommandAction SetupCheck(CLI::App& command);
CommandAction SetupRepair(CLI::App& command);
CommandAction SetupForget(CLI::App& command);
CommandAction SetupPrune(CLI::App& command);
CommandAction SetupSuppliersList(CLI::App& command);
CommandAction SetupSuppliersReplace(CLI::App& command);
CommandAction SetupSuppliersFind(CLI::App& command);

// With --dht-bootstrap: stores the vault's record in the DHT for `recover`
// without addresses (docs/DISCOVERY.md); a failure is a warning on stderr.
// Without: nothing.
void PublishVaultToDht(const CommandContext& ctx, const Vault& vault);
CommandAction SetupStatus(CLI::App& command);
CommandAction SetupMaintain(CLI::App& command);
CommandAction SetupVersion(CLI::App& command);
CommandAction SetupRecover(CLI::App& command);
CommandAction SetupKeyPasswd(CLI::App& command);
CommandAction SetupKeyExport(CLI::App& command);
CommandAction SetupDiff(CLI::App& command);
CommandAction SetupFind(CLI::App& command);
CommandAction SetupStats(CLI::App& command);
CommandAction SetupSuppliersResize(CLI::App& command);

// Adds the paragraphs of a command's help: `intro` after the usage line
// (what the command does), `notes` after the options (details, examples).
// The exit codes follow on their own (app.cc's formatter).
void Describe(CLI::App& command, absl::string_view intro, absl::string_view notes = "");

// A size flag's value ("8MiB", "10G", "4096": common/units.h, exact).
// UsageError naming the flag and the value otherwise.
absl::StatusOr<uint64_t> ParseSizeFlag(absl::string_view flag, absl::string_view text);

// Key derivation cost for a new key record: calibrated (keys.h), or
// KdfParams::CheapForTests() when SHARDKEEP_INSECURE_TEST_KDF=1 (test
// suites only; a warning says so on stderr).
KdfParams NewRecordKdf(const CommandContext& ctx);

// A new passphrase: SHARDKEEP_NEW_PASSWORD, else the first line of
// SHARDKEEP_NEW_PASSWORD_FILE, else a prompt asked twice; refused if weak
// (vault/passphrase_policy.h) unless allow_weak.
absl::StatusOr<std::string> ReadNewPassphrase(const CommandContext& ctx, bool allow_weak);

// Opens the vault of ctx.config_dir and its repository (no network yet).
// kNotInitialized before asking for a passphrase if there is no vault.
absl::StatusOr<std::unique_ptr<Repository>> OpenRepository(const CommandContext& ctx);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_CMD_COMMAND_H_

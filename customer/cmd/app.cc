#include "customer/cmd/app.h"

#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <tuple>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "customer/cmd/command.h"
#include "customer/discovery/relocating_client.h"
#include "customer/cmd/exit_codes.h"
#include "common/units.h"

namespace shardkeep::customer {
namespace {

// The command table: help and dispatch both come from it. A row with
// children and no setup is a group (`suppliers list`, `key passwd`).
const std::vector<CommandSpec>& CommandTable() {
  static const auto* table = new std::vector<CommandSpec>{
      {"init", "create a vault: keys, contracts with the suppliers", SetupInit},
      {"backup", "store a new snapshot of some paths", SetupBackup},
      {"snapshots", "list the snapshots", SetupSnapshots},
      {"ls", "list what a snapshot holds", SetupLs},
      {"diff", "what changed between two snapshots", SetupDiff},
      {"find", "which snapshots hold a path matching a pattern", SetupFind},
      {"stats", "sizes: logical, stored once, at the suppliers; quota use", SetupStats},
      {"restore", "bring a snapshot (or part of it) back into a directory", SetupRestore},
      {"forget", "remove snapshots, by ID or by a --keep-* policy", SetupForget},
      {"prune", "free the space of data no snapshot needs", SetupPrune},
      {"recover", "get a vault back after losing this machine's disk", SetupRecover},
      {"key",
       "the passphrase and the master key",
       nullptr,
       {{"passwd", "change the passphrase (no data is re-encrypted)", SetupKeyPasswd},
        {"export", "print the master key as a paper key", SetupKeyExport}}},
      {"check", "are the fragments every snapshot needs where they belong?", SetupCheck},
      {"repair", "rebuild missing or corrupt fragments from the others", SetupRepair},
      {"status", "am I safe? margins, suppliers, leases, last backup", SetupStatus},
      {"maintain", "the nightly job: leases, a sampled check with audits, repair", SetupMaintain},
      {"suppliers", "the vault's suppliers", nullptr,
       {{"list", "suppliers, contracts, last audit, health", SetupSuppliersList},
        {"replace", "fire one supplier, hire another for its position", SetupSuppliersReplace},
        {"resize", "a new quota at every supplier (--needed SIZE)", SetupSuppliersResize},
        {"find", "offers of suppliers in the DHT (docs/DISCOVERY.md)", SetupSuppliersFind}}},
      {"version", "print the version", SetupVersion},
  };
  return *table;
}

const char kProgramIntro[] = "Encrypted, erasure-coded backups spread over n suppliers.";

const char kProgramNotes[] =
    "Global flags go anywhere on the line, before or after the command. An empty\n"
    "environment variable counts as unset; a flag wins over the environment.\n"
    "\n"
    "Passphrase: $SHARDKEEP_PASSWORD, the first line of $SHARDKEEP_PASSWORD_FILE,\n"
    "or a prompt on the terminal.\n"
    "\n"
    "`shardkeep COMMAND --help` (or `shardkeep help COMMAND`) describes each command.\n";

const char kGlobalNote[] =
    "Global: --config-dir DIR (env SHARDKEEP_CONFIG_DIR, default ~/.config/shardkeep),\n"
    "--cache-dir DIR (env SHARDKEEP_CACHE_DIR, default ~/.cache/shardkeep),\n"
    "--stall-timeout DURATION (env SHARDKEEP_STALL_TIMEOUT, default 60s),\n"
    "--insecure-plaintext (env SHARDKEEP_INSECURE_PLAINTEXT=1),\n"
    "--limit-upload RATE, --limit-download RATE (env SHARDKEEP_LIMIT_UPLOAD, ..._DOWNLOAD).\n"
    "Passphrase: SHARDKEEP_PASSWORD, SHARDKEEP_PASSWORD_FILE, or a prompt.\n";

// CLI11's help, rearranged as the hand-written help was: the usage line, what
// the command does, its options, notes, and always the exit codes. In the
// parent's list of commands only the first line of each description shows.
class HelpFormatter : public CLI::Formatter {
 public:
  HelpFormatter() {
    column_width(26);
    label("SUBCOMMAND", "COMMAND");
  }

  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override {
    if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
    std::stringstream out;
    out << make_usage(app, name) << "\n" << make_description(app);
    out << make_positionals(app) << make_groups(app, mode) << make_subcommands(app, mode);
    out << "\n" << make_footer(app);
    return out.str();
  }

  std::string make_subcommand(const CLI::App* sub) const override {
    std::string summary = sub->get_description();
    summary = summary.substr(0, summary.find('\n'));
    std::stringstream out;
    CLI::detail::format_help(out, sub->get_display_name(), summary, column_width_);
    return out.str();
  }

  std::string make_footer(const CLI::App* app) const override {
    std::string out = app->get_footer();
    if (!out.empty() && out.back() != '\n') out += "\n";
    if (!out.empty()) out += "\n";
    if (app->get_parent() != nullptr) absl::StrAppend(&out, kGlobalNote, "\n");
    return absl::StrCat(out, kExitCodesHelp);
  }
};

// The chain of chosen subcommands below `app`, outermost first.
std::vector<const CLI::App*> ChosenPath(const CLI::App& app) {
  std::vector<const CLI::App*> path;
  const CLI::App* at = &app;
  for (;;) {
    std::vector<const CLI::App*> chosen =
        at->get_subcommands([](const CLI::App* sub) { return sub->parsed(); });
    if (chosen.empty()) return path;
    at = chosen.front();
    path.push_back(at);
  }
}

std::string CommandName(const std::vector<const CLI::App*>& path) {
  std::vector<std::string> names;
  for (const CLI::App* a : path) names.push_back(a->get_name());
  return absl::StrJoin(names, " ");
}

// The message for a bad command line, without the "shardkeep: " prefix.
std::string UsageMessage(const CLI::ParseError& e, const CLI::App& app,
                         const std::vector<const CLI::App*>& path) {
  std::string message = e.what();
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr &&
      absl::EndsWith(message, " missing") && message.find(':') != std::string::npos) {
    // CLI11 says "--host: 1 required NAME missing".
    message = absl::StrCat(message.substr(0, message.find(':')), " needs a value");
  } else if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    // CLI11 says "The following argument was not expected: X"; name X for
    // what it is. Unknown flags of a command fall through to the program,
    // so they are found on both.
    std::vector<std::string> extras = app.remaining(/*recurse=*/true);
    if (!extras.empty()) {
      const std::string& x = extras.front();
      if (!x.empty() && x[0] == '-' && x != "-") {
        message = absl::StrCat("unknown flag ", x);
      } else if (path.empty()) {
        message = absl::StrCat("unknown command \"", x, "\"");
      } else {
        message = absl::StrCat("unexpected argument \"", x, "\"");
      }
    }
  }
  return path.empty() ? message : absl::StrCat(CommandName(path), ": ", message);
}

std::string EnvOr(const CliEnv& env, const std::string& name, const std::string& fallback) {
  std::string v = env.env(name);
  return v.empty() ? fallback : v;
}

// `help [COMMAND...]`: the program's help, or a command's, on stdout.
CommandAction SetupHelp(CLI::App& command, std::shared_ptr<std::vector<std::string>> words) {
  command.add_option("COMMAND", *words, "the command to describe (default: the program)");
  return [words](const CommandContext& ctx) -> absl::StatusOr<ExitCode> {
    const CLI::App* at = ctx.app;
    std::string name = ctx.app->get_name();
    for (const std::string& w : *words) {
      const CLI::App* next = nullptr;
      for (const CLI::App* sub : at->get_subcommands({})) {
        if (sub->get_name() == w) next = sub;
      }
      if (next == nullptr) return UsageError(absl::StrCat("help: unknown command \"", w, "\""));
      at = next;
      absl::StrAppend(&name, " ", w);
    }
    fputs(at->get_formatter()->make_help(at, name, CLI::AppFormatMode::Normal).c_str(), ctx.out());
    return kSuccess;
  };
}

void AddCommands(CLI::App& parent, const std::vector<CommandSpec>& specs,
                 std::map<const CLI::App*, CommandAction>* actions) {
  for (const CommandSpec& spec : specs) {
    CLI::App* sub = parent.add_subcommand(spec.name, spec.summary);
    sub->group("Commands");
    if (spec.setup != nullptr) (*actions)[sub] = spec.setup(*sub);
    AddCommands(*sub, spec.children, actions);
  }
}

// Parses and runs; may throw (CLI11 does), RunCli catches.
int ParseAndRun(const std::vector<std::string>& args, CliEnv& env) {
  CLI::App app(kProgramIntro, "shardkeep");
  app.formatter(std::make_shared<HelpFormatter>());
  // Options of the program are also recognised after a command (and a
  // command's unknown flags are reported by the program, naming them).
  app.fallthrough();
  // At most one command: once it is chosen, a later word that names another
  // command is an argument (`backup ./init`, `help init`), not a second one.
  app.require_subcommand(0, 1);
  std::string config_dir, cache_dir;
  std::vector<std::string> dht_bootstrap;
  app.add_option("--config-dir", config_dir,
                 "the vault's config (env SHARDKEEP_CONFIG_DIR,\ndefault ~/.config/shardkeep); "
                 "one vault per config dir")
      ->type_name("DIR")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--dht-bootstrap", dht_bootstrap,
                 "a DHT node to join for discovery; repeatable\n(env SHARDKEEP_DHT_BOOTSTRAP, "
                 "comma-separated;\nelse the lines of <config-dir>/dht-bootstrap)")
      ->type_name("HOST:PORT");
  app.add_option("--cache-dir", cache_dir,
                 "caches (env SHARDKEEP_CACHE_DIR,\ndefault ~/.cache/shardkeep)")
      ->type_name("DIR")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string stall_timeout;
  app.add_option("--stall-timeout", stall_timeout,
                 "a supplier that moves no data for this long is\ntreated as down "
                 "(env SHARDKEEP_STALL_TIMEOUT, default 60s)")
      ->type_name("DURATION")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string limit_upload, limit_download;
  app.add_option("--limit-upload", limit_upload,
                 "at most RATE to all suppliers together, e.g. 4Mbit\nor 500KiB "
                 "(env SHARDKEEP_LIMIT_UPLOAD)")
      ->type_name("RATE")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--limit-download", limit_download,
                 "at most RATE from all suppliers together\n(env SHARDKEEP_LIMIT_DOWNLOAD)")
      ->type_name("RATE")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  bool insecure_plaintext = false;
  app.add_flag("--insecure-plaintext", insecure_plaintext,
               "talk to suppliers without TLS (env SHARDKEEP_INSECURE_PLAINTEXT=1);\n"
               "only to suppliers started with --insecure-plaintext");

  std::map<const CLI::App*, CommandAction> actions;
  AddCommands(app, CommandTable(), &actions);
  auto help_words = std::make_shared<std::vector<std::string>>();
  CLI::App* help = app.add_subcommand("help", "describe the program or one command");
  help->group("Commands");
  actions[help] = SetupHelp(*help, help_words);
  // After the commands: they would inherit it.
  app.footer(kProgramNotes);

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    fputs(app.help().c_str(), env.out);
    return kSuccess;
  } catch (const CLI::ParseError& e) {
    std::vector<const CLI::App*> path = ChosenPath(app);
    std::string name = CommandName(path);
    fprintf(env.err, "shardkeep: %s\nRun `shardkeep %s%s--help` for more.\n",
            UsageMessage(e, app, path).c_str(), name.c_str(), name.empty() ? "" : " ");
    return kUsage;
  }

  std::vector<const CLI::App*> path = ChosenPath(app);
  auto action = path.empty() ? actions.end() : actions.find(path.back());
  if (action == actions.end()) {
    // No command (or a group without its subcommand): say what there is.
    fputs(app.help().c_str(), env.err);
    return kUsage;
  }
  CommandContext ctx;
  const std::string home = env.env("HOME");
  ctx.config_dir = !config_dir.empty()
                       ? config_dir
                       : EnvOr(env, "SHARDKEEP_CONFIG_DIR", home + "/.config/shardkeep");
  ctx.cache_dir = !cache_dir.empty()
                      ? cache_dir
                      : EnvOr(env, "SHARDKEEP_CACHE_DIR", home + "/.cache/shardkeep");
  // The flag, else the environment, else <config-dir>/dht-bootstrap (one
  // HOST:PORT a line, # comments).
  ctx.dht_bootstrap = dht_bootstrap;
  if (ctx.dht_bootstrap.empty()) {
    for (absl::string_view b :
         absl::StrSplit(EnvOr(env, "SHARDKEEP_DHT_BOOTSTRAP", ""), ',', absl::SkipEmpty())) {
      ctx.dht_bootstrap.emplace_back(b);
    }
  }
  if (ctx.dht_bootstrap.empty()) {
    std::ifstream file(ctx.config_dir + "/dht-bootstrap");
    for (std::string line; std::getline(file, line);) {
      line = std::string(absl::StripAsciiWhitespace(line.substr(0, line.find('#'))));
      if (!line.empty()) ctx.dht_bootstrap.push_back(line);
    }
  }
  ctx.env = &env;
  ctx.app = &app;
  if (env.connect_with) {
    TransportOptions transport;
    const std::string stall = !stall_timeout.empty()
                                  ? stall_timeout
                                  : EnvOr(env, "SHARDKEEP_STALL_TIMEOUT", "");
    if (!stall.empty()) {
      absl::StatusOr<int64_t> ms = ParseDurationMs(stall);
      if (!ms.ok() || *ms <= 0) {
        fprintf(env.err, "shardkeep: --stall-timeout: not a positive duration: \"%s\"\n",
                stall.c_str());
        return kUsage;
      }
      transport.stall_timeout = std::chrono::milliseconds(*ms);
    }
    // Always metered (the progress line shows the rate); limited if asked.
    for (auto [flag, value, env_name, limiter] :
         {std::make_tuple("--limit-upload", &limit_upload, "SHARDKEEP_LIMIT_UPLOAD",
                          &transport.upload),
          std::make_tuple("--limit-download", &limit_download, "SHARDKEEP_LIMIT_DOWNLOAD",
                          &transport.download)}) {
      const std::string text = !value->empty() ? *value : EnvOr(env, env_name, "");
      uint64_t rate = 0;
      if (!text.empty()) {
        absl::StatusOr<uint64_t> r = ParseRate(text);
        if (!r.ok()) {
          fprintf(env.err, "shardkeep: %s: %s\n", flag, std::string(r.status().message()).c_str());
          return kUsage;
        }
        rate = *r;
      }
      *limiter = std::make_shared<RateLimiter>(rate);
    }
    SetTransferMeters({transport.upload.get(), transport.download.get()});
    transport.insecure_plaintext =
        insecure_plaintext || EnvOr(env, "SHARDKEEP_INSECURE_PLAINTEXT", "") == "1";
    env.connector = env.connect_with(transport);
  }
  // Suppliers that moved are followed through the DHT and recorded in the
  // config after the command (docs/DISCOVERY.md, "Address change").
  auto moves = std::make_shared<MoveLog>();
  if (!ctx.dht_bootstrap.empty() && env.connector) {
    env.connector = RelocatingConnector(env.connector, ctx.dht_bootstrap, moves);
  }
  absl::StatusOr<ExitCode> code = action->second(ctx);
  for (const SupplierMove& m : moves->moves()) {
    fprintf(env.err, "supplier %s moved to %s (found by its key in the DHT)\n",
            m.old_address.c_str(), m.new_address.c_str());
  }
  if (absl::StatusOr<int> recorded = RecordMoves(ctx.config_dir, moves->moves()); !recorded.ok()) {
    fprintf(env.err, "shardkeep: warning: new supplier address not recorded: %s\n",
            std::string(recorded.status().message()).c_str());
  }
  if (code.ok()) return *code;
  fprintf(env.err, "shardkeep: %s\n", std::string(code.status().message()).c_str());
  return ExitCodeOf(code.status());
}

}  // namespace

int RunCli(const std::vector<std::string>& args, CliEnv& env) {
  // Nothing throws across this line (CLI11 and the standard library might).
  try {
    return ParseAndRun(args, env);
  } catch (const std::exception& e) {
    fprintf(env.err, "shardkeep: internal error: %s\n", e.what());
    return kError;
  }
}

}  // namespace shardkeep::customer

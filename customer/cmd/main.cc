// shardkeep: the customer's command line. Global flags, then one subcommand
// (customer/cmd_*.cc), each a thin layer over the libraries.
#include <malloc.h>
#include <stdlib.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/malloc_tuning.h"
#include "customer/cmd/cli.h"
#include "customer/net/grpc_supplier_client.h"
#include "proto/limits.h"

namespace shardkeep::customer {
namespace {

const char kMainUsage[] =
    "Usage: shardkeep [--config-dir DIR] [--cache-dir DIR] COMMAND [ARGS] [--help]\n"
    "\n"
    "Encrypted, erasure-coded backups spread over n suppliers.\n"
    "\n"
    "Commands:\n"
    "  init       create a vault: keys, contracts with the suppliers\n"
    "  backup     store a new snapshot of some paths\n"
    "  snapshots  list the snapshots\n"
    "  ls         list what a snapshot holds\n"
    "  restore    bring a snapshot (or part of it) back into a directory\n"
    "  version    print the version\n"
    "\n"
    "Global flags (anywhere on the line):\n"
    "  --config-dir DIR  the vault's config (env SHARDKEEP_CONFIG_DIR,\n"
    "                    default ~/.config/shardkeep)\n"
    "  --cache-dir DIR   caches (env SHARDKEEP_CACHE_DIR, default ~/.cache/shardkeep)\n"
    "\n"
    "Passphrase: $SHARDKEEP_PASSWORD, the first line of $SHARDKEEP_PASSWORD_FILE,\n"
    "or a prompt on the terminal.\n"
    "\n"
    "`shardkeep COMMAND --help` describes each command.\n"
    "\n";

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

int Main(int argc, char** argv) {
  CommandContext ctx;
  std::string command;
  std::string config_dir, cache_dir;
  bool help = false;
  std::vector<std::string> rest;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto take = [&](const std::string& flag, std::string* out) -> int {
      // 1: consumed flag and value, 0: not this flag, -1: missing value
      if (a == flag) {
        if (i + 1 >= argc) return -1;
        *out = argv[++i];
        return 1;
      }
      if (a.rfind(flag + "=", 0) == 0) {
        *out = a.substr(flag.size() + 1);
        return 1;
      }
      return 0;
    };
    if (a == "--") {
      for (; i < argc; ++i) rest.push_back(argv[i]);
      break;
    }
    int r = take("--config-dir", &config_dir);
    if (r == 0) r = take("--cache-dir", &cache_dir);
    if (r < 0) {
      fprintf(stderr, "shardkeep: %s needs a value\n", a.c_str());
      return kUsage;
    }
    if (r > 0) continue;
    if (command.empty() && (a == "-h" || a == "--help")) {
      help = true;
      continue;
    }
    if (command.empty() && !a.empty() && a[0] != '-') {
      command = a;
      continue;
    }
    rest.push_back(a);
  }
  if (command.empty() || command == "help") {
    fputs(kMainUsage, help || command == "help" ? stdout : stderr);
    fputs(kExitCodesHelp, help || command == "help" ? stdout : stderr);
    return help || command == "help" ? kSuccess : kUsage;
  }
  std::string home = EnvOr("HOME", "");
  ctx.config_dir =
      !config_dir.empty() ? config_dir : EnvOr("SHARDKEEP_CONFIG_DIR", home + "/.config/shardkeep");
  ctx.cache_dir =
      !cache_dir.empty() ? cache_dir : EnvOr("SHARDKEEP_CACHE_DIR", home + "/.cache/shardkeep");
  ctx.args = rest;
  ctx.connector = DefaultConnector();
  if (command == "init") return CmdInit(ctx);
  if (command == "backup") return CmdBackup(ctx);
  if (command == "snapshots") return CmdSnapshots(ctx);
  if (command == "ls") return CmdLs(ctx);
  if (command == "restore") return CmdRestore(ctx);
  if (command == "version") {
    printf("shardkeep %s\n", protocol::kVersion);
    return kSuccess;
  }
  fprintf(stderr, "shardkeep: unknown command \"%s\" (see `shardkeep --help`)\n", command.c_str());
  return kUsage;
}

}  // namespace
}  // namespace shardkeep::customer

int main(int argc, char** argv) {
  // Big reusable buffers, few arenas: see common/malloc_tuning.h.
  shardkeep::TuneMallocForLargeBuffers();
  return shardkeep::customer::Main(argc, argv);
}

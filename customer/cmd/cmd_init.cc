// shardkeep init: creates a vault, its keys and its contracts.
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "common/tls_fingerprint.h"
#include "common/units.h"
#include "customer/cmd/command.h"
#include "customer/discovery/hire.h"
#include "customer/discovery/offers.h"
#include "customer/ui/format.h"
#include "customer/ui/json.h"
#include "customer/ui/passphrase.h"
#include "customer/vault/create_vault.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Creates a vault in the config dir: a new master key (wrapped under your\n"
    "passphrase, asked twice), a contract with every supplier, and the vault's\n"
    "configuration, stored locally and (encrypted) on every supplier. Prints the\n"
    "vault ID and a recovery kit.";

const char kNotes[] =
    "Sizes take KiB MiB GiB TiB (also K M G T), kB MB GB TB, or bytes.\n"
    "Presets for --data-shards: 2 -> 1, 4 -> 2, 7 -> 4, 13 -> 7, 18 -> 9, 26 -> 13, 64 -> 32.\n"
    "\n"
    "Example: shardkeep init --suppliers a:7700,b:7700,c:7700,d:7700 --needed 500GiB\n";

struct InitFlags {
  std::string suppliers;
  std::string data_shards;
  std::string block_size = "8MiB";
  std::string needed = "10GiB";
  bool allow_weak = false;
  std::vector<std::string> invites;  // ADDRESS=TOKEN
  bool json = false;
  int find = 0;  // hire this many from DHT offers instead of --suppliers
};

// The request the flags make. The checks that need no network (addresses,
// ranges, an existing vault) are CreateVault's; here only what is about the
// command line itself: the list's syntax and the numbers' spelling.
absl::StatusOr<CreateVaultRequest> RequestFromFlags(const InitFlags& flags,
                                                    const CommandContext& ctx) {
  CreateVaultRequest req;
  for (absl::string_view a : absl::StrSplit(flags.suppliers, ',')) {
    std::string s(absl::StripAsciiWhitespace(a));
    if (!s.empty()) req.supplier_addresses.push_back(s);
  }
  if (!flags.data_shards.empty() && !absl::SimpleAtoi(flags.data_shards, &req.data_shards)) {
    return UsageError(absl::StrCat("init: --data-shards wants a number, got \"",
                                   flags.data_shards, "\""));
  }
  if (!flags.data_shards.empty() && req.data_shards == 0) {
    return UsageError("init: --data-shards must be at least 1");
  }
  ASSIGN_OR_RETURN(req.block_size, ParseSizeFlag("init: --block-size", flags.block_size));
  ASSIGN_OR_RETURN(req.needed_bytes, ParseSizeFlag("init: --needed", flags.needed));
  req.config_dir = ctx.config_dir;
  req.cache_dir = ctx.cache_dir;
  CliEnv* env = ctx.env;
  req.passphrase = [env] { return ReadPassphrase(env->env, /*confirm=*/true); };
  req.allow_weak_passphrase = flags.allow_weak;
  for (const std::string& inv : flags.invites) {
    size_t eq = inv.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == inv.size()) {
      return UsageError(absl::StrCat("init: --invite wants ADDRESS=TOKEN, got \"", inv, "\""));
    }
    req.invites[inv.substr(0, eq)] = inv.substr(eq + 1);
  }
  req.kdf = NewRecordKdf(ctx);
  return req;
}

void PrintCreated(const CreatedVault& created, const std::string& config_dir, FILE* out) {
  const vault::v1::VaultConfig& config = created.config;
  const std::string id_hex = crypto::ToHex(config.vault_id());
  const int n = config.supplier_count(), k = config.data_shards();
  fprintf(out, "created vault %s in %s\n", id_hex.c_str(), config_dir.c_str());
  fprintf(out,
          "%d suppliers, %d data + %d parity fragments per block: any %d of them may be lost\n", n,
          k, n - k, n - k);
  std::vector<std::string> addresses;
  for (const auto& s : config.suppliers()) {
    fprintf(out, "  position %-2d %-24s quota %s\n", static_cast<int>(s.position()),
            s.address().c_str(), FormatByteSize(s.quota_bytes()).c_str());
    fprintf(out, "              TLS key pinned: %s\n",
            s.tls_fingerprint().empty() ? "none (plaintext)"
                                        : tls::FormatFingerprint(s.tls_fingerprint()).c_str());
    addresses.push_back(s.address());
  }
  fprintf(out,
          "\nRecovery kit: keep this apart from this machine. With your passphrase it is\n"
          "all you need to get the vault back after losing this disk:\n"
          "  shardkeep recover --vault %s --supplier %s\n"
          "  vault ID:   %s\n"
          "  suppliers:  %s\n",
          id_hex.c_str(), addresses.empty() ? "" : addresses[0].c_str(), id_hex.c_str(),
          absl::StrJoin(addresses, ",").c_str());
  if (created.safe_until_ms > 0) {
    fprintf(out,
            "The suppliers keep the data without any activity until at least %s;\n"
            "every command that reaches them (backup, recover, ...) extends it.\n",
            FormatLocalTime(created.safe_until_ms * 1000000).c_str());
  }
}

absl::StatusOr<ExitCode> Init(const InitFlags& flags, const CommandContext& ctx) {
  if ((flags.find > 0) == !flags.suppliers.empty()) {
    return UsageError("init: give either --suppliers or --find N");
  }
  ASSIGN_OR_RETURN(CreateVaultRequest req, RequestFromFlags(flags, ctx));
  absl::StatusOr<CreatedVault> created;
  if (flags.find > 0) {
    // Discovery (docs/DISCOVERY.md): hire from verified offers, pinned to
    // the keys that signed them.
    ASSIGN_OR_RETURN(auto node, JoinDht(ctx.dht_bootstrap));
    FoundOffers found = FindOffers(*node, 0, 0);
    std::vector<std::string> skipped;
    created = CreateVaultFromOffers(req, flags.find, found.offers, ctx.env->connector, &skipped);
    for (const std::string& s : skipped) fprintf(ctx.err(), "skipped: %s\n", s.c_str());
  } else {
    created = CreateVault(req, ctx.env->connector);
  }
  if (!created.ok()) {
    // Usage errors name what was wrong; say which command they concern.
    if (KindOf(created.status()) == ErrorKind::kUsage) {
      return UsageError(absl::StrCat("init: ", created.status().message()));
    }
    return created.status();
  }
  if (flags.json) {
    Json j = InitResultJson(ctx.config_dir, created->config);
    j["safe_until"] =
        created->safe_until_ms > 0 ? FormatIsoTime(created->safe_until_ms * 1000000) : "";
    fprintf(ctx.out(), "%s\n", DumpJson(j).c_str());
  } else {
    PrintCreated(*created, ctx.config_dir, ctx.out());
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupInit(CLI::App& command) {
  auto flags = std::make_shared<InitFlags>();
  Describe(command, kIntro, kNotes);
  command
      .add_option("--suppliers", flags->suppliers,
                  "2 to 64 supplier addresses, comma-separated;\nfragment i of every block goes "
                  "to the\ni-th supplier")
      ->type_name("HOST:PORT[,...]")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  command
      .add_option("--find", flags->find,
                  "hire N suppliers from the offers in the DHT\n(--dht-bootstrap) instead of "
                  "--suppliers")
      ->type_name("N");
  command
      .add_option("--data-shards", flags->data_shards,
                  "fragments needed to read a block back\n(1..n-1; default ceil(n/2)): any n-K "
                  "suppliers\nmay be lost")
      ->type_name("K")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  command
      .add_option("--block-size", flags->block_size,
                  "target size of a block before coding\n(64KiB..256MiB, default 8MiB)")
      ->type_name("SIZE")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  command
      .add_option("--needed", flags->needed,
                  "space the vault may use after dedup and\ncompression (default 10GiB); each "
                  "supplier\nis asked for ceil(needed / K)")
      ->type_name("SIZE")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  command
      .add_option("--invite", flags->invites,
                  "an invitation from a supplier that admits\nnew customers only by invitation\n"
                  "(`shardkeep-supplier invite`); repeatable")
      ->type_name("HOST:PORT=TOKEN")
      ->allow_extra_args(false);
  command.add_flag("--allow-weak-passphrase", flags->allow_weak,
                   "accept a passphrase the strength check\n(libpwquality) refuses");
  command.add_flag("--json", flags->json, "print the result as JSON");
  return [flags](const CommandContext& ctx) { return Init(*flags, ctx); };
}

}  // namespace shardkeep::customer

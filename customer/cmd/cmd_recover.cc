// shardkeep recover: rebuilds the config dir and cache dir of a vault from
// its suppliers after the machine that made it is gone.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_join.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "customer/cmd/command.h"
#include "customer/discovery/vault_record.h"
#include "customer/repo/recover.h"
#include "customer/ui/format.h"
#include "customer/ui/json.h"
#include "customer/ui/passphrase.h"
#include "customer/vault/paper_key.h"
#include "customer/vault/vault.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Gets a vault back on a new machine: with the vault ID and one or more of its\n"
    "suppliers (the recovery kit `init` printed) and the passphrase, fetches the\n"
    "key record, unlocks it, fetches the vault config (the other suppliers), the\n"
    "index and the snapshot records, renews the lease at every supplier, and\n"
    "writes the config dir and cache dir. Afterwards snapshots, ls, restore and\n"
    "backup work as on the lost machine. With --key-file (the paper key of `key\n"
    "export`) no passphrase is needed; a new one is asked for the new key record.";

const char kNotes[] =
    "The passphrase comes from SHARDKEEP_PASSWORD, SHARDKEEP_PASSWORD_FILE or a\n"
    "prompt; with --key-file the new one from SHARDKEEP_NEW_PASSWORD,\n"
    "SHARDKEEP_NEW_PASSWORD_FILE or a prompt (asked twice).\n"
    "Suppliers are asked in the order given; any one that answers is enough.\n"
    "\n"
    "Example: shardkeep recover --vault 3f2a...e1 --supplier a:7700 --supplier b:7700\n";

struct RecoverFlags {
  std::string vault;
  std::vector<std::string> suppliers;
  std::string key_file;
  bool force = false;
  bool allow_weak = false;
  bool json = false;
};

absl::StatusOr<RecoverRequest> RequestFromFlags(const RecoverFlags& flags,
                                                const CommandContext& ctx) {
  RecoverRequest req;
  auto id = crypto::FromHex(flags.vault);
  if (!id.ok() || id->size() != kVaultIdSize) {
    return UsageError(absl::StrCat("recover: --vault wants the 32 hex digits of the vault ID, got \"",
                                   flags.vault, "\""));
  }
  req.vault_id = *id;
  for (const std::string& list : flags.suppliers) {
    for (absl::string_view a : absl::StrSplit(list, ',')) {
      std::string s(absl::StripAsciiWhitespace(a));
      if (!s.empty()) req.supplier_addresses.push_back(s);
    }
  }
  req.config_dir = ctx.config_dir;
  req.cache_dir = ctx.cache_dir;
  req.overwrite = flags.force;
  CliEnv* env = ctx.env;
  if (!flags.key_file.empty()) {
    auto text = ReadWholeFile(flags.key_file);
    if (!text.ok()) return UsageError(absl::StrCat("recover: --key-file: ", text.status().message()));
    auto master = DecodePaperKey(*text, req.vault_id);
    if (!master.ok()) {
      return UsageError(absl::StrCat("recover: ", flags.key_file, ": ", master.status().message()));
    }
    req.master_key = *master;
    const bool allow_weak = flags.allow_weak;
    req.new_passphrase = [&ctx, allow_weak] { return ReadNewPassphrase(ctx, allow_weak); };
    req.kdf = NewRecordKdf(ctx);
  } else {
    req.passphrase = [env] { return ReadPassphrase(env->env, /*confirm=*/false); };
  }
  if (!flags.json) {
    FILE* err = ctx.err();
    req.step = [err](const std::string& s) { fprintf(err, "recover: %s\n", s.c_str()); };
  }
  FILE* err = ctx.err();
  req.warn = [err](const std::string& w) { fprintf(err, "warning: %s\n", w.c_str()); };
  return req;
}

void Print(const RecoveredVault& r, const CommandContext& ctx) {
  FILE* out = ctx.out();
  fprintf(out, "recovered vault %s into %s\n", crypto::ToHex(r.config.vault_id()).c_str(),
          ctx.config_dir.c_str());
  if (!r.key_from.empty()) fprintf(out, "  key record from  %s\n", r.key_from.c_str());
  fprintf(out, "  suppliers        %d of %d answered (%d needed to restore)\n",
          r.suppliers_reachable, static_cast<int>(r.config.supplier_count()),
          static_cast<int>(r.config.data_shards()));
  fprintf(out, "  index            %zu blocks\n", r.blocks);
  fprintf(out, "  snapshots        %zu", r.snapshots);
  if (!r.latest.id().empty()) {
    fprintf(out, ", latest %s of %s", crypto::ToHex(r.latest.id()).substr(0, 8).c_str(),
            FormatLocalTime(r.latest.time_ns()).c_str());
  }
  fprintf(out, "\n");
  if (r.safe_until_ms > 0) {
    fprintf(out, "  leases renewed   data kept without activity until at least %s\n",
            FormatLocalTime(r.safe_until_ms * 1000000).c_str());
  }
  if (!r.problems.empty()) fprintf(out, "  %zu warnings (above)\n", r.problems.size());
}

Json ResultJson(const RecoveredVault& r, const CommandContext& ctx) {
  Json j;
  j["vault_id"] = crypto::ToHex(r.config.vault_id());
  j["config_dir"] = ctx.config_dir;
  j["key_record_from"] = r.key_from;
  j["suppliers"] = r.config.supplier_count();
  j["suppliers_reachable"] = r.suppliers_reachable;
  j["data_shards"] = r.config.data_shards();
  j["blocks"] = r.blocks;
  j["snapshots"] = r.snapshots;
  j["latest"] = r.latest.id().empty() ? "" : crypto::ToHex(r.latest.id());
  j["safe_until"] = r.safe_until_ms > 0 ? FormatIsoTime(r.safe_until_ms * 1000000) : "";
  j["warnings"] = r.problems;
  return j;
}

absl::StatusOr<ExitCode> Recover(const RecoverFlags& flags, const CommandContext& ctx) {
  ASSIGN_OR_RETURN(RecoverRequest req, RequestFromFlags(flags, ctx));
  if (req.supplier_addresses.empty() && ctx.dht_bootstrap.empty()) {
    return UsageError("recover: give --supplier HOST:PORT, or --dht-bootstrap to find the "
                      "suppliers through the vault's record in the DHT");
  }
  auto recovered = req.supplier_addresses.empty()
                       ? RecoverVaultFromDht(req, ctx.dht_bootstrap, ctx.env->connector)
                       : RecoverVault(req, ctx.env->connector);
  if (!recovered.ok()) {
    if (KindOf(recovered.status()) == ErrorKind::kUsage) {
      return UsageError(absl::StrCat("recover: ", recovered.status().message()));
    }
    return recovered.status();
  }
  if (flags.json) {
    fprintf(ctx.out(), "%s\n", DumpJson(ResultJson(*recovered, ctx)).c_str());
  } else {
    Print(*recovered, ctx);
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupRecover(CLI::App& command) {
  auto flags = std::make_shared<RecoverFlags>();
  Describe(command, kIntro, kNotes);
  command.add_option("--vault", flags->vault, "the vault ID (32 hex digits)")
      ->type_name("ID")
      ->required();
  command
      .add_option("--supplier", flags->suppliers,
                  "a supplier of the vault (repeatable, or\ncomma-separated); asked in order;\n"
                  "without it, the vault's record in the DHT\n(--dht-bootstrap) names them")
      ->type_name("HOST:PORT");
  command.add_option("--key-file", flags->key_file,
                     "the paper key (`key export`) instead of\nthe passphrase")
      ->type_name("FILE");
  command.add_flag("--force", flags->force, "replace a vault already in the config dir");
  command.add_flag("--allow-weak-passphrase", flags->allow_weak,
                   "with --key-file: accept a new passphrase\nthe strength check refuses");
  command.add_flag("--json", flags->json, "print the result as JSON (no progress lines)");
  return [flags](const CommandContext& ctx) { return Recover(*flags, ctx); };
}

}  // namespace shardkeep::customer

// shardkeep key passwd | key export: the passphrase and the master key.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto.h"
#include "customer/cmd/command.h"
#include "customer/repo/key_records.h"
#include "customer/ui/json.h"
#include "customer/vault/paper_key.h"

namespace shardkeep::customer {
namespace {

const char kPasswdIntro[] =
    "Changes the passphrase: a new key record (the same master key wrapped under\n"
    "the new passphrase) on every supplier and in the config dir, and a vault\n"
    "config that names it, so the old passphrase no longer recovers the vault.\n"
    "Nothing is re-encrypted. A supplier that is down gets the new record at the\n"
    "next command that reaches it. See docs/SECURITY.md for what this protects\n"
    "and what it cannot (someone who already holds the old record and the old\n"
    "passphrase has the master key).";

const char kPasswdNotes[] =
    "The current passphrase comes from SHARDKEEP_PASSWORD, SHARDKEEP_PASSWORD_FILE\n"
    "or a prompt; the new one from SHARDKEEP_NEW_PASSWORD, SHARDKEEP_NEW_PASSWORD_FILE\n"
    "or a prompt (asked twice).\n";

const char kExportIntro[] =
    "Prints the vault's master key as a paper key: 56 characters in groups of\n"
    "four, with a check that catches a mistyped character. `recover --key-file\n"
    "FILE` takes it instead of the passphrase. Whoever holds it holds the whole\n"
    "vault, with no passphrase and no rate limit: keep it as you keep the\n"
    "deeds to your house, never on the machine it protects. Changing the\n"
    "passphrase does not change it.";

struct PasswdFlags {
  bool allow_weak = false;
  bool json = false;
};

absl::StatusOr<ExitCode> Passwd(const PasswdFlags& flags, const CommandContext& ctx) {
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  ASSIGN_OR_RETURN(std::string pass, ReadNewPassphrase(ctx, flags.allow_weak));
  RETURN_IF_ERROR(repo->CheckSuppliers(CommitThreshold(repo->n(), repo->k())));
  ASSIGN_OR_RETURN(ChangedKeyRecord changed, ChangeKeyRecord(*repo, pass, NewRecordKdf(ctx)));
  if (flags.json) {
    Json j;
    j["vault_id"] = repo->vault().vault_id_hex();
    j["suppliers_updated"] = repo->n() - static_cast<int>(changed.pending.size());
    j["pending"] = changed.pending;
    fprintf(ctx.out(), "%s\n", DumpJson(j).c_str());
    return kSuccess;
  }
  fprintf(ctx.out(), "passphrase changed: new key record on %d of %d suppliers and in %s\n",
          repo->n() - static_cast<int>(changed.pending.size()), repo->n(),
          ctx.config_dir.c_str());
  if (!changed.pending.empty()) {
    fprintf(ctx.out(), "not reached (they get it at the next command that reaches them): %s\n",
            absl::StrJoin(changed.pending, ", ").c_str());
  }
  return kSuccess;
}

absl::StatusOr<ExitCode> Export(bool json, const CommandContext& ctx) {
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  const Vault& vault = repo->vault();
  const std::string paper = EncodePaperKey(vault.vault_id(), vault.master_key());
  if (json) {
    Json j;
    j["vault_id"] = vault.vault_id_hex();
    j["paper_key"] = paper;
    fprintf(ctx.out(), "%s\n", DumpJson(j).c_str());
    return kSuccess;
  }
  fprintf(ctx.out(), "%s", paper.c_str());
  fprintf(ctx.err(),
          "This key opens the whole vault without a passphrase. Print it, keep it apart\n"
          "from this machine, and do not leave it in a file.\n");
  return kSuccess;
}

}  // namespace

CommandAction SetupKeyPasswd(CLI::App& command) {
  auto flags = std::make_shared<PasswdFlags>();
  Describe(command, kPasswdIntro, kPasswdNotes);
  command.add_flag("--allow-weak-passphrase", flags->allow_weak,
                   "accept a new passphrase the strength\ncheck refuses");
  command.add_flag("--json", flags->json, "print the result as JSON");
  return [flags](const CommandContext& ctx) { return Passwd(*flags, ctx); };
}

CommandAction SetupKeyExport(CLI::App& command) {
  auto json = std::make_shared<bool>(false);
  auto paper = std::make_shared<bool>(false);
  Describe(command, kExportIntro);
  command.add_flag("--paper", *paper, "the printable form (the only form; kept\nfor scripts that name it)");
  command.add_flag("--json", *json, "print {vault_id, paper_key} as JSON");
  return [json, paper](const CommandContext& ctx) { return Export(*json, ctx); };
}

}  // namespace shardkeep::customer

#include "customer/cmd/command.h"

#include "absl/strings/str_cat.h"
#include "common/error_kind.h"
#include "common/units.h"
#include "customer/ui/passphrase.h"
#include "customer/vault/passphrase_policy.h"
#include "customer/vault/vault.h"

namespace shardkeep::customer {

void Describe(CLI::App& command, absl::string_view intro, absl::string_view notes) {
  // The first line stays the summary the parent lists (see the formatter).
  command.description(absl::StrCat(command.get_description(), "\n\n", intro));
  command.footer(std::string(notes));
}

absl::StatusOr<uint64_t> ParseSizeFlag(absl::string_view flag, absl::string_view text) {
  auto bytes = ParseByteSize(std::string_view(text.data(), text.size()));
  if (!bytes.ok()) return UsageError(absl::StrCat(flag, ": ", bytes.status().message()));
  return *bytes;
}

KdfParams NewRecordKdf(const CommandContext& ctx) {
  if (ctx.env->env("SHARDKEEP_INSECURE_TEST_KDF") == "1") {
    fprintf(ctx.err(),
            "warning: SHARDKEEP_INSECURE_TEST_KDF=1: the key record is protected by a cheap "
            "key derivation (for test suites only)\n");
    return KdfParams::CheapForTests();
  }
  return KdfParams{};
}

absl::StatusOr<std::string> ReadNewPassphrase(const CommandContext& ctx, bool allow_weak) {
  const EnvLookup& env = ctx.env->env;
  EnvLookup renamed = [&env](const std::string& name) {
    if (name == "SHARDKEEP_PASSWORD") return env("SHARDKEEP_NEW_PASSWORD");
    if (name == "SHARDKEEP_PASSWORD_FILE") return env("SHARDKEEP_NEW_PASSWORD_FILE");
    return env(name);
  };
  ASSIGN_OR_RETURN(std::string pass, ReadPassphrase(renamed, /*confirm=*/true));
  if (!allow_weak) RETURN_IF_ERROR(CheckPassphraseStrength(pass));
  return pass;
}

absl::StatusOr<std::unique_ptr<Repository>> OpenRepository(const CommandContext& ctx) {
  if (!Vault::Exists(ctx.config_dir)) {
    return WithKind(
        absl::FailedPreconditionError(absl::StrCat(
            "no vault in ", ctx.config_dir, " (run `shardkeep init` first, or set --config-dir)")),
        ErrorKind::kNotInitialized);
  }
  ASSIGN_OR_RETURN(std::string pass, ReadPassphrase(ctx.env->env, /*confirm=*/false));
  ASSIGN_OR_RETURN(auto vault, Vault::Open(ctx.config_dir, ctx.cache_dir, pass));
  ASSIGN_OR_RETURN(auto repo, Repository::Open(std::move(vault), ctx.env->connector));
  FILE* err = ctx.err();
  repo->set_warning_sink([err](const std::string& w) { fprintf(err, "warning: %s\n", w.c_str()); });
  return repo;
}

}  // namespace shardkeep::customer

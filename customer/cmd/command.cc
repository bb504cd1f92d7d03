#include "customer/cmd/command.h"

#include "absl/strings/str_cat.h"
#include "common/error_kind.h"
#include "common/units.h"
#include "customer/ui/passphrase.h"
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

absl::StatusOr<std::unique_ptr<Repository>> OpenRepository(const CommandContext& ctx) {
  if (!Vault::Exists(ctx.config_dir)) {
    return WithKind(
        absl::FailedPreconditionError(absl::StrCat(
            "no vault in ", ctx.config_dir, " (run `shardkeep init` first, or set --config-dir)")),
        ErrorKind::kNotInitialized);
  }
  ASSIGN_OR_RETURN(std::string pass, ReadPassphrase(ctx.env->env, /*confirm=*/false));
  ASSIGN_OR_RETURN(auto vault, Vault::Open(ctx.config_dir, ctx.cache_dir, pass));
  return Repository::Open(std::move(vault), ctx.env->connector);
}

}  // namespace shardkeep::customer

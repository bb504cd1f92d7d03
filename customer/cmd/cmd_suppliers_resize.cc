// shardkeep suppliers resize: a new quota at every supplier.
#include "absl/strings/str_cat.h"
#include "common/error_kind.h"
#include "common/units.h"
#include "customer/cmd/command.h"
#include "customer/repo/quota_resizer.h"
#include "customer/ui/json.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Asks every supplier to resize this vault's contract for --needed SIZE of\n"
    "stored data (after dedup and compression): each is asked for\n"
    "ceil(SIZE / k), as at init. Then records the quotas granted in the vault\n"
    "config, here and on every supplier (`recover` finds it). Grow it before a\n"
    "backup would run past the quota; shrink it after `prune` (a supplier\n"
    "refuses a quota below what it holds).";

const char kNotes[] =
    "A supplier that refuses keeps its old quota; the refusal names it, what was\n"
    "asked and what it still grants (exit 1). Run again once it has room, or\n"
    "replace it (`suppliers replace`). A supplier that does not answer: exit 13.\n"
    "Example: shardkeep suppliers resize --needed 500GiB\n";

struct ResizeFlags {
  std::string needed;
  bool json = false;
};

Json ResizeJson(const ResizeResult& r) {
  Json j;
  j["message_type"] = "resize";
  j["needed_bytes"] = r.needed_bytes;
  j["per_supplier_bytes"] = r.per_supplier_bytes;
  j["config_written"] = r.config_written;
  j["refused"] = r.refused;
  j["unreachable"] = r.unreachable;
  Json sup = Json::array();
  for (const QuotaChange& c : r.suppliers) {
    Json s;
    s["position"] = c.position;
    s["address"] = c.address;
    s["reachable"] = c.reachable;
    s["granted"] = c.granted;
    s["previous_bytes"] = c.previous_bytes;
    s["asked_bytes"] = c.asked_bytes;
    s["quota_bytes"] = c.quota_bytes;
    if (!c.error.empty()) s["error"] = c.error;
    sup.push_back(s);
  }
  j["suppliers"] = sup;
  return j;
}

absl::StatusOr<ExitCode> Resize(const ResizeFlags& flags, const CommandContext& ctx) {
  ASSIGN_OR_RETURN(uint64_t needed, ParseSizeFlag("--needed", flags.needed));
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  ASSIGN_OR_RETURN(ResizeResult r, ResizeQuotas(*repo, needed));
  if (flags.json) {
    fprintf(ctx.out(), "%s\n", DumpJson(ResizeJson(r)).c_str());
  } else {
    for (const QuotaChange& c : r.suppliers) {
      if (c.granted) {
        fprintf(ctx.out(), "position %d: %s: quota %s (was %s)\n", c.position, c.address.c_str(),
                FormatByteSize(c.quota_bytes).c_str(), FormatByteSize(c.previous_bytes).c_str());
      }
    }
    if (r.config_written) fprintf(ctx.out(), "vault config updated on the suppliers and here\n");
  }
  // Refusals on stderr whatever the format: they are what the user must act on.
  for (const QuotaChange& c : r.suppliers) {
    if (c.granted) continue;
    if (c.reachable) {
      fprintf(ctx.err(),
              "error: supplier %s (position %d) refused a quota of %s (limit asked: %llu "
              "bytes); it still grants %s: %s\n",
              c.address.c_str(), c.position, FormatByteSize(c.asked_bytes).c_str(),
              (unsigned long long)c.asked_bytes, FormatByteSize(c.quota_bytes).c_str(),
              c.error.c_str());
    } else {
      fprintf(ctx.err(), "error: supplier %s (position %d) not reached: %s\n", c.address.c_str(),
              c.position, c.error.c_str());
    }
  }
  if (r.refused > 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("suppliers resize: ", r.refused, " of ", r.suppliers.size(),
                     " suppliers refused the new quota (named above) and keep their old one",
                     r.config_written ? "; the others' new quotas are recorded" : ""));
  }
  if (r.unreachable > 0) {
    return WithKind(absl::UnavailableError(absl::StrCat(
                        "suppliers resize: ", r.unreachable, " of ", r.suppliers.size(),
                        " suppliers did not answer (named above); run it again when they do")),
                    ErrorKind::kSuppliersUnreachable);
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupSuppliersResize(CLI::App& command) {
  auto flags = std::make_shared<ResizeFlags>();
  Describe(command, kIntro, kNotes);
  command
      .add_option("--needed", flags->needed,
                  "space the vault may take after dedup and\ncompression")
      ->type_name("SIZE")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->required();
  command.add_flag("--json", flags->json, "print one JSON object");
  return [flags](const CommandContext& ctx) { return Resize(*flags, ctx); };
}

}  // namespace shardkeep::customer

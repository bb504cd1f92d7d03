// shardkeep suppliers list: the vault's suppliers, their contracts and health.
// shardkeep suppliers replace: fire one, hire another for its position.
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/units.h"
#include "customer/cmd/command.h"
#include "customer/discovery/hire.h"
#include "customer/discovery/offers.h"
#include "customer/repo/replacer.h"
#include "customer/repo/vault_status.h"
#include "customer/ui/progress_line.h"
#include "customer/ui/format.h"
#include "customer/ui/json.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Lists the vault's suppliers by position: address, supplier ID, quota and\n"
    "usage, when the lease ends, when it was last seen and last audited (from\n"
    "this machine's cache: `check` audits), and its health (ok, unreachable,\n"
    "failing audits, lease ending within 7 days).";

std::string When(int64_t s) { return s == 0 ? "-" : FormatLocalTime(s * 1000000000); }

Json SupplierJson(const SupplierStatus& s) {
  Json j;
  j["position"] = s.position;
  j["address"] = s.address;
  j["supplier_id"] = s.supplier_id_hex;
  j["reachable"] = s.reachable;
  if (!s.error.empty()) j["error"] = s.error;
  j["quota_bytes"] = s.quota_bytes;
  j["used_bytes"] = s.used_bytes;
  j["fragments"] = s.fragments;
  j["lease_expires"] = s.lease_expires_ms == 0 ? "" : FormatIsoTime(s.lease_expires_ms * 1000000);
  j["last_seen"] = s.last_seen_s == 0 ? "" : FormatIsoTime(s.last_seen_s * 1000000000);
  j["last_audit"] = s.last_audit_s == 0 ? "" : FormatIsoTime(s.last_audit_s * 1000000000);
  j["last_audit_passed"] = s.last_audited;
  j["last_audit_failed"] = s.last_audit_failed;
  j["health"] = s.health;
  return j;
}

absl::StatusOr<ExitCode> List(bool json, const CommandContext& ctx) {
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  repo->CheckSuppliers(0).IgnoreError();  // marks the silent ones down; listed anyway
  std::vector<SupplierStatus> list = ListSuppliers(*repo);
  if (json) {
    Json all = Json::array();
    for (const auto& s : list) all.push_back(SupplierJson(s));
    fprintf(ctx.out(), "%s\n", DumpJson(all).c_str());
  } else {
    fprintf(ctx.out(), "%-3s  %-21s  %-8s  %10s  %10s  %-19s  %-19s  %-19s  %s\n", "Pos", "Address",
            "ID", "Quota", "Used", "Lease until", "Last seen", "Last audit", "Health");
    for (const auto& s : list) {
      fprintf(ctx.out(), "%-3d  %-21s  %-8s  %10s  %10s  %-19s  %-19s  %-19s  %s\n", s.position,
              s.address.c_str(), s.supplier_id_hex.substr(0, 8).c_str(),
              s.reachable ? FormatByteSize(s.quota_bytes).c_str() : "-",
              s.reachable ? FormatByteSize(s.used_bytes).c_str() : "-",
              s.lease_expires_ms == 0 ? "-" : When(s.lease_expires_ms / 1000).c_str(),
              When(s.last_seen_s).c_str(),
              s.last_audit_s == 0
                  ? "-"
                  : absl::StrCat(When(s.last_audit_s).substr(0, 16), s.last_audit_failed ? " FAIL" : "")
                        .c_str(),
              s.health.c_str());
    }
  }
  for (const auto& s : list) {
    if (s.health != "ok") return kDegraded;
  }
  return kSuccess;
}

const char kReplaceIntro[] =
    "Fires the supplier at POSITION (or ADDRESS) and hires HOST:PORT for that\n"
    "position: contracts the new one, copies the vault's metadata objects to it,\n"
    "rebuilds that position's fragment of every block from k of the others\n"
    "(k fragments in and one out per block), records the new supplier in the\n"
    "vault config (here and on every supplier), then cancels the old contract if\n"
    "the old supplier answers. Needs k of the other suppliers. Interrupted, run\n"
    "it again: what was stored already is not sent again.";

struct ReplaceFlags {
  std::string which, with, invite;
  bool find = false;  // hire from DHT offers (docs/DISCOVERY.md)
};

// The connector, presenting `invite` to the new supplier (if given).
SupplierConnector WithInvite(SupplierConnector base, std::string address, std::string invite) {
  if (invite.empty()) return base;
  return [base = std::move(base), address = std::move(address), invite = std::move(invite)](
             const std::string& a, const std::string& seed,
             const std::string& id) -> absl::StatusOr<std::unique_ptr<SupplierClient>> {
    ASSIGN_OR_RETURN(auto c, base(a, seed, id));
    if (a == address) c->SetInvite(invite);
    return c;
  };
}

absl::StatusOr<ExitCode> Replace(const ReplaceFlags& flags, const CommandContext& ctx) {
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  if (flags.find == !flags.with.empty()) {
    return UsageError("suppliers replace: give either --with HOST:PORT or --find");
  }
  ProgressLine progress(isatty(STDERR_FILENO));
  absl::StatusOr<ReplaceResult> r;
  if (flags.find) {
    ASSIGN_OR_RETURN(auto node, JoinDht(ctx.dht_bootstrap));
    std::vector<std::string> skipped;
    r = ReplaceFromOffers(*repo, flags.which, FindOffers(*node, 0, 0).offers,
                          ctx.env->connector, progress, &skipped);
    for (const std::string& s : skipped) fprintf(ctx.err(), "skipped: %s\n", s.c_str());
  } else {
    r = ReplaceSupplier(*repo, flags.which, flags.with,
                        WithInvite(ctx.env->connector, flags.with, flags.invite), progress);
  }
  progress.Stop();
  if (!r.ok()) return r.status();
  PublishVaultToDht(ctx, repo->vault());
  const std::string present =
      r->fragments_present == 0 ? "" : absl::StrCat(", ", r->fragments_present, " already there");
  fprintf(ctx.out(),
          "position %d: %s replaced by %s: %llu objects copied, %llu fragments stored (%s)%s, "
          "%llu fetched from the others, %.1f s\n",
          r->position, r->old_address.c_str(), r->new_address.c_str(),
          (unsigned long long)r->objects_copied, (unsigned long long)r->fragments_written,
          FormatByteSize(r->fragment_bytes).c_str(), present.c_str(),
          (unsigned long long)r->fragments_fetched, r->seconds);
  if (r->old_cancelled) {
    fprintf(ctx.out(), "the contract with %s is cancelled\n", r->old_address.c_str());
  } else {
    fprintf(ctx.out(), "the contract with %s could not be cancelled: %s\n",
            r->old_address.c_str(), r->cancel_error.c_str());
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupSuppliersReplace(CLI::App& command) {
  auto flags = std::make_shared<ReplaceFlags>();
  Describe(command, kReplaceIntro);
  command.add_option("WHICH", flags->which, "the position (0..n-1) or address to replace")
      ->type_name("POSITION|ADDRESS")
      ->required();
  command.add_option("--with", flags->with, "the new supplier")
      ->type_name("HOST:PORT")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  command.add_flag("--find", flags->find,
                   "hire the new supplier from the offers in the DHT\n(--dht-bootstrap) instead "
                   "of --with");
  command
      .add_option("--invite", flags->invite,
                  "an invitation from the new supplier, if it\nadmits new customers only by "
                  "invitation")
      ->type_name("TOKEN")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  return [flags](const CommandContext& ctx) { return Replace(*flags, ctx); };
}

CommandAction SetupSuppliersList(CLI::App& command) {
  auto json = std::make_shared<bool>(false);
  Describe(command, kIntro, "Exit code: 0 when every supplier is ok, 4 otherwise.\n");
  command.add_flag("--json", *json, "print one JSON array");
  return [json](const CommandContext& ctx) { return List(*json, ctx); };
}

}  // namespace shardkeep::customer

// shardkeep suppliers find: the verified offers in the DHT (docs/DISCOVERY.md).
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/tls_fingerprint.h"
#include "common/units.h"
#include "customer/cmd/command.h"
#include "customer/discovery/offers.h"
#include "customer/ui/format.h"
#include "nlohmann/json.hpp"

namespace shardkeep::customer {
namespace {

const char kFindIntro[] =
    "Joins the DHT (--dht-bootstrap) and lists the suppliers' offers whose\n"
    "signature verifies under the key they claim (the TLS key a customer pins):\n"
    "one per supplier, most free space first. Forged offers are counted, not shown.";

struct FindFlags {
  int count = 0;
  std::string min_free = "0";
  bool json = false;
};

absl::StatusOr<ExitCode> Find(const FindFlags& flags, const CommandContext& ctx) {
  if (flags.count < 0) return UsageError("suppliers find: --count must be at least 0");
  ASSIGN_OR_RETURN(uint64_t min_free, ParseSizeFlag("suppliers find: --min-free", flags.min_free));
  ASSIGN_OR_RETURN(auto node, JoinDht(ctx.dht_bootstrap));
  FoundOffers found = FindOffers(*node, min_free, static_cast<size_t>(flags.count));
  if (flags.json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (const offer::Offer& o : found.offers) {
      j.push_back({{"fingerprint", tls::FormatFingerprint(o.fingerprint)},
                   {"supplier_id", crypto::ToHex(o.supplier_id)},
                   {"addresses", o.addresses},
                   {"free_bytes", o.free_bytes},
                   {"max_quota_bytes", o.max_quota_bytes},
                   {"lease_ms", o.lease_ms},
                   {"grace_ms", o.grace_ms},
                   {"version", o.version},
                   {"invite_required", o.invite_required},
                   {"published_ms", o.published_ms}});
    }
    fprintf(ctx.out(), "%s\n",
            nlohmann::ordered_json{{"offers", j},
                                   {"rejected", found.rejected},
                                   {"seconds", found.seconds}}
                .dump(2)
                .c_str());
    return kSuccess;
  }
  fprintf(ctx.out(), "%-24s %10s %10s %8s %-6s %s\n", "ADDRESS", "FREE", "MAX QUOTA", "LEASE",
          "INVITE", "TLS KEY");
  for (const offer::Offer& o : found.offers) {
    fprintf(ctx.out(), "%-24s %10s %10s %8s %-6s %s\n", o.addresses.front().c_str(),
            FormatByteSize(o.free_bytes).c_str(),
            o.max_quota_bytes == 0 ? "-" : FormatByteSize(o.max_quota_bytes).c_str(),
            FormatDurationMs(o.lease_ms).c_str(), o.invite_required ? "yes" : "no",
            tls::FormatFingerprint(o.fingerprint).c_str());
  }
  fprintf(ctx.out(), "%zu offers (%d rejected: bad signature or key), %.2f s\n",
          found.offers.size(), found.rejected, found.seconds);
  return kSuccess;
}

}  // namespace

CommandAction SetupSuppliersFind(CLI::App& command) {
  auto flags = std::make_shared<FindFlags>();
  Describe(command, kFindIntro);
  command.add_option("--count", flags->count, "show at most N offers (default all)")
      ->type_name("N");
  command.add_option("--min-free", flags->min_free, "only offers with at least SIZE free")
      ->type_name("SIZE");
  command.add_flag("--json", flags->json, "print the offers as JSON");
  return [flags](const CommandContext& ctx) { return Find(*flags, ctx); };
}

}  // namespace shardkeep::customer

// shardkeep stats: how big the vault is, from files to suppliers' disks.
#include "absl/strings/str_cat.h"
#include "common/units.h"
#include "customer/cmd/command.h"
#include "customer/repo/vault_stats.h"
#include "customer/ui/json.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Prints the vault's size at each stage: the snapshots' logical size (the\n"
    "latest one, and summed over all snapshots, from their records), what is\n"
    "stored once after dedup, compression and encryption (the index's blocks),\n"
    "what the suppliers hold with redundancy (n/k times that, less any\n"
    "positions a degraded backup missed), and per supplier its usage against\n"
    "its quota. Reads no data: as quick as `snapshots`.";

Json SupplierUsageJson(const SupplierUsage& u) {
  Json j;
  j["position"] = u.position;
  j["address"] = u.address;
  j["reachable"] = u.reachable;
  if (!u.error.empty()) j["error"] = u.error;
  j["quota_bytes"] = u.quota_bytes;
  j["used_bytes"] = u.used_bytes;
  j["fragments"] = u.fragments;
  j["objects"] = u.objects;
  j["indexed_bytes"] = u.indexed_bytes;
  j["indexed_fragments"] = u.indexed_fragments;
  return j;
}

Json StatsJson(const VaultStats& s) {
  Json j;
  j["message_type"] = "stats";
  j["snapshots"] = s.snapshots;
  j["n"] = s.n;
  j["k"] = s.k;
  j["latest_logical_bytes"] = s.latest_logical_bytes;
  j["latest_files"] = s.files_latest;
  j["total_logical_bytes"] = s.total_logical_bytes;
  j["chunks"] = s.chunks;
  j["blocks"] = s.blocks;
  j["data_blocks"] = s.data_blocks;
  j["tree_blocks"] = s.tree_blocks;
  j["stored_bytes"] = s.stored_bytes;
  j["stored_with_redundancy_bytes"] = s.stored_with_redundancy_bytes;
  Json sup = Json::array();
  for (const auto& u : s.suppliers) sup.push_back(SupplierUsageJson(u));
  j["suppliers"] = sup;
  return j;
}

std::string Ratio(uint64_t a, uint64_t b) {
  if (b == 0) return "-";
  char buf[32];
  snprintf(buf, sizeof buf, "%.2fx", static_cast<double>(a) / static_cast<double>(b));
  return buf;
}

void PrintStats(const VaultStats& s, FILE* out) {
  fprintf(out, "snapshots:                %llu\n", (unsigned long long)s.snapshots);
  fprintf(out, "latest snapshot:          %s in %llu files\n",
          FormatByteSize(s.latest_logical_bytes).c_str(), (unsigned long long)s.files_latest);
  fprintf(out, "all snapshots together:   %s (restore size of each, summed)\n",
          FormatByteSize(s.total_logical_bytes).c_str());
  fprintf(out, "stored once:              %s in %llu chunks, %llu blocks (%llu data, %llu tree)\n",
          FormatByteSize(s.stored_bytes).c_str(), (unsigned long long)s.chunks,
          (unsigned long long)s.blocks, (unsigned long long)s.data_blocks,
          (unsigned long long)s.tree_blocks);
  fprintf(out, "  dedup and compression:  %s of all snapshots together\n",
          Ratio(s.total_logical_bytes, s.stored_bytes).c_str());
  fprintf(out, "at the suppliers:         %s with redundancy (n=%d, k=%d: %s of stored)\n",
          FormatByteSize(s.stored_with_redundancy_bytes).c_str(), s.n, s.k,
          Ratio(s.stored_with_redundancy_bytes, s.stored_bytes).c_str());
  fprintf(out, "\n%-3s  %-21s  %10s  %10s  %5s  %10s  %s\n", "Pos", "Address", "Used", "Quota",
          "Use%", "Indexed", "Fragments");
  for (const auto& u : s.suppliers) {
    if (!u.reachable) {
      fprintf(out, "%-3d  %-21s  unreachable: %s\n", u.position, u.address.c_str(),
              u.error.c_str());
      continue;
    }
    // In doubles: the supplier's numbers could wrap an integer product.
    char pct[32] = "-";
    if (u.quota_bytes > 0) {
      snprintf(pct, sizeof pct, "%.0f%%",
               100.0 * static_cast<double>(u.used_bytes) / static_cast<double>(u.quota_bytes));
    }
    fprintf(out, "%-3d  %-21s  %10s  %10s  %5s  %10s  %llu\n", u.position, u.address.c_str(),
            FormatByteSize(u.used_bytes).c_str(), FormatByteSize(u.quota_bytes).c_str(), pct,
            FormatByteSize(u.indexed_bytes).c_str(), (unsigned long long)u.fragments);
  }
}

absl::StatusOr<ExitCode> Stats(bool json, const CommandContext& ctx) {
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  ASSIGN_OR_RETURN(VaultStats s, ComputeVaultStats(*repo));
  if (json) {
    fprintf(ctx.out(), "%s\n", DumpJson(StatsJson(s)).c_str());
  } else {
    PrintStats(s, ctx.out());
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupStats(CLI::App& command) {
  auto json = std::make_shared<bool>(false);
  Describe(command, kIntro,
           "Used is the supplier's own count (fragments and metadata objects, each\n"
           "charged at least 4 KiB); Indexed is the fragment bytes the index says it\n"
           "holds. Used well above Indexed: fragments the index does not name\n"
           "(`prune` reclaims them).\n");
  command.add_flag("--json", *json, "print one JSON object");
  return [json](const CommandContext& ctx) { return Stats(*json, ctx); };
}

}  // namespace shardkeep::customer

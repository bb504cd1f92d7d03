// shardkeep prune: frees the space of data no snapshot needs.
#include <unistd.h>

#include "common/units.h"
#include "customer/cmd/command.h"
#include "customer/repo/pruner.h"
#include "customer/ui/json.h"
#include "customer/ui/progress_line.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Deletes, at every supplier, the blocks no snapshot needs any more (after\n"
    "`forget`) and the fragments interrupted backups left that no index names;\n"
    "repacks blocks that are mostly unused; rewrites the index in one piece set.";

const char kNotes[] =
    "It holds an exclusive lock: backups wait for it (or stop, naming it) and it\n"
    "waits for running backups (--retry-lock) or stops with exit code 11.\n"
    "A supplier that is down misses its deletions; they are recorded and the\n"
    "next prune (or maintain) does them. Safe to interrupt: the next prune\n"
    "finishes the job. Refuses to run while the snapshot history looks held back\n"
    "by a supplier (run `shardkeep check` first).\n";

struct PruneFlags {
  PruneOptions options;
  std::string retry_lock;
  bool json = false;
};

absl::StatusOr<ExitCode> Prune(PruneFlags& flags, const CommandContext& ctx) {
  if (!flags.retry_lock.empty()) {
    ASSIGN_OR_RETURN(flags.options.lock.wait_ms, ParseDurationMs(flags.retry_lock));
  }
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  ProgressLine progress(isatty(STDERR_FILENO));
  auto r = PruneVault(*repo, flags.options, progress);
  progress.Stop();
  if (!r.ok()) return r.status();
  if (flags.json) {
    Json j;
    j["message_type"] = "prune";
    j["dry_run"] = flags.options.dry_run;
    j["snapshots"] = r->snapshots;
    j["blocks"] = r->blocks;
    j["blocks_unused"] = r->blocks_unused;
    j["blocks_repacked"] = r->blocks_repacked;
    j["blocks_written"] = r->blocks_written;
    j["bytes_used"] = r->bytes_used;
    j["bytes_unused"] = r->bytes_unused;
    j["bytes_unused_after"] = r->bytes_unused_after;
    j["fragments_deleted"] = r->fragments_deleted;
    j["orphan_fragments"] = r->orphans;
    j["index_pieces_deleted"] = r->index_pieces_deleted;
    j["supplier_usage_before"] = r->used_before;
    j["supplier_usage_after"] = r->used_after;
    j["pending_positions"] = r->pending_positions;
    fprintf(ctx.out(), "%s\n", DumpJson(j).c_str());
    return kSuccess;
  }
  fprintf(ctx.out(), "%llu snapshots; %llu blocks: %llu unused, %llu to repack\n",
          (unsigned long long)r->snapshots, (unsigned long long)r->blocks,
          (unsigned long long)r->blocks_unused, (unsigned long long)r->blocks_repacked);
  fprintf(ctx.out(), "data: %s used, %s unused (%s unused after)\n",
          FormatByteSize(r->bytes_used).c_str(), FormatByteSize(r->bytes_unused).c_str(),
          FormatByteSize(r->bytes_unused_after).c_str());
  if (flags.options.dry_run) {
    fprintf(ctx.out(), "dry run: nothing deleted\n");
    return kSuccess;
  }
  fprintf(ctx.out(),
          "deleted %llu fragments (%llu left by interrupted backups) and %llu index pieces; "
          "%llu new blocks\n",
          (unsigned long long)r->fragments_deleted, (unsigned long long)r->orphans,
          (unsigned long long)r->index_pieces_deleted, (unsigned long long)r->blocks_written);
  fprintf(ctx.out(), "suppliers' usage: %s -> %s\n", FormatByteSize(r->used_before).c_str(),
          FormatByteSize(r->used_after).c_str());
  for (int pos : r->pending_positions) {
    fprintf(ctx.out(), "position %d: %s missed deletions (recorded for the next prune)\n", pos,
            repo->suppliers().address(pos).c_str());
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupPrune(CLI::App& command) {
  auto flags = std::make_shared<PruneFlags>();
  Describe(command, kIntro, kNotes);
  command.add_option("--max-unused", flags->options.max_unused_percent,
                     "tolerate this share of unused data before\nrepacking (default 5)")
      ->type_name("PERCENT");
  command.add_option("--retry-lock", flags->retry_lock,
                     "wait up to DURATION for running backups")
      ->type_name("DURATION");
  command.add_flag("-n,--dry-run", flags->options.dry_run, "show what would go, delete nothing");
  command.add_flag("--json", flags->json, "print the result as one JSON object");
  return [flags](const CommandContext& ctx) { return Prune(*flags, ctx); };
}

}  // namespace shardkeep::customer

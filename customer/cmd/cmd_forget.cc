// shardkeep forget: removes snapshots, by ID or by a retention policy.
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto.h"
#include "common/units.h"
#include "customer/cmd/command.h"
#include "customer/repo/forgetter.h"
#include "customer/ui/format.h"
#include "customer/ui/json.h"
#include "customer/ui/progress_line.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Removes snapshots: the ones named, or those a --keep-* policy does not keep.\n"
    "The data they alone used stays at the suppliers until `prune` (or --prune).";

const char kNotes[] =
    "Policies follow restic: snapshots are grouped (by host and paths unless\n"
    "--group-by says otherwise); in each group, newest first, a snapshot stays\n"
    "if any rule wants it. --keep-daily 7 keeps the newest snapshot of each of\n"
    "the 7 most recent days that have one (local time); weekly means ISO weeks.\n"
    "A count of -1 is unlimited. Where ShardKeep differs from restic:\n"
    "  --keep-within takes ms/s/m/h/d units (\"30d\"), not restic's \"1y2m3d\";\n"
    "  --keep-tag keeps snapshots carrying any one of the tags given;\n"
    "  a forgotten snapshot leaves a small tombstone at the suppliers, so the\n"
    "  rollback check knows the owner removed it.\n"
    "\n"
    "Example (the nightly job): shardkeep forget --keep-daily 7 --keep-weekly 5\n"
    "  --keep-monthly 12 --prune\n"
    "Exit code 11: a prune holds the vault (it is named); --retry-lock waits.\n";

struct ForgetFlags {
  std::vector<std::string> snapshots;
  ForgetPolicy policy;
  std::string within, group_by = "host,paths", retry_lock;
  double max_unused = 5;
  bool prune = false, dry_run = false, json = false;
};

absl::StatusOr<ExitCode> Forget(const ForgetFlags& flags, const CommandContext& ctx) {
  ForgetRequest req;
  req.snapshots = flags.snapshots;
  req.policy = flags.policy;
  if (!flags.within.empty()) {
    ASSIGN_OR_RETURN(int64_t ms, ParseDurationMs(flags.within));
    req.policy.within_ns = ms * 1000000;
  }
  req.group_by.host = req.group_by.paths = req.group_by.tags = false;
  for (absl::string_view g : absl::StrSplit(flags.group_by, ',', absl::SkipEmpty())) {
    if (g == "host") {
      req.group_by.host = true;
    } else if (g == "paths") {
      req.group_by.paths = true;
    } else if (g == "tags") {
      req.group_by.tags = true;
    } else {
      return UsageError(absl::StrCat("--group-by: \"", std::string(g),
                                     "\" is not one of host, paths, tags"));
    }
  }
  if (!flags.retry_lock.empty()) {
    ASSIGN_OR_RETURN(req.lock.wait_ms, ParseDurationMs(flags.retry_lock));
  }
  req.dry_run = flags.dry_run;
  req.prune = flags.prune;
  req.prune_options.max_unused_percent = flags.max_unused;
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  ProgressLine progress(isatty(STDERR_FILENO));
  auto r = ForgetSnapshots(*repo, req, progress);
  progress.Stop();
  if (!r.ok()) return r.status();

  if (flags.json) {
    Json j;
    j["message_type"] = "forget";
    j["dry_run"] = flags.dry_run;
    Json groups = Json::array();
    for (const auto& g : r->groups) {
      Json jg;
      jg["group"] = g.description;
      jg["keep"] = Json::array();
      for (size_t i = 0; i < g.keep.size(); ++i) {
        Json s = SnapshotJson(g.keep[i]);
        s["reasons"] = g.keep_reasons[i];
        jg["keep"].push_back(s);
      }
      jg["remove"] = Json::array();
      for (const auto& s : g.remove) jg["remove"].push_back(SnapshotJson(s));
      groups.push_back(jg);
    }
    j["groups"] = groups;
    j["removed"] = r->removed;
    if (r->pruned) {
      j["prune"] = {{"blocks_unused", r->prune.blocks_unused},
                    {"blocks_repacked", r->prune.blocks_repacked},
                    {"used_before", r->prune.used_before},
                    {"used_after", r->prune.used_after}};
    }
    fprintf(ctx.out(), "%s\n", DumpJson(j).c_str());
    return kSuccess;
  }
  for (const auto& g : r->groups) {
    fprintf(ctx.out(), "%s: keep %zu, remove %zu\n", g.description.c_str(), g.keep.size(),
            g.remove.size());
    for (size_t i = 0; i < g.keep.size(); ++i) {
      fprintf(ctx.out(), "  keep    %s  %s  (%s)\n",
              crypto::ToHex(g.keep[i].id()).substr(0, 8).c_str(),
              FormatLocalTime(g.keep[i].time_ns()).c_str(), g.keep_reasons[i].c_str());
    }
    for (const auto& s : g.remove) {
      fprintf(ctx.out(), "  remove  %s  %s\n", crypto::ToHex(s.id()).substr(0, 8).c_str(),
              FormatLocalTime(s.time_ns()).c_str());
    }
  }
  if (flags.dry_run) {
    fprintf(ctx.out(), "dry run: nothing removed\n");
  } else {
    fprintf(ctx.out(), "%d snapshots removed%s\n", r->removed,
            r->pruned ? "" : "; run `shardkeep prune` to free their space");
  }
  if (r->pruned) {
    fprintf(ctx.out(),
            "prune: %llu blocks unused and deleted, %llu repacked; suppliers' usage %s -> %s\n",
            (unsigned long long)r->prune.blocks_unused,
            (unsigned long long)r->prune.blocks_repacked,
            FormatByteSize(r->prune.used_before).c_str(),
            FormatByteSize(r->prune.used_after).c_str());
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupForget(CLI::App& command) {
  auto flags = std::make_shared<ForgetFlags>();
  ForgetPolicy& p = flags->policy;
  Describe(command, kIntro, kNotes);
  command.add_option("SNAPSHOT", flags->snapshots, "snapshot IDs (or unambiguous prefixes)")
      ->type_name("");
  command.add_option("--keep-last", p.last, "keep the N newest")->type_name("N");
  command.add_option("--keep-hourly", p.hourly, "keep the newest of each of N hours")
      ->type_name("N");
  command.add_option("--keep-daily", p.daily, "keep the newest of each of N days")
      ->type_name("N");
  command.add_option("--keep-weekly", p.weekly, "keep the newest of each of N ISO weeks")
      ->type_name("N");
  command.add_option("--keep-monthly", p.monthly, "keep the newest of each of N months")
      ->type_name("N");
  command.add_option("--keep-yearly", p.yearly, "keep the newest of each of N years")
      ->type_name("N");
  command.add_option("--keep-within", flags->within,
                     "keep those younger than DURATION before the\ngroup's newest (e.g. 30d)")
      ->type_name("DURATION");
  command.add_option("--keep-tag", p.keep_tags, "keep snapshots with this tag; repeatable")
      ->type_name("TAG")
      ->allow_extra_args(false);
  command.add_option("--group-by", flags->group_by,
                     "group by any of host,paths,tags (default host,paths;\n'' for one group)")
      ->type_name("LIST");
  command.add_flag("--prune", flags->prune, "prune right after (see `shardkeep prune --help`)");
  command.add_option("--max-unused", flags->max_unused, "with --prune: see prune")
      ->type_name("PERCENT");
  command.add_option("--retry-lock", flags->retry_lock,
                     "wait up to DURATION for a conflicting lock to go")
      ->type_name("DURATION");
  command.add_flag("-n,--dry-run", flags->dry_run, "show what would be removed, remove nothing");
  command.add_flag("--json", flags->json, "print the decision as one JSON object");
  return [flags](const CommandContext& ctx) { return Forget(*flags, ctx); };
}

}  // namespace shardkeep::customer

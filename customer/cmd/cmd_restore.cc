// shardkeep restore: brings a snapshot back into a directory.
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/units.h"
#include "customer/cmd/command.h"
#include "customer/restore/restorer.h"
#include "customer/ui/json.h"
#include "customer/ui/progress_line.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Restores SNAPSHOT (an ID, an unambiguous ID prefix, or 'latest') below DIR:\n"
    "a snapshot of /home/ann restored with --target /tmp/r gives /tmp/r/home/ann.\n"
    "Existing files at the same paths are replaced. Nothing is ever written\n"
    "outside DIR, whatever the snapshot holds.";

const char kNotes[] =
    "Reads any k fragments of each block, data fragments first, so it works with\n"
    "up to n-k suppliers gone. A file is written under a temporary name and\n"
    "renamed into place when complete. When a block cannot be had, everything\n"
    "else is restored, the lost files are named and the exit code is 3.\n"
    "Failing suppliers are summed up in one line each.\n"
    "\n"
    "Example: shardkeep restore latest --target /tmp/r --include /home/ann/docs\n";

struct RestoreFlags {
  std::string snapshot;
  RestoreOptions options;
  bool json = false;
};

absl::StatusOr<ExitCode> Restore(const RestoreFlags& flags, const CommandContext& ctx) {
  const RestoreOptions& opts = flags.options;
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  vault::v1::Snapshot snap;

  ProgressLine progress(isatty(STDERR_FILENO));
  auto r = RestoreSnapshot(*repo, flags.snapshot, opts, progress, &snap);
  progress.Stop();
  if (!r.ok()) return r.status();
  if (flags.json) {
    fprintf(ctx.out(), "%s\n",
            DumpJson(RestoreSummaryJson(crypto::ToHex(snap.id()), opts.target, *r)).c_str());
  } else {
    fprintf(ctx.out(),
            "restored snapshot %s to %s: %llu files, %llu dirs, %llu other, %llu hard links, "
            "%s in %.1f s\n",
            crypto::ToHex(snap.id()).substr(0, 8).c_str(), opts.target.c_str(),
            (unsigned long long)r->files, (unsigned long long)r->dirs,
            (unsigned long long)r->others, (unsigned long long)r->hardlinks,
            FormatByteSize(r->bytes).c_str(), r->seconds);
  }
  if (r->errors > 0) {
    return absl::DataLossError(
        absl::StrCat("restore finished with ", r->errors, " errors (see above)"));
  }
  if (!r->lost_files.empty()) {
    fprintf(ctx.err(),
            "partial restore: %zu files lost (too few fragments of their blocks could be "
            "fetched); everything else is restored\n",
            r->lost_files.size());
    return kPartial;
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupRestore(CLI::App& command) {
  auto flags = std::make_shared<RestoreFlags>();
  Describe(command, kIntro, kNotes);
  command.add_option("SNAPSHOT", flags->snapshot, "an ID, an unambiguous ID prefix, or 'latest'")
      ->type_name("")
      ->required();
  command.add_option("--target", flags->options.target, "where to restore (created if missing)")
      ->type_name("DIR")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->required();
  command
      .add_option("--include", flags->options.includes,
                  "restore only PATH (absolute, as in the\nsnapshot) and what is below it; "
                  "repeatable")
      ->type_name("PATH")
      ->allow_extra_args(false);
  command.add_flag("--json", flags->json, "print the summary as one JSON object");
  return [flags](const CommandContext& ctx) { return Restore(*flags, ctx); };
}

}  // namespace shardkeep::customer

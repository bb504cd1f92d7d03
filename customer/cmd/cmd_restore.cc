// shardkeep restore: brings a snapshot back into a directory.
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto.h"
#include "customer/cmd/cli.h"
#include "customer/ui/progress_line.h"
#include "customer/restore/restorer.h"

namespace shardkeep::customer {
namespace {

const char kHelp[] =
    "Usage: shardkeep restore SNAPSHOT --target DIR [--include PATH]... [--json]\n"
    "\n"
    "Restores SNAPSHOT (an ID, an unambiguous ID prefix, or 'latest') below DIR:\n"
    "a snapshot of /home/ann restored with --target /tmp/r gives /tmp/r/home/ann.\n"
    "Existing files at the same paths are replaced. Nothing is ever written\n"
    "outside DIR, whatever the snapshot holds.\n"
    "\n"
    "  --target DIR     where to restore (created if missing)\n"
    "  --include PATH   restore only PATH (absolute, as in the snapshot) and what\n"
    "                   is below it; repeatable\n"
    "  --json           print the summary as one JSON object\n"
    "\n"
    "Reads any k fragments of each block, data fragments first, so it works with\n"
    "up to n-k suppliers gone.\n";

absl::Status Restore(CommandContext& ctx) {
  RestoreOptions opts;
  bool json = false, help = false;
  FlagParser flags("restore");
  flags.String("target", &opts.target);
  flags.Repeated("include", &opts.includes);
  flags.Bool("json", &json);
  std::vector<std::string> positional;
  RETURN_IF_ERROR(flags.Parse(ctx.args, &positional, &help));
  if (help) {
    fputs(kHelp, ctx.out);
    fputs(kExitCodesHelp, ctx.out);
    return absl::OkStatus();
  }
  if (positional.size() != 1) return UsageError("restore: want exactly one SNAPSHOT");
  if (opts.target.empty()) return UsageError("restore: --target DIR is required");

  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  RETURN_IF_ERROR(repo->CheckSuppliers(repo->k()));
  RETURN_IF_ERROR(repo->LoadIndex());
  ASSIGN_OR_RETURN(auto snaps, repo->LoadSnapshots());
  ASSIGN_OR_RETURN(auto snap, Repository::FindSnapshot(snaps, positional[0]));

  ProgressLine progress(isatty(STDERR_FILENO));
  auto r = RunRestore(*repo, snap, opts, progress);
  progress.Stop();
  if (!r.ok()) return r.status();
  if (json) {
    fprintf(ctx.out,
            "{\"message_type\":\"summary\",\"snapshot_id\":\"%s\",\"target\":%s,\"files\":%llu,"
            "\"dirs\":%llu,\"other_nodes\":%llu,\"hardlinks\":%llu,\"bytes\":%llu,"
            "\"blocks\":%llu,\"errors\":%llu,\"warnings\":%llu,\"seconds\":%.3f}\n",
            crypto::ToHex(snap.id()).c_str(), JsonString(opts.target).c_str(),
            (unsigned long long)r->files, (unsigned long long)r->dirs,
            (unsigned long long)r->others, (unsigned long long)r->hardlinks,
            (unsigned long long)r->bytes, (unsigned long long)r->blocks,
            (unsigned long long)r->errors, (unsigned long long)r->warnings, r->seconds);
  } else {
    fprintf(ctx.out,
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
  return absl::OkStatus();
}

}  // namespace

int CmdRestore(CommandContext& ctx) {
  absl::Status s = Restore(ctx);
  return s.ok() ? kSuccess : ReportError(s);
}

}  // namespace shardkeep::customer

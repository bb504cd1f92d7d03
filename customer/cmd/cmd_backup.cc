// shardkeep backup: stores a new snapshot of the given paths.
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/crypto.h"
#include "customer/archive/archiver.h"
#include "customer/cmd/cli.h"
#include "customer/ui/progress_line.h"
#include "customer/net/supplier_set.h"

namespace shardkeep::customer {
namespace {

const char kHelp[] =
    "Usage: shardkeep backup PATH... [--exclude PATTERN]... [--exclude-file FILE]...\n"
    "                        [--one-file-system] [--tag TAG]... [--json]\n"
    "\n"
    "Stores a new snapshot of PATHs (kept as absolute paths) and prints its ID.\n"
    "Files unchanged since the last snapshot of the same paths on this host are\n"
    "not read again; data the vault already holds is not stored again.\n"
    "\n"
    "  --exclude PATTERN     skip matching paths (restic syntax: '*.o', '/home/*/.cache',\n"
    "                        '**' across directories, '!' to re-include); repeatable\n"
    "  --exclude-file FILE   read patterns from FILE, one a line ('#' comments)\n"
    "  --one-file-system     do not cross into other file systems (mount points are\n"
    "                        kept as empty directories)\n"
    "  --tag TAG             label the snapshot; repeatable\n"
    "  --host NAME           hostname to record (default: this machine's)\n"
    "  --json                print the summary as one JSON object\n"
    "\n"
    "Unreadable files are reported and left out; the snapshot is still saved and\n"
    "the exit code is 3. Files that change or vanish while read are reported.\n"
    "Sockets are skipped with a warning.\n";

std::string SummaryJson(const vault::v1::Snapshot& snap, const CommandContext& ctx) {
  const auto& s = snap.summary();
  std::string out = absl::StrCat(
      "{\"message_type\":\"summary\",\"snapshot_id\":\"", crypto::ToHex(snap.id()),
      "\",\"parent\":\"", crypto::ToHex(snap.parent()), "\",\"files_new\":", s.files_new(),
      ",\"files_changed\":", s.files_changed(), ",\"files_unchanged\":", s.files_unchanged(),
      ",\"dirs\":", s.dirs(), ",\"other_nodes\":", s.other_nodes(),
      ",\"bytes_total\":", s.bytes_total(), ",\"bytes_read\":", s.bytes_read(),
      ",\"chunks_new\":", s.chunks_new(), ",\"bytes_new_raw\":", s.bytes_new_raw(),
      ",\"bytes_stored\":", s.bytes_stored(), ",\"blocks\":", s.blocks(),
      ",\"blocks_degraded\":", s.blocks_degraded(), ",\"errors\":", s.errors(),
      ",\"warnings\":", s.warnings(), ",\"partial\":", snap.partial() ? "true" : "false",
      ",\"seconds\":", absl::StrFormat("%.3f", s.seconds()), ",\"supplier_bytes\":[");
  for (int i = 0; i < s.supplier_bytes_size(); ++i) {
    const auto& b = s.supplier_bytes(i);
    absl::StrAppend(&out, i ? "," : "", "{\"position\":", b.position(),
                    ",\"address\":", JsonString(b.address()), ",\"bytes\":", b.bytes(), "}");
  }
  absl::StrAppend(&out, "]}\n");
  return out;
}

void PrintSummary(const vault::v1::Snapshot& snap, FILE* out) {
  const auto& s = snap.summary();
  fprintf(out, "Files:     %llu new, %llu changed, %llu unchanged\n",
          (unsigned long long)s.files_new(), (unsigned long long)s.files_changed(),
          (unsigned long long)s.files_unchanged());
  fprintf(out, "Dirs:      %llu (and %llu symlinks, FIFOs, devices)\n",
          (unsigned long long)s.dirs(), (unsigned long long)s.other_nodes());
  fprintf(out, "Data:      %s in files, %s read, %s new after dedup, %s stored after compression\n",
          FormatByteSize(s.bytes_total()).c_str(), FormatByteSize(s.bytes_read()).c_str(),
          FormatByteSize(s.bytes_new_raw()).c_str(), FormatByteSize(s.bytes_stored()).c_str());
  fprintf(out, "Blocks:    %llu new", (unsigned long long)s.blocks());
  if (s.blocks_degraded() > 0) {
    fprintf(out, " (%llu degraded: not on every supplier)",
            (unsigned long long)s.blocks_degraded());
  }
  fprintf(out, "\nSent:     ");
  for (int i = 0; i < s.supplier_bytes_size(); ++i) {
    fprintf(out, "%s %s %s", i ? "," : "", s.supplier_bytes(i).address().c_str(),
            FormatByteSize(s.supplier_bytes(i).bytes()).c_str());
  }
  fprintf(out, "\nTime:      %.1f s\n", s.seconds());
  if (snap.partial()) {
    fprintf(out, "Warning:   %llu files could not be read (see above); the snapshot is partial\n",
            (unsigned long long)s.errors());
  }
  fprintf(out, "snapshot %s saved\n", crypto::ToHex(snap.id()).c_str());
}

absl::StatusOr<int> Backup(CommandContext& ctx) {
  BackupOptions opts;
  bool json = false, help = false;
  FlagParser flags("backup");
  flags.Repeated("exclude", &opts.excludes);
  flags.Repeated("exclude-file", &opts.exclude_files);
  flags.Bool("one-file-system", &opts.one_file_system);
  flags.Bool("x", &opts.one_file_system);
  flags.Repeated("tag", &opts.tags);
  flags.String("host", &opts.hostname);
  flags.Bool("json", &json);
  RETURN_IF_ERROR(flags.Parse(ctx.args, &opts.paths, &help));
  if (help) {
    fputs(kHelp, ctx.out);
    fputs(kExitCodesHelp, ctx.out);
    return kSuccess;
  }
  if (opts.paths.empty()) return UsageError("backup: give at least one PATH");
  std::vector<std::string> abs;
  for (const auto& p : opts.paths) {
    ASSIGN_OR_RETURN(std::string a, AbsolutePath(p));
    // A mistyped path is an error before anything is stored (a path that
    // vanishes during the backup is only a warning).
    struct stat st;
    if (::lstat(a.c_str(), &st) != 0) {
      return absl::NotFoundError(absl::StrCat("cannot back up ", a, ": ", strerror(errno)));
    }
    abs.push_back(a);
  }
  if (opts.hostname.empty()) {
    char buf[256] = {0};
    if (gethostname(buf, sizeof buf - 1) == 0) opts.hostname = buf;
  }

  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  RETURN_IF_ERROR(repo->CheckSuppliers(CommitThreshold(repo->n(), repo->k())));
  if (repo->suppliers().UpCount() < repo->n()) {
    fprintf(stderr, "warning: suppliers down, backing up in degraded mode: %s\n",
            repo->suppliers().DownSummary().c_str());
  }
  RETURN_IF_ERROR(repo->LoadIndex());
  ASSIGN_OR_RETURN(auto snapshots, repo->LoadSnapshots());
  opts.parent = FindParent(snapshots, opts.hostname, abs);

  ProgressLine progress(isatty(STDERR_FILENO));
  auto result = RunBackup(*repo, opts, progress);
  progress.Stop();
  if (!result.ok()) return result.status();
  if (json) {
    fputs(SummaryJson(result->snapshot, ctx).c_str(), ctx.out);
  } else {
    PrintSummary(result->snapshot, ctx.out);
  }
  return result->partial ? kPartial : kSuccess;
}

}  // namespace

int CmdBackup(CommandContext& ctx) {
  auto r = Backup(ctx);
  return r.ok() ? *r : ReportError(r.status());
}

}  // namespace shardkeep::customer

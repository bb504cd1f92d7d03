// shardkeep backup: stores a new snapshot of the given paths.
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/units.h"
#include "customer/archive/archiver.h"
#include "customer/cmd/command.h"
#include "customer/net/supplier_set.h"
#include "customer/ui/interrupt.h"
#include "customer/ui/json.h"
#include "customer/ui/progress_line.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Stores a new snapshot of PATHs (kept as absolute paths) and prints its ID.\n"
    "Files unchanged since the last snapshot of the same paths on this host are\n"
    "not read again; data the vault already holds is not stored again.";

const char kNotes[] =
    "Unreadable files are reported and left out; the snapshot is still saved and\n"
    "the exit code is 3. Files that change or vanish while read are reported.\n"
    "Sockets are skipped with a warning. Exit code 11: a prune holds the vault\n"
    "(it is named; --retry-lock waits).\n"
    "\n"
    "Example: shardkeep backup ~/docs --exclude '*.o' --exclude ~/docs/tmp --tag nightly\n";

struct BackupFlags {
  BackupOptions options;
  std::string retry_lock;
  bool json = false;
};

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

absl::StatusOr<ExitCode> Backup(BackupFlags& flags, const CommandContext& ctx) {
  BackupOptions& opts = flags.options;
  for (const auto& p : opts.paths) {
    ASSIGN_OR_RETURN(std::string a, AbsolutePath(p));
    // A mistyped path is an error before anything is stored (a path that
    // vanishes during the backup is only a warning).
    std::error_code ec;
    std::filesystem::file_status st = std::filesystem::symlink_status(a, ec);
    if (ec || !std::filesystem::exists(st))
      return absl::NotFoundError(absl::StrCat("cannot back up ", a, ": ", ec.message()));
  }
  if (!flags.retry_lock.empty()) {
    ASSIGN_OR_RETURN(opts.lock.wait_ms, ParseDurationMs(flags.retry_lock));
  }
  ASSIGN_OR_RETURN(auto repo, OpenRepository(ctx));
  InterruptFlag interrupt;
  opts.interrupted = [&interrupt] { return interrupt.raised(); };
  ProgressLine progress(isatty(STDERR_FILENO));
  auto result = BackupPaths(*repo, opts, progress);
  progress.Stop();
  opts.interrupted = nullptr;
  if (!result.ok()) return result.status();
  PublishVaultToDht(ctx, repo->vault());
  if (flags.json) {
    fprintf(ctx.out(), "%s\n", DumpJson(BackupSummaryJson(result->snapshot)).c_str());
  } else {
    PrintSummary(result->snapshot, ctx.out());
  }
  return result->partial ? kPartial : kSuccess;
}

}  // namespace

CommandAction SetupBackup(CLI::App& command) {
  auto flags = std::make_shared<BackupFlags>();
  BackupOptions& o = flags->options;
  Describe(command, kIntro, kNotes);
  command.add_option("PATH", o.paths, "what to back up (files or directories)")
      ->type_name("")
      ->required();
  // allow_extra_args(false): each --exclude takes one value, so the PATHs
  // after it stay PATHs.
  command
      .add_option("--exclude", o.excludes,
                  "skip matching paths (restic syntax: '*.o',\n'/home/*/.cache', '**' across "
                  "directories,\n'!' to re-include); repeatable")
      ->type_name("PATTERN")
      ->allow_extra_args(false);
  command
      .add_option("--exclude-file", o.exclude_files,
                  "read patterns from FILE, one a line\n('#' comments); repeatable")
      ->type_name("FILE")
      ->allow_extra_args(false);
  command.add_flag("-x,--one-file-system", o.one_file_system,
                   "do not cross into other file systems\n(mount points are kept as empty "
                   "directories)");
  command.add_option("--tag", o.tags, "label the snapshot; repeatable")
      ->type_name("TAG")
      ->allow_extra_args(false);
  command.add_option("--host", o.hostname, "hostname to record (default: this machine's)")
      ->type_name("NAME")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  command.add_option("--retry-lock", flags->retry_lock,
                     "wait up to DURATION while a prune holds the vault")
      ->type_name("DURATION");
  command.add_flag("--json", flags->json, "print the summary as one JSON object");
  return [flags](const CommandContext& ctx) { return Backup(*flags, ctx); };
}

}  // namespace shardkeep::customer

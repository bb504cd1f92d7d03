#include "customer/archive/archiver.h"

#include <chrono>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "common/hostname.h"
#include "customer/archive/archiver_internal.h"
#include "customer/repo/quota_budget.h"
#include "customer/vault/names.h"
#include "proto/limits.h"

namespace shardkeep::customer {
namespace archive_internal {
namespace {

const std::string kProgram = std::string("shardkeep ") + protocol::kVersion;

}  // namespace

void Archiver::Fail(absl::Status s) {
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    if (error_.ok()) error_ = std::move(s);
    aborted_ = true;
    done_cv_.notify_all();
  }
  read_q_.Close();
  chunk_q_.Close();
  tree_q_.Close();
  pack_q_.Close();
}

absl::Status Archiver::Checkpoint() {
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  std::vector<vault::v1::BlockRecord> records = std::move(unwritten_);
  unwritten_.clear();
  for (auto& r : writer_->TakeCommitted()) records.push_back(std::move(r));
  if (records.empty()) return absl::OkStatus();
  if (opts_.lock_held) {
    absl::Status held = opts_.lock_held();
    if (!held.ok()) {
      unwritten_ = std::move(records);
      return held;
    }
  }
  const size_t count = records.size();
  auto names = WriteIndexPieces(repo_, backup_id_, records, next_piece_);
  if (!names.ok()) {
    unwritten_ = std::move(records);
    return names.status();
  }
  next_piece_ += static_cast<uint32_t>(names->size());
  for (auto& n : *names) index_names_.push_back(std::move(n));
  recorded_blocks_ += count;
  return absl::OkStatus();
}

void Archiver::CheckpointerMain(const std::atomic<bool>& done) {
  auto last = std::chrono::steady_clock::now();
  while (!done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!interrupted_ && opts_.interrupted && opts_.interrupted()) {
      interrupted_ = true;
      Fail(WithKind(absl::CancelledError("interrupted"), ErrorKind::kInterrupted));
    }
    const auto now = std::chrono::steady_clock::now();
    const size_t pending = writer_->committed_pending();
    if (pending >= opts_.checkpoint_blocks ||
        (pending > 0 && now - last >= std::chrono::milliseconds(opts_.checkpoint_ms))) {
      absl::Status s = Checkpoint();
      // Not fatal: the records stay for the next checkpoint or the end.
      if (!s.ok()) Warn(absl::StrCat("index checkpoint not stored (retried later): ", s.message()));
      last = now;
    }
  }
}

absl::Status Archiver::WriteIndexAndSnapshot(vault::v1::Snapshot* snap) {
  RETURN_IF_ERROR(Checkpoint());
  {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    for (const auto& name : index_names_) snap->add_index_objects(name);
  }
  if (opts_.lock_held) RETURN_IF_ERROR(opts_.lock_held());
  RETURN_IF_ERROR(repo_.PutObject(SnapshotObjectName(snap->id()), snap->SerializeAsString(),
                                  /*cache=*/true));
  // Remember it: suppliers that later leave it out are noticed
  // (repo/snapshot_history.h). Best effort: the record is stored.
  vault::v1::SeenState seen = repo_.vault().LoadSeen();
  if (snap->sequence() > seen.newest_sequence()) {
    seen.set_newest_sequence(snap->sequence());
    seen.set_newest_snapshot_id(snap->id());
    seen.set_newest_time_ns(snap->time_ns());
    repo_.vault().SaveSeen(seen).IgnoreError();
  }
  return absl::OkStatus();
}

absl::StatusOr<BackupResult> Archiver::Run(const std::vector<std::string>& abs_paths) {
  Clock* clock = opts_.clock != nullptr ? opts_.clock : RealClock();
  const int64_t start_ns = clock->NowNs();
  PathTrie trie;
  for (const auto& p : abs_paths) {
    PathTrie* t = &trie;
    if (p != "/") {
      size_t i = 1;
      while (i <= p.size() && !t->leaf) {
        size_t j = p.find('/', i);
        if (j == std::string::npos) j = p.size();
        t = &t->children[p.substr(i, j - i)];
        i = j + 1;
      }
    }
    if (!t->leaf) {
      t->leaf = true;
      t->children.clear();  // a path below another one adds nothing
    }
  }

  writer_ = std::make_unique<BlockWriter>(
      repo_, BlockWriter::Options{opts_.blocks_in_flight, opts_.quota, opts_.bytes_in_flight},
      [this](const std::string& warning) { Warn(warning); }, [this](const absl::Status& s) { Fail(s); });
  backup_id_ = crypto::RandomBytes(16);
  std::atomic<bool> pipeline_done{false};
  std::thread checkpointer([&] { CheckpointerMain(pipeline_done); });

  std::thread scanner;
  if (progress_.wants_totals()) scanner = std::thread([&] { ScannerMain(abs_paths); });
  std::thread walker([&] { WalkerMain(trie); });
  std::thread reader([&] { ReaderMain(); });
  std::vector<std::thread> workers;
  for (int i = 0; i < std::max(1, opts_.workers); ++i) workers.emplace_back([&] { WorkerMain(); });
  std::thread tree_builder([&] { TreeBuilderMain(); });
  std::thread packer([&] { PackerMain(); });

  walker.join();
  reader.join();
  chunk_q_.Close();
  for (auto& w : workers) w.join();
  tree_builder.join();
  pack_q_.Close();
  packer.join();
  writer_->Wait().IgnoreError();  // its error, if any, went to Fail
  pipeline_done = true;
  checkpointer.join();
  scan_stop_ = true;
  if (scanner.joinable()) scanner.join();
  absl::Status stopped;
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    stopped = error_;
  }
  if (!stopped.ok()) {
    // Whatever stopped the backup, the blocks already stored stay useful:
    // record them so the next backup reuses them instead of sending them
    // again. No snapshot refers to them (nothing half-written is ever in a
    // snapshot); prune removes them if no backup ever does.
    absl::Status kept = Checkpoint();
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    const std::string what =
        kept.ok() ? absl::StrCat(recorded_blocks_, " blocks stored before it are recorded in the "
                                 "index; the next backup reuses them and sends only the rest")
                  : absl::StrCat("recording the blocks stored before it failed: ", kept.message());
    if (interrupted_) {
      return WithKind(absl::CancelledError(absl::StrCat("backup interrupted: no snapshot was "
                                                        "saved; ", what)),
                      ErrorKind::kInterrupted);
    }
    absl::Status out(stopped.code(), absl::StrCat(stopped.message(), " (", what, ")"));
    // Keeps the kind (kQuotaExceeded, kSuppliersUnreachable): the exit code.
    stopped.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
      out.SetPayload(url, payload);
    });
    return out;
  }
  if (!root_) return absl::InternalError("backup produced no root tree");

  BackupResult result;
  vault::v1::Snapshot& snap = result.snapshot;
  snap.set_id(backup_id_);
  snap.set_time_ns(start_ns);
  snap.set_hostname(opts_.hostname.empty() ? shardkeep::Hostname() : opts_.hostname);
  if (struct passwd* pw = getpwuid(geteuid())) snap.set_username(pw->pw_name);
  for (const auto& p : abs_paths) snap.add_paths(p);
  for (const auto& t : opts_.tags) snap.add_tags(t);
  *snap.mutable_root() = root_->result;
  if (opts_.parent) snap.set_parent(opts_.parent->id());
  // Follows the newest snapshot the vault holds or this machine has seen
  // (LoadSnapshots, before the backup): rollback detection.
  snap.set_sequence(repo_.history().newest_sequence + 1);
  snap.set_predecessor(repo_.history().newest_id);
  snap.set_program(kProgram);
  snap.set_partial(errors_ > 0);

  vault::v1::Summary* sum = snap.mutable_summary();
  sum->set_files_new(files_new_);
  sum->set_files_changed(files_changed_);
  sum->set_files_unchanged(files_unchanged_);
  sum->set_dirs(dirs_);
  sum->set_other_nodes(others_);
  sum->set_bytes_total(bytes_total_);
  sum->set_bytes_read(bytes_read_);
  sum->set_chunks_new(chunks_new_);
  sum->set_bytes_new_raw(bytes_new_raw_);
  sum->set_bytes_stored(bytes_stored_);
  sum->set_blocks(writer_->blocks());
  sum->set_blocks_degraded(writer_->blocks_degraded());
  sum->set_errors(errors_);
  sum->set_warnings(warnings_);

  // Per-supplier bytes are counted before the metadata objects go out, and
  // then again after, so the summary stored includes blocks only; the
  // result returned to the caller is completed below.
  for (int i = 0; i < repo_.n(); ++i) {
    auto* sb = sum->add_supplier_bytes();
    sb->set_position(i);
    sb->set_address(repo_.suppliers().address(i));
    sb->set_bytes(repo_.suppliers().BytesSent(i));
  }
  sum->set_seconds((clock->NowNs() - start_ns) / 1e9);
  RETURN_IF_ERROR(WriteIndexAndSnapshot(&snap));
  for (int i = 0; i < repo_.n(); ++i) {
    sum->mutable_supplier_bytes(i)->set_bytes(repo_.suppliers().BytesSent(i));
  }
  sum->set_seconds((clock->NowNs() - start_ns) / 1e9);
  result.warnings = warnings_;
  result.partial = errors_ > 0;
  return result;
}


}  // namespace archive_internal

const vault::v1::Snapshot* FindParent(const std::vector<vault::v1::Snapshot>& snapshots,
                                      const std::string& hostname,
                                      const std::vector<std::string>& abs_paths) {
  std::vector<std::string> want(abs_paths);
  std::sort(want.begin(), want.end());
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    if (it->hostname() != hostname) continue;
    std::vector<std::string> have(it->paths().begin(), it->paths().end());
    std::sort(have.begin(), have.end());
    if (have == want) return &*it;
  }
  return nullptr;
}

absl::StatusOr<std::string> AbsolutePath(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("empty path");
  std::string full = path;
  if (path[0] != '/') {
    char buf[PATH_MAX];
    if (getcwd(buf, sizeof buf) == nullptr) {
      return absl::InternalError("cannot get the working directory");
    }
    full = std::string(buf) + "/" + path;
  }
  return "/" + absl::StrJoin(fs::CleanComponents(full), "/");
}

absl::StatusOr<BackupResult> BackupPaths(Repository& repo, BackupOptions options,
                                         Progress& progress) {
  if (options.hostname.empty()) options.hostname = shardkeep::Hostname();
  std::vector<std::string> abs;
  for (const auto& p : options.paths) {
    ASSIGN_OR_RETURN(std::string a, AbsolutePath(p));
    abs.push_back(a);
  }
  RETURN_IF_ERROR(repo.CheckSuppliers(CommitThreshold(repo.n(), repo.k())));
  if (repo.suppliers().UpCount() < repo.n()) {
    progress.Warn(absl::StrCat("warning: suppliers down, backing up in degraded mode: ",
                               repo.suppliers().DownSummary()));
  }
  // Every contract, asked once: it renews every lease, says which run out
  // soon (docs/SECURITY.md, "Leases"), and gives the quota and usage the
  // backup must stay within.
  const std::vector<absl::StatusOr<v1::Contract>> contracts = repo.Contracts();
  constexpr int64_t kLeaseWarningMs = int64_t{14} * 24 * 3600 * 1000;
  Clock* clock = options.clock != nullptr ? options.clock : RealClock();
  for (const std::string& w : repo.CheckLeases(contracts, clock->NowMs(), kLeaseWarningMs)) {
    progress.Warn(absl::StrCat("warning: ", w));
  }
  // A shared lock: other backups may run, prune may not (it would delete
  // the fragments this backup writes before an index names them).
  ASSIGN_OR_RETURN(std::unique_ptr<VaultLock> lock,
                   VaultLock::Acquire(repo, VaultLock::Kind::kShared, "backup", options.lock));
  options.lock_held = [l = lock.get()] { return l->Held(); };
  RETURN_IF_ERROR(repo.LoadIndex());
  ASSIGN_OR_RETURN(std::vector<vault::v1::Snapshot> snapshots, repo.LoadSnapshots());
  options.parent = FindParent(snapshots, options.hostname, abs);
  // Quota and usage as each supplier counted them above (the lock stored
  // since is within the budget's reserve): the backup stops before a block
  // that would not fit (quota_budget.h).
  QuotaBudget quota = QuotaBudget::FromContracts(repo, contracts);
  if (options.quota == nullptr) options.quota = &quota;
  return RunBackup(repo, options, progress);
}

absl::StatusOr<BackupResult> RunBackup(Repository& repo, const BackupOptions& options,
                                       Progress& progress) {
  if (options.paths.empty()) return absl::InvalidArgumentError("no paths to back up");
  std::vector<std::string> abs;
  for (const auto& p : options.paths) {
    ASSIGN_OR_RETURN(std::string a, AbsolutePath(p));
    abs.push_back(a);
  }
  ASSIGN_OR_RETURN(fs::ExcludeMatcher excluder,
                   fs::ExcludeMatcher::Create(options.excludes, options.exclude_files));
  archive_internal::Archiver archiver(repo, options, progress, std::move(excluder));
  return archiver.Run(abs);
}

}  // namespace shardkeep::customer

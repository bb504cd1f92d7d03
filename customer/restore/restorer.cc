#include "customer/restore/restorer.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto.h"
#include "common/workers.h"
#include "customer/vault/block.h"
#include "customer/fs/fs.h"
#include "customer/repo/tree_node.h"
#include "customer/repo/tree_walker.h"

namespace shardkeep::customer {
namespace {

using Path = fs::RestoreTarget::Path;
using vault::v1::TreeNode;

std::string PathString(const Path& p) { return "/" + absl::StrJoin(p, "/"); }

// Decoded blocks kept from one window to the next (RestoreOptions, windows).
constexpr size_t kCarriedBlocks = 2;

// A file whose contents come from blocks.
struct FileJob {
  Path path;
  fs::Node node;
  std::pair<uint64_t, uint64_t> inode_key;  // (dev, inode) when linked
  bool linked = false;
  std::atomic<int> pending{0};
  std::mutex mu;
  std::unique_ptr<fs::FileWriter> writer;
  bool failed = false;      // guarded by mu
  bool lost = false;        // guarded by mu: failed for want of fragments
  std::vector<Path> links;  // hard links to make once the file is complete
};

// One chunk of one block going to one place in one file.
struct Target {
  FileJob* job;
  uint64_t offset;
  vault::v1::BlockChunk chunk;
};

class Restorer {
 public:
  Restorer(Repository& repo, const RestoreOptions& opts, Progress& progress)
      : repo_(repo),
        opts_(opts),
        progress_(progress),
        block_memory_(std::max<size_t>(opts.block_memory_bytes, 1)) {
    for (const auto& inc : opts.includes) includes_.push_back(fs::CleanComponents(inc));
    include_found_.assign(includes_.size(), false);
  }

  absl::StatusOr<RestoreResult> Run(const vault::v1::Snapshot& snap);

 private:
  enum class Scope { kSkip, kAncestor, kFull };
  Scope ScopeOf(const Path& p) const {
    if (includes_.empty()) return Scope::kFull;
    bool ancestor = false, full = false;
    for (size_t i = 0; i < includes_.size(); ++i) {
      const auto& inc = includes_[i];
      if (inc.size() <= p.size() && std::equal(inc.begin(), inc.end(), p.begin())) {
        full = true;
        include_found_[i] = true;
      } else if (inc.size() > p.size() && std::equal(p.begin(), p.end(), inc.begin())) {
        ancestor = true;
      }
    }
    if (full) return Scope::kFull;
    return ancestor ? Scope::kAncestor : Scope::kSkip;
  }

  // An --include that matched nothing is an error naming it (a typo must not
  // look like a successful restore). One below a matched include is covered.
  void ReportIncludesNotFound() {
    for (size_t i = 0; i < includes_.size(); ++i) {
      if (include_found_[i]) continue;
      bool covered = false;
      for (size_t j = 0; j < includes_.size(); ++j) {
        const auto& a = includes_[j];
        const auto& b = includes_[i];
        covered |=
            include_found_[j] && a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
      }
      if (!covered) {
        Error(absl::StrCat("--include ", fs::PrintablePath(opts_.includes[i]),
                           ": not in the snapshot"));
      }
    }
  }

  void Error(const std::string& msg) {
    result_errors_++;
    progress_.Warn("error: " + msg);
  }
  void Warn(const std::string& msg) {
    result_warnings_++;
    progress_.Warn("warning: " + msg);
  }

  // The TreeWalker's visitor: creates what needs no data at once and plans
  // the files (which chunks of which blocks go where).
  absl::StatusOr<TreeWalker::Next> Plan(const Path& path, const TreeNode& tn);
  void PlanFile(const TreeNode& tn, Path path);
  void FinishFile(FileJob* job);
  // One target of `job` is done: the last one finishes the file (or, if it
  // failed, drops its writer, which removes the temporary file). The writer
  // is only ever destroyed here, once no other thread can be writing to it.
  void TargetDone(FileJob* job) {
    if (job->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) FinishFile(job);
  }
  void Lost(const std::string& shown) {
    std::lock_guard<std::mutex> lock(lost_mu_);
    if (lost_.size() < kLostShown) progress_.Warn("error: lost: " + shown);
    lost_.push_back(shown);
  }
  void ReportSuppliers(RestoreResult* r);
  static constexpr size_t kLostShown = 20;
  void BlockWorker();
  absl::Status RestoreBlock(size_t index, uint32_t block, const std::vector<Target>& targets);
  // Fetches and writes what the window planned, then forgets it (hard-linked
  // files that finished are remembered by inode for later links).
  void RunWindow();
  // Gives the directories that are complete their metadata, deepest first,
  // and forgets them: after a window every directory the walk has left is
  // complete (the walk is depth first, and every file planned so far is
  // written), so only those on `open` (the path being planned; {} at the end:
  // none) are kept. Memory then follows the tree's depth, not its number
  // of directories.
  void FinishDirs(const Path& open);

  Repository& repo_;
  const RestoreOptions& opts_;
  Progress& progress_;
  std::vector<std::vector<std::string>> includes_;
  mutable std::vector<bool> include_found_;  // per include: a path at or below it was seen
  std::unique_ptr<fs::RestoreTarget> target_;

  std::vector<std::unique_ptr<FileJob>> jobs_;
  std::vector<std::pair<Path, fs::Node>> dirs_;  // made, metadata not yet applied
  uint64_t dirs_restored_ = 0;
  std::unordered_map<uint32_t, size_t> block_slot_;
  std::vector<std::pair<uint32_t, std::vector<Target>>> blocks_;  // plan order
  // Hard links: (dev, inode) -> the window's job for it, or the path of a
  // file restored in an earlier window (or empty), or failed there.
  std::map<std::pair<uint64_t, uint64_t>, FileJob*> inodes_;
  std::map<std::pair<uint64_t, uint64_t>, Path> complete_inodes_;
  std::set<std::pair<uint64_t, uint64_t>> failed_inodes_;
  std::vector<uint32_t> blocks_restored_;  // every data block fetched (for the margin)
  // Decoded blocks carried from one window to the next (see kCarriedBlocks).
  std::mutex carry_mu_;
  std::map<uint32_t, std::shared_ptr<const std::string>> carry_, carry_next_;

  // Shared by the block workers (RestoreOptions::block_memory_bytes).
  ByteBudget block_memory_;
  std::atomic<size_t> next_block_{0};
  std::atomic<uint64_t> result_errors_{0}, result_warnings_{0};
  std::atomic<uint64_t> files_{0}, others_{0}, hardlinks_{0}, bytes_{0}, blocks_done_{0};
  std::mutex lost_mu_;
  std::vector<std::string> lost_;  // guarded by lost_mu_
  std::atomic<uint64_t> blocks_failed_{0};
};

absl::StatusOr<TreeWalker::Next> Restorer::Plan(const Path& path, const TreeNode& tn) {
  using Next = TreeWalker::Next;
  if (!fs::IsSafeName(tn.name())) {
    Error(absl::StrCat("refusing unsafe name ", fs::PrintablePath(tn.name()), " in ",
                       fs::PrintablePath(PathString(Path(path.begin(), path.end() - 1)))));
    return Next::kSkip;
  }
  Scope scope = ScopeOf(path);
  if (scope == Scope::kSkip) return Next::kSkip;
  if (scope == Scope::kAncestor && tn.type() != vault::v1::NODE_TYPE_DIR) return Next::kSkip;
  const std::string shown = target_->Describe(path);
  fs::Node node = TreeToNode(tn, PathString(path));
  switch (tn.type()) {
    case vault::v1::NODE_TYPE_DIR: {
      absl::Status s = target_->MakeDir(path);
      if (!s.ok()) {
        Error(std::string(s.message()));
        return Next::kSkip;
      }
      dirs_.emplace_back(path, node);
      return Next::kDescend;
    }
    case vault::v1::NODE_TYPE_SYMLINK: {
      absl::Status s = target_->MakeSymlink(path, tn.symlink_target());
      if (s.ok()) s = target_->ApplyMetadata(path, node);
      if (!s.ok()) {
        Error(std::string(s.message()));
      } else {
        others_++;
      }
      break;
    }
    case vault::v1::NODE_TYPE_FIFO:
    case vault::v1::NODE_TYPE_CHAR_DEV:
    case vault::v1::NODE_TYPE_BLOCK_DEV: {
      absl::Status s = target_->MakeSpecial(path, node);
      if (absl::IsPermissionDenied(s) && tn.type() != vault::v1::NODE_TYPE_FIFO) {
        Warn(absl::StrCat("device node not restored (needs root): ", shown));
        break;
      }
      if (s.ok()) s = target_->ApplyMetadata(path, node);
      if (!s.ok()) {
        Error(std::string(s.message()));
      } else {
        others_++;
      }
      break;
    }
    case vault::v1::NODE_TYPE_FILE:
      PlanFile(tn, path);
      break;
    default:
      Warn(absl::StrCat("unknown node type ", tn.type(), " skipped: ", shown));
      break;
  }
  return Next::kSkip;
}

void Restorer::PlanFile(const TreeNode& tn, Path path) {
  const auto inode_key = std::make_pair(tn.dev(), tn.inode());
  const bool linked = tn.nlink() > 1;
  if (linked) {
    auto it = inodes_.find(inode_key);
    if (it != inodes_.end()) {
      it->second->links.push_back(std::move(path));
      return;
    }
    auto e = complete_inodes_.find(inode_key);
    if (e != complete_inodes_.end()) {
      absl::Status s = target_->MakeHardlink(path, e->second);
      if (!s.ok()) {
        Error(std::string(s.message()));
      } else {
        hardlinks_++;
      }
      return;
    }
    if (failed_inodes_.count(inode_key)) {
      Error(absl::StrCat("cannot restore ", target_->Describe(path),
                         ": the file it is a hard link of was not restored"));
      return;
    }
  }
  fs::Node node = TreeToNode(tn, PathString(path));
  progress_.total_files++;
  progress_.total_bytes += tn.size();
  if (tn.content_size() == 0) {
    auto w = target_->CreateFile(path);
    absl::Status s = w.ok() ? (*w)->Finish(tn.size()) : w.status();
    if (s.ok()) s = target_->ApplyMetadata(path, node);
    if (!s.ok()) {
      Error(std::string(s.message()));
      return;
    }
    files_++;
    progress_.files++;
    progress_.bytes += tn.size();
    if (linked) complete_inodes_.emplace(inode_key, std::move(path));
    return;
  }
  auto job = std::make_unique<FileJob>();
  job->path = std::move(path);
  job->node = std::move(node);
  job->inode_key = inode_key;
  job->linked = linked;
  std::vector<Target> targets;
  for (const auto& c : tn.content()) {
    ChunkLocation loc;
    if (!repo_.index().Find(c.id(), &loc)) {
      Error(absl::StrCat("cannot restore ", target_->Describe(job->path), ": chunk ",
                         crypto::ToHex(c.id()), " is not in the vault index"));
      return;
    }
    if (loc.raw_length != c.length()) {
      Error(absl::StrCat("cannot restore ", target_->Describe(job->path),
                         ": chunk length differs from the index"));
      return;
    }
    Target t;
    t.job = job.get();
    t.offset = c.offset();
    t.chunk = ToBlockChunk(c.id(), loc);
    auto [it, inserted] = block_slot_.emplace(loc.block, blocks_.size());
    if (inserted) blocks_.emplace_back(loc.block, std::vector<Target>());
    targets.push_back(std::move(t));
    blocks_[it->second].second.push_back(targets.back());
  }
  job->pending = static_cast<int>(targets.size());
  if (linked) inodes_.emplace(inode_key, job.get());
  jobs_.push_back(std::move(job));
  if (jobs_.size() >= opts_.window_files || blocks_.size() >= opts_.window_blocks) {
    const Path open = jobs_.back()->path;
    RunWindow();
    FinishDirs(open);
  }
}

void Restorer::FinishDirs(const Path& open) {
  std::vector<std::pair<Path, fs::Node>> done, kept;
  for (auto& d : dirs_) {
    const Path& p = d.first;
    const bool ancestor = p.size() < open.size() && std::equal(p.begin(), p.end(), open.begin());
    (ancestor ? kept : done).push_back(std::move(d));
  }
  dirs_ = std::move(kept);
  // Deepest first, so applying a child's metadata after its parent's does
  // not disturb the parent's mtime.
  std::stable_sort(done.begin(), done.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [path, node] : done) {
    absl::Status s = target_->ApplyMetadata(path, node);
    if (!s.ok()) Error(std::string(s.message()));
  }
  dirs_restored_ += done.size();
}

void Restorer::RunWindow() {
  if (!blocks_.empty()) {
    next_block_ = 0;
    std::vector<std::thread> workers;
    int nworkers = std::max(1, std::min<int>(opts_.block_workers, blocks_.size()));
    for (int i = 0; i < nworkers; ++i) workers.emplace_back([this] { BlockWorker(); });
    for (auto& w : workers) w.join();
    for (const auto& b : blocks_) blocks_restored_.push_back(b.first);
  }
  {
    std::lock_guard<std::mutex> lock(carry_mu_);
    carry_ = std::move(carry_next_);
    carry_next_.clear();
  }
  for (const auto& job : jobs_) {
    if (!job->linked) continue;
    if (job->failed) {
      failed_inodes_.insert(job->inode_key);
    } else {
      complete_inodes_.emplace(job->inode_key, job->path);
    }
  }
  inodes_.clear();
  jobs_.clear();
  blocks_.clear();
  block_slot_.clear();
}

void Restorer::FinishFile(FileJob* job) {
  std::unique_ptr<fs::FileWriter> writer;
  {
    std::lock_guard<std::mutex> lock(job->mu);
    writer = std::move(job->writer);
    if (job->failed) return;  // `writer` goes, and its temporary file with it
  }
  absl::Status s = writer->Finish(job->node.size);
  writer.reset();
  if (s.ok()) s = target_->ApplyMetadata(job->path, job->node);
  if (!s.ok()) {
    Error(std::string(s.message()));
    return;
  }
  files_++;
  progress_.files++;
  for (const Path& link : job->links) {
    absl::Status ls = target_->MakeHardlink(link, job->path);
    if (!ls.ok()) {
      Error(std::string(ls.message()));
    } else {
      hardlinks_++;
    }
  }
}

absl::Status Restorer::RestoreBlock(size_t index, uint32_t block,
                                   const std::vector<Target>& targets) {
  std::shared_ptr<const std::string> plain_ptr;
  {
    std::lock_guard<std::mutex> lock(carry_mu_);
    auto it = carry_.find(block);
    if (it != carry_.end()) plain_ptr = it->second;
  }
  // What this block holds of the workers' shared budget until its chunks
  // are written (nothing for a block carried from the window before).
  size_t charged = 0;
  const bool plain_loaded = plain_ptr == nullptr;
  if (plain_loaded) {
    // At the peak, LoadBlock holds the sealed block and its fragments (k of
    // them: one sealed block's worth); a tree block then also its opened
    // copy (data blocks are opened in place).
    charged = 2 * static_cast<size_t>(repo_.index().block(block).sealed_size());
    block_memory_.Acquire(charged);
    auto p = repo_.LoadBlock(block);
    if (!p.ok()) {
      block_memory_.Release(charged);
      block_memory_.EndHolder();
      return p.status();
    }
    // From here on only the opened block is held.
    const size_t keep = std::min(charged, p->size());
    block_memory_.Release(charged - keep);
    charged = keep;
    plain_ptr = std::make_shared<const std::string>(std::move(*p));
  }
  struct ReleaseAtEnd {
    ByteBudget& budget;
    size_t bytes;
    bool held;
    ~ReleaseAtEnd() {
      if (!held) return;
      budget.Release(bytes);
      budget.EndHolder();
    }
  } release_at_end{block_memory_, charged, plain_loaded};
  const std::string& plain = *plain_ptr;
  if (index + kCarriedBlocks >= blocks_.size()) {
    std::lock_guard<std::mutex> lock(carry_mu_);
    carry_next_[block] = plain_ptr;
  }
  std::string data;
  for (const Target& t : targets) {
    FileJob* job = t.job;
    data.clear();
    absl::Status s = ExtractChunk(plain, t.chunk, &data);
    fs::FileWriter* writer = nullptr;
    {
      std::lock_guard<std::mutex> lock(job->mu);
      if (!s.ok()) {
        if (!job->failed) {
          Error(absl::StrCat("cannot restore ", target_->Describe(job->path), ": ", s.message()));
        }
        job->failed = true;
      } else if (!job->failed && !job->writer) {
        auto w = target_->CreateFile(job->path);
        if (!w.ok()) {
          job->failed = true;
          Error(std::string(w.status().message()));
        } else {
          job->writer = std::move(*w);
        }
      }
      if (!job->failed) writer = job->writer.get();
    }
    if (writer != nullptr) {
      s = writer->WriteAt(t.offset, data);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(job->mu);
        if (!job->failed) Error(std::string(s.message()));
        job->failed = true;
      } else {
        bytes_ += data.size();
        progress_.bytes += data.size();
      }
    }
    TargetDone(job);
  }
  return absl::OkStatus();
}

void Restorer::BlockWorker() {
  for (;;) {
    size_t i = next_block_.fetch_add(1);
    if (i >= blocks_.size()) return;
    const auto& [block, targets] = blocks_[i];
    absl::Status s = RestoreBlock(i, block, targets);
    if (!s.ok()) {
      // Every file that needed this block is lost. How each supplier failed
      // is summed up once at the end (ReportSuppliers), not per block.
      blocks_failed_++;
      for (const Target& t : targets) {
        bool newly_lost = false;
        {
          std::lock_guard<std::mutex> lock(t.job->mu);
          newly_lost = !t.job->lost && !t.job->failed;
          t.job->failed = true;
          t.job->lost = true;
        }
        if (newly_lost) Lost(target_->Describe(t.job->path));
        TargetDone(t.job);
      }
      continue;
    }
    blocks_done_++;
  }
}

absl::StatusOr<RestoreResult> Restorer::Run(const vault::v1::Snapshot& snap) {
  auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(target_, fs::RestoreTarget::Open(opts_.target));
  // Files spanning many blocks stay open until complete: allow many.
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  // One walk plans everything; a tree that cannot be read (or is refused:
  // it contains itself, or is nested too deep) is an error for its files,
  // and the rest is restored.
  TreeWalker walker(repo_);
  RETURN_IF_ERROR(walker.Walk(
      snap.root(), [this](const Path& p, const TreeNode& tn) { return Plan(p, tn); },
      [this](const Path& dir, const absl::Status& s) {
        // Data lost (too few fragments of a tree block): the directory's
        // contents are lost files; any other failure is an error.
        if (absl::IsDataLoss(s) && ScopeOf(dir) != Scope::kSkip) {
          progress_.Warn(absl::StrCat("error: ", s.message()));
          Lost(target_->Describe(dir) + "/");
        } else {
          Error(std::string(s.message()));
        }
        return absl::OkStatus();
      }));
  ReportIncludesNotFound();
  progress_.totals_known = true;
  RunWindow();  // what the walk planned since the last window
  FinishDirs({});  // the directories still open: all complete now

  RestoreResult r;
  ReportSuppliers(&r);
  r.files = files_;
  r.dirs = dirs_restored_;
  r.others = others_;
  r.hardlinks = hardlinks_;
  r.bytes = bytes_;
  r.blocks = blocks_done_;
  r.errors = result_errors_;
  r.warnings = result_warnings_;
  {
    std::lock_guard<std::mutex> lock(lost_mu_);
    r.lost_files = lost_;
  }
  if (r.lost_files.size() > kLostShown) {
    progress_.Warn(absl::StrCat("error: ... and ", r.lost_files.size() - kLostShown,
                                " more lost (--json lists them all)"));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

void Restorer::ReportSuppliers(RestoreResult* r) {
  SupplierSet& set = repo_.suppliers();
  const int n = set.n(), k = set.k();
  const auto troubles = set.FetchTroubles();
  uint64_t lost_positions = 0;  // bit i: position i counts as lost
  for (int i = 0; i < n; ++i) {
    const auto& t = troubles[i];
    const bool down = set.IsDown(i);
    if (!down && !t.any()) continue;
    std::vector<std::string> how;
    if (down || t.unreachable > 0) {
      how.push_back(t.unreachable > 0 ? absl::StrCat("down (", t.unreachable, " fetches failed)")
                                      : "down");
    }
    if (t.slow > 0) how.push_back(absl::StrCat("slow (no answer in time ", t.slow, " times)"));
    if (t.corrupt > 0) {
      how.push_back(absl::StrCat("corrupt (", t.corrupt, " fragments failed their hash check)"));
    }
    if (t.other > 0) how.push_back(absl::StrCat("refused (", t.other, " fetches)"));
    std::string why = !t.first_error.empty() ? t.first_error : std::string(set.DownReason(i).message());
    std::string line = absl::StrCat("supplier ", set.address(i), " (position ", i,
                                    "): ", absl::StrJoin(how, ", "));
    if (!why.empty()) absl::StrAppend(&line, "; first error: ", why);
    r->supplier_report.push_back(line);
    progress_.Warn("warning: " + line);
    if (down || t.unreachable > 0 || t.corrupt > 0 || t.other > 0) lost_positions |= 1ULL << i;
  }
  r->full_margin = n - k;
  for (uint32_t block : blocks_restored_) {
    const auto& rec = repo_.index().block(block);
    int good = 0;
    for (int i = 0; i < n; ++i) {
      bool stored = rec.stored_mask() == 0 || ((rec.stored_mask() >> i) & 1);
      if (stored && !((lost_positions >> i) & 1)) ++good;
    }
    // A lost block is named in lost_files; here it counts as no margin.
    const int margin = std::max(0, good - k);
    if (r->margin < 0 || margin < r->margin) r->margin = margin;
  }
  if (r->margin < 0) r->margin = r->full_margin;
  if (r->margin < r->full_margin) {
    progress_.Warn(absl::StrCat(
        "warning: redundancy lost: some blocks survive only ", r->margin,
        " more supplier losses (the vault was made to survive ", r->full_margin,
        r->margin == 0 ? "); one more loss loses data" : ")",
        ": bring the failing suppliers back or replace them"));
  }
}

}  // namespace

absl::StatusOr<RestoreResult> RestoreSnapshot(Repository& repo, const std::string& spec,
                                              const RestoreOptions& options, Progress& progress,
                                              vault::v1::Snapshot* restored) {
  ASSIGN_OR_RETURN(*restored, repo.OpenSnapshot(spec));
  return RunRestore(repo, *restored, options, progress);
}

absl::StatusOr<RestoreResult> RunRestore(Repository& repo, const vault::v1::Snapshot& snapshot,
                                         const RestoreOptions& options, Progress& progress) {
  if (options.target.empty()) return absl::InvalidArgumentError("no --target given");
  Restorer r(repo, options, progress);
  return r.Run(snapshot);
}

}  // namespace shardkeep::customer

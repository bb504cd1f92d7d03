#include "customer/repo/checker.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/crypto.h"
#include "common/merkle.h"
#include "proto/limits.h"
#include "common/error_kind.h"
#include "customer/repo/tree_walker.h"
#include "customer/vault/block.h"
#include "customer/vault/names.h"

namespace shardkeep::customer {
namespace {

enum class FragState : uint8_t { kOk, kMissing, kCorrupt, kUnreachable };

struct BlockState {
  std::vector<FragState> frags;  // by position
  bool unreadable = false;       // read-data: fails to decode, open or verify
  std::string why;               // for unreadable
  int Good() const {
    return static_cast<int>(std::count(frags.begin(), frags.end(), FragState::kOk));
  }
};

uint32_t Le32(const std::string& s) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4 && i < s.size(); ++i) v |= uint32_t(uint8_t(s[i])) << (8 * i);
  return v;
}

class Checker {
 public:
  Checker(Repository& repo, const CheckOptions& options, Progress& progress)
      : repo_(repo), opts_(options), progress_(progress), n_(repo.n()), k_(repo.k()) {}

  absl::StatusOr<CheckResult> Run();

 private:
  void ListSuppliers();
  void Audit(int position);
  void KeepAuditHistory();
  void CompareListings();
  std::vector<uint32_t> ChooseBlocksToRead();
  void ReadBlock(uint32_t b);
  absl::Status CheckSnapshot(const vault::v1::Snapshot& snap, SnapshotCheck* out);
  int MarginOf(uint32_t b) const {
    const BlockState& s = blocks_[b];
    if (s.unreadable) return -1;
    return std::max(-1, s.Good() - k_);
  }

  Repository& repo_;
  const CheckOptions& opts_;
  Progress& progress_;
  const int n_, k_;
  CheckResult result_;
  // Per position: key -> FragmentInfo as listed (empty for unreachable ones).
  std::vector<std::unordered_map<std::string, v1::FragmentInfo>> listed_;
  std::vector<BlockState> blocks_;  // by block number
  std::mutex mu_;                   // result_.suppliers counters and blocks_ during reads
};

void Checker::ListSuppliers() {
  listed_.resize(n_);
  std::vector<std::thread> threads;
  for (int i = 0; i < n_; ++i) {
    SupplierCheck& sc = result_.suppliers[i];
    if (repo_.suppliers().IsDown(i)) {
      sc.reachable = false;
      sc.error = std::string(repo_.suppliers().DownReason(i).message());
      continue;
    }
    threads.emplace_back([this, i, &sc] {
      auto list = repo_.suppliers().at(i)->ListFragments("");
      if (!list.ok()) {
        repo_.suppliers().MarkDown(i, list.status());
        sc.reachable = false;
        sc.error = std::string(list.status().message());
        return;
      }
      auto& m = listed_[i];
      m.reserve(list->size());
      for (auto& f : *list) m.emplace(f.key(), std::move(f));
    });
  }
  for (auto& t : threads) t.join();
}

void Checker::CompareListings() {
  const VaultIndex& index = repo_.index();
  const size_t nblocks = index.block_count();
  blocks_.resize(nblocks);
  std::vector<uint64_t> matched(n_, 0);  // listed keys that an indexed block has there
  for (uint32_t b = 0; b < nblocks; ++b) {
    const vault::v1::BlockRecord& rec = index.block(b);
    BlockState& st = blocks_[b];
    st.frags.assign(n_, FragState::kMissing);
    for (int i = 0; i < n_; ++i) {
      SupplierCheck& sc = result_.suppliers[i];
      sc.expected++;
      if (!sc.reachable) {
        st.frags[i] = FragState::kUnreachable;
        continue;
      }
      auto it = listed_[i].find(FragmentKey(rec.block_id(), i));
      if (it == listed_[i].end()) {
        st.frags[i] = FragState::kMissing;
        sc.missing++;
        continue;
      }
      matched[i]++;
      const bool right = it->second.size() == rec.fragment_size() &&
                         i < rec.fragment_sha256_size() &&
                         it->second.sha256() == rec.fragment_sha256(i);
      st.frags[i] = right ? FragState::kOk : FragState::kCorrupt;
      (right ? sc.ok : sc.corrupt)++;
    }
  }
  for (int i = 0; i < n_; ++i) {
    result_.suppliers[i].extra = listed_[i].size() - matched[i];
  }
}

void Checker::Audit(int i) {
  SupplierCheck& sc = result_.suppliers[i];
  const VaultIndex& index = repo_.index();
  std::vector<uint32_t> candidates;
  for (uint32_t b = 0; b < blocks_.size(); ++b) {
    if (blocks_[b].frags[i] == FragState::kOk &&
        index.block(b).fragment_merkle_root_size() == n_) {
      candidates.push_back(b);
    }
  }
  std::string seed = crypto::RandomBytes(8);
  std::mt19937_64 rng(Le32(seed) | (uint64_t{Le32(seed.substr(4))} << 32));
  std::shuffle(candidates.begin(), candidates.end(), rng);
  if (candidates.size() > static_cast<size_t>(opts_.audits_per_supplier)) {
    candidates.resize(opts_.audits_per_supplier);
  }
  const uint64_t ps = protocol::kAuditPieceBytes;
  for (uint32_t b : candidates) {
    const vault::v1::BlockRecord& rec = index.block(b);
    const uint64_t piece = rng() % merkle::PieceCount(rec.fragment_size(), ps);
    auto r = repo_.suppliers().at(i)->AuditPiece(FragmentKey(rec.block_id(), i), piece);
    FragState& f = blocks_[b].frags[i];  // only this thread touches position i
    if (!r.ok()) {
      sc.ok--;
      if (absl::IsNotFound(r.status())) {
        f = FragState::kMissing;
        sc.missing++;
      } else {
        f = FragState::kUnreachable;
        sc.read_failed++;
      }
      continue;
    }
    if (AuditAnswerHolds(rec, i, piece, *r)) {
      sc.audited++;
    } else {
      sc.audit_failed++;
      sc.ok--;
      sc.corrupt++;
      f = FragState::kCorrupt;
      progress_.Warn(absl::StrCat("warning: supplier ", sc.address, " failed an audit of ",
                                  FragmentKey(rec.block_id(), i), " (piece ", piece, ")"));
    }
  }
}

void Checker::KeepAuditHistory() {
  std::string line;
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  for (const auto& s : result_.suppliers) {
    if (!s.reachable) {
      absl::StrAppend(&line, now, " ", s.position, " ", s.address, " unreachable\n");
    } else {
      absl::StrAppend(&line, now, " ", s.position, " ", s.address, " audited=", s.audited,
                      " failed=", s.audit_failed, "\n");
    }
  }
  const std::string dir = repo_.vault().cache_path();
  if (!MakeDirs(dir, 0700).ok()) return;  // best effort, as every cache write
  FILE* f = fopen((dir + "/audit-history").c_str(), "a");
  if (f == nullptr) return;
  fputs(line.c_str(), f);
  fclose(f);
}

std::vector<uint32_t> Checker::ChooseBlocksToRead() {
  std::vector<uint32_t> out;
  if (opts_.read_data == CheckOptions::ReadData::kNone) return out;
  for (uint32_t b = 0; b < blocks_.size(); ++b) {
    bool take = true;
    if (opts_.read_data == CheckOptions::ReadData::kSubset) {
      if (opts_.subset_m > 0) {
        take = Le32(repo_.index().block(b).block_id()) % opts_.subset_m == opts_.subset_n - 1;
      } else {
        uint32_t r = Le32(crypto::RandomBytes(4));
        take = r < opts_.percent / 100.0 * 4294967296.0;
      }
    }
    if (take) out.push_back(b);
  }
  return out;
}

// Downloads every fragment listed right, hashes it, and with k good ones
// decodes, opens and verifies the block's chunks.
void Checker::ReadBlock(uint32_t b) {
  const vault::v1::BlockRecord& rec = repo_.index().block(b);
  std::vector<FragState> frags;
  {
    std::lock_guard<std::mutex> lock(mu_);
    frags = blocks_[b].frags;
  }
  std::map<int, std::string> good;
  for (int i = 0; i < n_; ++i) {
    if (frags[i] != FragState::kOk) continue;
    auto data = repo_.suppliers().at(i)->GetFragmentOfSize(FragmentKey(rec.block_id(), i),
                                                           rec.fragment_size());
    std::lock_guard<std::mutex> lock(mu_);
    SupplierCheck& sc = result_.suppliers[i];
    if (!data.ok()) {
      sc.ok--;
      if (absl::IsNotFound(data.status())) {
        frags[i] = FragState::kMissing;
        sc.missing++;
      } else if (absl::IsDataLoss(data.status())) {
        frags[i] = FragState::kCorrupt;
        sc.corrupt++;
      } else {
        frags[i] = FragState::kUnreachable;
        sc.read_failed++;
      }
      continue;
    }
    sc.read++;
    if (crypto::Sha256(*data) != rec.fragment_sha256(i)) {
      sc.ok--;
      sc.corrupt++;
      frags[i] = FragState::kCorrupt;
      continue;
    }
    if (static_cast<int>(good.size()) < k_) good.emplace(i, std::move(*data));
  }
  std::string why;
  if (static_cast<int>(good.size()) >= k_) {
    auto sealed = repo_.codec().Decode(good);
    absl::Status s = sealed.status();
    if (s.ok() && sealed->size() != rec.sealed_size()) {
      s = absl::DataLossError(absl::StrCat("decodes to ", sealed->size(), " bytes, index says ",
                                           rec.sealed_size()));
    }
    absl::StatusOr<std::string> plain =
        s.ok() ? OpenBlock(repo_.vault().keys().block_key, rec.block_id(), *sealed) : s;
    absl::StatusOr<vault::v1::BlockTable> table =
        plain.ok() ? ParseBlockTable(*plain) : plain.status();
    if (!table.ok()) {
      why = std::string(table.status().message());
    } else {
      std::string data;
      for (const auto& c : table->chunks()) {
        data.clear();
        absl::Status es = ExtractChunk(*plain, c, &data);
        if (!es.ok() || crypto::ChunkId(repo_.vault().keys().chunk_id_key, data) != c.id()) {
          why = absl::StrCat("chunk ", crypto::ToHex(c.id()), " does not match its ID");
          break;
        }
      }
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  blocks_[b].frags = frags;
  if (!why.empty()) {
    blocks_[b].unreadable = true;
    blocks_[b].why = why;
    progress_.Warn(absl::StrCat("error: block ", crypto::ToHex(rec.block_id()), ": ", why));
  }
  result_.blocks_read++;
}

absl::Status Checker::CheckSnapshot(const vault::v1::Snapshot& snap, SnapshotCheck* out) {
  out->id_hex = crypto::ToHex(snap.id());
  out->time_ns = snap.time_ns();
  const VaultIndex& index = repo_.index();
  std::unordered_set<uint32_t> needed;
  int margin = n_ - k_;
  bool damaged = false;
  // The blocks of `refs` (tree or file content): notes them, true if one is
  // damaged.
  auto note = [&](uint32_t b) {
    if (needed.insert(b).second) {
      int m = MarginOf(b);
      margin = std::min(margin, m);
    }
    return MarginOf(b) < 0;
  };
  auto refs_damaged = [&](const TreeWalker::ChunkRefs& refs) {
    bool bad = false;
    for (const auto& r : refs) {
      ChunkLocation loc;
      if (!index.Find(r.id(), &loc)) {
        bad = true;
        continue;
      }
      bad |= note(loc.block);
    }
    return bad;
  };
  auto lost = [&](const std::string& path) {
    damaged = true;
    out->damaged_files.push_back(path);
  };
  if (refs_damaged(snap.root())) lost("/");
  TreeWalker walker(repo_);
  RETURN_IF_ERROR(walker.Walk(
      snap.root(),
      [&](const TreeWalker::Path& path, const vault::v1::TreeNode& tn)
          -> absl::StatusOr<TreeWalker::Next> {
        const std::string p = "/" + absl::StrJoin(path, "/");
        if (tn.type() == vault::v1::NODE_TYPE_DIR) {
          if (refs_damaged(tn.subtree())) lost(p + "/");
          return TreeWalker::Next::kDescend;
        }
        if (tn.type() == vault::v1::NODE_TYPE_FILE) {
          bool bad = false;
          for (const auto& c : tn.content()) {
            ChunkLocation loc;
            if (!index.Find(c.id(), &loc)) {
              bad = true;
              continue;
            }
            bad |= note(loc.block);
          }
          if (bad) lost(p);
        }
        return TreeWalker::Next::kSkip;
      },
      [&](const TreeWalker::Path& dir, const absl::Status& s) {
        // A tree that cannot be read (not even from the cache): its whole
        // directory is lost.
        progress_.Warn(absl::StrCat("error: snapshot ", out->id_hex.substr(0, 8), ": ",
                                    s.message()));
        lost("/" + absl::StrJoin(dir, "/") + (dir.empty() ? "" : "/"));
        return absl::OkStatus();
      }));
  out->blocks = needed.size();
  if (damaged) {
    out->state = SnapshotCheck::State::kDamaged;
    out->margin = -1;
  } else {
    out->margin = margin;
    out->state = margin < n_ - k_ ? SnapshotCheck::State::kDegraded : SnapshotCheck::State::kHealthy;
  }
  return absl::OkStatus();
}

absl::StatusOr<CheckResult> Checker::Run() {
  auto start = std::chrono::steady_clock::now();
  result_.n = n_;
  result_.k = k_;
  result_.suppliers.resize(n_);
  for (int i = 0; i < n_; ++i) {
    result_.suppliers[i].position = i;
    result_.suppliers[i].address = repo_.suppliers().address(i);
  }
  ListSuppliers();
  CompareListings();
  if (opts_.read_data != CheckOptions::ReadData::kAll && opts_.audits_per_supplier > 0) {
    std::vector<std::thread> auditors;
    for (int i = 0; i < n_; ++i) {
      if (result_.suppliers[i].reachable) auditors.emplace_back([this, i] { Audit(i); });
    }
    for (auto& t : auditors) t.join();
    KeepAuditHistory();
  }
  std::vector<uint32_t> to_read = ChooseBlocksToRead();
  progress_.total_files = to_read.size();
  progress_.totals_known = true;
  {
    std::atomic<size_t> next{0};
    std::vector<std::thread> workers;
    int nw = std::max(1, std::min<int>(opts_.read_workers, to_read.size()));
    for (int w = 0; w < nw && !to_read.empty(); ++w) {
      workers.emplace_back([&] {
        for (size_t i; (i = next.fetch_add(1)) < to_read.size();) {
          ReadBlock(to_read[i]);
          progress_.files++;
        }
      });
    }
    for (auto& t : workers) t.join();
  }
  result_.blocks = blocks_.size();
  result_.block_health.resize(blocks_.size());
  for (uint32_t b = 0; b < blocks_.size(); ++b) {
    BlockHealth& h = result_.block_health[b];
    h.unreadable = blocks_[b].unreadable;
    for (int i = 0; i < n_; ++i) {
      const FragState f = blocks_[b].frags[i];
      if (f == FragState::kOk) h.ok |= uint64_t{1} << i;
      if (f == FragState::kMissing || f == FragState::kCorrupt) h.bad |= uint64_t{1} << i;
    }
  }
  for (uint32_t b = 0; b < blocks_.size(); ++b) {
    int m = MarginOf(b);
    if (m < 0) {
      result_.blocks_damaged++;
    } else if (m < n_ - k_) {
      result_.blocks_degraded++;
    }
  }
  ASSIGN_OR_RETURN(std::vector<vault::v1::Snapshot> snaps, repo_.LoadSnapshots());
  for (const auto& snap : snaps) {
    SnapshotCheck sc;
    RETURN_IF_ERROR(CheckSnapshot(snap, &sc));
    if (static_cast<int>(sc.state) > static_cast<int>(result_.state)) result_.state = sc.state;
    result_.snapshots.push_back(std::move(sc));
  }
  result_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::move(result_);
}

}  // namespace

bool AuditAnswerHolds(const vault::v1::BlockRecord& rec, int position, uint64_t piece,
                      const v1::AuditPieceResponse& answer) {
  if (position < 0 || position >= rec.fragment_merkle_root_size()) return false;
  if (answer.size() != rec.fragment_size()) return false;
  const std::vector<std::string> proof(answer.proof().begin(), answer.proof().end());
  return merkle::Verify(rec.fragment_merkle_root(position), rec.fragment_size(),
                        protocol::kAuditPieceBytes, piece, answer.data(), proof);
}

const char* StateName(SnapshotCheck::State state) {
  switch (state) {
    case SnapshotCheck::State::kHealthy:
      return "healthy";
    case SnapshotCheck::State::kDegraded:
      return "degraded";
    case SnapshotCheck::State::kDamaged:
      return "damaged";
  }
  return "?";
}

absl::Status ParseReadDataSubset(const std::string& arg, CheckOptions* options) {
  auto bad = [&] {
    return UsageError(absl::StrCat("--read-data-subset ", arg,
                                   ": want N% (0 < N <= 100) or N/M (1 <= N <= M)"));
  };
  options->read_data = CheckOptions::ReadData::kSubset;
  if (!arg.empty() && arg.back() == '%') {
    double p = 0;
    if (!absl::SimpleAtod(arg.substr(0, arg.size() - 1), &p) || !(p > 0) || p > 100) return bad();
    options->percent = p;
    options->subset_m = 0;
    return absl::OkStatus();
  }
  size_t slash = arg.find('/');
  uint32_t n = 0, m = 0;
  if (slash == std::string::npos || !absl::SimpleAtoi(arg.substr(0, slash), &n) ||
      !absl::SimpleAtoi(arg.substr(slash + 1), &m) || n < 1 || m < n) {
    return bad();
  }
  options->subset_n = n;
  options->subset_m = m;
  return absl::OkStatus();
}

absl::StatusOr<CheckResult> CheckVault(Repository& repo, const CheckOptions& options,
                                       Progress& progress) {
  RETURN_IF_ERROR(repo.CheckSuppliers(repo.k()));
  RETURN_IF_ERROR(repo.LoadIndex());
  Checker c(repo, options, progress);
  return c.Run();
}

}  // namespace shardkeep::customer

#include "customer/repo/used_chunks.h"

#include <map>
#include <string>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "customer/fs/fs.h"
#include "customer/repo/tree_walker.h"
#include "customer/vault/block.h"

namespace shardkeep::customer {
namespace {

using Refs = google::protobuf::RepeatedPtrField<vault::v1::ChunkRef>;

// A tree still to read: where it was found, for messages and the depth
// guard.
struct Pending {
  Refs refs;
  std::string dir;  // "a/b" below the snapshot root; "" for the root
  size_t depth = 0;
  size_t snapshot = 0;  // index into the snapshots
};

class Scan {
 public:
  Scan(Repository& repo, const std::vector<vault::v1::Snapshot>& snapshots,
       const std::function<void(std::string_view)>& use, UsedChunksStats* stats)
      : repo_(repo), snapshots_(snapshots), use_(use), stats_(stats) {}

  absl::Status Run() {
    for (size_t i = 0; i < snapshots_.size(); ++i) {
      for (const auto& r : snapshots_[i].root()) use_(r.id());
      RETURN_IF_ERROR(Add(snapshots_[i].root(), "", 0, i));
    }
    while (!by_block_.empty()) {
      // The block with the most trees waiting; ties: the highest number.
      auto best = by_block_.begin();
      for (auto it = by_block_.begin(); it != by_block_.end(); ++it) {
        if (it->second.size() >= best->second.size()) best = it;
      }
      const uint32_t b = best->first;
      ++stats_->block_opens;
      absl::StatusOr<std::string> plain = repo_.LoadBlock(b);
      if (!plain.ok()) return Fail(best->second.back(), plain.status());
      // Every tree waiting in this block, and those found meanwhile in it.
      for (;;) {
        auto it = by_block_.find(b);
        if (it == by_block_.end()) break;
        Pending p = std::move(it->second.back());
        it->second.pop_back();
        if (it->second.empty()) by_block_.erase(it);
        RETURN_IF_ERROR(Read(p, b, *plain));
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Fail(const Pending& p, const absl::Status& error) const {
    return absl::DataLossError(absl::StrCat(
        "snapshot ", crypto::ToHex(snapshots_[p.snapshot].id()).substr(0, 8),
        ": a tree under ", fs::PrintablePath("/" + p.dir), " cannot be read: ", error.message()));
  }

  // Queues the tree stored as `refs` unless it was queued before.
  absl::Status Add(const Refs& refs, std::string dir, size_t depth, size_t snapshot) {
    if (refs.empty()) return absl::OkStatus();  // an empty tree: nothing below
    std::string key;
    for (const auto& r : refs) key += r.id();
    if (!seen_.insert(std::move(key)).second) return absl::OkStatus();
    Pending p{refs, std::move(dir), depth, snapshot};
    if (depth > kMaxTreeDepth) {
      return Fail(p, absl::DataLossError(absl::StrCat("directories nested deeper than ",
                                                      kMaxTreeDepth, " levels")));
    }
    ChunkLocation loc;
    if (!repo_.index().Find(refs.Get(0).id(), &loc)) {
      return Fail(p, absl::DataLossError(absl::StrCat("chunk ", crypto::ToHex(refs.Get(0).id()),
                                                      " is not in the vault index")));
    }
    by_block_[loc.block].push_back(std::move(p));
    return absl::OkStatus();
  }

  // Reads tree `p`, whose first chunk is in block `b` (plaintext `plain`).
  absl::Status Read(const Pending& p, uint32_t b, const std::string& plain) {
    std::string bytes;
    for (const auto& r : p.refs) {
      const size_t before = bytes.size();
      ChunkLocation loc;
      if (!repo_.index().Find(r.id(), &loc)) {
        return Fail(p, absl::DataLossError(
                           absl::StrCat("chunk ", crypto::ToHex(r.id()), " is not in the vault index")));
      }
      if (loc.block == b) {
        absl::Status s = ExtractChunk(plain, ToBlockChunk(r.id(), loc), &bytes);
        if (!s.ok()) return Fail(p, s);
      } else {  // a tree of several chunks across blocks: rare
        absl::StatusOr<std::string> c = repo_.LoadChunk(r.id());
        if (!c.ok()) return Fail(p, c.status());
        bytes.append(*c);
      }
      if (bytes.size() - before != r.length()) {
        return Fail(p, absl::DataLossError(
                           absl::StrCat("tree chunk ", crypto::ToHex(r.id()), " has the wrong length")));
      }
    }
    vault::v1::Tree tree;
    if (!tree.ParseFromString(bytes)) return Fail(p, absl::DataLossError("a tree does not parse"));
    ++stats_->trees;
    for (const vault::v1::TreeNode& node : tree.nodes()) {
      for (const auto& c : node.content()) use_(c.id());
      for (const auto& r : node.subtree()) use_(r.id());
      if (node.type() == vault::v1::NODE_TYPE_DIR) {
        RETURN_IF_ERROR(Add(node.subtree(), p.dir.empty() ? node.name() : p.dir + "/" + node.name(),
                            p.depth + 1, p.snapshot));
      }
    }
    return absl::OkStatus();
  }

  Repository& repo_;
  const std::vector<vault::v1::Snapshot>& snapshots_;
  const std::function<void(std::string_view)>& use_;
  UsedChunksStats* stats_;
  std::unordered_set<std::string> seen_;              // trees queued, by their chunk IDs
  std::map<uint32_t, std::vector<Pending>> by_block_;  // trees to read, by block of first chunk
};

}  // namespace

absl::Status CollectUsedChunks(Repository& repo, const std::vector<vault::v1::Snapshot>& snapshots,
                               const std::function<void(std::string_view chunk_id)>& use,
                               UsedChunksStats* stats) {
  UsedChunksStats ignored;
  return Scan(repo, snapshots, use, stats != nullptr ? stats : &ignored).Run();
}

}  // namespace shardkeep::customer

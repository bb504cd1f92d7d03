// Every chunk a set of snapshots uses (their trees, the trees below them and
// the files' contents), for prune: the set it must keep.
//
// Why not TreeWalker: a walk goes depth first, and the trees of one
// directory level lie in many blocks (each backup writes the trees it
// changed into blocks of its own), so a walk jumps between blocks; a block
// is sealed whole (AES-GCM over up to block_size), so every jump to a block
// not in Repository's small block cache reads and decrypts the whole block
// again (prune spent most of its time there: docs/PERFORMANCE.md). This scan
// needs no order: it keeps the trees still to read by the block that holds
// them, and each time opens the block with the most of them and reads every
// one of them there, including the subtrees found meanwhile in that block.
// A tree block is opened once per "wave" of trees found in it, not once per
// tree; one block's plaintext is held at a time.
//
// Each tree is read once (by the IDs of its chunks), however many
// directories and snapshots share it, as restic's prune does. A tree that
// contains itself cannot make it loop (it is not read twice) and adds no
// chunk, so it needs no refusal here (ls and restore refuse it); nesting
// deeper than kMaxTreeDepth is refused all the same.
#ifndef SHARDKEEP_CUSTOMER_REPO_USED_CHUNKS_H_
#define SHARDKEEP_CUSTOMER_REPO_USED_CHUNKS_H_

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "customer/repo/repository.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

struct UsedChunksStats {
  uint64_t trees = 0;        // distinct trees read
  uint64_t block_opens = 0;  // blocks read and decrypted for them
};

// Calls `use` for every chunk ID the snapshots use (an ID may come more than
// once). DataLoss, naming the snapshot and the directory, when a tree cannot
// be read (a chunk not in the index, a block that cannot be fetched or
// opened, a tree that does not parse) or nests too deep; the caller decides
// whether chunks missing from the index are an error (`use` sees them all).
absl::Status CollectUsedChunks(Repository& repo, const std::vector<vault::v1::Snapshot>& snapshots,
                               const std::function<void(std::string_view chunk_id)>& use,
                               UsedChunksStats* stats = nullptr);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_USED_CHUNKS_H_

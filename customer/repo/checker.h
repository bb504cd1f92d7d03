// `shardkeep check` below the CLI: is every block that a snapshot needs held
// by its suppliers, and how many more supplier losses can each snapshot take?
//
// Without read-data the check costs one fragment listing per supplier
// (ListFragments: key, size and the SHA-256 declared at upload), compared
// with the index: a fragment is ok if listed with the index's size and hash
// at its position, missing if not listed (or never stored: a degraded
// commit), corrupt if listed with another size or hash. Keys listed that no
// indexed block has at that position are counted as extra. A supplier that
// does not answer holds nothing as far as the check can tell (unreachable).
//
// With read-data (all blocks, or a subset) every fragment of the chosen
// blocks is downloaded (bounded by its recorded size) and hashed, so bit rot
// in a supplier's files is found too; then k good fragments are decoded, the
// block is opened (AES-GCM authenticates it) and every chunk in its table is
// extracted and its chunk ID recomputed.
//
// Without read-data, each supplier is also audited (AuditPiece) on a random
// sample of the fragments it lists right: it must send a random piece of each
// with the Merkle proof to the root the index keeps (records from before
// audits have none and are not audited). A piece that does not verify makes
// that fragment corrupt. A sample of s fragments with one piece each finds a
// supplier that lost a fraction f of its pieces with probability
// 1 - (1 - f)^s (s = 16: 82% at f = 0.1, 99.9% at f = 0.35). One line per
// supplier is appended to <cache>/<vault>/audit-history (time, position,
// address, audited, failed).
//
// A block's margin is (good fragments - k): how many more fragments, hence
// suppliers, it can lose. A block below k is damaged. Every snapshot is
// walked (TreeWalker) for the blocks it needs, data and tree: it is healthy
// if each has margin n - k, degraded (restorable, with its smallest margin)
// otherwise, damaged if a block it needs is, naming the files that cannot
// come back.
#ifndef SHARDKEEP_CUSTOMER_REPO_CHECKER_H_
#define SHARDKEEP_CUSTOMER_REPO_CHECKER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "customer/repo/progress.h"
#include "customer/repo/repository.h"
#include "proto/supplier.pb.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

struct CheckOptions {
  enum class ReadData { kNone, kAll, kSubset };
  ReadData read_data = ReadData::kNone;
  // kSubset: either a percentage (0 < percent <= 100, blocks chosen at
  // random) or group `subset_n` of `subset_m` (1 <= n <= m; a block is in
  // group 1 + (first 4 bytes of its ID, little endian) % m), so m runs with
  // n = 1..m read every block once.
  double percent = 0;
  uint32_t subset_n = 0, subset_m = 0;
  int read_workers = 4;
  // Unless every block is read: possession audits of this many fragments per
  // supplier, chosen at random among those listed right (one random piece
  // each, checked against the Merkle root in the index; 0: none).
  int audits_per_supplier = 16;
};

// Parses the argument of --read-data-subset: "N%" (0 < N <= 100, decimals
// allowed) or "N/M" (1 <= N <= M). InvalidArgument (kUsage) otherwise.
absl::Status ParseReadDataSubset(const std::string& arg, CheckOptions* options);

struct SupplierCheck {
  int position = 0;
  std::string address;
  bool reachable = true;
  std::string error;            // why not reachable (or the listing failed)
  uint64_t expected = 0;        // fragments the index places here
  uint64_t ok = 0;              // listed with the right size and hash (and read fine)
  uint64_t missing = 0;         // not listed, or not stored at commit
  uint64_t corrupt = 0;         // listed with another size or hash, or read back wrong
  uint64_t extra = 0;           // listed, but no indexed block has it here
  uint64_t read = 0;            // downloaded (read-data)
  uint64_t read_failed = 0;     // download (or audit) failed (not a hash mismatch)
  uint64_t audited = 0;         // audits answered with a piece that verifies
  uint64_t audit_failed = 0;    // audits answered with a piece or proof that does not
};

struct SnapshotCheck {
  std::string id_hex;
  int64_t time_ns = 0;
  enum class State { kHealthy, kDegraded, kDamaged };
  State state = State::kHealthy;
  int margin = 0;  // smallest margin of the blocks it needs (-1 if damaged)
  uint64_t blocks = 0;
  // Target-style paths ("/home/ann/x"; a directory whose tree is lost ends
  // in "/") that cannot be restored.
  std::vector<std::string> damaged_files;
};

// One block's fragments as the check saw them (bit i: position i).
struct BlockHealth {
  uint64_t ok = 0;       // listed (and, if read, read back) with the right size and hash
  uint64_t bad = 0;      // missing or corrupt at a supplier that answered
  bool unreadable = false;  // read-data: k good fragments that do not decode, open or verify
};

struct CheckResult {
  int n = 0, k = 0;
  std::vector<BlockHealth> block_health;  // by block number in the index
  std::vector<SupplierCheck> suppliers;  // by position
  std::vector<SnapshotCheck> snapshots;  // oldest first
  uint64_t blocks = 0;           // in the index
  uint64_t blocks_read = 0;      // read-data: downloaded and verified
  uint64_t blocks_degraded = 0;  // margin below n - k
  uint64_t blocks_damaged = 0;   // below k good fragments, or failing to decode/open/verify
  // The worst snapshot state (kHealthy with no snapshots).
  SnapshotCheck::State state = SnapshotCheck::State::kHealthy;
  double seconds = 0;
};

const char* StateName(SnapshotCheck::State state);

// Whether a supplier's answer to AuditPiece(key of `rec` at `position`,
// `piece`) proves it holds that piece: the size it states is the indexed
// fragment size, and the piece with its proof leads to the Merkle root the
// index keeps for that position (pieces of protocol::kAuditPieceBytes).
// Any answer is hostile: false for a record without a root at `position`,
// a piece out of range, a proof of the wrong shape; never reads out of
// bounds.
bool AuditAnswerHolds(const vault::v1::BlockRecord& rec, int position, uint64_t piece,
                      const v1::AuditPieceResponse& answer);

// The `check` command below the CLI: k suppliers answering
// (CheckSuppliers; kSuppliersUnreachable otherwise), the index and snapshots
// loaded, then the check. Problems found are in the result (not an error);
// errors are for what stops the check itself.
absl::StatusOr<CheckResult> CheckVault(Repository& repo, const CheckOptions& options,
                                       Progress& progress);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_CHECKER_H_

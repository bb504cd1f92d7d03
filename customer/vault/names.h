// Every name the customer gives to what it stores or caches, built and
// parsed in one place (as LevelDB's db/filename.h does for its files):
// metadata object names at the suppliers, fragment keys, and the local cache
// files kept for them (docs/FORMAT.md, "Names").
//
//   config                      the vault config (sealed)
//   keys                        the key record (kKeysObjectName, proto/limits.h)
//   snapshots/<id>              a snapshot record; <id> = 32 lowercase hex digits
//   index/<id>.<n>              index piece n (decimal, no leading zeros,
//                               < kMaxIndexPieces) written by snapshot <id>
//   forgotten/<id>              tombstone of a forgotten snapshot <id>
//   locks/<id>                  a lock (lease) on the vault; <id> 32 hex
//   <block>.<position>          fragment key: the fragment at position
//                               0..63 of block <block> (32 lowercase hex)
//
// Cache files, under <cache-dir>/<vault-id-hex>/:
//   snapshots/<id>, index/<id>.<n>, forgotten/<id>   sealed objects as stored
//   pending-deletes                  what prune still has to delete
//   blocks/<block>                   sealed tree blocks
//
// Names that come back from a supplier (listings) are hostile until parsed:
// Parse* accept the exact patterns above and nothing else, and only a name
// that parsed is ever turned into a cache path (ObjectCachePath re-parses),
// so no listing can make the customer touch a file outside its cache.
#ifndef SHARDKEEP_CUSTOMER_VAULT_NAMES_H_
#define SHARDKEEP_CUSTOMER_VAULT_NAMES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "proto/limits.h"

namespace shardkeep::customer {

inline constexpr char kConfigObject[] = "config";
inline constexpr const char* kKeysObject = protocol::kKeysObjectName;
inline constexpr char kSnapshotPrefix[] = "snapshots/";
inline constexpr char kIndexPrefix[] = "index/";
inline constexpr char kForgottenPrefix[] = "forgotten/";
inline constexpr char kLockPrefix[] = "locks/";
// Snapshot and block IDs are 16 random bytes.
inline constexpr size_t kNameIdSize = 16;
inline constexpr uint32_t kMaxIndexPieces = 1000000;
inline constexpr int kMaxPositions = 64;

enum class ObjectKind { kConfig, kKeys, kSnapshot, kIndexPiece, kForgotten, kLock };

// A metadata object's name, parsed.
struct ObjectName {
  ObjectKind kind = ObjectKind::kConfig;
  std::string id;      // 16 bytes: the snapshot ID (kSnapshot, kIndexPiece, kForgotten)
                       // or the lock ID (kLock)
  uint32_t piece = 0;  // kIndexPiece only
};

// REQUIRES: snapshot_id is kNameIdSize bytes.
std::string SnapshotObjectName(std::string_view snapshot_id);
// REQUIRES: snapshot_id is kNameIdSize bytes, piece < kMaxIndexPieces.
std::string IndexPieceName(std::string_view snapshot_id, uint32_t piece);
// REQUIRES: snapshot_id is kNameIdSize bytes.
std::string ForgottenObjectName(std::string_view snapshot_id);
// REQUIRES: lock_id is kNameIdSize bytes.
std::string LockObjectName(std::string_view lock_id);
// "<hex of block_id>.<position>". REQUIRES: 0 <= position < kMaxPositions.
std::string FragmentKey(std::string_view block_id, int position);

// True (filling *out) if `name` is exactly one of the object patterns.
bool ParseObjectName(std::string_view name, ObjectName* out);
// True if `key` is exactly a fragment key of a 16-byte block ID.
bool ParseFragmentKey(std::string_view key, std::string* block_id, int* position);

// The cache file of object `name` below `vault_cache_dir` (snapshots, index
// pieces and tombstones only: the config and key record live in the config
// dir, locks are never cached).
// InvalidArgument naming `name` if it does not parse as one of those.
absl::StatusOr<std::string> ObjectCachePath(std::string_view vault_cache_dir,
                                            std::string_view name);
// The cache file of sealed tree block `block_id`. REQUIRES: 16 bytes.
std::string TreeBlockCachePath(std::string_view vault_cache_dir, std::string_view block_id);
// <vault_cache_dir>/pending-deletes.
std::string PendingDeletesPath(std::string_view vault_cache_dir);

// A name as it may be shown in a message: printable ASCII kept, anything
// else as \xNN, at most 80 characters (a hostile listing can hold anything).
std::string PrintableName(std::string_view name);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_VAULT_NAMES_H_

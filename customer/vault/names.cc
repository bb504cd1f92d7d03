#include "customer/vault/names.h"

#include <cassert>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto.h"

namespace shardkeep::customer {
namespace {

// Exactly 2 * kNameIdSize lowercase hex digits: one spelling per name, so
// upper case (which FromHex would take) is refused by the round trip.
bool ParseId(std::string_view hex, std::string* out) {
  if (hex.size() != 2 * kNameIdSize) return false;
  auto id = crypto::FromHex(hex);
  if (!id.ok() || crypto::ToHex(*id) != hex) return false;
  *out = std::move(*id);
  return true;
}

// A decimal number without sign or leading zeros, below `limit`.
bool ParseNumber(std::string_view s, uint32_t limit, uint32_t* out) {
  if (s.empty() || s.size() > 10 || (s.size() > 1 && s[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v >= limit) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

// "<32 hex>.<number below limit>"
bool ParseIdDotNumber(std::string_view s, uint32_t limit, std::string* id, uint32_t* number) {
  if (s.size() < 2 * kNameIdSize + 2 || s[2 * kNameIdSize] != '.') return false;
  return ParseId(s.substr(0, 2 * kNameIdSize), id) &&
         ParseNumber(s.substr(2 * kNameIdSize + 1), limit, number);
}

}  // namespace

std::string SnapshotObjectName(std::string_view snapshot_id) {
  assert(snapshot_id.size() == kNameIdSize);
  return absl::StrCat(kSnapshotPrefix, crypto::ToHex(snapshot_id));
}

std::string IndexPieceName(std::string_view snapshot_id, uint32_t piece) {
  assert(snapshot_id.size() == kNameIdSize && piece < kMaxIndexPieces);
  return absl::StrCat(kIndexPrefix, crypto::ToHex(snapshot_id), ".", piece);
}

std::string ForgottenObjectName(std::string_view snapshot_id) {
  assert(snapshot_id.size() == kNameIdSize);
  return absl::StrCat(kForgottenPrefix, crypto::ToHex(snapshot_id));
}

std::string LockObjectName(std::string_view lock_id) {
  assert(lock_id.size() == kNameIdSize);
  return absl::StrCat(kLockPrefix, crypto::ToHex(lock_id));
}

std::string FragmentKey(std::string_view block_id, int position) {
  assert(position >= 0 && position < kMaxPositions);
  return absl::StrCat(crypto::ToHex(block_id), ".", position);
}

bool ParseObjectName(std::string_view name, ObjectName* out) {
  ObjectName n;
  if (name == kConfigObject) {
    n.kind = ObjectKind::kConfig;
  } else if (name == kKeysObject) {
    n.kind = ObjectKind::kKeys;
  } else if (name.substr(0, sizeof(kSnapshotPrefix) - 1) == kSnapshotPrefix) {
    n.kind = ObjectKind::kSnapshot;
    if (!ParseId(name.substr(sizeof(kSnapshotPrefix) - 1), &n.id)) return false;
  } else if (name.substr(0, sizeof(kForgottenPrefix) - 1) == kForgottenPrefix) {
    n.kind = ObjectKind::kForgotten;
    if (!ParseId(name.substr(sizeof(kForgottenPrefix) - 1), &n.id)) return false;
  } else if (name.substr(0, sizeof(kLockPrefix) - 1) == kLockPrefix) {
    n.kind = ObjectKind::kLock;
    if (!ParseId(name.substr(sizeof(kLockPrefix) - 1), &n.id)) return false;
  } else if (name.substr(0, sizeof(kIndexPrefix) - 1) == kIndexPrefix) {
    n.kind = ObjectKind::kIndexPiece;
    if (!ParseIdDotNumber(name.substr(sizeof(kIndexPrefix) - 1), kMaxIndexPieces, &n.id,
                          &n.piece)) {
      return false;
    }
  } else {
    return false;
  }
  *out = std::move(n);
  return true;
}

bool ParseFragmentKey(std::string_view key, std::string* block_id, int* position) {
  std::string id;
  uint32_t pos;
  if (!ParseIdDotNumber(key, kMaxPositions, &id, &pos)) return false;
  *block_id = std::move(id);
  *position = static_cast<int>(pos);
  return true;
}

absl::StatusOr<std::string> ObjectCachePath(std::string_view vault_cache_dir,
                                            std::string_view name) {
  ObjectName parsed;
  if (!ParseObjectName(name, &parsed) ||
      (parsed.kind != ObjectKind::kSnapshot && parsed.kind != ObjectKind::kIndexPiece &&
       parsed.kind != ObjectKind::kForgotten)) {
    return absl::InvalidArgumentError(
        absl::StrCat("object name \"", PrintableName(name), "\" has no cache file"));
  }
  // Rebuilt from the parsed parts, not copied from the input.
  std::string canonical = parsed.kind == ObjectKind::kSnapshot    ? SnapshotObjectName(parsed.id)
                          : parsed.kind == ObjectKind::kForgotten ? ForgottenObjectName(parsed.id)
                                                                  : IndexPieceName(parsed.id, parsed.piece);
  return std::string(vault_cache_dir) + "/" + canonical;
}

std::string TreeBlockCachePath(std::string_view vault_cache_dir, std::string_view block_id) {
  assert(block_id.size() == kNameIdSize);
  return std::string(vault_cache_dir) + "/blocks/" + crypto::ToHex(block_id);
}

std::string PendingDeletesPath(std::string_view vault_cache_dir) {
  return std::string(vault_cache_dir) + "/pending-deletes";
}

std::string PrintableName(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    if (out.size() >= 80) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    }
  }
  return out;
}

}  // namespace shardkeep::customer

// Fuzzes the name parser (customer/vault/names.h) with names as a hostile
// supplier's listing could hold them. Oracles:
//   - a name that parses is exactly the name rebuilt from its parts (one
//     spelling per name), and its cache path stays below the cache dir:
//     no "..", no "//", no byte outside [0-9a-z./] after the prefix;
//   - a fragment key that parses rebuilds to itself;
//   - nothing crashes, whatever the bytes.
#include <cstdint>
#include <string>
#include <string_view>

#include "customer/vault/names.h"

namespace ck = shardkeep::customer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  ck::ObjectName parsed;
  if (ck::ParseObjectName(name, &parsed)) {
    std::string rebuilt;
    switch (parsed.kind) {
      case ck::ObjectKind::kConfig:
        rebuilt = ck::kConfigObject;
        break;
      case ck::ObjectKind::kKeys:
        rebuilt = ck::kKeysObject;
        break;
      case ck::ObjectKind::kSnapshot:
        rebuilt = ck::SnapshotObjectName(parsed.id);
        break;
      case ck::ObjectKind::kIndexPiece:
        if (parsed.piece >= ck::kMaxIndexPieces) __builtin_trap();
        rebuilt = ck::IndexPieceName(parsed.id, parsed.piece);
        break;
      case ck::ObjectKind::kForgotten:
        rebuilt = ck::ForgottenObjectName(parsed.id);
        break;
      case ck::ObjectKind::kLock:
        rebuilt = ck::LockObjectName(parsed.id);
        break;
    }
    if (rebuilt != name) __builtin_trap();
    auto path = ck::ObjectCachePath("/cache/v", name);
    if (path.ok()) {
      const std::string_view rest = std::string_view(*path).substr(9);
      if (path->compare(0, 9, "/cache/v/") != 0) __builtin_trap();
      if (rest.find("..") != std::string_view::npos || rest.find("//") != std::string_view::npos)
        __builtin_trap();
      for (char c : rest) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' || c == '/'))
          __builtin_trap();
      }
    }
  } else if (ck::ObjectCachePath("/cache/v", name).ok()) {
    __builtin_trap();  // a cache path for a name that does not parse
  }
  std::string block;
  int position = -1;
  if (ck::ParseFragmentKey(name, &block, &position)) {
    if (position < 0 || position >= ck::kMaxPositions || block.size() != ck::kNameIdSize)
      __builtin_trap();
    if (ck::FragmentKey(block, position) != name) __builtin_trap();
  }
  (void)ck::PrintableName(name);
  return 0;
}

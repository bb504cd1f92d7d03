// Fuzzes compress::Decompress with frames from an untrusted block: never
// crashes, never returns more than the expected size.
#include <cstdint>
#include <cstring>
#include <string>

#include "common/compress.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const size_t expected = (static_cast<size_t>(data[0]) << 8 | data[1]) * (1 + data[2] % 64);
  std::string out;
  auto st = shardkeep::compress::Decompress(
      std::string_view(reinterpret_cast<const char*>(data + 3), size - 3), expected, &out);
  if (st.ok() && out.size() != expected) __builtin_trap();
  // Round trip of the input itself.
  std::string in(reinterpret_cast<const char*>(data), size), packed, back;
  if (shardkeep::compress::CompressIfSmaller(in, 3, &packed)) {
    if (!shardkeep::compress::Decompress(packed, in.size(), &back).ok() || back != in)
      __builtin_trap();
  }
  return 0;
}

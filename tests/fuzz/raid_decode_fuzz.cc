// Fuzzes raid::Codec::Decode with fragments as a supplier might return
// them: any sizes, any contents, any subset of positions. Must never crash;
// when it succeeds on fragments it produced itself, the block must match.
#include <cstdint>
#include <map>
#include <string>

#include "raid/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const int n = 2 + data[0] % 15;       // 2..16 keeps each run fast
  const int k = 1 + data[1] % (n - 1);  // 1..n-1
  const uint32_t present = data[2] | (data[3] << 8);
  std::string rest(reinterpret_cast<const char*>(data + 4), size - 4);
  auto codec = shardkeep::raid::Codec::Create(n, k);
  if (!codec.ok()) __builtin_trap();
  // Attacker-chosen fragments: split `rest` evenly over the present positions.
  std::map<int, std::string> frags;
  int count = 0;
  for (int i = 0; i < n; ++i) count += (present >> i) & 1;
  if (count > 0) {
    const size_t each = rest.size() / count;
    size_t off = 0;
    for (int i = 0; i < n; ++i) {
      if (!((present >> i) & 1)) continue;
      frags[i] = rest.substr(off, each);
      off += each;
    }
  }
  (void)(*codec)->Decode(frags);
  // Round trip: encoding `rest` and decoding from the chosen subset (if it
  // has >= k positions) must give `rest` back exactly.
  auto enc = (*codec)->Encode(rest);
  if (!enc.ok()) __builtin_trap();
  std::map<int, std::string> subset;
  for (int i = 0; i < n; ++i)
    if ((present >> i) & 1) subset[i] = (*enc)[i];
  auto dec = (*codec)->Decode(subset);
  if (static_cast<int>(subset.size()) >= k) {
    if (!dec.ok() || *dec != rest) __builtin_trap();
  } else if (dec.ok()) {
    __builtin_trap();
  }
  return 0;
}

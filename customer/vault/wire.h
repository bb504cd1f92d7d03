// Little-endian integers and length-prefixed byte strings, for the few
// fixed byte layouts of the vault format that are not protobuf (associated
// data, envelopes, the block trailer; docs/FORMAT.md).
#ifndef SHARDKEEP_CUSTOMER_VAULT_WIRE_H_
#define SHARDKEEP_CUSTOMER_VAULT_WIRE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace shardkeep::customer {

inline void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
// uint32 length, then the bytes.
inline void PutBytes(std::string* out, std::string_view bytes) {
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes.data(), bytes.size());
}
// REQUIRES: p points at >= 4 (8) readable bytes.
inline uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_VAULT_WIRE_H_

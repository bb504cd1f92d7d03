// Fuzzes crypto::AeadOpen with sealed bytes from an untrusted supplier: a
// forged or damaged input is refused (never "opens"), and nothing crashes.
#include <cstdint>
#include <string>

#include "common/crypto.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string key(32, '\x42');
  static const std::string nonce(12, '\x07');
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out;
  auto st = shardkeep::crypto::AeadOpen(key, nonce, "aad", in, &out);
  // A random input opening under a fixed key would be a forgery.
  if (st.ok() && size > 0) {
    std::string sealed;
    if (!shardkeep::crypto::AeadSeal(key, nonce, "aad", out, &sealed).ok() || sealed != in)
      __builtin_trap();
  }
  std::string sealed, back;
  if (!shardkeep::crypto::AeadSeal(key, nonce, "aad", in, &sealed).ok()) __builtin_trap();
  if (!shardkeep::crypto::AeadOpen(key, nonce, "aad", sealed, &back).ok() || back != in)
    __builtin_trap();
  return 0;
}

// Cryptographic primitives on Crypto++. All byte strings are std::string
// holding raw bytes. Functions are thread-safe (no shared mutable state).
#ifndef SHARDKEEP_COMMON_CRYPTO_H_
#define SHARDKEEP_COMMON_CRYPTO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shardkeep::crypto {

inline constexpr size_t kAeadKeySize = 32;    // AES-256
inline constexpr size_t kAeadNonceSize = 12;  // GCM 96-bit IV
inline constexpr size_t kAeadTagSize = 16;
inline constexpr size_t kSha256Size = 32;
inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

// `n` bytes from the operating system's CSPRNG.
std::string RandomBytes(size_t n);

// AES-256-GCM. Seal writes ciphertext || 16-byte tag to *out (replacing it).
// REQUIRES: key is 32 bytes, nonce is 12 bytes (else InvalidArgument).
absl::Status AeadSeal(std::string_view key, std::string_view nonce, std::string_view aad,
                      std::string_view plaintext, std::string* out);
// Verifies and decrypts ciphertext || tag. DataLoss if the tag does not verify
// (wrong key, tampered bytes or aad); InvalidArgument on bad sizes.
absl::Status AeadOpen(std::string_view key, std::string_view nonce, std::string_view aad,
                      std::string_view sealed, std::string* out);

// HKDF-SHA256 (RFC 5869): `length` bytes of output key material.
std::string Hkdf(std::string_view ikm, std::string_view salt, std::string_view info,
                 size_t length);

// scrypt (RFC 7914). InvalidArgument for parameters Crypto++ rejects.
absl::StatusOr<std::string> Scrypt(std::string_view passphrase, std::string_view salt,
                                   uint64_t n, uint32_t r, uint32_t p, size_t length);

// SHA-256 of data, and an incremental form for streams.
std::string Sha256(std::string_view data);
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  std::string Final();  // 32 bytes; the stream is reset afterwards.
 private:
  struct Impl;
  Impl* impl_;
};

// HMAC-SHA256.
std::string HmacSha256(std::string_view key, std::string_view data);

// Keyed chunk hash: the chunk ID of plaintext under the vault's chunk-ID key,
// so a supplier cannot test whether a customer holds a known file. 32 bytes.
// (HMAC-SHA256: chosen over keyed BLAKE2b by benchmark, see docs/FORMAT.md.)
std::string ChunkId(std::string_view key, std::string_view data);

// Ed25519 (RFC 8032). A private key is its 32-byte seed.
std::string Ed25519PublicKey(std::string_view seed);
std::string Ed25519Sign(std::string_view seed, std::string_view message);
bool Ed25519Verify(std::string_view public_key, std::string_view message,
                   std::string_view signature);

// Lower-case hex, and its inverse (InvalidArgument on bad input).
std::string ToHex(std::string_view bytes);
absl::StatusOr<std::string> FromHex(std::string_view hex);

// Constant-time comparison of equal-length strings (false if lengths differ).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace shardkeep::crypto

#endif  // SHARDKEEP_COMMON_CRYPTO_H_

// Cryptographic primitives on Crypto++. All byte strings are std::string
// holding raw bytes. Functions are thread-safe (no shared mutable state) and
// never throw: Crypto++ exceptions are turned into absl::Status, and a broken
// precondition marked "REQUIRES ... (aborts)" ends the process with a message,
// because continuing with a wrong-sized key is never the right thing to do.
// Formats, sizes and the choice of the chunk hash: docs/FORMAT.md (drafted in
// docs/FORMAT-crypto.md).
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
inline constexpr size_t kHmacSha256Size = 32;
inline constexpr size_t kChunkIdSize = 32;
inline constexpr size_t kHkdfMaxLength = 255 * kSha256Size;  // RFC 5869: 255 * HashLen

// `n` bytes from the operating system's CSPRNG (/dev/urandom, read per call:
// no user-space pool, so nothing is shared between threads and a forked child
// never repeats its parent's bytes). Aborts if the OS RNG cannot be read.
std::string RandomBytes(size_t n);

// AES-256-GCM. Seal writes ciphertext || 16-byte tag to *out (replacing it;
// *out is resized once to plaintext.size() + 16, so a reused string of the
// right size costs no allocation). A (key, nonce) pair must never seal two
// different messages: callers use RandomBytes(kAeadNonceSize) or a counter.
// REQUIRES: key is 32 bytes, nonce is 12 bytes (else InvalidArgument).
// REQUIRES: *out does not overlap any input.
absl::Status AeadSeal(std::string_view key, std::string_view nonce, std::string_view aad,
                      std::string_view plaintext, std::string* out);
// As AeadSeal, but appends ciphertext || tag after what *out holds (on
// error *out is cut back to what it held). Lets a caller put a header
// before the ciphertext without a second buffer of the whole message.
absl::Status AeadSealAppend(std::string_view key, std::string_view nonce, std::string_view aad,
                            std::string_view plaintext, std::string* out);
// As AeadSeal, encrypting (*buf)[offset..] where it lies and appending the
// tag; (*buf)[0..offset) (say, the nonce) is left as it is. With capacity
// for the tag, no buffer of the message is allocated. On a bad size
// nothing is touched; on a cipher error *buf is wiped and cut back to
// `offset` bytes.
absl::Status AeadSealInPlace(std::string_view key, std::string_view nonce, std::string_view aad,
                             std::string* buf, size_t offset);
// Verifies and decrypts ciphertext || tag. DataLoss if the tag does not verify
// (wrong key, tampered bytes or aad) and then leaves *out empty, so
// unauthenticated plaintext is never handed out; InvalidArgument on bad sizes
// (including sealed shorter than the 16-byte tag).
// REQUIRES: *out does not overlap any input.
absl::Status AeadOpen(std::string_view key, std::string_view nonce, std::string_view aad,
                      std::string_view sealed, std::string* out);
// As AeadOpen, with *buf holding ciphertext || tag on entry and the
// plaintext on success (decrypted where it lies: no second buffer of the
// message). On any error *buf is left empty.
absl::Status AeadOpenInPlace(std::string_view key, std::string_view nonce, std::string_view aad,
                             std::string* buf);

// Size of AeadSeal's output for a plaintext of `plaintext_size` bytes.
inline constexpr size_t AeadSealedSize(size_t plaintext_size) {
  return plaintext_size + kAeadTagSize;
}

// HKDF-SHA256 (RFC 5869): `length` bytes of output key material. An empty
// salt is the RFC's "not provided" (HashLen zero bytes; HMAC makes both equal).
// REQUIRES: length <= kHkdfMaxLength (aborts).
std::string Hkdf(std::string_view ikm, std::string_view salt, std::string_view info, size_t length);

// scrypt (RFC 7914). InvalidArgument for parameters the RFC or Crypto++ rejects
// (n not a power of two > 1, zero r/p or length, ...) and for a cost 128*n*r*p
// above 4 GiB (the working set when p = 1; p multiplies the time), so a forged
// vault header cannot make us allocate or compute without bound.
absl::StatusOr<std::string> Scrypt(std::string_view passphrase, std::string_view salt, uint64_t n,
                                   uint32_t r, uint32_t p, size_t length);

// Argon2id (RFC 9106) through Debian's libargon2: `t_cost` passes over
// `m_cost_kib` KiB of memory in `lanes` lanes (run on as many threads).
// InvalidArgument for parameters outside t 1..16, memory 8 KiB x lanes ..
// 1 GiB, lanes 1..8, or more than 4 GiB x passes in all, so a forged key
// record cannot make us allocate or compute without bound.
absl::StatusOr<std::string> Argon2id(std::string_view passphrase, std::string_view salt,
                                     uint32_t t_cost, uint32_t m_cost_kib, uint32_t lanes,
                                     size_t length);

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

// HMAC-SHA256 (RFC 2104 / RFC 4231). 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// Keyed chunk hash: the chunk ID of plaintext under the vault's chunk-ID key,
// so a supplier cannot test whether a customer holds a known file. 32 bytes.
// It is HMAC-SHA256(key, data): chosen over keyed BLAKE2b by benchmark (with
// SHA-NI, HMAC-SHA256 runs at ~1.8 GB/s here, Crypto++'s BLAKE2b at ~0.6), see
// docs/FORMAT.md and tests/bench/crypto_bench.cc.
std::string ChunkId(std::string_view key, std::string_view data);

// Ed25519 (RFC 8032). A private key is its 32-byte seed; signatures are
// deterministic. REQUIRES: seed is 32 bytes (aborts).
std::string Ed25519PublicKey(std::string_view seed);
std::string Ed25519Sign(std::string_view seed, std::string_view message);
// False for a wrong signature, and for a key or signature of the wrong size.
bool Ed25519Verify(std::string_view public_key, std::string_view message,
                   std::string_view signature);

// Lower-case hex, and its inverse (InvalidArgument on bad input).
std::string ToHex(std::string_view bytes);
absl::StatusOr<std::string> FromHex(std::string_view hex);

// Constant-time comparison of equal-length strings (false if lengths differ).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Which code paths Crypto++ takes on this CPU, for benchmarks, tests and logs.
// The *_provider strings are Crypto++'s own AlgorithmProvider() names. Crypto++
// has no provider name for GHASH: GCM<AES>::AlgorithmProvider() reports the
// block cipher's, and GCM uses carry-less multiply exactly when clmul is true
// (chosen at key setup in gcm.cpp), which ghash_path spells out.
struct Implementation {
  bool aesni = false;            // CryptoPP::HasAESNI()
  bool clmul = false;            // CryptoPP::HasCLMUL()
  bool sha_ni = false;           // CryptoPP::HasSHA()
  std::string aes_provider;      // e.g. "AESNI"
  std::string gcm_provider;      // e.g. "AESNI" (the cipher's)
  std::string ghash_path;        // "CLMUL" or "tables"
  std::string sha256_provider;   // e.g. "SHANI"
  std::string hmac_provider;     // HMAC<SHA256>: the hash's, e.g. "SHANI"
  std::string blake2b_provider;  // e.g. "SSE4.1"
  int cryptopp_version = 0;      // CryptoPP::LibraryVersion() at run time, e.g. 870
};
Implementation DescribeImplementation();

}  // namespace shardkeep::crypto

#endif  // SHARDKEEP_COMMON_CRYPTO_H_

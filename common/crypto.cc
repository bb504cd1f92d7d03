// Crypto++ behind the small interface of crypto.h. Every Crypto++ object is
// local to a call, so there is no shared state to lock, and key material in
// Crypto++ objects is wiped by their SecBlock destructors when the call ends.
// Crypto++ reports errors by throwing; each entry point catches and converts.
#include "common/crypto.h"

#include <argon2.h>

#include <cryptopp/aes.h>
#include <cryptopp/blake2.h>
#include <cryptopp/cpu.h>
#include <cryptopp/cryptlib.h>
#include <cryptopp/gcm.h>
#include <cryptopp/hkdf.h>
#include <cryptopp/hmac.h>
#include <cryptopp/misc.h>
#include <cryptopp/osrng.h>
#include <cryptopp/scrypt.h>
#include <cryptopp/sha.h>
#include <cryptopp/xed25519.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "absl/strings/str_cat.h"

namespace shardkeep::crypto {
namespace {

using CryptoPP::byte;

// Crypto++ wants non-null pointers even for empty inputs in a few places.
const byte kEmpty[1] = {0};

const byte* Bytes(std::string_view s) {
  return s.empty() ? kEmpty : reinterpret_cast<const byte*>(s.data());
}

byte* MutableBytes(std::string* s) { return reinterpret_cast<byte*>(&(*s)[0]); }

// A broken REQUIRES: stop here rather than carry on with a bad key.
[[noreturn]] void Fatal(const char* what) {
  std::fprintf(stderr, "shardkeep::crypto: fatal: %s\n", what);
  std::abort();
}

// Wipes and empties a string that held secret or unauthenticated bytes.
void Wipe(std::string* s) {
  if (!s->empty()) CryptoPP::SecureWipeBuffer(MutableBytes(s), s->size());
  s->clear();
}

absl::Status CheckAeadSizes(std::string_view key, std::string_view nonce) {
  if (key.size() != kAeadKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("AES-256-GCM key must be 32 bytes, got ", key.size()));
  }
  if (nonce.size() != kAeadNonceSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("AES-256-GCM nonce must be 12 bytes, got ", nonce.size()));
  }
  return absl::OkStatus();
}

}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n == 0) return out;
  try {
    // Non-blocking = /dev/urandom, a fresh descriptor per call (see header).
    CryptoPP::OS_GenerateRandomBlock(/*blocking=*/false, MutableBytes(&out), n);
  } catch (const CryptoPP::Exception& e) {
    Fatal(e.what());
  }
  return out;
}

absl::Status AeadSeal(std::string_view key, std::string_view nonce, std::string_view aad,
                      std::string_view plaintext, std::string* out) {
  out->clear();
  absl::Status s = AeadSealAppend(key, nonce, aad, plaintext, out);
  if (!s.ok()) Wipe(out);
  return s;
}

absl::Status AeadSealAppend(std::string_view key, std::string_view nonce, std::string_view aad,
                            std::string_view plaintext, std::string* out) {
  RETURN_IF_ERROR(CheckAeadSizes(key, nonce));
  const size_t start = out->size();
  out->resize(start + AeadSealedSize(plaintext.size()));
  byte* ciphertext = MutableBytes(out) + start;
  try {
    CryptoPP::GCM<CryptoPP::AES>::Encryption gcm;
    // GCM refuses a key without an IV; the call below resynchronizes to it again.
    gcm.SetKeyWithIV(Bytes(key), key.size(), Bytes(nonce), nonce.size());
    // One pass, no filters: ciphertext goes straight into *out, the tag after it.
    gcm.EncryptAndAuthenticate(ciphertext, ciphertext + plaintext.size(), kAeadTagSize,
                               Bytes(nonce), static_cast<int>(nonce.size()), Bytes(aad), aad.size(),
                               Bytes(plaintext), plaintext.size());
  } catch (const CryptoPP::Exception& e) {
    out->resize(start);
    return absl::InternalError(absl::StrCat("AES-256-GCM seal: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status AeadSealInPlace(std::string_view key, std::string_view nonce, std::string_view aad,
                             std::string* buf, size_t offset) {
  absl::Status sizes = CheckAeadSizes(key, nonce);
  if (sizes.ok() && offset > buf->size()) {
    sizes = absl::InvalidArgumentError(
        absl::StrCat("AES-256-GCM seal: offset ", offset, " past the ", buf->size(), " bytes"));
  }
  if (!sizes.ok()) return sizes;
  const size_t n = buf->size() - offset;
  buf->resize(buf->size() + kAeadTagSize);  // before taking pointers: it may move
  byte* data = n == 0 ? const_cast<byte*>(kEmpty) : MutableBytes(buf) + offset;
  try {
    CryptoPP::GCM<CryptoPP::AES>::Encryption gcm;
    gcm.SetKeyWithIV(Bytes(key), key.size(), Bytes(nonce), nonce.size());
    // Crypto++ lets a stream cipher's output be its input; GCM authenticates
    // the ciphertext after writing it.
    gcm.EncryptAndAuthenticate(data, MutableBytes(buf) + offset + n, kAeadTagSize, Bytes(nonce),
                               static_cast<int>(nonce.size()), Bytes(aad), aad.size(), data, n);
  } catch (const CryptoPP::Exception& e) {
    Wipe(buf);
    buf->resize(offset);
    return absl::InternalError(absl::StrCat("AES-256-GCM seal: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status AeadOpen(std::string_view key, std::string_view nonce, std::string_view aad,
                      std::string_view sealed, std::string* out) {
  RETURN_IF_ERROR(CheckAeadSizes(key, nonce));
  if (sealed.size() < kAeadTagSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "AES-256-GCM sealed data must hold the 16-byte tag, got ", sealed.size(), " bytes"));
  }
  const size_t n = sealed.size() - kAeadTagSize;
  out->resize(n);
  bool ok = false;
  try {
    CryptoPP::GCM<CryptoPP::AES>::Decryption gcm;
    // GCM refuses a key without an IV; the call below resynchronizes to it again.
    gcm.SetKeyWithIV(Bytes(key), key.size(), Bytes(nonce), nonce.size());
    ok = gcm.DecryptAndVerify(
        n == 0 ? const_cast<byte*>(kEmpty) : MutableBytes(out), Bytes(sealed) + n, kAeadTagSize,
        Bytes(nonce), static_cast<int>(nonce.size()), Bytes(aad), aad.size(), Bytes(sealed), n);
  } catch (const CryptoPP::Exception& e) {
    Wipe(out);
    return absl::InternalError(absl::StrCat("AES-256-GCM open: ", e.what()));
  }
  if (!ok) {
    Wipe(out);  // DecryptAndVerify wrote plaintext before checking the tag.
    return absl::DataLossError(
        "AES-256-GCM open: authentication tag does not verify (wrong key, nonce or "
        "associated data, or the bytes were altered)");
  }
  return absl::OkStatus();
}

absl::Status AeadOpenInPlace(std::string_view key, std::string_view nonce, std::string_view aad,
                             std::string* buf) {
  absl::Status sizes = CheckAeadSizes(key, nonce);
  if (sizes.ok() && buf->size() < kAeadTagSize) {
    sizes = absl::InvalidArgumentError(absl::StrCat(
        "AES-256-GCM sealed data must hold the 16-byte tag, got ", buf->size(), " bytes"));
  }
  if (!sizes.ok()) {
    buf->clear();
    return sizes;
  }
  const size_t n = buf->size() - kAeadTagSize;
  bool ok = false;
  try {
    CryptoPP::GCM<CryptoPP::AES>::Decryption gcm;
    gcm.SetKeyWithIV(Bytes(key), key.size(), Bytes(nonce), nonce.size());
    // Crypto++ lets a stream cipher's output be its input (same pointer);
    // GCM authenticates each piece of ciphertext before decrypting it, and
    // the tag after the message is never written.
    byte* data = n == 0 ? const_cast<byte*>(kEmpty) : MutableBytes(buf);
    ok = gcm.DecryptAndVerify(data, MutableBytes(buf) + n, kAeadTagSize, Bytes(nonce),
                              static_cast<int>(nonce.size()), Bytes(aad), aad.size(), data, n);
  } catch (const CryptoPP::Exception& e) {
    Wipe(buf);
    buf->clear();
    return absl::InternalError(absl::StrCat("AES-256-GCM open: ", e.what()));
  }
  if (!ok) {
    Wipe(buf);  // unauthenticated plaintext is never handed out
    buf->clear();
    return absl::DataLossError(
        "AES-256-GCM open: authentication tag does not verify (wrong key, nonce or "
        "associated data, or the bytes were altered)");
  }
  buf->resize(n);
  return absl::OkStatus();
}

std::string Hkdf(std::string_view ikm, std::string_view salt, std::string_view info,
                 size_t length) {
  if (length > kHkdfMaxLength) Fatal("Hkdf: length above 255 * 32 bytes (RFC 5869)");
  std::string out(length, '\0');
  if (length == 0) return out;
  try {
    CryptoPP::HKDF<CryptoPP::SHA256> hkdf;
    // A non-null empty salt means HMAC keyed with "", equal to HashLen zeros.
    hkdf.DeriveKey(MutableBytes(&out), length, Bytes(ikm), ikm.size(), Bytes(salt), salt.size(),
                   Bytes(info), info.size());
  } catch (const CryptoPP::Exception& e) {
    Fatal(e.what());
  }
  return out;
}

absl::StatusOr<std::string> Scrypt(std::string_view passphrase, std::string_view salt, uint64_t n,
                                   uint32_t r, uint32_t p, size_t length) {
  // Working set of ROMix is 128 * r * n bytes, run once per lane: p lanes cost
  // p times the time, and Crypto++ also allocates 128 * r * p bytes for them.
  // Refuse a cost 128 * n * r * p above 4 GiB (the working set of p = 1) before
  // Crypto++ allocates or runs anything; the divisions keep it from
  // overflowing. (p was unbounded: a key record with p = 2^22 took minutes.)
  constexpr uint64_t kMaxWorkingSet = uint64_t{4} << 30;
  if (r == 0 || p == 0 || n > kMaxWorkingSet / 128 / r / p) {
    return absl::InvalidArgumentError(
        absl::StrCat("scrypt: N=", n, " r=", r, " p=", p, " is zero or costs more than 4 GiB"));
  }
  // RFC 7914: N is a power of two larger than 1 (Crypto++ accepts N = 1).
  if (n < 2 || (n & (n - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("scrypt: N=", n, " is not a power of two larger than 1"));
  }
  if (length == 0) return absl::InvalidArgumentError("scrypt: output length is zero");
  std::string out(length, '\0');
  try {
    CryptoPP::Scrypt scrypt;
    scrypt.DeriveKey(MutableBytes(&out), length, Bytes(passphrase), passphrase.size(), Bytes(salt),
                     salt.size(), n, r, p);
  } catch (const CryptoPP::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("scrypt: ", e.what()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat("scrypt: cannot allocate ", 128 * n * r, " bytes"));
  }
  return out;
}

absl::StatusOr<std::string> Argon2id(std::string_view passphrase, std::string_view salt,
                                     uint32_t t_cost, uint32_t m_cost_kib, uint32_t lanes,
                                     size_t length) {
  constexpr uint64_t kMaxMemoryKib = uint64_t{1} << 20;       // 1 GiB
  constexpr uint64_t kMaxMemoryPassesKib = uint64_t{4} << 20;  // 4 GiB x passes
  if (t_cost < 1 || t_cost > 16 || lanes < 1 || lanes > 8 || m_cost_kib < 8 * lanes ||
      m_cost_kib > kMaxMemoryKib || uint64_t{m_cost_kib} * t_cost > kMaxMemoryPassesKib) {
    return absl::InvalidArgumentError(absl::StrCat(
        "argon2id: t=", t_cost, " m=", m_cost_kib, " KiB lanes=", lanes,
        " is outside t 1..16, m 8 KiB x lanes..1 GiB, lanes 1..8, m x t <= 4 GiB"));
  }
  if (length < 4 || salt.size() < 8) {
    return absl::InvalidArgumentError("argon2id: output under 4 bytes or salt under 8 bytes");
  }
  std::string out(length, '\0');
  int rc = argon2id_hash_raw(t_cost, m_cost_kib, lanes, passphrase.data(), passphrase.size(),
                             salt.data(), salt.size(), out.data(), out.size());
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) {
    return absl::ResourceExhaustedError(
        absl::StrCat("argon2id: cannot allocate ", m_cost_kib, " KiB"));
  }
  if (rc != ARGON2_OK) {
    return absl::InvalidArgumentError(absl::StrCat("argon2id: ", argon2_error_message(rc)));
  }
  return out;
}

std::string Sha256(std::string_view data) {
  std::string out(kSha256Size, '\0');
  CryptoPP::SHA256().CalculateDigest(MutableBytes(&out), Bytes(data), data.size());
  return out;
}

struct Sha256Stream::Impl {
  CryptoPP::SHA256 hash;
};

Sha256Stream::Sha256Stream() : impl_(new Impl) {}
Sha256Stream::~Sha256Stream() { delete impl_; }

void Sha256Stream::Update(std::string_view data) { impl_->hash.Update(Bytes(data), data.size()); }

std::string Sha256Stream::Final() {
  std::string out(kSha256Size, '\0');
  impl_->hash.Final(MutableBytes(&out));  // Final() also restarts the hash.
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::string out(kHmacSha256Size, '\0');
  CryptoPP::HMAC<CryptoPP::SHA256> mac(Bytes(key), key.size());
  mac.CalculateDigest(MutableBytes(&out), Bytes(data), data.size());
  return out;
}

std::string ChunkId(std::string_view key, std::string_view data) { return HmacSha256(key, data); }

std::string Ed25519PublicKey(std::string_view seed) {
  if (seed.size() != kEd25519SeedSize) Fatal("Ed25519PublicKey: seed must be 32 bytes");
  try {
    CryptoPP::ed25519Signer signer(Bytes(seed));
    const auto& key = static_cast<const CryptoPP::ed25519PrivateKey&>(signer.GetPrivateKey());
    return std::string(reinterpret_cast<const char*>(key.GetPublicKeyBytePtr()),
                       kEd25519PublicKeySize);
  } catch (const CryptoPP::Exception& e) {
    Fatal(e.what());
  }
}

std::string Ed25519Sign(std::string_view seed, std::string_view message) {
  if (seed.size() != kEd25519SeedSize) Fatal("Ed25519Sign: seed must be 32 bytes");
  std::string signature(kEd25519SignatureSize, '\0');
  try {
    CryptoPP::ed25519Signer signer(Bytes(seed));
    // Ed25519 is deterministic: the RNG argument is never used.
    signer.SignMessage(CryptoPP::NullRNG(), Bytes(message), message.size(),
                       MutableBytes(&signature));
  } catch (const CryptoPP::Exception& e) {
    Fatal(e.what());
  }
  return signature;
}

bool Ed25519Verify(std::string_view public_key, std::string_view message,
                   std::string_view signature) {
  if (public_key.size() != kEd25519PublicKeySize) return false;
  if (signature.size() != kEd25519SignatureSize) return false;
  try {
    CryptoPP::ed25519Verifier verifier(Bytes(public_key));
    return verifier.VerifyMessage(Bytes(message), message.size(), Bytes(signature),
                                  signature.size());
  } catch (const CryptoPP::Exception&) {
    return false;  // e.g. a public key that does not decode to a curve point
  }
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * bytes.size(), '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0xf];
  }
  return out;
}

absl::StatusOr<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("hex string has odd length ", hex.size()));
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a hex digit at offset ", hi < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CryptoPP::VerifyBufsEqual(Bytes(a), Bytes(b), a.size());
}

Implementation DescribeImplementation() {
  Implementation impl;
#if CRYPTOPP_BOOL_X86 || CRYPTOPP_BOOL_X32 || CRYPTOPP_BOOL_X64
  impl.aesni = CryptoPP::HasAESNI();
  impl.clmul = CryptoPP::HasCLMUL();
  impl.sha_ni = CryptoPP::HasSHA();
#endif
  impl.aes_provider = CryptoPP::AES::Encryption().AlgorithmProvider();
  impl.gcm_provider = CryptoPP::GCM<CryptoPP::AES>::Encryption().AlgorithmProvider();
#if defined(CRYPTOPP_CLMUL_AVAILABLE)
  impl.ghash_path = impl.clmul ? "CLMUL" : "tables";
#else
  impl.ghash_path = "tables";
#endif
  impl.sha256_provider = CryptoPP::SHA256().AlgorithmProvider();
  impl.hmac_provider = CryptoPP::HMAC<CryptoPP::SHA256>().AlgorithmProvider();
  impl.blake2b_provider = CryptoPP::BLAKE2b().AlgorithmProvider();
  impl.cryptopp_version = CryptoPP::LibraryVersion();
  return impl;
}

}  // namespace shardkeep::crypto

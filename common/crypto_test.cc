// Published test vectors for every primitive in crypto.h, tamper tests for
// the AEAD and signatures, and a check that Crypto++ takes the AES-NI, CLMUL
// and SHA-NI paths when this CPU has them. Every expected value below comes
// from the cited document (and was cross-checked against OpenSSL).
#include "common/crypto.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace shardkeep::crypto {
namespace {

// Decodes a hex literal from a test vector; a typo in the vector fails loudly.
std::string H(std::string_view hex) {
  absl::StatusOr<std::string> bytes = FromHex(hex);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::string();
}

std::string Range(int first, int end) {  // bytes first, first+1, ..., end-1
  std::string s;
  for (int b = first; b < end; ++b) s.push_back(static_cast<char>(b));
  return s;
}

// ---------------------------------------------------------------- HKDF ----

// RFC 5869 appendix A.1-A.3 (the SHA-256 cases).
TEST(HkdfTest, Rfc5869TestCase1) {
  EXPECT_EQ(ToHex(Hkdf(std::string(22, '\x0b'), H("000102030405060708090a0b0c"),
                       H("f0f1f2f3f4f5f6f7f8f9"), 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfTest, Rfc5869TestCase2LongInputs) {
  EXPECT_EQ(ToHex(Hkdf(Range(0x00, 0x50), Range(0x60, 0xb0), Range(0xb0, 0x100), 82)),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST(HkdfTest, Rfc5869TestCase3EmptySaltAndInfo) {
  EXPECT_EQ(ToHex(Hkdf(std::string(22, '\x0b'), "", "", 42)),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfTest, LengthsAndPrefixProperty) {
  const std::string ikm = "input key material", salt = "salt", info = "info";
  EXPECT_EQ(Hkdf(ikm, salt, info, 0), "");
  const std::string longest = Hkdf(ikm, salt, info, kHkdfMaxLength);
  ASSERT_EQ(longest.size(), kHkdfMaxLength);
  // HKDF output is a stream: a shorter request is a prefix of a longer one.
  EXPECT_EQ(Hkdf(ikm, salt, info, 45), longest.substr(0, 45));
  // Different info gives unrelated subkeys.
  EXPECT_NE(Hkdf(ikm, salt, "other", 32), longest.substr(0, 32));
}

TEST(HkdfDeathTest, LengthAboveRfcLimitAborts) {
  EXPECT_DEATH(Hkdf("k", "s", "i", kHkdfMaxLength + 1), "255");
}

// ------------------------------------------------------------- Ed25519 ----

struct Ed25519Vector {
  const char* seed;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 section 7.1, TEST 1 (empty message), TEST 2 and TEST 3.
const Ed25519Vector kRfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b"
     "46b"
     "d25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11"
     "d8c"
     "387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc"
     "659"
     "4a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Ed25519Test, Rfc8032Section71Vectors) {
  for (const Ed25519Vector& v : kRfc8032) {
    SCOPED_TRACE(v.public_key);
    const std::string seed = H(v.seed), message = H(v.message);
    EXPECT_EQ(ToHex(Ed25519PublicKey(seed)), v.public_key);
    const std::string signature = Ed25519Sign(seed, message);
    EXPECT_EQ(ToHex(signature), v.signature);
    EXPECT_TRUE(Ed25519Verify(H(v.public_key), message, H(v.signature)));
  }
}

TEST(Ed25519Test, TamperedSignatureMessageOrKeyIsRejected) {
  for (const Ed25519Vector& v : kRfc8032) {
    SCOPED_TRACE(v.public_key);
    const std::string public_key = H(v.public_key), message = H(v.message),
                      signature = H(v.signature);
    // Every single-bit flip of R or S in a few positions fails.
    for (size_t byte : {size_t{0}, size_t{31}, size_t{32}, size_t{63}}) {
      for (int bit : {0, 7}) {
        std::string bad = signature;
        bad[byte] ^= static_cast<char>(1 << bit);
        EXPECT_FALSE(Ed25519Verify(public_key, message, bad)) << byte << ":" << bit;
      }
    }
    EXPECT_FALSE(Ed25519Verify(public_key, message + "x", signature));
    if (!message.empty()) {
      std::string bad = message;
      bad[0] ^= 1;
      EXPECT_FALSE(Ed25519Verify(public_key, bad, signature));
    }
    // Another vector's key does not verify this signature.
    const std::string other_key = H(kRfc8032[(&v - kRfc8032 + 1) % 3].public_key);
    EXPECT_FALSE(Ed25519Verify(other_key, message, signature));
    // Wrong sizes are a plain "no".
    EXPECT_FALSE(Ed25519Verify(public_key.substr(1), message, signature));
    EXPECT_FALSE(Ed25519Verify(public_key, message, signature.substr(1)));
    EXPECT_FALSE(Ed25519Verify(public_key, message, signature + "x"));
  }
}

TEST(Ed25519Test, RandomKeysSignLargeMessages) {
  const std::string seed = RandomBytes(kEd25519SeedSize);
  const std::string public_key = Ed25519PublicKey(seed);
  ASSERT_EQ(public_key.size(), kEd25519PublicKeySize);
  const std::string message = RandomBytes(100000);
  const std::string signature = Ed25519Sign(seed, message);
  ASSERT_EQ(signature.size(), kEd25519SignatureSize);
  EXPECT_EQ(Ed25519Sign(seed, message), signature);  // deterministic
  EXPECT_TRUE(Ed25519Verify(public_key, message, signature));
  std::string bad = message;
  bad[99999] ^= 0x80;
  EXPECT_FALSE(Ed25519Verify(public_key, bad, signature));
}

TEST(Ed25519DeathTest, WrongSeedSizeAborts) {
  EXPECT_DEATH(Ed25519Sign(std::string(31, 'a'), "m"), "32 bytes");
  EXPECT_DEATH(Ed25519PublicKey(std::string(33, 'a')), "32 bytes");
}

// --------------------------------------------------------- AES-256-GCM ----

struct GcmVector {
  const char* name;
  const char* key;
  const char* nonce;
  const char* plaintext;
  const char* aad;
  const char* ciphertext;
  const char* tag;
};

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Test Cases
// 13-16 (AES-256 with 96-bit IVs), also in NIST's GCM validation vectors.
const GcmVector kGcmSpec[] = {
    {"TestCase13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"TestCase14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"TestCase15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"TestCase16WithAad", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(AeadTest, GcmSpecTestCases13To16) {
  for (const GcmVector& v : kGcmSpec) {
    SCOPED_TRACE(v.name);
    const std::string key = H(v.key), nonce = H(v.nonce), plaintext = H(v.plaintext),
                      aad = H(v.aad);
    std::string sealed = "previous contents are replaced";
    ASSERT_TRUE(AeadSeal(key, nonce, aad, plaintext, &sealed).ok());
    EXPECT_EQ(sealed.size(), AeadSealedSize(plaintext.size()));
    EXPECT_EQ(ToHex(sealed), std::string(v.ciphertext) + v.tag);  // tag appended
    std::string opened = "junk";
    ASSERT_TRUE(AeadOpen(key, nonce, aad, sealed, &opened).ok());
    EXPECT_EQ(opened, plaintext);
  }
}

TEST(AeadTest, AnyFlippedBitOfCiphertextTagOrAadIsDataLoss) {
  const GcmVector& v = kGcmSpec[3];  // has ciphertext, tag and aad
  const std::string key = H(v.key), nonce = H(v.nonce), aad = H(v.aad);
  const std::string sealed = H(v.ciphertext) + H(v.tag);
  const size_t ciphertext_size = sealed.size() - kAeadTagSize;
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] ^= static_cast<char>(1 << (i % 8));
    std::string out = "junk";
    absl::Status status = AeadOpen(key, nonce, aad, bad, &out);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss)
        << (i < ciphertext_size ? "ciphertext" : "tag") << " byte " << i << ": " << status;
    EXPECT_TRUE(out.empty()) << "unauthenticated plaintext leaked for byte " << i;
  }
  for (size_t i = 0; i < aad.size(); ++i) {
    std::string bad_aad = aad;
    bad_aad[i] ^= 0x01;
    std::string out;
    EXPECT_EQ(AeadOpen(key, nonce, bad_aad, sealed, &out).code(), absl::StatusCode::kDataLoss)
        << "aad byte " << i;
  }
  std::string out;
  EXPECT_EQ(AeadOpen(key, nonce, "", sealed, &out).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(AeadOpen(key, nonce, aad, sealed.substr(0, sealed.size() - 1), &out).code(),
            absl::StatusCode::kDataLoss);  // truncated: the tag moves
  std::string other_key = key;
  other_key[31] ^= 0x01;
  EXPECT_EQ(AeadOpen(other_key, nonce, aad, sealed, &out).code(), absl::StatusCode::kDataLoss);
  std::string other_nonce = nonce;
  other_nonce[0] ^= 0x01;
  EXPECT_EQ(AeadOpen(key, other_nonce, aad, sealed, &out).code(), absl::StatusCode::kDataLoss);
  // The untouched input still opens.
  ASSERT_TRUE(AeadOpen(key, nonce, aad, sealed, &out).ok());
  EXPECT_EQ(out, H(v.plaintext));
}

TEST(AeadTest, BadSizesAreInvalidArgument) {
  const std::string key(32, 'k'), nonce(12, 'n');
  std::string out;
  EXPECT_EQ(AeadSeal(key.substr(1), nonce, "", "p", &out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AeadSeal(std::string(16, 'k'), nonce, "", "p", &out).code(),
            absl::StatusCode::kInvalidArgument);  // AES-128 key refused
  EXPECT_EQ(AeadSeal(key, nonce + "x", "", "p", &out).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AeadOpen(key, nonce.substr(1), "", std::string(16, 't'), &out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AeadOpen(key, nonce, "", std::string(15, 't'), &out).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AeadTest, RoundTripsEveryAwkwardSize) {
  const std::string key = RandomBytes(kAeadKeySize);
  const std::string aad = "vault=7 block=42";
  for (size_t size : {0, 1, 15, 16, 17, 255, 4096, 65537, (1 << 20) + 3}) {
    SCOPED_TRACE(size);
    const std::string nonce = RandomBytes(kAeadNonceSize);
    const std::string plaintext = RandomBytes(size);
    std::string sealed, opened;
    ASSERT_TRUE(AeadSeal(key, nonce, aad, plaintext, &sealed).ok());
    ASSERT_EQ(sealed.size(), size + kAeadTagSize);
    if (size >= 16) EXPECT_NE(sealed.substr(0, 16), plaintext.substr(0, 16));
    ASSERT_TRUE(AeadOpen(key, nonce, aad, sealed, &opened).ok());
    EXPECT_TRUE(opened == plaintext);
  }
}

// The buffer-saving twins: AeadSealAppend writes after a header,
// AeadSealInPlace encrypts where the plaintext lies, and AeadOpenInPlace
// decrypts where the ciphertext lies. Same bytes as the
// copying calls, and the same refusals.
TEST(AeadTest, AppendAndInPlaceMatchTheSpecAndRefuseTampering) {
  for (const GcmVector& v : kGcmSpec) {
    SCOPED_TRACE(v.name);
    const std::string key = H(v.key), nonce = H(v.nonce), plaintext = H(v.plaintext),
                      aad = H(v.aad);
    std::string sealed = "header";
    ASSERT_TRUE(AeadSealAppend(key, nonce, aad, plaintext, &sealed).ok());
    EXPECT_EQ(ToHex(sealed), ToHex("header") + v.ciphertext + v.tag);
    std::string buf = sealed.substr(6);
    ASSERT_TRUE(AeadOpenInPlace(key, nonce, aad, &buf).ok());
    EXPECT_EQ(buf, plaintext);
    std::string in_place = "head" + plaintext;
    ASSERT_TRUE(AeadSealInPlace(key, nonce, aad, &in_place, 4).ok());
    EXPECT_EQ(ToHex(in_place), ToHex("head") + v.ciphertext + v.tag);
  }
  std::string past = "abc";
  EXPECT_EQ(AeadSealInPlace(std::string(32, 'k'), std::string(12, 'n'), "", &past, 4).code(),
            absl::StatusCode::kInvalidArgument);
  const GcmVector& v = kGcmSpec[3];
  const std::string key = H(v.key), nonce = H(v.nonce), aad = H(v.aad);
  const std::string sealed = H(v.ciphertext) + H(v.tag);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] ^= static_cast<char>(1 << (i % 8));
    EXPECT_EQ(AeadOpenInPlace(key, nonce, aad, &bad).code(), absl::StatusCode::kDataLoss)
        << "byte " << i;
    EXPECT_TRUE(bad.empty()) << "unauthenticated plaintext left for byte " << i;
  }
  std::string wrong_aad = sealed;
  EXPECT_EQ(AeadOpenInPlace(key, nonce, aad + "x", &wrong_aad).code(),
            absl::StatusCode::kDataLoss);
  std::string short_buf(15, 't');
  EXPECT_EQ(AeadOpenInPlace(key, nonce, "", &short_buf).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(short_buf.empty());
  // Every awkward size round-trips through the copying seal and the in-place open.
  const std::string rkey = RandomBytes(kAeadKeySize);
  for (size_t size : {0, 1, 15, 16, 17, 255, 4096, 65537, (1 << 20) + 3}) {
    SCOPED_TRACE(size);
    const std::string rnonce = RandomBytes(kAeadNonceSize), plaintext = RandomBytes(size);
    std::string buf;
    ASSERT_TRUE(AeadSeal(rkey, rnonce, aad, plaintext, &buf).ok());
    ASSERT_TRUE(AeadOpenInPlace(rkey, rnonce, aad, &buf).ok());
    EXPECT_TRUE(buf == plaintext);
    std::string sealed_in_place = plaintext, copied;
    ASSERT_TRUE(AeadSealInPlace(rkey, rnonce, aad, &sealed_in_place, 0).ok());
    ASSERT_TRUE(AeadSeal(rkey, rnonce, aad, plaintext, &copied).ok());
    EXPECT_TRUE(sealed_in_place == copied);
  }
}

// ------------------------------------------------------------- scrypt ----

// RFC 7914 section 12.
TEST(ScryptTest, Rfc7914Vectors) {
  absl::StatusOr<std::string> k = Scrypt("", "", 16, 1, 1, 64);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(ToHex(*k),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
            "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
  k = Scrypt("password", "NaCl", 1024, 8, 16, 64);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(ToHex(*k),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
            "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
  k = Scrypt("pleaseletmein", "SodiumChloride", 16384, 8, 1, 64);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(ToHex(*k),
            "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
            "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887");
}

// The fourth RFC 7914 vector needs 1 GiB and ~4 s; run it with
// SHARDKEEP_SLOW_TESTS=1 (bazel test --test_env=SHARDKEEP_SLOW_TESTS=1 ...).
TEST(ScryptTest, Rfc7914VectorN1048576Slow) {
  const char* slow = std::getenv("SHARDKEEP_SLOW_TESTS");
  if (slow == nullptr || std::string(slow) != "1") {
    GTEST_SKIP() << "1 GiB / ~4 s; set SHARDKEEP_SLOW_TESTS=1 to run";
  }
  absl::StatusOr<std::string> k = Scrypt("pleaseletmein", "SodiumChloride", 1048576, 8, 1, 64);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(ToHex(*k),
            "2101cb9b6a511aaeaddbbe09cf70f881ec568d574a2ffd4dabe5ee9820adaa47"
            "8e56fd8f4ba5d09ffa1c6d927c40f4c337304049e8a952fbcbf45c6fa77a41a4");
}

TEST(ScryptTest, RejectedParametersAreInvalidArgument) {
  EXPECT_EQ(Scrypt("p", "s", 1000, 8, 1, 32).status().code(),
            absl::StatusCode::kInvalidArgument);  // N not a power of two
  EXPECT_EQ(Scrypt("p", "s", 1, 8, 1, 32).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Scrypt("p", "s", 0, 8, 1, 32).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Scrypt("p", "s", 16, 0, 1, 32).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Scrypt("p", "s", 16, 1, 0, 32).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Scrypt("p", "s", 16, 1, 1, 0).status().code(), absl::StatusCode::kInvalidArgument);
  // 128 * 8 * 2^23 = 8 GiB: refused before any allocation.
  EXPECT_EQ(Scrypt("p", "s", uint64_t{1} << 23, 8, 1, 32).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Scrypt("p", "s", uint64_t{1} << 62, 1 << 30, 1, 32).status().code(),
            absl::StatusCode::kInvalidArgument);  // product would overflow
  // A tiny working set but 2^22 lanes (found by tests/fuzz:key_record_fuzzer): minutes.
  EXPECT_EQ(Scrypt("p", "s", 16, 1, 1 << 22, 32).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ------------------------------------------------------ SHA-256, HMAC ----

// FIPS 180-2 appendix B (one- and two-block messages) and the empty string.
TEST(Sha256Test, Fips180Vectors) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, StreamingEqualsOneShotAndResetsAfterFinal) {
  const std::string data = RandomBytes((1 << 20) + 77);
  const std::string expected = Sha256(data);
  Sha256Stream stream;
  // Uneven pieces, including empty ones and pieces that straddle 64-byte blocks.
  size_t pos = 0, step = 0;
  while (pos < data.size()) {
    const size_t n = std::min(data.size() - pos, (step * 7919) % 70001);
    stream.Update(std::string_view(data).substr(pos, n));
    pos += n;
    ++step;
  }
  EXPECT_EQ(stream.Final(), expected);
  // After Final the stream starts over.
  stream.Update("ab");
  stream.Update("c");
  EXPECT_EQ(ToHex(stream.Final()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(stream.Final(), Sha256(""));
}

// RFC 4231 test cases 1, 2 and 6 (key longer than the block size).
TEST(HmacSha256Test, Rfc4231Vectors) {
  EXPECT_EQ(ToHex(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(ToHex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(ToHex(HmacSha256(std::string(131, '\xaa'),
                             "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(ChunkIdTest, IsHmacSha256UnderTheChunkKey) {
  const std::string key = RandomBytes(32), other_key = RandomBytes(32);
  const std::string chunk = RandomBytes(100000);
  const std::string id = ChunkId(key, chunk);
  ASSERT_EQ(id.size(), kChunkIdSize);
  EXPECT_EQ(id, HmacSha256(key, chunk));
  EXPECT_EQ(ChunkId(key, chunk), id);  // deterministic: dedup works
  // Without the key, the plain hash says nothing about the ID (the point).
  EXPECT_NE(id, Sha256(chunk));
  EXPECT_NE(ChunkId(other_key, chunk), id);
  std::string changed = chunk;
  changed[50000] ^= 1;
  EXPECT_NE(ChunkId(key, changed), id);
}

// --------------------------------------------- hex, compare, randomness ----

TEST(HexTest, RoundTripAndErrors) {
  EXPECT_EQ(ToHex(std::string("\x00\x01\x7f\x80\xff", 5)), "00017f80ff");
  EXPECT_EQ(ToHex(""), "");
  EXPECT_EQ(*FromHex("00017F80ff"), std::string("\x00\x01\x7f\x80\xff", 5));
  EXPECT_EQ(*FromHex(""), "");
  const std::string all = Range(0, 256);
  EXPECT_EQ(*FromHex(ToHex(all)), all);
  EXPECT_EQ(FromHex("abc").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FromHex("0g").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FromHex("g0").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FromHex(" 0").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "Abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(RandomBytesTest, SizesAndNoRepeatsAcrossThreads) {
  EXPECT_EQ(RandomBytes(0), "");
  EXPECT_EQ(RandomBytes(1).size(), 1u);
  EXPECT_EQ(RandomBytes(100000).size(), 100000u);
  // Nonces drawn concurrently never collide (a shared unlocked pool could).
  constexpr int kThreads = 4, kPerThread = 2000;
  std::vector<std::vector<std::string>> drawn(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&drawn, t] {
      for (int i = 0; i < kPerThread; ++i) drawn[t].push_back(RandomBytes(kAeadNonceSize));
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> unique;
  for (const auto& v : drawn) unique.insert(v.begin(), v.end());
  EXPECT_EQ(unique.size(), size_t{kThreads * kPerThread});
  // Crude sanity on the bytes: every value of a byte shows up in 64 KiB.
  const std::string bytes = RandomBytes(65536);
  std::set<char> values(bytes.begin(), bytes.end());
  EXPECT_EQ(values.size(), 256u);
}

// ---------------------------------------------- hardware code paths ----

// The CPU flags Linux reports in /proc/cpuinfo ("flags : fpu vme ... aes ...").
std::set<std::string> CpuFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags;
    for (std::string w; words >> w;) flags.insert(w);
    return flags;
  }
  return {};
}

TEST(ImplementationTest, CryptoppUsesAesNiClmulAndShaNiWhenTheCpuHasThem) {
  const Implementation impl = DescribeImplementation();
  RecordProperty("aes_provider", impl.aes_provider);
  RecordProperty("gcm_provider", impl.gcm_provider);
  RecordProperty("ghash_path", impl.ghash_path);
  RecordProperty("sha256_provider", impl.sha256_provider);
  EXPECT_GE(impl.cryptopp_version, 870);
#if defined(__x86_64__)
  const std::set<std::string> flags = CpuFlags();
  ASSERT_FALSE(flags.empty()) << "cannot read the flags line of /proc/cpuinfo";
  if (flags.count("aes")) {
    EXPECT_TRUE(impl.aesni);
    EXPECT_EQ(impl.aes_provider, "AESNI");
    EXPECT_EQ(impl.gcm_provider, "AESNI");
  }
  if (flags.count("pclmulqdq")) {
    EXPECT_TRUE(impl.clmul);
    EXPECT_EQ(impl.ghash_path, "CLMUL");
  }
  if (flags.count("sha_ni")) {
    EXPECT_TRUE(impl.sha_ni);
    EXPECT_EQ(impl.sha256_provider, "SHANI");
    EXPECT_EQ(impl.hmac_provider, "SHANI");
  }
  std::printf(
      "cpu: aes=%d pclmulqdq=%d sha_ni=%d; Crypto++ %d: AES=%s GCM=%s GHASH=%s SHA256=%s "
      "BLAKE2b=%s\n",
      int(flags.count("aes")), int(flags.count("pclmulqdq")), int(flags.count("sha_ni")),
      impl.cryptopp_version, impl.aes_provider.c_str(), impl.gcm_provider.c_str(),
      impl.ghash_path.c_str(), impl.sha256_provider.c_str(), impl.blake2b_provider.c_str());
#endif
}

}  // namespace
}  // namespace shardkeep::crypto

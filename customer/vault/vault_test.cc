#include <chrono>
#include "customer/vault/vault.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <string>

#include "common/compress.h"
#include "common/crypto.h"
#include "customer/vault/block.h"
#include "common/error_kind.h"
#include "customer/vault/keys.h"
#include "customer/vault/objects.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

// Cheap derivation for tests; the format is the same at any cost.
KdfParams FastKdf() { return KdfParams::CheapForTests(); }

std::string TempDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/vault_test.XXXXXX";
  char* d = mkdtemp(tmpl.data());
  EXPECT_NE(d, nullptr);
  return tmpl;
}

TEST(KeysTest, DerivationIsDeterministicAndSeparatesPurposes) {
  std::string master(32, 'm');
  std::string id(16, 'v');
  VaultKeys a = DeriveKeys(master, id);
  VaultKeys b = DeriveKeys(master, id);
  EXPECT_EQ(a.block_key, b.block_key);
  EXPECT_EQ(a.identity_public, b.identity_public);
  EXPECT_EQ(a.block_key.size(), 32u);
  EXPECT_NE(a.block_key, a.chunk_id_key);
  EXPECT_NE(a.block_key, a.metadata_key);
  EXPECT_NE(a.metadata_key, a.identity_seed);
  // Another vault ID gives other keys for the same master key.
  VaultKeys c = DeriveKeys(master, std::string(16, 'w'));
  EXPECT_NE(a.block_key, c.block_key);
  EXPECT_EQ(a.identity_public, crypto::Ed25519PublicKey(a.identity_seed));
}

TEST(KeysTest, WrapUnwrapAndWrongPassphrase) {
  std::string master = crypto::RandomBytes(32);
  std::string id = crypto::RandomBytes(16);
  VaultKeys keys = DeriveKeys(master, id);
  auto rec = WrapMasterKey(master, id, "correct horse", FastKdf(), keys.identity_public);
  ASSERT_TRUE(rec.ok()) << rec.status();
  auto got = UnwrapMasterKey(*rec, "correct horse");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, master);

  auto wrong = UnwrapMasterKey(*rec, "correct horsE");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(KindOf(wrong.status()), ErrorKind::kWrongPassphrase);

  // The parameters and the vault ID are bound: changing them breaks the record.
  vault::v1::KeyRecord tampered = *rec;
  tampered.set_vault_id(crypto::RandomBytes(16));
  EXPECT_FALSE(UnwrapMasterKey(tampered, "correct horse").ok());
  tampered = *rec;
  tampered.set_scrypt_r(4);
  EXPECT_FALSE(UnwrapMasterKey(tampered, "correct horse").ok());
  tampered = *rec;
  tampered.set_argon2_t_cost(2);
  EXPECT_FALSE(UnwrapMasterKey(tampered, "correct horse").ok());
  tampered = *rec;
  tampered.set_version(3);
  EXPECT_EQ(UnwrapMasterKey(tampered, "correct horse").status().code(),
            absl::StatusCode::kDataLoss);
}

// Records written before 0.2 (version 1, scrypt) still open.
TEST(KeysTest, Version1ScryptRecordStillOpens) {
  std::string master = crypto::RandomBytes(32);
  std::string id = crypto::RandomBytes(16);
  vault::v1::KeyRecord rec;
  rec.set_version(1);
  rec.set_vault_id(id);
  rec.set_scrypt_n(1024);
  rec.set_scrypt_r(8);
  rec.set_scrypt_p(1);
  rec.set_salt(crypto::RandomBytes(32));
  rec.set_nonce(crypto::RandomBytes(crypto::kAeadNonceSize));
  rec.set_customer_key(DeriveKeys(master, id).identity_public);
  auto kek = crypto::Scrypt("old pass", rec.salt(), 1024, 8, 1, 32);
  ASSERT_TRUE(kek.ok());
  std::string wrapped;
  ASSERT_TRUE(crypto::AeadSeal(*kek, rec.nonce(), KeyRecordAad(rec), master, &wrapped).ok());
  rec.set_wrapped_master_key(wrapped);
  auto got = UnwrapMasterKey(rec, "old pass");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, master);
  EXPECT_EQ(KindOf(UnwrapMasterKey(rec, "other").status()), ErrorKind::kWrongPassphrase);
}

// A hostile record cannot make a reader allocate gigabytes or run for
// minutes: parameters past the bounds are refused before any derivation.
TEST(KeysTest, HostileDerivationParametersRefusedAtOnce) {
  std::string master = crypto::RandomBytes(32);
  std::string id = crypto::RandomBytes(16);
  auto rec = WrapMasterKey(master, id, "pw", FastKdf(), DeriveKeys(master, id).identity_public);
  ASSERT_TRUE(rec.ok());
  struct Case { uint32_t t, m, lanes; };
  for (Case c : {Case{1, 4u << 20, 1}, Case{100, 1024, 1}, Case{1, 1024, 64},
                 Case{8, 1u << 20, 1}, Case{0, 1024, 1}}) {
    vault::v1::KeyRecord bad = *rec;
    bad.set_argon2_t_cost(c.t);
    bad.set_argon2_m_cost_kib(c.m);
    bad.set_argon2_lanes(c.lanes);
    auto start = std::chrono::steady_clock::now();
    auto got = UnwrapMasterKey(bad, "pw");
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << c.t << " " << c.m;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  }
  vault::v1::KeyRecord v1 = *rec;
  v1.set_version(1);
  v1.set_scrypt_n(uint64_t{1} << 22);
  v1.set_scrypt_r(8);
  v1.set_scrypt_p(1);
  EXPECT_EQ(UnwrapMasterKey(v1, "pw").status().code(), absl::StatusCode::kDataLoss);
}

// Calibration picks enough passes for the target and stays in bounds.
TEST(KeysTest, CalibrationStaysInBounds) {
  KdfParams p = KdfParams::CheapForTests();
  uint32_t t = CalibrateKdfPasses(p, 1);
  EXPECT_GE(t, 1u);
  EXPECT_LE(t, 10u);
  EXPECT_EQ(CalibrateKdfPasses(p, 1000000), 10u);  // capped however slow the target
}

TEST(ObjectsTest, RoundTripAndNameBinding) {
  std::string key = crypto::RandomBytes(32);
  std::string id = crypto::RandomBytes(16);
  std::string text(100000, 'x');  // compressible
  auto sealed = SealObject(key, id, "snapshots/abc", text);
  ASSERT_TRUE(sealed.ok());
  EXPECT_LT(sealed->size(), text.size());
  auto opened = OpenObject(key, id, "snapshots/abc", *sealed);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, text);
  // Another name, another vault, another key, or a flipped bit: refused.
  EXPECT_FALSE(OpenObject(key, id, "snapshots/abd", *sealed).ok());
  EXPECT_FALSE(OpenObject(key, crypto::RandomBytes(16), "snapshots/abc", *sealed).ok());
  EXPECT_FALSE(OpenObject(crypto::RandomBytes(32), id, "snapshots/abc", *sealed).ok());
  std::string flipped = *sealed;
  flipped[flipped.size() / 2] ^= 1;
  EXPECT_EQ(OpenObject(key, id, "snapshots/abc", flipped).status().code(),
            absl::StatusCode::kDataLoss);
  // Incompressible and empty plaintexts.
  std::string rnd = crypto::RandomBytes(5000);
  auto s2 = SealObject(key, id, "x", rnd);
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(*OpenObject(key, id, "x", *s2), rnd);
  auto s3 = SealObject(key, id, "x", "");
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(*OpenObject(key, id, "x", *s3), "");
}

TEST(BlockTest, BuildSealOpenExtract) {
  std::string key = crypto::RandomBytes(32);
  std::string bid = crypto::RandomBytes(kBlockIdSize);
  BlockBuilder b(vault::v1::BLOCK_KIND_DATA, bid, 1 << 20);
  std::string raw1 = crypto::RandomBytes(3000);
  std::string raw2(50000, 'z');
  b.Add(std::string(32, '1'), raw1, raw1.size(), false);
  std::string comp;
  ASSERT_TRUE(compress::CompressIfSmaller(raw2, 3, &comp));
  b.Add(std::string(32, '2'), comp, raw2.size(), true);
  EXPECT_EQ(b.chunk_count(), 2u);
  std::string plain = b.Finish();
  auto sealed = SealBlock(key, bid, plain);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->size(), plain.size() + 28);

  auto opened = OpenBlock(key, bid, *sealed);
  ASSERT_TRUE(opened.ok()) << opened.status();
  auto table = ParseBlockTable(*opened);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->block_id(), bid);
  EXPECT_EQ(table->kind(), vault::v1::BLOCK_KIND_DATA);
  ASSERT_EQ(table->chunks_size(), 2);
  std::string out1, out2;
  ASSERT_TRUE(ExtractChunk(*opened, table->chunks(0), &out1).ok());
  ASSERT_TRUE(ExtractChunk(*opened, table->chunks(1), &out2).ok());
  EXPECT_EQ(out1, raw1);
  EXPECT_EQ(out2, raw2);

  // Wrong block ID (as if a supplier swapped fragments between blocks).
  EXPECT_EQ(OpenBlock(key, crypto::RandomBytes(kBlockIdSize), *sealed).status().code(),
            absl::StatusCode::kDataLoss);
  // Sealed in place: opens to the same plaintext.
  auto sealed_in_place = SealBlockInPlace(key, bid, plain);
  ASSERT_TRUE(sealed_in_place.ok()) << sealed_in_place.status();
  EXPECT_EQ(sealed_in_place->size(), sealed->size());
  auto reopened = OpenBlock(key, bid, *sealed_in_place);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_TRUE(*reopened == plain);
  // In place: the same plaintext, the same refusals.
  auto in_place = OpenBlockInPlace(key, bid, *sealed);
  ASSERT_TRUE(in_place.ok()) << in_place.status();
  EXPECT_TRUE(*in_place == *opened);
  EXPECT_EQ(OpenBlockInPlace(key, crypto::RandomBytes(kBlockIdSize), *sealed).status().code(),
            absl::StatusCode::kDataLoss);
  std::string flipped = *sealed;
  flipped[flipped.size() / 2] ^= 0x20;
  EXPECT_EQ(OpenBlockInPlace(key, bid, flipped).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(OpenBlockInPlace(key, bid, sealed->substr(0, 27)).status().code(),
            absl::StatusCode::kDataLoss);
  // A chunk location outside the payload is refused, not read.
  vault::v1::BlockChunk bad = table->chunks(1);
  bad.set_offset(opened->size());
  std::string out3;
  EXPECT_FALSE(ExtractChunk(*opened, bad, &out3).ok());
  EXPECT_EQ(FragmentKey(std::string("\x01\x02", 2), 7), "0102.7");
}

vault::v1::VaultConfig SampleConfig(const std::string& id, const std::string& pub) {
  vault::v1::VaultConfig c;
  c.set_version(1);
  c.set_vault_id(id);
  c.set_supplier_count(3);
  c.set_data_shards(2);
  c.set_block_size(8 << 20);
  c.mutable_chunker()->set_min_size(256 << 10);
  c.mutable_chunker()->set_avg_size(1 << 20);
  c.mutable_chunker()->set_max_size(4 << 20);
  c.set_compression_level(3);
  c.set_customer_key(pub);
  for (int i = 0; i < 3; ++i) {
    auto* s = c.add_suppliers();
    s->set_address("127.0.0.1:" + std::to_string(7000 + i));
    s->set_position(i);
    s->set_supplier_id(std::string(16, static_cast<char>('a' + i)));
  }
  return c;
}

TEST(VaultTest, CreateOpenAndErrors) {
  std::string dir = TempDir() + "/cfg";
  EXPECT_FALSE(Vault::Exists(dir));
  auto missing = Vault::Open(dir, "/nonexistent-cache", "pw");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(KindOf(missing.status()), ErrorKind::kNotInitialized);
  EXPECT_NE(std::string(missing.status().message()).find(dir), std::string::npos);

  std::string master = crypto::RandomBytes(32);
  std::string id = crypto::RandomBytes(16);
  VaultKeys keys = DeriveKeys(master, id);
  auto rec = WrapMasterKey(master, id, "pw", FastKdf(), keys.identity_public);
  ASSERT_TRUE(rec.ok());
  auto v = Vault::Create(dir, "/cache", SampleConfig(id, keys.identity_public), *rec, master);
  ASSERT_TRUE(v.ok()) << v.status();
  struct stat st;
  ASSERT_EQ(stat((dir + "/key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ((*v)->cache_path(), "/cache/" + crypto::ToHex(id));

  auto again = Vault::Create(dir, "/cache", SampleConfig(id, keys.identity_public), *rec, master);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);

  auto opened = Vault::Open(dir, "/cache", "pw");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ((*opened)->keys().block_key, keys.block_key);
  EXPECT_EQ((*opened)->config().suppliers(2).address(), "127.0.0.1:7002");
  auto sealed = (*opened)->SealObject("config", "hello");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(*(*v)->OpenObject("config", *sealed), "hello");

  auto wrong = Vault::Open(dir, "/cache", "pW");
  EXPECT_EQ(KindOf(wrong.status()), ErrorKind::kWrongPassphrase);
}

TEST(VaultTest, ValidateConfigRejectsInconsistentSets) {
  auto c = SampleConfig(std::string(16, 'i'), "");
  EXPECT_TRUE(ValidateConfig(c).ok());
  auto bad = c;
  bad.set_data_shards(3);
  EXPECT_FALSE(ValidateConfig(bad).ok());
  bad = c;
  bad.mutable_suppliers(1)->set_position(2);
  EXPECT_FALSE(ValidateConfig(bad).ok());
  bad = c;
  bad.set_supplier_count(65);
  EXPECT_FALSE(ValidateConfig(bad).ok());
  bad = c;
  bad.mutable_chunker()->set_avg_size(1000);  // not a power of two
  EXPECT_FALSE(ValidateConfig(bad).ok());
}

}  // namespace
}  // namespace shardkeep::customer

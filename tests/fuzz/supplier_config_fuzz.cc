// Fuzzes the files the supplier reads at start (docs/OPERATING.md): the
// allow-list of --allow-customers (ReadAllowList), <data-dir>/invite.key
// (LoadOrCreateInviteSecret), and the TLS identity, <data-dir>/tls-key.pem
// and tls-cert.pem or the operator's --tls-cert/--tls-key (LoadServerTls).
// An operator's typo or a damaged disk must give an error naming the file,
// never a crash or a daemon serving with a broken identity.
//
// Input: mode byte, then
//   0: the rest is the allow-list text. Model: every line, cut at '#' and
//      stripped of white space, is empty or 64 hex digits; accepted exactly
//      when every line is, and then the set holds exactly those keys; a
//      refusal names the file and the line.
//   1: the rest is invite.key (present, any size). Accepted only with 32
//      bytes, and then it is the file's content; else DataLoss naming it.
//   2: flags byte (bit 0: a key file, bit 1: a cert file, bit 2: given as
//      --tls-key/--tls-cert instead of in the data dir), Field() key PEM,
//      Field() cert PEM. Accepted only when the key is a private key whose
//      public half is the certificate's, and the fingerprint is the
//      certificate's public key hash; a refusal names a file or the source.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "common/crypto.h"
#include "common/tls_fingerprint.h"
#include "supplier/admission.h"
#include "supplier/tls_identity.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

namespace fuzz = shardkeep::fuzz;
namespace supplier = shardkeep::supplier;
using fuzz::Input;

const std::string& Dir() {
  static const std::string* d = [] {
    auto* s = new std::string(fuzz::MakeScratchDir("supplier-config"));
    std::atexit([] { fuzz::RemoveTree(Dir()); });
    return s;
  }();
  return *d;
}

void Write(const std::string& path, std::string_view data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

bool IsHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void AllowList(std::string_view text) {
  const std::string path = Dir() + "/allow";
  Write(path, text);
  std::set<std::string> want;
  bool valid = true;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::string kept;
    for (char c : line) {
      if (!std::isspace(static_cast<unsigned char>(c))) kept.push_back(c);
    }
    if (kept.empty()) continue;
    if (!IsHex64(kept)) {
      valid = false;
      break;
    }
    want.insert(*shardkeep::crypto::FromHex(kept));
  }
  auto got = supplier::ReadAllowList(path);
  FUZZ_CHECK(got.ok() == valid);
  if (got.ok()) {
    FUZZ_CHECK(*got == want);
  } else {
    FUZZ_CHECK(std::string(got.status().message()).find(path + ":") != std::string::npos);
  }
}

void InviteSecret(std::string_view bytes) {
  Write(Dir() + "/invite.key", bytes);
  auto s = supplier::LoadOrCreateInviteSecret(Dir());
  FUZZ_CHECK(s.ok() == (bytes.size() == 32));
  if (s.ok()) {
    FUZZ_CHECK(*s == bytes);
  } else {
    FUZZ_CHECK(absl::IsDataLoss(s.status()));
    FUZZ_CHECK(std::string(s.status().message()).find("invite.key") != std::string::npos);
  }
}

// Whether `key_pem` is a private key whose public half is the first
// certificate's in `cert_pem`.
bool KeyMatchesCert(const std::string& key_pem, const std::string& cert_pem) {
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  const bool match = key != nullptr && cert != nullptr && X509_check_private_key(cert, key) == 1;
  EVP_PKEY_free(key);
  X509_free(cert);
  BIO_free(kb);
  BIO_free(cb);
  return match;
}

void Tls(Input& in) {
  const uint8_t flags = in.Byte();
  const std::string key(in.Field()), cert(in.Field());
  const std::string data_dir = Dir() + "/data";
  fuzz::RemoveTree(data_dir);
  if (mkdir(data_dir.c_str(), 0700) != 0) std::abort();
  const bool given = flags & 4;
  const std::string key_path = given ? Dir() + "/op-key.pem" : data_dir + "/tls-key.pem";
  const std::string cert_path = given ? Dir() + "/op-cert.pem" : data_dir + "/tls-cert.pem";
  unlink(key_path.c_str());
  unlink(cert_path.c_str());
  if (flags & 1) Write(key_path, key);
  if (flags & 2) Write(cert_path, cert);
  auto tls = given ? supplier::LoadServerTls(data_dir, cert_path, key_path, false)
                   : supplier::LoadServerTls(data_dir, "", "", false);
  if (!tls.ok()) {
    const std::string m(tls.status().message());
    FUZZ_CHECK(m.find(key_path) != std::string::npos || m.find(cert_path) != std::string::npos ||
               m.find(data_dir) != std::string::npos);
    return;
  }
  // What it serves: the files as they are now (a new identity if neither was there).
  std::ifstream kf(key_path), cf(cert_path);
  std::stringstream ks, cs;
  ks << kf.rdbuf();
  cs << cf.rdbuf();
  FUZZ_CHECK(KeyMatchesCert(ks.str(), cs.str()));
  auto fp = shardkeep::tls::PublicKeyFingerprint(cs.str());
  FUZZ_CHECK(fp.ok() && *fp == tls->fingerprint);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  switch (in.Byte() % 3) {
    case 0:
      AllowList(in.Rest());
      break;
    case 1:
      InviteSecret(in.Rest());
      break;
    default:
      Tls(in);
      break;
  }
  return 0;
}

#include "common/tls_fingerprint.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace shardkeep::tls {

absl::StatusOr<std::string> PublicKeyFingerprint(std::string_view cert_pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), BIO_free);
  if (!bio) return absl::InternalError("BIO_new_mem_buf failed");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) return absl::InvalidArgumentError("not a PEM certificate");
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &der);
  if (len <= 0) return absl::InvalidArgumentError("certificate without a public key");
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(der, static_cast<size_t>(len), reinterpret_cast<unsigned char*>(out.data()));
  OPENSSL_free(der);
  return out;
}

std::string FormatFingerprint(std::string_view fingerprint) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned char c : fingerprint) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace shardkeep::tls

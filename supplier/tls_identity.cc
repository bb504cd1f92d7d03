#include "supplier/tls_identity.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <grpcpp/security/server_credentials.h>

#include "absl/strings/str_cat.h"
#include "common/tls_fingerprint.h"

namespace shardkeep::supplier {
namespace {

constexpr char kKeyFile[] = "/tls-key.pem";
constexpr char kCertFile[] = "/tls-cert.pem";

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

absl::Status ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return absl::OkStatus();
}

// tmp file with `mode`, fsync, rename: a crash leaves the old file or the
// new one, never half a key.
absl::Status WriteFileAtomic(const std::string& path, const std::string& data, mode_t mode) {
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot create ", tmp, ": ", strerror(errno)));
  bool ok = write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
            fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, len > 0 ? static_cast<size_t>(len) : 0);
}

// OK if `key_pem` is a private key whose public half is the first
// certificate's in `cert_pem`. gRPC would take a mismatched pair and then
// fail every handshake (or, for another key of the same type, serve an
// identity that is not the one logged and pinned).
absl::Status CheckKeyMatchesCert(const std::string& key_pem, const std::string& cert_pem,
                                 const std::string& key_source, const std::string& cert_source) {
  std::unique_ptr<BIO, decltype(&BIO_free)> kb(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> cb(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), BIO_free);
  if (!kb || !cb) return absl::InternalError("BIO_new_mem_buf failed");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS key ", key_source, ": not a PEM private key (unencrypted)"));
  }
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS certificate ", cert_source, ": not a PEM certificate"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("TLS key ", key_source,
                                                   " is not the private key of the certificate ",
                                                   cert_source));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MakeSelfSignedIdentity(std::string* key_pem, std::string* cert_pem) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) return absl::InternalError("EC P-256 key generation failed");
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!cert) return absl::InternalError("X509_new failed");
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return absl::InternalError("RAND_bytes failed");
  serial[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_bin2bn(serial, sizeof serial, nullptr),
                                                 BN_free);
  bool ok = X509_set_version(cert.get(), 2) == 1 &&
            BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) != nullptr &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
            X509_time_adj_ex(X509_getm_notAfter(cert.get()), 36500, 0, nullptr) != nullptr &&
            X509_set_pubkey(cert.get(), key.get()) == 1;
  X509_NAME* name = X509_get_subject_name(cert.get());
  ok = ok &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>("shardkeep-supplier"), -1,
                                  -1, 0) == 1 &&
       X509_set_issuer_name(cert.get(), name) == 1 &&
       X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) return absl::InternalError("making the self-signed certificate failed");
  std::unique_ptr<BIO, decltype(&BIO_free)> kb(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> cb(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509(cb.get(), cert.get()) != 1) {
    return absl::InternalError("PEM encoding of the TLS identity failed");
  }
  *key_pem = BioString(kb.get());
  *cert_pem = BioString(cb.get());
  return absl::OkStatus();
}

absl::StatusOr<ServerTls> LoadServerTls(const std::string& data_dir, const std::string& cert_file,
                                        const std::string& key_file, bool plaintext) {
  ServerTls out;
  if (plaintext) {
    out.credentials = grpc::InsecureServerCredentials();
    out.description = "plaintext (--insecure-plaintext)";
    return out;
  }
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  std::string source, key_source, cert_source;
  if (!cert_file.empty()) {
    RETURN_IF_ERROR(ReadFile(cert_file, &pair.cert_chain));
    RETURN_IF_ERROR(ReadFile(key_file, &pair.private_key));
    source = "--tls-cert " + cert_file;
    key_source = key_file;
    cert_source = cert_file;
  } else {
    const std::string key_path = data_dir + kKeyFile, cert_path = data_dir + kCertFile;
    const bool have_key = Exists(key_path), have_cert = Exists(cert_path);
    if (have_key != have_cert) {
      return absl::FailedPreconditionError(absl::StrCat(
          "TLS identity: ", have_key ? cert_path : key_path, " is missing but ",
          have_key ? key_path : cert_path,
          " exists; restore it, or delete both to make a new identity (customers that pinned "
          "the old one will refuse this supplier)"));
    }
    if (!have_key) {
      RETURN_IF_ERROR(MakeSelfSignedIdentity(&pair.private_key, &pair.cert_chain));
      RETURN_IF_ERROR(WriteFileAtomic(key_path, pair.private_key, 0600));
      RETURN_IF_ERROR(WriteFileAtomic(cert_path, pair.cert_chain, 0644));
      source = "new identity in " + data_dir;
    } else {
      RETURN_IF_ERROR(ReadFile(key_path, &pair.private_key));
      RETURN_IF_ERROR(ReadFile(cert_path, &pair.cert_chain));
      source = "identity in " + data_dir;
    }
    key_source = key_path;
    cert_source = cert_path;
  }
  auto fp = tls::PublicKeyFingerprint(pair.cert_chain);
  if (!fp.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS certificate (", source, "): ", fp.status().message()));
  }
  RETURN_IF_ERROR(CheckKeyMatchesCert(pair.private_key, pair.cert_chain, key_source, cert_source));
  out.fingerprint = *fp;
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back(pair);
  out.credentials = grpc::SslServerCredentials(ssl);
  out.description = absl::StrCat("TLS, ", source, ", fingerprint ", tls::FormatFingerprint(*fp));
  return out;
}

}  // namespace shardkeep::supplier

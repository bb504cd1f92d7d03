// The supplier's TLS identity (issue 12): by default every supplier serves
// TLS with its own key, made on first start and kept in its data dir:
//   <data-dir>/tls-key.pem   EC P-256 private key (mode 0600)
//   <data-dir>/tls-cert.pem  self-signed certificate for it (CN
//                            shardkeep-supplier, valid 100 years)
// Its identity is the SHA-256 of that public key (common/tls_fingerprint.h),
// which customers pin at init. --tls-cert/--tls-key serve an operator's own
// pair instead (the identity is then that certificate's key);
// --insecure-plaintext serves plaintext (for TLS terminated elsewhere).
#ifndef SHARDKEEP_SUPPLIER_TLS_IDENTITY_H_
#define SHARDKEEP_SUPPLIER_TLS_IDENTITY_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace shardkeep::supplier {

struct ServerTls {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::string fingerprint;  // 32 bytes; empty when plaintext
  std::string description;  // for the start-up log line
};

// Loads the key and certificate from `data_dir` (making them if neither
// exists), or reads `cert_file` and `key_file` if given, or plaintext if
// `plaintext`. The error names the file at fault.
absl::StatusOr<ServerTls> LoadServerTls(const std::string& data_dir, const std::string& cert_file,
                                        const std::string& key_file, bool plaintext);

// Makes a new EC P-256 key and a self-signed certificate for it (PEM).
absl::Status MakeSelfSignedIdentity(std::string* key_pem, std::string* cert_pem);

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_TLS_IDENTITY_H_

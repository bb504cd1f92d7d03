#include "customer/vault/vault.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/chunker.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "customer/vault/objects.h"

namespace shardkeep::customer {
namespace {

constexpr char kConfigFile[] = "config";
constexpr char kKeyFile[] = "key";
constexpr char kSeenFile[] = "seen";

absl::Status ErrnoError(int err, const std::string& what, const std::string& path) {
  std::string msg = absl::StrCat(what, " ", path, ": ", strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

std::string Join(const std::string& dir, const std::string& name) {
  return absl::StrCat(dir, "/", name);
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

absl::Status MakeDirs(const std::string& path, int mode) {
  if (path.empty()) return absl::OkStatus();
  struct stat existing;
  if (::stat(path.c_str(), &existing) == 0 && S_ISDIR(existing.st_mode)) return absl::OkStatus();
  std::string cur;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    cur = path.substr(0, j);
    struct stat st;
    if (!cur.empty() && ::stat(cur.c_str(), &st) != 0 && ::mkdir(cur.c_str(), mode) != 0 &&
        errno != EEXIST) {
      return ErrnoError(errno, "cannot create directory", cur);
    }
    i = j + 1;
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError(errno, "cannot stat", path);
  if (!S_ISDIR(st.st_mode))
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a directory"));
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view data, int mode) {
  std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError(errno, "cannot create", tmp);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoError(err, "cannot write", tmp);
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoError(err, "cannot sync", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoError(err, "cannot rename into", path);
  }
  std::string dir =
      path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  if (dir.empty()) dir = path[0] == '/' ? "/" : ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "cannot open", path);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoError(err, "cannot read", path);
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return out;
}

absl::Status ValidateConfig(const vault::v1::VaultConfig& c) {
  auto bad = [](const std::string& why) {
    return absl::DataLossError(absl::StrCat("vault config: ", why));
  };
  if (c.version() != 1) return bad(absl::StrCat("unsupported version ", c.version()));
  if (c.vault_id().size() != kVaultIdSize) return bad("vault ID is not 16 bytes");
  int n = static_cast<int>(c.supplier_count());
  int k = static_cast<int>(c.data_shards());
  if (n < 2 || n > 64) return bad(absl::StrCat("supplier count ", n, " not in 2..64"));
  if (k < 1 || k >= n) return bad(absl::StrCat("data shards ", k, " not in 1..", n - 1));
  if (c.suppliers_size() != n) return bad("supplier list does not have n entries");
  for (int i = 0; i < n; ++i) {
    if (c.suppliers(i).position() != static_cast<uint32_t>(i)) {
      return bad("supplier list is not sorted by position");
    }
  }
  if (c.block_size() < 4096 || c.block_size() > (uint64_t{256} << 20)) {
    return bad("block size out of range 4 KiB..256 MiB");
  }
  chunker::Params p;
  p.min_size = c.chunker().min_size();
  p.avg_size = c.chunker().avg_size();
  p.max_size = c.chunker().max_size();
  if (!chunker::ValidParams(p) || p.max_size > (uint64_t{64} << 20)) {
    return bad("chunker parameters unsupported");
  }
  return absl::OkStatus();
}

bool Vault::Exists(const std::string& config_dir) {
  return FileExists(Join(config_dir, kConfigFile)) || FileExists(Join(config_dir, kKeyFile));
}

std::unique_ptr<Vault> Vault::FromParts(const std::string& config_dir,
                                        const std::string& cache_dir,
                                        const vault::v1::VaultConfig& config,
                                        const vault::v1::KeyRecord& key_record,
                                        std::string_view master) {
  auto v = std::unique_ptr<Vault>(new Vault());
  v->config_dir_ = config_dir;
  v->cache_dir_ = cache_dir;
  v->config_ = config;
  v->key_record_ = key_record;
  v->master_ = std::string(master);
  v->keys_ = DeriveKeys(master, config.vault_id());
  return v;
}

absl::Status Vault::Save(bool overwrite) {
  if (!overwrite && Exists(config_dir_)) {
    return absl::AlreadyExistsError(absl::StrCat("a vault already exists in ", config_dir_,
                                                 " (use another --config-dir for another vault)"));
  }
  RETURN_IF_ERROR(ValidateConfig(config_));
  RETURN_IF_ERROR(MakeDirs(config_dir_, 0700));
  // Key before config: a config dir with a key and no config is not taken for
  // a vault by a later Open (both are read), and Exists() refuses to reuse it.
  RETURN_IF_ERROR(
      WriteFileAtomically(Join(config_dir_, kKeyFile), key_record_.SerializeAsString(), 0600));
  RETURN_IF_ERROR(
      WriteFileAtomically(Join(config_dir_, kConfigFile), config_.SerializeAsString(), 0600));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Vault>> Vault::Create(const std::string& config_dir,
                                                     const std::string& cache_dir,
                                                     const vault::v1::VaultConfig& config,
                                                     const vault::v1::KeyRecord& key_record,
                                                     std::string_view master) {
  auto v = FromParts(config_dir, cache_dir, config, key_record, master);
  RETURN_IF_ERROR(v->Save(/*overwrite=*/false));
  return v;
}

absl::Status Vault::SaveKeyRecord(const vault::v1::KeyRecord& record) {
  if (record.vault_id() != config_.vault_id()) {
    return absl::InvalidArgumentError("key record belongs to another vault");
  }
  RETURN_IF_ERROR(
      WriteFileAtomically(Join(config_dir_, kKeyFile), record.SerializeAsString(), 0600));
  key_record_ = record;
  return absl::OkStatus();
}

vault::v1::SeenState Vault::LoadSeen() const {
  vault::v1::SeenState seen;
  auto bytes = ReadWholeFile(Join(config_dir_, kSeenFile));
  // Missing (a vault older than 0.2, or just recovered) or unreadable: start
  // from nothing; the next command writes it again.
  if (bytes.ok() && !seen.ParseFromString(*bytes)) seen.Clear();
  return seen;
}

absl::Status Vault::SaveSeen(const vault::v1::SeenState& seen) const {
  return WriteFileAtomically(Join(config_dir_, kSeenFile), seen.SerializeAsString(), 0600);
}

absl::StatusOr<std::unique_ptr<Vault>> Vault::Open(const std::string& config_dir,
                                                   const std::string& cache_dir,
                                                   std::string_view passphrase) {
  if (!Exists(config_dir)) {
    return WithKind(
        absl::FailedPreconditionError(absl::StrCat(
            "no vault in ", config_dir, " (run `shardkeep init` first, or set --config-dir)")),
        ErrorKind::kNotInitialized);
  }
  auto v = std::unique_ptr<Vault>(new Vault());
  v->config_dir_ = config_dir;
  v->cache_dir_ = cache_dir;
  ASSIGN_OR_RETURN(std::string key_bytes, ReadWholeFile(Join(config_dir, kKeyFile)));
  ASSIGN_OR_RETURN(std::string config_bytes, ReadWholeFile(Join(config_dir, kConfigFile)));
  if (!v->key_record_.ParseFromString(key_bytes)) {
    return absl::DataLossError(absl::StrCat(Join(config_dir, kKeyFile), " does not parse"));
  }
  if (!v->config_.ParseFromString(config_bytes)) {
    return absl::DataLossError(absl::StrCat(Join(config_dir, kConfigFile), " does not parse"));
  }
  RETURN_IF_ERROR(ValidateConfig(v->config_));
  if (v->key_record_.vault_id() != v->config_.vault_id()) {
    return absl::DataLossError(
        absl::StrCat("key and config in ", config_dir, " belong to different vaults"));
  }
  ASSIGN_OR_RETURN(std::string master, UnwrapMasterKey(v->key_record_, passphrase));
  v->keys_ = DeriveKeys(master, v->config_.vault_id());
  v->master_ = std::move(master);
  return v;
}

std::string Vault::vault_id_hex() const { return crypto::ToHex(config_.vault_id()); }

std::string Vault::cache_path() const { return Join(cache_dir_, vault_id_hex()); }

absl::StatusOr<std::string> Vault::SealObject(std::string_view name,
                                              std::string_view plaintext) const {
  return customer::SealObject(keys_.metadata_key, config_.vault_id(), name, plaintext);
}

absl::StatusOr<std::string> Vault::OpenObject(std::string_view name,
                                              std::string_view sealed) const {
  return customer::OpenObject(keys_.metadata_key, config_.vault_id(), name, sealed);
}

absl::Status Vault::SaveConfig(const vault::v1::VaultConfig& config) {
  RETURN_IF_ERROR(ValidateConfig(config));
  RETURN_IF_ERROR(
      WriteFileAtomically(Join(config_dir_, kConfigFile), config.SerializeAsString(), 0600));
  config_ = config;
  return absl::OkStatus();
}

}  // namespace shardkeep::customer

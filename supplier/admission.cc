#include "supplier/admission.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto.h"

namespace shardkeep::supplier {
namespace {

constexpr char kInvitePrefix[] = "ski1-";
constexpr size_t kInviteIdSize = 8;
constexpr size_t kInviteMacSize = 16;
constexpr int64_t kHourMs = 3600LL * 1000;

std::string Be64(int64_t v) {
  std::string out(8, '\0');
  uint64_t u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(u & 0xff);
    u >>= 8;
  }
  return out;
}

int64_t FromBe64(std::string_view s) {
  uint64_t u = 0;
  for (char c : s) u = (u << 8) | static_cast<unsigned char>(c);
  return static_cast<int64_t>(u);
}

std::string Mac(const std::string& secret, std::string_view body) {
  return crypto::HmacSha256(secret, std::string("shardkeep-invite-v1") + std::string(body))
      .substr(0, kInviteMacSize);
}

}  // namespace

Admission::Admission(AdmissionOptions options, Clock* clock)
    : options_(std::move(options)), clock_(clock) {
  tokens_ = options_.new_contracts_per_hour;
  last_refill_ms_ = clock_->NowMs();
}

absl::Status Admission::AdmitNew(const std::string& customer, const std::string& invite,
                                 std::string* invite_id) {
  invite_id->clear();
  const int64_t now = clock_->NowMs();
  if (!invite.empty()) {
    if (options_.invite_secret.empty()) {
      return absl::PermissionDeniedError("this supplier issues no invitations");
    }
    ASSIGN_OR_RETURN(*invite_id, CheckInvite(options_.invite_secret, invite, now));
  } else if (options_.require_invite && !options_.allowed.count(customer)) {
    return absl::PermissionDeniedError(
        "this supplier admits new customers only with an invitation (ask its operator for one: "
        "`shardkeep-supplier invite`)");
  }
  if (options_.new_contracts_per_hour == 0) return absl::OkStatus();
  absl::MutexLock l(&mu_);
  const double rate = options_.new_contracts_per_hour;
  tokens_ = std::min(
      rate,
      tokens_ + rate * static_cast<double>(std::max<int64_t>(now - last_refill_ms_, 0)) / kHourMs);
  last_refill_ms_ = now;
  if (tokens_ < 1) {
    const int64_t wait_ms = static_cast<int64_t>((1 - tokens_) * kHourMs / rate) + 1;
    return absl::UnavailableError(
        absl::StrFormat("too many new contracts (at most %d an hour); retry in %d s",
                        options_.new_contracts_per_hour, wait_ms / 1000 + 1));
  }
  tokens_ -= 1;
  return absl::OkStatus();
}

absl::StatusOr<std::string> LoadOrCreateInviteSecret(const std::string& data_dir) {
  const std::string path = data_dir + "/invite.key";
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string secret = ss.str();
    if (secret.size() != 32) {
      return absl::DataLossError(absl::StrCat(path, " must hold 32 bytes, has ", secret.size()));
    }
    return secret;
  }
  std::string secret = crypto::RandomBytes(32);
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("create ", tmp, ": ", std::strerror(errno)));
  bool ok = write(fd, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size()) &&
            fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("write ", path, ": ", std::strerror(errno)));
  }
  return secret;
}

std::string MakeInvite(const std::string& secret, int64_t expires_ms) {
  const std::string body = Be64(expires_ms) + crypto::RandomBytes(kInviteIdSize);
  return absl::StrCat(kInvitePrefix, crypto::ToHex(body + Mac(secret, body)));
}

absl::StatusOr<std::string> CheckInvite(const std::string& secret, const std::string& token,
                                        int64_t now_ms) {
  const size_t raw_size = 8 + kInviteIdSize + kInviteMacSize;
  auto bad = [] { return absl::PermissionDeniedError("not a valid invitation for this supplier"); };
  if (token.size() != sizeof(kInvitePrefix) - 1 + 2 * raw_size ||
      token.compare(0, sizeof(kInvitePrefix) - 1, kInvitePrefix) != 0) {
    return bad();
  }
  auto raw = crypto::FromHex(std::string_view(token).substr(sizeof(kInvitePrefix) - 1));
  if (!raw.ok() || raw->size() != raw_size) return bad();
  const std::string body = raw->substr(0, 8 + kInviteIdSize);
  if (!crypto::ConstantTimeEquals(Mac(secret, body), raw->substr(8 + kInviteIdSize))) return bad();
  if (FromBe64(body.substr(0, 8)) < now_ms) {
    return absl::PermissionDeniedError("this invitation has expired");
  }
  return body.substr(8);
}

absl::StatusOr<std::set<std::string>> ReadAllowList(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read allow-list ", path));
  std::set<std::string> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    line = line.substr(0, line.find('#'));
    line.erase(std::remove_if(line.begin(), line.end(), ::isspace), line.end());
    if (line.empty()) continue;
    auto key = crypto::FromHex(line);
    if (!key.ok() || key->size() != 32) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s:%d: not a customer key (64 hex digits)", path, n));
    }
    out.insert(*key);
  }
  return out;
}

}  // namespace shardkeep::supplier

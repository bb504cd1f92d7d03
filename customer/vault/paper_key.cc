#include "customer/vault/paper_key.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"

namespace shardkeep::customer {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford
constexpr size_t kKeyBytes = 32;
constexpr size_t kCheckBytes = 3;
constexpr size_t kChars = (kKeyBytes + kCheckBytes) * 8 / 5;  // 56

std::string Check(std::string_view vault_id, std::string_view master) {
  return crypto::Sha256(absl::StrCat("shardkeep/v1/paper-key", std::string(vault_id),
                                     std::string(master)))
      .substr(0, kCheckBytes);
}

int Value(char c) {
  c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (c == 'O') c = '0';
  if (c == 'I' || c == 'L') c = '1';
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

}  // namespace

std::string EncodePaperKey(std::string_view vault_id, std::string_view master) {
  const std::string bytes = std::string(master) + Check(vault_id, master);
  std::string chars;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      chars.push_back(kAlphabet[(acc >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  std::string out = absl::StrCat("ShardKeep paper key\nvault: ", crypto::ToHex(vault_id), "\nkey:   ");
  for (size_t i = 0; i < chars.size(); ++i) {
    if (i > 0 && i % 28 == 0) {
      out += "\n       ";
    } else if (i > 0 && i % 4 == 0) {
      out += '-';
    }
    out += chars[i];
  }
  out += '\n';
  return out;
}

absl::StatusOr<std::string> DecodePaperKey(std::string_view text, std::string_view vault_id) {
  std::string lower = absl::AsciiStrToLower(absl::string_view(text.data(), text.size()));
  size_t vault_at = lower.find("vault:");
  if (vault_at != std::string::npos) {
    size_t end = lower.find('\n', vault_at);
    std::string named(absl::StripAsciiWhitespace(
        lower.substr(vault_at + 6, end == std::string::npos ? std::string::npos : end - vault_at - 6)));
    if (!named.empty() && named != crypto::ToHex(vault_id)) {
      return absl::InvalidArgumentError(absl::StrCat("the paper key is for vault ", named,
                                                     ", not ", crypto::ToHex(vault_id)));
    }
  }
  size_t key_at = lower.find("key:");
  // "paper key" in the title line is not a "key:" label.
  while (key_at != std::string::npos && key_at > 0 && lower[key_at - 1] == ' ' &&
         lower.compare(key_at >= 6 ? key_at - 6 : 0, 6, "paper ") == 0) {
    key_at = lower.find("key:", key_at + 4);
  }
  std::string_view body = key_at == std::string::npos ? text : text.substr(key_at + 4);
  uint32_t acc = 0;
  int bits = 0;
  std::string bytes;
  size_t chars = 0;
  for (char c : body) {
    if (c == '-' || std::isspace(static_cast<unsigned char>(c))) continue;
    int v = Value(c);
    if (v < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the paper key has a character that is not in its alphabet: '", std::string(1, c), "'"));
    }
    ++chars;
    acc = (acc << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bytes.push_back(static_cast<char>((acc >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  if (chars != kChars) {
    return absl::InvalidArgumentError(
        absl::StrCat("the paper key has ", chars, " characters, ", kChars, " expected"));
  }
  const std::string master = bytes.substr(0, kKeyBytes);
  if (bytes.substr(kKeyBytes, kCheckBytes) != Check(vault_id, master)) {
    return absl::InvalidArgumentError(
        "the paper key does not check: a character is mistyped, or it is another vault's key");
  }
  return master;
}

}  // namespace shardkeep::customer

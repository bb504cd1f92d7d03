#include "customer/cmd/cli.h"

#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>


#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/units.h"
#include "customer/vault/vault.h"

namespace shardkeep::customer {

const char kExitCodesHelp[] =
    "Exit codes:\n"
    "  0   success\n"
    "  1   error\n"
    "  2   usage (bad command line)\n"
    "  3   partial backup: the snapshot was saved, but some files could not be read\n"
    "  10  no vault in the config dir (run `shardkeep init`)\n"
    "  12  wrong passphrase\n"
    "  13  suppliers unreachable (too few answered)\n";


absl::Status FlagParser::Parse(const std::vector<std::string>& args,
                               std::vector<std::string>* positional, bool* help) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      positional->insert(positional->end(), args.begin() + i + 1, args.end());
      return absl::OkStatus();
    }
    if (a == "-h" || a == "--help") {
      *help = true;
      continue;
    }
    if (a.size() < 2 || a[0] != '-' || a == "-") {
      positional->push_back(a);
      continue;
    }
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (auto b = bools_.find(name); b != bools_.end()) {
      if (has_value) {
        if (value == "true" || value == "1") {
          *b->second = true;
        } else if (value == "false" || value == "0") {
          *b->second = false;
        } else {
          return UsageError(absl::StrCat(command_, ": --", name, " takes no value"));
        }
      } else {
        *b->second = true;
      }
      continue;
    }
    std::string* s = nullptr;
    std::vector<std::string>* l = nullptr;
    if (auto it = strings_.find(name); it != strings_.end()) s = it->second;
    if (auto it = lists_.find(name); it != lists_.end()) l = it->second;
    if (s == nullptr && l == nullptr) {
      return UsageError(
          absl::StrCat(command_, ": unknown flag ", a, " (see `shardkeep ", command_, " --help`)"));
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return UsageError(absl::StrCat(command_, ": flag --", name, " needs a value"));
      }
      value = args[++i];
    }
    if (s != nullptr) *s = value;
    if (l != nullptr) l->push_back(value);
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ParseSize(std::string_view text) {
  auto bytes = ParseByteSize(text);
  if (!bytes.ok()) return UsageError(bytes.status().message());
  return *bytes;
}

namespace {

absl::StatusOr<std::string> Prompt(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError("no terminal");
  struct termios old;
  bool have_term = tcgetattr(fd, &old) == 0;
  if (have_term) {
    struct termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  (void)!::write(fd, prompt.data(), prompt.size());
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  if (have_term) tcsetattr(fd, TCSAFLUSH, &old);
  ::close(fd);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

absl::StatusOr<std::string> ReadPassphrase(bool confirm) {
  if (const char* p = getenv("SHARDKEEP_PASSWORD"); p != nullptr && *p != '\0')
    return std::string(p);
  if (const char* f = getenv("SHARDKEEP_PASSWORD_FILE"); f != nullptr && *f != '\0') {
    ASSIGN_OR_RETURN(std::string data, ReadWholeFile(f));
    size_t nl = data.find('\n');
    if (nl != std::string::npos) data.resize(nl);
    if (!data.empty() && data.back() == '\r') data.pop_back();
    if (data.empty())
      return absl::InvalidArgumentError(absl::StrCat("passphrase file ", f, " is empty"));
    return data;
  }
  if (!isatty(STDIN_FILENO) && !isatty(STDERR_FILENO)) {
    return absl::FailedPreconditionError(
        "no passphrase: set SHARDKEEP_PASSWORD or SHARDKEEP_PASSWORD_FILE, or run on a terminal");
  }
  auto first = Prompt("Passphrase: ");
  if (!first.ok()) {
    return absl::FailedPreconditionError(
        "no passphrase: set SHARDKEEP_PASSWORD or SHARDKEEP_PASSWORD_FILE, or run on a terminal");
  }
  if (first->empty()) return absl::InvalidArgumentError("empty passphrase");
  if (confirm) {
    ASSIGN_OR_RETURN(std::string second, Prompt("Passphrase again: "));
    if (second != *first) return absl::InvalidArgumentError("the passphrases differ");
  }
  return first;
}

absl::StatusOr<std::unique_ptr<Repository>> OpenRepository(const CommandContext& ctx) {
  if (!Vault::Exists(ctx.config_dir)) {
    return WithKind(
        absl::FailedPreconditionError(absl::StrCat(
            "no vault in ", ctx.config_dir, " (run `shardkeep init` first, or set --config-dir)")),
        ErrorKind::kNotInitialized);
  }
  ASSIGN_OR_RETURN(std::string pass, ReadPassphrase(false));
  ASSIGN_OR_RETURN(auto vault, Vault::Open(ctx.config_dir, ctx.cache_dir, pass));
  return Repository::Open(std::move(vault), ctx.connector);
}

int ReportError(const absl::Status& status) {
  fprintf(stderr, "shardkeep: %s\n", std::string(status.message()).c_str());
  return ExitCodeOf(status);
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            out += absl::StrFormat("\\u%04x", c);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    // A well-formed UTF-8 sequence passes through; anything else is U+FFFD.
    int len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (int j = 1; ok && j < len; ++j) {
      ok = (static_cast<unsigned char>(s[i + j]) >> 6) == 2;
    }
    if (ok) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += "\"";
  return out;
}

}  // namespace shardkeep::customer

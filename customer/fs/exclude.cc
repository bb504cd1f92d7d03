// ExcludeMatcher: restic's internal/filter semantics on raw bytes.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "customer/fs/fs.h"
#include "customer/fs/internal.h"

namespace shardkeep::fs {
namespace {

// Go's path.Clean: "." components, repeated and trailing '/' go, ".."
// removes the component before it ("/.." is "/").
std::string CleanPattern(absl::string_view pattern) {
  bool rooted = !pattern.empty() && pattern[0] == '/';
  std::vector<absl::string_view> out;
  for (absl::string_view part : absl::StrSplit(pattern, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!rooted) {
        out.push_back(part);
      }
      continue;
    }
    out.push_back(part);
  }
  std::string cleaned = rooted ? "/" : "";
  cleaned += absl::StrJoin(out, "/");
  if (cleaned.empty()) cleaned = ".";
  return cleaned;
}

// One element of a glob at pattern[*pos], as Go's filepath.Match parses it.
// Returns false if the pattern is malformed there. On success *pos is past
// the element and, when `c` is given, *matched says whether byte c matches it.
// '*' is handled by the caller.
bool MatchElement(absl::string_view pattern, size_t* pos, int c, bool* matched) {
  size_t p = *pos;
  unsigned char pc = pattern[p];
  if (pc == '?') {
    *pos = p + 1;
    *matched = true;
    return true;
  }
  if (pc == '\\') {
    if (p + 1 >= pattern.size()) return false;
    *matched = c == static_cast<unsigned char>(pattern[p + 1]);
    *pos = p + 2;
    return true;
  }
  if (pc != '[') {
    *matched = c == pc;
    *pos = p + 1;
    return true;
  }
  // Character class: '[' ['^'] range... ']', range = lo ['-' hi]; '\\'
  // escapes; ']' or '-' may not start a range (Go's getEsc).
  ++p;
  bool negated = false;
  if (p < pattern.size() && pattern[p] == '^') {
    negated = true;
    ++p;
  }
  auto get_esc = [&](unsigned char* out) {
    if (p >= pattern.size()) return false;
    unsigned char ch = pattern[p];
    if (ch == '-' || ch == ']') return false;
    if (ch == '\\') {
      ++p;
      if (p >= pattern.size()) return false;
      ch = pattern[p];
    }
    ++p;
    *out = ch;
    return true;
  };
  bool in_class = false;
  int ranges = 0;
  for (;;) {
    if (p < pattern.size() && pattern[p] == ']' && ranges > 0) {
      ++p;
      break;
    }
    unsigned char lo, hi;
    if (!get_esc(&lo)) return false;
    hi = lo;
    if (p < pattern.size() && pattern[p] == '-') {
      ++p;
      if (!get_esc(&hi)) return false;
    }
    if (lo <= c && c <= hi) in_class = true;
    ++ranges;
  }
  *matched = in_class != negated;
  *pos = p;
  return true;
}

// True if `pattern` is a well-formed glob (checked to the end, as Go does).
bool ValidGlob(absl::string_view pattern) {
  size_t p = 0;
  while (p < pattern.size()) {
    if (pattern[p] == '*') {
      ++p;
      continue;
    }
    bool ignored;
    if (!MatchElement(pattern, &p, 0, &ignored)) return false;
  }
  return true;
}

// filepath.Match for one component (no '/' in either), on bytes. Star
// backtracking: on a mismatch, retry from the last '*' one byte further.
bool MatchComponent(absl::string_view pattern, absl::string_view name) {
  size_t p = 0, n = 0;
  size_t star_p = absl::string_view::npos, star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = ++p;
      star_n = n;
      continue;
    }
    if (p < pattern.size()) {
      size_t next = p;
      bool matched = false;
      if (MatchElement(pattern, &next, static_cast<unsigned char>(name[n]), &matched) && matched) {
        p = next;
        ++n;
        continue;
      }
    }
    if (star_p == absl::string_view::npos) return false;
    p = star_p;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// restic's filter.match: `parts` against `strs`, '**' expanded into 0..k
// '*' components, then any window of consecutive components (only offset 0
// when the pattern is anchored, i.e. starts with an empty component).
bool MatchParts(const std::vector<std::string>& parts, const std::vector<absl::string_view>& strs) {
  for (size_t pos = 0; pos < parts.size(); ++pos) {
    if (parts[pos] != "**") continue;
    // len(strs) - len(parts) + 1 stars at most: '**' itself is one of parts.
    long max_stars = static_cast<long>(strs.size()) - static_cast<long>(parts.size()) + 1;
    for (long stars = 0; stars <= max_stars; ++stars) {
      std::vector<std::string> expanded(parts.begin(), parts.begin() + pos);
      expanded.insert(expanded.end(), stars, "*");
      expanded.insert(expanded.end(), parts.begin() + pos + 1, parts.end());
      if (MatchParts(expanded, strs)) return true;
    }
    return false;
  }
  if (parts.empty() && strs.empty()) return true;
  if (parts.empty() || parts.size() > strs.size()) return false;
  size_t max_offset = strs.size() - parts.size();
  if (parts[0].empty()) max_offset = 0;
  for (size_t offset = max_offset + 1; offset-- > 0;) {
    bool all = true;
    for (size_t i = parts.size(); i-- > 0;) {
      if (!MatchComponent(parts[i], strs[offset + i])) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

absl::Status ReadExcludeFile(const std::string& file, std::vector<std::string>* patterns) {
  internal::UniqueFd fd(open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return internal::ErrnoStatus(errno, "reading exclude file", PrintablePath(file));
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return internal::ErrnoStatus(errno, "reading exclude file", PrintablePath(file));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    patterns->emplace_back(line);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ExcludeMatcher> ExcludeMatcher::Create(
    const std::vector<std::string>& patterns, const std::vector<std::string>& exclude_files) {
  std::vector<std::string> all = patterns;
  for (const std::string& file : exclude_files) RETURN_IF_ERROR(ReadExcludeFile(file, &all));
  ExcludeMatcher matcher;
  for (const std::string& raw : all) {
    absl::string_view text = raw;
    Pattern pattern;
    if (!text.empty() && text[0] == '!') {
      pattern.negated = true;
      text.remove_prefix(1);
    }
    if (text.empty()) continue;  // restic ignores empty patterns
    for (absl::string_view part : absl::StrSplit(CleanPattern(text), '/')) {
      if (!ValidGlob(part)) {
        return absl::InvalidArgumentError(
            absl::StrCat("malformed exclude pattern \"", PrintablePath(raw), "\""));
      }
      pattern.parts.emplace_back(part);
    }
    matcher.patterns_.push_back(std::move(pattern));
  }
  return matcher;
}

bool ExcludeMatcher::Excluded(const std::string& abs_path) const {
  if (patterns_.empty()) return false;
  std::vector<absl::string_view> strs = absl::StrSplit(abs_path, '/');
  bool excluded = false;
  for (const Pattern& pattern : patterns_) {
    // A negated pattern can only lift an exclusion, a plain one only add one.
    if (pattern.negated != excluded) continue;
    if (MatchParts(pattern.parts, strs)) excluded = !pattern.negated;
  }
  return excluded;
}

}  // namespace shardkeep::fs

// Shared by the fuzz targets: a reader that splits one fuzz input into
// fields, an oracle check that says which property failed, and the fixed
// keys and IDs every target (and seed_gen, which writes their seeds) uses.
#ifndef SHARDKEEP_TESTS_FUZZ_FUZZ_UTIL_H_
#define SHARDKEEP_TESTS_FUZZ_FUZZ_UTIL_H_

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/stubs/logging.h"

// An oracle: aborts (a crash for libFuzzer and for the standalone driver)
// naming the property that does not hold.
#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

namespace shardkeep::fuzz {

// protobuf logs every string field with invalid UTF-8 it refuses to parse:
// thousands of lines per second under a fuzzer. Silenced in every target.
inline const bool kQuietProtobuf = [] {
  google::protobuf::SetLogHandler(nullptr);
  return true;
}();

// Fixed secrets of the fuzzed vault and customer. Seeds made by seed_gen use
// the same ones, so a seed is a genuine object the targets can open.
inline const std::string kMetadataKey(32, 'M');
inline const std::string kBlockKey(32, 'B');
inline const std::string kOtherKey(32, 'X');
inline const std::string kVaultId(16, 'V');
inline const std::string kOtherVaultId(16, 'W');
inline constexpr char kPassphrase[] = "fuzz passphrase";
inline const std::string kCustomerSeed(32, 'C');  // Ed25519 seed of the fuzzing customer
inline const std::string kOtherSeed(32, 'D');     // a second customer (no contract)
inline const std::string kSupplierId(16, 'S');
// The supplier clock of the supplier targets, and the timestamp seeds are signed at.
inline constexpr int64_t kNowMs = 1700000000000;

// Reads fields off the front of a fuzz input. Past the end every read gives
// zero / empty, so any input is a valid sequence of fields.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(reinterpret_cast<const char*>(data)), n_(size) {}
  explicit Input(std::string_view s) : p_(s.data()), n_(s.size()) {}

  bool empty() const { return n_ == 0; }
  size_t remaining() const { return n_; }

  uint8_t Byte() {
    if (n_ == 0) return 0;
    --n_;
    return static_cast<uint8_t>(*p_++);
  }
  // Little-endian. (Two statements each: the order of a | b's operands is unspecified.)
  uint16_t U16() {
    const uint16_t lo = Byte();
    return static_cast<uint16_t>(lo | Byte() << 8);
  }
  uint32_t U32() {
    const uint32_t lo = U16();
    return lo | static_cast<uint32_t>(U16()) << 16;
  }
  uint64_t U64() {
    const uint64_t lo = U32();
    return lo | static_cast<uint64_t>(U32()) << 32;
  }
  // Up to n bytes.
  std::string_view Take(size_t n) {
    n = std::min(n, n_);
    std::string_view out(p_, n);
    p_ += n;
    n_ -= n;
    return out;
  }
  // A field written by Field(): u16le length, then the bytes.
  std::string_view Field() { return Take(U16()); }
  std::string_view Rest() { return Take(n_); }

 private:
  const char* p_;
  size_t n_;
};

// Appends a field that Input::Field() reads back (for seed_gen).
inline void PutField(std::string* out, std::string_view bytes) {
  const size_t n = std::min<size_t>(bytes.size(), 0xffff);
  out->push_back(static_cast<char>(n & 0xff));
  out->push_back(static_cast<char>(n >> 8));
  out->append(bytes.data(), n);
}

// A new, empty scratch directory for one fuzzing process, named
// sk-<name>-XXXXXX: on tmpfs when there is one (RocksDB and fsync cost
// nothing there, and the targets run thousands of them), else $TEST_TMPDIR
// or /tmp. The caller removes it (RemoveTree) at exit.
inline std::string MakeScratchDir(const std::string& name) {
  for (std::string root :
       {std::string("/dev/shm"),
        std::string(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : ""),
        std::string("/tmp")}) {
    if (root.empty()) continue;
    std::string templ = root + "/sk-" + name + "-XXXXXX";
    if (mkdtemp(templ.data()) != nullptr) return templ;
  }
  std::fprintf(stderr, "cannot create a scratch directory for %s\n", name.c_str());
  std::abort();
}

// Removes `name` in directory `parent` and everything below it, whatever its
// modes, never following a symlink. Works by fd (openat/unlinkat), so depth
// and path length do not matter (restore targets can nest thousands of
// levels); holds one fd per level.
inline void RemoveAt(int parent, const char* name) {
  struct stat st;
  if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (!S_ISDIR(st.st_mode)) {
    unlinkat(parent, name, 0);
    return;
  }
  fchmodat(parent, name, 0700, 0);
  const int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    std::vector<std::string> names;
    if (DIR* d = fdopendir(dup(fd))) {
      while (dirent* e = readdir(d)) {
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
          names.push_back(e->d_name);
        }
      }
      closedir(d);
    }
    for (const auto& n : names) RemoveAt(fd, n.c_str());
    close(fd);
  }
  unlinkat(parent, name, AT_REMOVEDIR);
}

inline void RemoveTree(const std::string& path) {
  struct rlimit rl;  // one fd per level: allow as many as we may
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  RemoveAt(AT_FDCWD, path.c_str());
}

}  // namespace shardkeep::fuzz

#endif  // SHARDKEEP_TESTS_FUZZ_FUZZ_UTIL_H_

// Fuzzes the `shardkeep` command line: customer::RunCli (CLI11 against the
// command table, every command's flag parsing and checks: sizes, durations,
// rates, addresses, snapshot specs, --read-data-subset, ...) on any words.
//
// Input: the words of the command line, separated by NUL bytes (at most 24).
// Run with HOME, the config and the cache dir inside a scratch directory
// that holds no vault, the working directory there too, and a connector
// whose every supplier is unreachable: no command can reach anything
// outside it. Words that would move the config or cache dir elsewhere
// (--config-dir, --cache-dir) are dropped.
// Properties:
//   - RunCli returns, and with a documented exit code (docs/CLI.md);
//   - no exception reaches RunCli's last-resort handler (a line starting
//     "shardkeep: internal error: "; words with line breaks are dropped so
//     that a quoted word cannot forge one);
//   - a usage error (2) says "shardkeep: ..." or prints the help (on stderr);
//   - without suppliers no vault comes to exist (no key record or config in
//     the config dir).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "customer/cmd/app.h"
#include "customer/net/mem_supplier_client.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

namespace customer = shardkeep::customer;
namespace fuzz = shardkeep::fuzz;

struct World {
  World() : dir(fuzz::MakeScratchDir("cli")) {
    if (chdir(dir.c_str()) != 0) std::abort();
    std::atexit([] { fuzz::RemoveTree(world().dir); });
  }
  static World& world();
  std::string dir;
};

World& World::world() {
  static World* w = new World();
  return *w;
}

// Closes an open_memstream stream and returns what was written to it.
std::string Slurp(FILE* f, char** buf, size_t* len) {
  fclose(f);  // sets *buf and *len
  std::string s(*buf, *len);
  free(*buf);
  return s;
}

// Whether a vault exists in `config_dir` (its key record or its config);
// clears the directory for the next input either way.
bool VaultIn(const std::string& config_dir) {
  const bool vault = access((config_dir + "/key").c_str(), F_OK) == 0 ||
                     access((config_dir + "/config").c_str(), F_OK) == 0;
  fuzz::RemoveTree(config_dir);
  return vault;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = World::world();
  std::vector<std::string> args;
  std::string word;
  for (size_t i = 0; i <= size && args.size() < 24; ++i) {
    if (i == size || data[i] == 0) {
      const bool moves_dir = word.rfind("--config-dir", 0) == 0 || word.rfind("--cache-dir", 0) == 0;
      // A word with a line break could forge the oracle's line below when
      // a message quotes it.
      if (!moves_dir && word.find('\n') == std::string::npos) args.push_back(word);
      word.clear();
    } else {
      word.push_back(static_cast<char>(data[i]));
    }
  }
  if (size == 0) args.clear();

  const std::map<std::string, std::string> vars = {
      {"HOME", w.dir},
      {"SHARDKEEP_CONFIG_DIR", w.dir + "/config"},
      {"SHARDKEEP_CACHE_DIR", w.dir + "/cache"},
      {"SHARDKEEP_PASSWORD", fuzz::kPassphrase},
      {"SHARDKEEP_INSECURE_TEST_KDF", "1"},
  };
  char *out_buf = nullptr, *err_buf = nullptr;
  size_t out_len = 0, err_len = 0;
  customer::CliEnv env;
  env.out = open_memstream(&out_buf, &out_len);
  env.err = open_memstream(&err_buf, &err_len);
  env.env = [&vars](const std::string& name) {
    auto it = vars.find(name);
    return it == vars.end() ? std::string() : it->second;
  };
  // No supplier exists: every address connects, and every call is UNAVAILABLE.
  env.connector = customer::MemConnector({});
  env.connect_with = [](const customer::TransportOptions&) { return customer::MemConnector({}); };

  const int code = customer::RunCli(args, env);
  const std::string out = Slurp(env.out, &out_buf, &out_len);
  const std::string err = Slurp(env.err, &err_buf, &err_len);

  static const int kDocumented[] = {0, 1, 2, 3, 4, 5, 10, 12, 13};
  bool documented = false;
  for (int c : kDocumented) documented |= code == c;
  FUZZ_CHECK(documented);
  // RunCli's last resort prints this at the start of a line; messages that
  // quote a word ("unknown command ...") never start a line with it.
  FUZZ_CHECK(err.rfind("shardkeep: internal error: ", 0) != 0 &&
             err.find("\nshardkeep: internal error: ") == std::string::npos);
  if (code == 2 && err.find("shardkeep: ") == std::string::npos &&
      err.find("Usage") == std::string::npos) {
    for (const auto& a : args) std::fprintf(stderr, "[%s] ", a.c_str());
    std::fprintf(stderr, "exit 2, stdout:\n%s\nstderr:\n%s\n", out.c_str(), err.c_str());
    FUZZ_CHECK(!"a usage error says what is wrong");
  }
  FUZZ_CHECK(!VaultIn(w.dir + "/config"));
  fuzz::RemoveTree(w.dir + "/cache");
  return 0;
}

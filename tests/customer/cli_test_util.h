// Helpers for tests that run the real `shardkeep` binary as a user would
// (e2e_test.cc, live_tree_test.cc): runfiles, temporary directories, child
// processes with captured output, and a customer with its own config and
// cache directories. Test-only; failures to set up abort or are reported in
// the returned RunResult, never thrown.
#ifndef SHARDKEEP_TESTS_CUSTOMER_CLI_TEST_UTIL_H_
#define SHARDKEEP_TESTS_CUSTOMER_CLI_TEST_UTIL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace shardkeep::cli_test {

// The value of environment variable `name`, "" if unset.
std::string Env(const char* name);

// The path of runfile `rel` (workspace-relative) under TEST_SRCDIR or
// RUNFILES_DIR; `rel` itself if neither holds it (run from the workspace root).
std::string Runfile(const std::string& rel);

// A new empty directory $TEST_TMPDIR/<what>-XXXXXX (/tmp without
// TEST_TMPDIR); aborts if it cannot be made.
std::string TempDir(const std::string& what);

// The whole content of `path`; "" if it cannot be read.
std::string ReadFile(const std::string& path);

// Replaces the content of `path` with `data` (creates the file).
void WriteFile(const std::string& path, const std::string& data);

// The outcome of a child process.
struct RunResult {
  int code = -1;  // exit status; 128 + signal if killed; -1 if not started
  std::string out, err;
  // Exit code, stdout and stderr, for a failure message.
  std::string Describe() const;
};

// Runs argv (looked up on PATH) with `env` added to the environment (an empty
// value unsets the variable); stdin is /dev/null, so the CLI sees no
// terminal. Blocks until the child exits.
RunResult RunCommand(const std::vector<std::string>& argv,
                     const std::map<std::string, std::string>& env);

// One customer: a config dir, a cache dir and a passphrase.
struct Customer {
  std::string config, cache, password;
  // SHARDKEEP_INSECURE_TEST_KDF=1 (a cheap key derivation: many commands per
  // test) unless a test sets it false to pay the real cost.
  bool cheap_kdf = true;
  // More environment for every command (e.g. SHARDKEEP_NEW_PASSWORD).
  std::map<std::string, std::string> env;
  explicit Customer(const std::string& pw = "correct horse battery staple");

  // Runs the real `shardkeep` with `args` as this customer (passphrase from
  // SHARDKEEP_PASSWORD: `pw_override` if not empty, else `password`).
  RunResult Sk(std::vector<std::string> args, const std::string& pw_override = "") const;
  // The environment Sk gives the binary (for a test that runs it under a
  // shell, e.g. to kill it part-way).
  std::map<std::string, std::string> Env(const std::string& pw_override = "") const;
};

// Starts the real `shardkeep` with `args` as `c` in the background (stdin
// /dev/null, stdout and stderr to `out_file`), for tests that stop it
// (kill -9, Ctrl-C) or run two at once; -1 if it could not start. Reap it
// with WaitExit.
int SpawnSk(const Customer& c, std::vector<std::string> args, const std::string& out_file);
// Waits for child `pid`: its exit status, or 128 + the signal that killed it.
int WaitExit(int pid);
// Index pieces in the customer's cache (a backup caches each piece it
// stores, so a checkpoint shows here).
int CachedIndexPieces(const Customer& c);

// The value of "key":"..." or "key":number in a JSON text (first occurrence),
// "" if the key is absent.
std::string JsonField(const std::string& json, const std::string& key);
// JsonField as a number; ~0 (which no assertion expects) if the key is
// absent.
uint64_t JsonNumber(const std::string& json, const std::string& key);
// Runs `command` under bash (no extra environment).
RunResult Shell(const std::string& command);

}  // namespace shardkeep::cli_test

#endif  // SHARDKEEP_TESTS_CUSTOMER_CLI_TEST_UTIL_H_

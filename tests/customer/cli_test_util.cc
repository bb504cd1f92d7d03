#include "tests/customer/cli_test_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace shardkeep::cli_test {

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

std::string Runfile(const std::string& rel) {
  for (const std::string& root : {Env("TEST_SRCDIR"), Env("RUNFILES_DIR")}) {
    if (root.empty()) continue;
    std::string p = root + "/shardkeep/" + rel;
    if (access(p.c_str(), R_OK) == 0) return p;
  }
  return rel;  // run from the workspace root
}

std::string TempDir(const std::string& what) {
  std::string root = Env("TEST_TMPDIR");
  if (root.empty()) root = "/tmp";
  std::string tmpl = root + "/" + what + "-XXXXXX";
  char* d = mkdtemp(tmpl.data());
  if (d == nullptr) abort();
  return tmpl;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

std::string RunResult::Describe() const {
  return absl::StrCat("exit ", code, "\nstdout:\n", out, "\nstderr:\n", err);
}

RunResult RunCommand(const std::vector<std::string>& argv,
                     const std::map<std::string, std::string>& env) {
  static int counter = 0;
  std::string base = Env("TEST_TMPDIR").empty() ? "/tmp" : Env("TEST_TMPDIR");
  std::string out_path = absl::StrCat(base, "/run-", getpid(), "-", ++counter, ".out");
  std::string err_path = out_path + ".err";
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string s = *e;
    std::string name = s.substr(0, s.find('='));
    if (env.count(name) == 0) env_strings.push_back(s);
  }
  for (const auto& [k, v] : env) {
    if (!v.empty()) env_strings.push_back(k + "=" + v);  // empty value: unset
  }
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  RunResult r;
  int spawned = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (spawned != 0) {
    r.err = "spawn failed: " + argv[0];
    return r;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return r;
}

Customer::Customer(const std::string& pw)
    : config(TempDir("config")), cache(TempDir("cache")), password(pw) {}

RunResult Customer::Sk(std::vector<std::string> args, const std::string& pw_override) const {
  args.insert(args.begin(), Runfile("customer/shardkeep"));
  return RunCommand(args, Env(pw_override));
}

std::map<std::string, std::string> Customer::Env(const std::string& pw_override) const {
  std::map<std::string, std::string> all = {
      {"SHARDKEEP_CONFIG_DIR", config},
      {"SHARDKEEP_CACHE_DIR", cache},
      {"SHARDKEEP_PASSWORD", pw_override.empty() ? password : pw_override},
      {"SHARDKEEP_PASSWORD_FILE", ""},
      {"SHARDKEEP_INSECURE_TEST_KDF", cheap_kdf ? "1" : ""}};
  for (const auto& [k, v] : env) all[k] = v;
  return all;
}

int SpawnSk(const Customer& c, std::vector<std::string> args, const std::string& out_file) {
  std::vector<std::string> env_strings = {"PATH=/usr/bin:/bin"};
  for (const auto& [k, v] : c.Env("")) {
    if (!v.empty()) env_strings.push_back(k + "=" + v);
  }
  args.insert(args.begin(), Runfile("customer/shardkeep"));
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int WaitExit(int pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int CachedIndexPieces(const Customer& c) {
  RunResult r = RunCommand({"/bin/bash", "-c", "ls '" + c.cache + "'/*/index 2>/dev/null | wc -l"}, {});
  return r.code == 0 ? std::atoi(r.out.c_str()) : 0;
}

std::string JsonField(const std::string& json, const std::string& key) {
  std::string pat = "\"" + key + "\":";
  size_t p = json.find(pat);
  if (p == std::string::npos) return "";
  p += pat.size();
  if (json[p] == '"') {
    size_t e = json.find('"', p + 1);
    return json.substr(p + 1, e - p - 1);
  }
  size_t e = json.find_first_of(",}]", p);
  return json.substr(p, e - p);
}

uint64_t JsonNumber(const std::string& json, const std::string& key) {
  std::string v = JsonField(json, key);
  return v.empty() ? ~uint64_t{0} : std::stoull(v);
}

RunResult Shell(const std::string& command) { return RunCommand({"/bin/bash", "-c", command}, {}); }

}  // namespace shardkeep::cli_test

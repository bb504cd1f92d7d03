// RunCli in-process: the command line's grammar (global flags anywhere, env
// fallbacks, repeatable flags, `--`), help, usage errors (exit 2) and exact
// sizes. No network: the connector fails, or hands out fake suppliers.
#include "customer/cmd/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A supplier that answers Info, grants (or refuses) contracts and accepts
// objects; enough for `init`.
class FakeSupplier : public SupplierClient {
 public:
  FakeSupplier(std::string address, bool refuse) : address_(std::move(address)), refuse_(refuse) {}
  const std::string& address() const override { return address_; }
  absl::StatusOr<v1::InfoResponse> Info() override {
    v1::InfoResponse info;
    info.set_supplier_id("id-" + address_);
    info.set_max_object_bytes(1 << 20);
    return info;
  }
  absl::StatusOr<v1::Contract> RequestContract(uint64_t needed, uint32_t, uint32_t) override {
    if (refuse_) return absl::ResourceExhaustedError("no room");
    v1::Contract c;
    c.set_quota_bytes(needed);
    return c;
  }
  absl::StatusOr<v1::Contract> GetContract() override { return Unsupported(); }
  absl::Status CancelContract() override { return absl::OkStatus(); }
  absl::Status PutFragment(const std::string&, std::string_view, std::string_view) override {
    return Unsupported();
  }
  absl::StatusOr<std::string> GetFragment(const std::string&) override { return Unsupported(); }
  absl::Status PutObject(const std::string&, std::string_view, std::string_view) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> GetObject(const std::string&) override { return Unsupported(); }
  absl::StatusOr<std::vector<v1::ObjectInfo>> ListObjects(const std::string&) override {
    return Unsupported();
  }
  absl::StatusOr<v1::GetKeyRecordResponse> GetKeyRecord(std::string_view) override {
    return Unsupported();
  }

 private:
  static absl::Status Unsupported() { return absl::UnimplementedError("not in the fake"); }
  std::string address_;
  bool refuse_;
};

SupplierConnector FailingConnector() {
  return [](const std::string& address, const std::string&,
            const std::string&) -> absl::StatusOr<std::unique_ptr<SupplierClient>> {
    return absl::UnavailableError(absl::StrCat(address, ": no network in this test"));
  };
}

SupplierConnector FakeConnector(bool refuse) {
  return [refuse](const std::string& address, const std::string&,
                  const std::string&) -> absl::StatusOr<std::unique_ptr<SupplierClient>> {
    return std::make_unique<FakeSupplier>(address, refuse);
  };
}

struct Result {
  int code = -1;
  std::string out, err;
};

// Runs `args` with exactly the environment `env` (nothing of the process's).
Result Cli(std::vector<std::string> args, std::map<std::string, std::string> env = {},
           SupplierConnector connector = FailingConnector()) {
  char *out_buf = nullptr, *err_buf = nullptr;
  size_t out_len = 0, err_len = 0;
  CliEnv cli;
  cli.connector = std::move(connector);
  cli.out = open_memstream(&out_buf, &out_len);
  cli.err = open_memstream(&err_buf, &err_len);
  cli.env = [env](const std::string& name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  Result r;
  r.code = RunCli(args, cli);
  fclose(cli.out);
  fclose(cli.err);
  r.out.assign(out_buf, out_len);
  r.err.assign(err_buf, err_len);
  free(out_buf);
  free(err_buf);
  return r;
}

std::string TempDir() {
  std::string t =
      absl::StrCat(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp", "/app_test-XXXXXX");
  EXPECT_NE(mkdtemp(t.data()), nullptr);
  return t;
}

// `snapshots` with no vault fails with exit 10 naming the config dir it
// looked in: that shows how the global options were resolved.
TEST(RunCliTest, ConfigDirBeforeOrAfterTheCommand) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--config-dir", "/nowhere/a", "snapshots"},
        {"snapshots", "--config-dir", "/nowhere/a"},
        {"snapshots", "--config-dir=/nowhere/a"},
        {"--cache-dir", "/c", "snapshots", "--config-dir=/nowhere/a", "--cache-dir=/d"}}) {
    Result r = Cli(args);
    EXPECT_EQ(r.code, 10) << args[0] << " " << r.err;
    EXPECT_THAT(r.err, HasSubstr("no vault in /nowhere/a ")) << args[0];
  }
}

// A flag that takes one value, given twice, keeps the last (as before).
TEST(RunCliTest, LastValueOfARepeatedScalarFlagWins) {
  Result r = Cli({"--config-dir", "/nowhere/first", "snapshots", "--config-dir", "/nowhere/last"});
  EXPECT_EQ(r.code, 10);
  EXPECT_THAT(r.err, HasSubstr("no vault in /nowhere/last "));
}

TEST(RunCliTest, EnvironmentFallbackAndFlagPrecedence) {
  Result env_only = Cli({"snapshots"}, {{"SHARDKEEP_CONFIG_DIR", "/nowhere/env"}});
  EXPECT_EQ(env_only.code, 10);
  EXPECT_THAT(env_only.err, HasSubstr("no vault in /nowhere/env "));

  Result flag_wins = Cli({"snapshots", "--config-dir", "/nowhere/flag"},
                         {{"SHARDKEEP_CONFIG_DIR", "/nowhere/env"}});
  EXPECT_THAT(flag_wins.err, HasSubstr("no vault in /nowhere/flag "));

  Result home_default = Cli({"snapshots"}, {{"HOME", "/nowhere/home"}});
  EXPECT_THAT(home_default.err, HasSubstr("no vault in /nowhere/home/.config/shardkeep "));

  // An empty variable counts as unset.
  Result empty = Cli({"snapshots"}, {{"HOME", "/h"}, {"SHARDKEEP_CONFIG_DIR", ""}});
  EXPECT_THAT(empty.err, HasSubstr("no vault in /h/.config/shardkeep "));
}

// backup checks its PATHs before anything else: "cannot back up P" shows
// which words became PATHs.
TEST(RunCliTest, RepeatedFlagsTakeOneValueEach) {
  Result r = Cli({"backup", "--exclude", "*.o", "--exclude=*.tmp", "--tag", "a", "--tag", "b",
                  "/nowhere/p1", "--exclude", "x", "/nowhere/p2"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("cannot back up /nowhere/p1:"));

  // Valid PATHs after repeated flags: parsing succeeds and the command goes
  // on to look for the vault (10), with -x and --host accepted too.
  std::string dir = TempDir();
  Result ok = Cli({"backup", "--exclude", "a", "--exclude", "b", "-x", dir, "--host", "h",
                   "--config-dir", "/nowhere/c"});
  EXPECT_EQ(ok.code, 10) << ok.err;
}

// Once a command is chosen, another command's name is an argument.
TEST(RunCliTest, ACommandNameAfterTheCommandIsAnArgument) {
  Result r = Cli({"backup", "init"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("/init: No such file or directory"));
}

TEST(RunCliTest, DoubleDashEndsTheFlags) {
  Result r = Cli({"backup", "--", "--json"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("/--json: No such file or directory"));
}

TEST(RunCliTest, ShortFlags) {
  EXPECT_EQ(Cli({"ls", "-l", "latest", "--config-dir", "/nowhere"}).code, 10);
  EXPECT_EQ(Cli({"ls", "-q", "latest"}).code, 2);
}

TEST(RunCliTest, UnknownFlagIsUsageErrorNamingIt) {
  Result r = Cli({"backup", "--no-such-flag", "/tmp"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("shardkeep: backup: unknown flag --no-such-flag"));
  EXPECT_THAT(r.err, HasSubstr("--help"));
  EXPECT_EQ(r.out, "");
}

TEST(RunCliTest, UnknownCommandIsUsageErrorNamingIt) {
  Result r = Cli({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("shardkeep: unknown command \"frobnicate\""));
}

TEST(RunCliTest, MissingValueOrArgumentIsUsageError) {
  Result value = Cli({"backup", "/tmp", "--host"});
  EXPECT_EQ(value.code, 2);
  EXPECT_THAT(value.err, HasSubstr("backup: --host needs a value"));
  Result target = Cli({"restore", "latest"});
  EXPECT_EQ(target.code, 2);
  EXPECT_THAT(target.err, HasSubstr("--target"));
  Result snapshot = Cli({"ls"});
  EXPECT_EQ(snapshot.code, 2);
  EXPECT_THAT(snapshot.err, HasSubstr("SNAPSHOT"));
  Result extra = Cli({"snapshots", "surplus"});
  EXPECT_EQ(extra.code, 2);
  EXPECT_THAT(extra.err, HasSubstr("\"surplus\""));
}

TEST(RunCliTest, NoCommandPrintsUsageToStderr) {
  Result r = Cli({});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("Usage: shardkeep"));
  EXPECT_THAT(r.err, HasSubstr("Exit codes"));
}

TEST(RunCliTest, HelpGoesToStdoutWithExitCodes) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"}, {"help"}, {"-h"}}) {
    Result r = Cli(args);
    EXPECT_EQ(r.code, 0) << args[0];
    EXPECT_THAT(r.out, HasSubstr("Usage: shardkeep")) << args[0];
    EXPECT_THAT(r.out, HasSubstr("restore")) << args[0];
    EXPECT_THAT(r.out, HasSubstr("Exit codes:\n  0   success")) << args[0];
    EXPECT_EQ(r.err, "") << args[0];
  }
  for (const char* cmd : {"init", "backup", "snapshots", "ls", "restore", "version"}) {
    Result r = Cli({cmd, "--help"});
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("Usage: shardkeep ", cmd))) << cmd;
    EXPECT_THAT(r.out, HasSubstr("Exit codes")) << cmd;
    EXPECT_THAT(r.out, HasSubstr("SHARDKEEP_CONFIG_DIR")) << cmd;
    EXPECT_EQ(Cli({"help", cmd}).out, r.out) << cmd;
  }
  // The descriptions of the hand-written help are kept.
  Result init = Cli({"init", "--help"});
  EXPECT_THAT(init.out, HasSubstr("default 8MiB"));
  EXPECT_THAT(init.out, HasSubstr("ceil(needed / K)"));
  EXPECT_THAT(init.out, HasSubstr("KiB MiB GiB TiB"));
  EXPECT_THAT(Cli({"backup", "--help"}).out, HasSubstr("-x,--one-file-system"));
  EXPECT_THAT(Cli({"ls", "--help"}).out, HasSubstr("-l,--long"));
  EXPECT_EQ(Cli({"help", "nothing"}).code, 2);
}

TEST(RunCliTest, Version) {
  Result r = Cli({"version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, ::testing::MatchesRegex("shardkeep [0-9]+\\.[0-9]+\\.[0-9]+\n"));
}

TEST(RunCliTest, BadSizeIsUsageErrorNamingIt) {
  Result r = Cli({"init", "--suppliers", "a:1,b:2", "--needed", "12XB"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--needed"));
  EXPECT_THAT(r.err, HasSubstr("\"12XB\""));
  Result block = Cli({"init", "--suppliers", "a:1,b:2", "--block-size=1.5"});
  EXPECT_EQ(block.code, 2);
  EXPECT_THAT(block.err, HasSubstr("--block-size"));
}

// 2^53 + 1 bytes is not a double: the quota asked of the (one data shard)
// suppliers, named in the refusal, shows the size was parsed exactly.
TEST(RunCliTest, SizesAreExact) {
  std::string dir = TempDir();
  Result r = Cli({"init", "--suppliers", "a:1,b:2", "--data-shards", "1", "--needed",
                  "9007199254740993", "--config-dir", dir + "/config", "--allow-weak-passphrase"},
                 {{"SHARDKEEP_PASSWORD", "pw"}, {"SHARDKEEP_INSECURE_TEST_KDF", "1"}},
                 FakeConnector(/*refuse=*/true));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("(9007199254740993 bytes) refused"));
  EXPECT_THAT(r.err, HasSubstr("a:1: no room"));
}

// init end to end against fake suppliers; its JSON is the ui printer's.
TEST(RunCliTest, InitJson) {
  std::string dir = TempDir();
  Result r = Cli({"--config-dir", dir + "/config", "init", "--suppliers", "a:1, b:2", "--json",
                  "--cache-dir", dir + "/cache", "--needed", "2MiB", "--block-size", "64KiB",
                  "--allow-weak-passphrase"},
                 {{"SHARDKEEP_PASSWORD", "pw"}, {"SHARDKEEP_INSECURE_TEST_KDF", "1"}},
                 FakeConnector(/*refuse=*/false));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::MatchesRegex(
                         "\\{\"vault_id\":\"[0-9a-f]{32}\",\"config_dir\":\"[^\"]*/config\","
                         "\"supplier_count\":2,\"data_shards\":1,\"block_size\":65536,"
                         "\"needed_bytes\":2097152,\"suppliers\":\\["
                         "\\{\"position\":0,\"address\":\"a:1\",\"supplier_id\":\"[0-9a-f]+\","
                         "\"quota_bytes\":2097152,\"tls_fingerprint\":\"[^\"]*\"\\},"
                         "\\{\"position\":1,\"address\":\"b:2\",\"supplier_id\":\"[0-9a-f]+\","
                         "\"quota_bytes\":2097152,\"tls_fingerprint\":\"[^\"]*\"\\}\\],"
                         "\"safe_until\":\"[^\"]*\"\\}\n"));
  // A second init in the same config dir is refused (exit 1), before any
  // passphrase or supplier.
  Result again = Cli({"init", "--suppliers", "a:1,b:2", "--config-dir", dir + "/config"}, {},
                     FailingConnector());
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("already exists"));
}

TEST(RunCliTest, SupplierAddressesAreCheckedBeforeTheNetwork) {
  Result r = Cli({"init", "--suppliers", "a:1,a:99999"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("\"a:99999\""));
  EXPECT_THAT(r.err, Not(HasSubstr("no network")));
}

}  // namespace
}  // namespace shardkeep::customer

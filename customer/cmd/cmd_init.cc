// shardkeep init: creates a vault, its keys and its contracts.
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/chunker.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "common/units.h"
#include "customer/cmd/command.h"
#include "customer/net/supplier_set.h"
#include "customer/ui/json.h"
#include "customer/ui/passphrase.h"
#include "customer/vault/keys.h"
#include "customer/vault/objects.h"
#include "customer/vault/vault.h"
#include "raid/codec.h"

namespace shardkeep::customer {
namespace {

const char kIntro[] =
    "Creates a vault in the config dir: a new master key (wrapped under your\n"
    "passphrase, asked twice), a contract with every supplier, and the vault's\n"
    "configuration, stored locally and (encrypted) on every supplier. Prints the\n"
    "vault ID and a recovery kit.";

const char kNotes[] =
    "Sizes take KiB MiB GiB TiB (also K M G T), kB MB GB TB, or bytes.\n"
    "Presets for --data-shards: 2 -> 1, 4 -> 2, 7 -> 4, 13 -> 7, 18 -> 9, 26 -> 13, 64 -> 32.\n"
    "\n"
    "Example: shardkeep init --suppliers a:7700,b:7700,c:7700,d:7700 --needed 500GiB\n";

struct InitFlags {
  std::string suppliers;
  std::string data_shards;
  std::string block_size = "8MiB";
  std::string needed = "10GiB";
  bool json = false;
};

// What the flags ask for, checked.
struct InitPlan {
  std::vector<std::string> addresses;
  int k = 0;
  uint64_t block_size = 0;
  uint64_t needed = 0;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<InitPlan> CheckFlags(const InitFlags& flags) {
  InitPlan plan;
  for (absl::string_view a : absl::StrSplit(flags.suppliers, ',')) {
    std::string s(absl::StripAsciiWhitespace(a));
    if (!s.empty()) plan.addresses.push_back(s);
  }
  const int n = static_cast<int>(plan.addresses.size());
  if (n < 2 || n > 64) {
    return UsageError(absl::StrCat("init: --suppliers needs 2 to 64 addresses, got ", n));
  }
  std::set<std::string> seen;
  for (const std::string& a : plan.addresses) {
    // HOST:PORT with a port gRPC will not silently wrap (99999 would dial
    // 34463) and a host it will not take for a DNS name ("garbage" would be
    // reported as "suppliers unreachable", exit 13, instead of a typo).
    size_t colon = a.rfind(':');
    uint32_t port = 0;
    if (colon == std::string::npos || colon == 0 ||
        !absl::SimpleAtoi(absl::string_view(a).substr(colon + 1), &port) || port == 0 ||
        port > 65535) {
      return UsageError(absl::StrCat("init: bad supplier address \"", a,
                                     "\" in --suppliers (want HOST:PORT, port 1..65535)"));
    }
    if (!seen.insert(a).second) {
      return UsageError(
          absl::StrCat("init: supplier address ", a, " appears twice in --suppliers"));
    }
  }
  plan.k = raid::DefaultDataShards(n);
  if (!flags.data_shards.empty() &&
      (!absl::SimpleAtoi(flags.data_shards, &plan.k) || plan.k < 1 || plan.k >= n)) {
    return UsageError(
        absl::StrCat("init: --data-shards must be 1..", n - 1, " for ", n, " suppliers"));
  }
  ASSIGN_OR_RETURN(plan.block_size, ParseSizeFlag("init: --block-size", flags.block_size));
  if (plan.block_size < (64 << 10) || plan.block_size > (256 << 20)) {
    return UsageError(
        absl::StrCat("init: --block-size must be 64KiB..256MiB, got ", flags.block_size));
  }
  ASSIGN_OR_RETURN(plan.needed, ParseSizeFlag("init: --needed", flags.needed));
  if (plan.needed == 0) return UsageError("init: --needed must be more than 0");
  return plan;
}

// The vault-creation algorithm (to become vault's CreateVault): keys,
// contracts with every supplier (given back on any failure), the key record
// and the sealed configuration on every supplier, then the local config dir.
// Returns the new vault's configuration.
absl::StatusOr<vault::v1::VaultConfig> CreateVaultFromPlan(const InitPlan& plan,
                                                           const std::string& pass,
                                                           const CommandContext& ctx) {
  const std::vector<std::string>& addresses = plan.addresses;
  const int n = static_cast<int>(addresses.size());
  const int k = plan.k;
  const std::string master = crypto::RandomBytes(kMasterKeySize);
  const std::string vault_id = crypto::RandomBytes(kVaultIdSize);
  const VaultKeys keys = DeriveKeys(master, vault_id);

  std::vector<std::unique_ptr<SupplierClient>> clients;
  for (const auto& a : addresses) {
    ASSIGN_OR_RETURN(auto c, ctx.env->connector(a, keys.identity_seed, ""));
    clients.push_back(std::move(c));
  }
  SupplierSet set(std::move(clients), k, SupplierSet::Options{});
  RETURN_IF_ERROR(set.CheckReachable(n));

  std::vector<std::string> ids(n);
  for (int i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(auto info, set.at(i)->Info());
    ids[i] = info.supplier_id();
    for (int j = 0; j < i; ++j) {
      if (ids[j] == ids[i]) {
        return UsageError(
            absl::StrCat("init: ", addresses[j], " and ", addresses[i], " are the same supplier"));
      }
    }
  }

  const uint64_t quota = (plan.needed + k - 1) / k;
  std::vector<uint64_t> granted(n);
  {
    std::vector<std::string> refusals;
    std::mutex mu;
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        auto c = set.at(i)->RequestContract(quota, i, n);
        std::lock_guard<std::mutex> lock(mu);
        if (c.ok()) {
          granted[i] = c->quota_bytes();
        } else {
          std::string m(c.status().message());
          refusals.push_back(m.rfind(addresses[i], 0) == 0 ? m
                                                           : absl::StrCat(addresses[i], ": ", m));
        }
      });
    }
    for (auto& t : threads) t.join();
    if (!refusals.empty()) {
      // Give back what was granted: nothing of this vault will be stored.
      for (int i = 0; i < n; ++i) {
        if (granted[i] > 0) set.at(i)->CancelContract().IgnoreError();
      }
      return absl::ResourceExhaustedError(
          absl::StrCat("contract for a quota of ", FormatByteSize(quota), " (", quota,
                       " bytes) refused: ", absl::StrJoin(refusals, "; ")));
    }
  }

  // From here on a failure gives the contracts back (a retry makes a new
  // identity, so they would only hold space until their lease ran out).
  struct CancelOnError {
    SupplierSet& set;
    bool armed = true;
    ~CancelOnError() {
      if (!armed) return;
      for (int i = 0; i < set.n(); ++i) set.at(i)->CancelContract().IgnoreError();
    }
  } cancel_on_error{set};

  vault::v1::VaultConfig config;
  config.set_version(1);
  config.set_vault_id(vault_id);
  config.set_supplier_count(n);
  config.set_data_shards(k);
  config.set_block_size(plan.block_size);
  chunker::Params cp;
  config.mutable_chunker()->set_min_size(cp.min_size);
  config.mutable_chunker()->set_avg_size(cp.avg_size);
  config.mutable_chunker()->set_max_size(cp.max_size);
  config.set_compression_level(3);
  config.set_needed_bytes(plan.needed);
  config.set_created_ms(NowMs());
  config.set_customer_key(keys.identity_public);
  for (int i = 0; i < n; ++i) {
    auto* s = config.add_suppliers();
    s->set_address(addresses[i]);
    s->set_supplier_id(ids[i]);
    s->set_position(i);
    s->set_quota_bytes(granted[i]);
  }
  RETURN_IF_ERROR(ValidateConfig(config));

  ASSIGN_OR_RETURN(vault::v1::KeyRecord record,
                   WrapMasterKey(master, vault_id, pass, ScryptParams{}, keys.identity_public));
  RETURN_IF_ERROR(set.PutObjectEverywhere(kKeysObject, record.SerializeAsString(), n, vault_id));
  ASSIGN_OR_RETURN(std::string sealed_config, SealObject(keys.metadata_key, vault_id, kConfigObject,
                                                         config.SerializeAsString()));
  RETURN_IF_ERROR(set.PutObjectEverywhere(kConfigObject, sealed_config, n));
  ASSIGN_OR_RETURN(auto vault,
                   Vault::Create(ctx.config_dir, ctx.cache_dir, config, record, master));
  cancel_on_error.armed = false;
  (void)vault;
  return config;
}

void PrintCreated(const vault::v1::VaultConfig& config, const std::string& config_dir, FILE* out) {
  const std::string id_hex = crypto::ToHex(config.vault_id());
  const int n = config.supplier_count(), k = config.data_shards();
  fprintf(out, "created vault %s in %s\n", id_hex.c_str(), config_dir.c_str());
  fprintf(out,
          "%d suppliers, %d data + %d parity fragments per block: any %d of them may be lost\n", n,
          k, n - k, n - k);
  std::vector<std::string> addresses;
  for (const auto& s : config.suppliers()) {
    fprintf(out, "  position %-2d %-24s quota %s\n", static_cast<int>(s.position()),
            s.address().c_str(), FormatByteSize(s.quota_bytes()).c_str());
    addresses.push_back(s.address());
  }
  fprintf(out,
          "\nRecovery kit: keep this apart from this machine. With your passphrase it is\n"
          "all you need to get the vault back after losing this disk.\n"
          "  vault ID:   %s\n"
          "  suppliers:  %s\n",
          id_hex.c_str(), absl::StrJoin(addresses, ",").c_str());
}

absl::StatusOr<ExitCode> Init(const InitFlags& flags, const CommandContext& ctx) {
  ASSIGN_OR_RETURN(InitPlan plan, CheckFlags(flags));
  if (Vault::Exists(ctx.config_dir)) {
    return absl::AlreadyExistsError(
        absl::StrCat("a vault already exists in ", ctx.config_dir, " (use another --config-dir)"));
  }
  ASSIGN_OR_RETURN(std::string pass, ReadPassphrase(ctx.env->env, /*confirm=*/true));
  ASSIGN_OR_RETURN(vault::v1::VaultConfig config, CreateVaultFromPlan(plan, pass, ctx));
  if (flags.json) {
    fprintf(ctx.out(), "%s\n", DumpJson(InitResultJson(ctx.config_dir, config)).c_str());
  } else {
    PrintCreated(config, ctx.config_dir, ctx.out());
  }
  return kSuccess;
}

}  // namespace

CommandAction SetupInit(CLI::App& command) {
  auto flags = std::make_shared<InitFlags>();
  Describe(command, kIntro, kNotes);
  command
      .add_option("--suppliers", flags->suppliers,
                  "2 to 64 supplier addresses, comma-separated;\nfragment i of every block goes "
                  "to the\ni-th supplier")
      ->type_name("HOST:PORT[,...]")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->required();
  command
      .add_option("--data-shards", flags->data_shards,
                  "fragments needed to read a block back\n(1..n-1; default ceil(n/2)): any n-K "
                  "suppliers\nmay be lost")
      ->type_name("K")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  command
      .add_option("--block-size", flags->block_size,
                  "target size of a block before coding\n(64KiB..256MiB, default 8MiB)")
      ->type_name("SIZE")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  command
      .add_option("--needed", flags->needed,
                  "space the vault may use after dedup and\ncompression (default 10GiB); each "
                  "supplier\nis asked for ceil(needed / K)")
      ->type_name("SIZE")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  command.add_flag("--json", flags->json, "print the result as JSON");
  return [flags](const CommandContext& ctx) { return Init(*flags, ctx); };
}

}  // namespace shardkeep::customer

// shardkeep init: creates a vault, its keys and its contracts.
#include <algorithm>
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
#include "customer/cmd/cli.h"
#include "customer/vault/keys.h"
#include "customer/vault/objects.h"
#include "customer/ui/progress_line.h"
#include "customer/net/supplier_set.h"
#include "customer/vault/vault.h"
#include "raid/codec.h"

namespace shardkeep::customer {
namespace {

const char kHelp[] =
    "Usage: shardkeep init --suppliers HOST:PORT[,HOST:PORT...] [--data-shards K]\n"
    "                      [--block-size SIZE] [--needed SIZE] [--json]\n"
    "\n"
    "Creates a vault in the config dir: a new master key (wrapped under your\n"
    "passphrase, asked twice), a contract with every supplier, and the vault's\n"
    "configuration, stored locally and (encrypted) on every supplier. Prints the\n"
    "vault ID and a recovery kit.\n"
    "\n"
    "  --suppliers LIST   2 to 64 supplier addresses; fragment i of every block\n"
    "                     goes to the i-th supplier\n"
    "  --data-shards K    fragments needed to read a block back (1..n-1;\n"
    "                     default ceil(n/2)): any n-K suppliers may be lost\n"
    "  --block-size SIZE  target size of a block before coding (default 8MiB)\n"
    "  --needed SIZE      space the vault may use after dedup and compression\n"
    "                     (default 10GiB); each supplier is asked for\n"
    "                     ceil(needed / K)\n"
    "  --json             print the result as JSON\n"
    "\n"
    "Global: --config-dir DIR (env SHARDKEEP_CONFIG_DIR, default ~/.config/shardkeep),\n"
    "--cache-dir DIR (env SHARDKEEP_CACHE_DIR, default ~/.cache/shardkeep).\n"
    "Passphrase: SHARDKEEP_PASSWORD, SHARDKEEP_PASSWORD_FILE, or a prompt.\n";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::Status Init(CommandContext& ctx) {
  std::string suppliers_flag, k_flag, block_flag = "8MiB", needed_flag = "10GiB";
  bool json = false, help = false;
  FlagParser flags("init");
  flags.String("suppliers", &suppliers_flag);
  flags.String("data-shards", &k_flag);
  flags.String("block-size", &block_flag);
  flags.String("needed", &needed_flag);
  flags.Bool("json", &json);
  std::vector<std::string> positional;
  RETURN_IF_ERROR(flags.Parse(ctx.args, &positional, &help));
  if (help) {
    fputs(kHelp, ctx.out);
    fputs(kExitCodesHelp, ctx.out);
    return absl::OkStatus();
  }
  if (!positional.empty()) return UsageError("init: unexpected argument " + positional[0]);
  std::vector<std::string> addresses;
  for (absl::string_view a : absl::StrSplit(suppliers_flag, ',')) {
    std::string s(absl::StripAsciiWhitespace(a));
    if (!s.empty()) addresses.push_back(s);
  }
  const int n = static_cast<int>(addresses.size());
  if (n < 2 || n > 64) {
    return UsageError(absl::StrCat("init: --suppliers needs 2 to 64 addresses, got ", n));
  }
  std::set<std::string> seen;
  for (const std::string& a : addresses) {
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
  int k = raid::DefaultDataShards(n);
  if (!k_flag.empty() && (!absl::SimpleAtoi(k_flag, &k) || k < 1 || k >= n)) {
    return UsageError(
        absl::StrCat("init: --data-shards must be 1..", n - 1, " for ", n, " suppliers"));
  }
  ASSIGN_OR_RETURN(uint64_t block_size, ParseSize(block_flag));
  if (block_size < (64 << 10) || block_size > (256 << 20)) {
    return UsageError(absl::StrCat("init: --block-size must be 64KiB..256MiB, got ", block_flag));
  }
  ASSIGN_OR_RETURN(uint64_t needed, ParseSize(needed_flag));
  if (needed == 0) return UsageError("init: --needed must be more than 0");
  if (Vault::Exists(ctx.config_dir)) {
    return absl::AlreadyExistsError(
        absl::StrCat("a vault already exists in ", ctx.config_dir, " (use another --config-dir)"));
  }
  ASSIGN_OR_RETURN(std::string pass, ReadPassphrase(/*confirm=*/true));

  const std::string master = crypto::RandomBytes(kMasterKeySize);
  const std::string vault_id = crypto::RandomBytes(kVaultIdSize);
  const VaultKeys keys = DeriveKeys(master, vault_id);

  std::vector<std::unique_ptr<SupplierClient>> clients;
  for (const auto& a : addresses) {
    ASSIGN_OR_RETURN(auto c, ctx.connector(a, keys.identity_seed, ""));
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

  const uint64_t quota = (needed + k - 1) / k;
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
  config.set_block_size(block_size);
  chunker::Params cp;
  config.mutable_chunker()->set_min_size(cp.min_size);
  config.mutable_chunker()->set_avg_size(cp.avg_size);
  config.mutable_chunker()->set_max_size(cp.max_size);
  config.set_compression_level(3);
  config.set_needed_bytes(needed);
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

  const std::string id_hex = crypto::ToHex(vault_id);
  if (json) {
    std::string out = absl::StrCat(
        "{\"vault_id\":\"", id_hex, "\",\"config_dir\":", JsonString(ctx.config_dir),
        ",\"supplier_count\":", n, ",\"data_shards\":", k, ",\"block_size\":", block_size,
        ",\"needed_bytes\":", needed, ",\"suppliers\":[");
    for (int i = 0; i < n; ++i) {
      absl::StrAppend(&out, i ? "," : "", "{\"position\":", i,
                      ",\"address\":", JsonString(addresses[i]), ",\"supplier_id\":\"",
                      crypto::ToHex(ids[i]), "\",\"quota_bytes\":", granted[i], "}");
    }
    absl::StrAppend(&out, "]}\n");
    fputs(out.c_str(), ctx.out);
    return absl::OkStatus();
  }
  fprintf(ctx.out, "created vault %s in %s\n", id_hex.c_str(), ctx.config_dir.c_str());
  fprintf(ctx.out,
          "%d suppliers, %d data + %d parity fragments per block: any %d of them may be lost\n", n,
          k, n - k, n - k);
  for (int i = 0; i < n; ++i) {
    fprintf(ctx.out, "  position %-2d %-24s quota %s\n", i, addresses[i].c_str(),
            FormatByteSize(granted[i]).c_str());
  }
  fprintf(ctx.out,
          "\nRecovery kit: keep this apart from this machine. With your passphrase it is\n"
          "all you need to get the vault back after losing this disk.\n"
          "  vault ID:   %s\n"
          "  suppliers:  %s\n",
          id_hex.c_str(), absl::StrJoin(addresses, ",").c_str());
  return absl::OkStatus();
}

}  // namespace

int CmdInit(CommandContext& ctx) {
  absl::Status s = Init(ctx);
  return s.ok() ? kSuccess : ReportError(s);
}

}  // namespace shardkeep::customer

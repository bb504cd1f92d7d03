// What commands other than the discovery ones do with the DHT
// (docs/DISCOVERY.md): keep the vault's record there for `recover`.
#include "customer/cmd/command.h"
#include "customer/discovery/vault_record.h"

namespace shardkeep::customer {

void PublishVaultToDht(const CommandContext& ctx, const Vault& vault) {
  if (ctx.dht_bootstrap.empty()) return;
  absl::Status s = PublishVaultRecord(ctx.dht_bootstrap, vault);
  if (!s.ok()) {
    fprintf(ctx.err(), "warning: the vault's record was not stored in the DHT: %s\n",
            std::string(s.message()).c_str());
  }
}

}  // namespace shardkeep::customer
